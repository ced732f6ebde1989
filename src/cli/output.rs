//! The one printer: data to stdout, diagnostics and progress to stderr; colour only on a
//! terminal, never with `--no-color` or `NO_COLOR`.

use crate::diagnostics::render_all;
use crate::source::SourceMap;
use infra_provider::Diagnostics;
use std::io::{IsTerminal, Write};

/// Prints for a command.
pub struct Printer {
    color: bool,
}

impl Printer {
    /// A printer; colour when stderr is a terminal and nothing turned it off.
    pub fn new(no_color: bool) -> Printer {
        let disabled = no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Printer { color: !disabled && std::io::stderr().is_terminal() }
    }

    /// Whether colour is on.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Writes a line of data to stdout.
    pub fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }

    /// Writes diagnostics to stderr.
    pub fn diagnostics(&self, diagnostics: &Diagnostics, sources: &SourceMap) {
        if diagnostics.is_empty() {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{}", render_all(diagnostics, sources, self.color));
    }

    /// Writes an error line to stderr.
    pub fn error(&self, message: &str) {
        let _ = writeln!(std::io::stderr().lock(), "error: {message}");
    }

    /// Writes a status line to stderr.
    pub fn status(&self, message: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }
}
