//! [`Diagnostic`]: every problem a user can act on, with where it is.

use std::ops::Range;

/// Identifies a loaded source file in the engine's source map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// Byte offsets, end exclusive.
    pub range: Range<usize>,
}

impl Span {
    /// A span of `range` in `file`.
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span { file, range }
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Worth reading; the operation goes on.
    Warning,
}

/// A problem in user input, or an answer a provider could not give.
///
/// The summary is short and fixed ("Unsupported argument"); the detail says what, why and how
/// to fix it in sentences; hints print as `hint: ...`.
///
/// Boxed, so that `Result<Value, Diagnostic>` on the evaluator's hot path stays small; the
/// fields are reached through `Deref` ([`DiagnosticData`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic(Box<DiagnosticData>);

/// The content of a [`Diagnostic`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagnosticData {
    /// Error or warning.
    pub severity: Severity,
    /// A short, fixed sentence without user names.
    pub summary: String,
    /// What happened, why, and what to do.
    pub detail: String,
    /// Where, most specific span first.
    pub primary: Option<Span>,
    /// Related places (the other duplicate, the rest of a cycle).
    pub secondary: Vec<(Span, String)>,
    /// The address the problem belongs to, when there is one.
    pub address: Option<String>,
    /// Likely fixes.
    pub hints: Vec<String>,
}

impl std::ops::Deref for Diagnostic {
    type Target = DiagnosticData;
    fn deref(&self) -> &DiagnosticData {
        &self.0
    }
}

impl std::ops::DerefMut for Diagnostic {
    fn deref_mut(&mut self) -> &mut DiagnosticData {
        &mut self.0
    }
}

impl Diagnostic {
    /// A new error.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic(Box::new(DiagnosticData {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            primary: None,
            secondary: Vec::new(),
            address: None,
            hints: Vec::new(),
        }))
    }

    /// A new warning.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        let mut diagnostic = Diagnostic::error(summary, detail);
        diagnostic.severity = Severity::Warning;
        diagnostic
    }

    /// Sets the primary span (keeps an existing one when `span` is `None`).
    pub fn at(mut self, span: Option<Span>) -> Diagnostic {
        if span.is_some() {
            self.primary = span;
        }
        self
    }

    /// Sets the primary span unless one is set already.
    pub fn or_at(mut self, span: Option<Span>) -> Diagnostic {
        if self.primary.is_none() {
            self.primary = span;
        }
        self
    }

    /// Adds a related span with a label.
    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hints.push(hint.into());
        self
    }

    /// Names the address the problem belongs to.
    pub fn for_address(mut self, address: impl Into<String>) -> Diagnostic {
        self.address = Some(address.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Many diagnostics: every problem of a run is reported, not just the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    /// Adds one.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds many.
    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(other);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over them.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics(vec![diagnostic])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
