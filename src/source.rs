//! The source map: every file the configuration was loaded from, by [`FileId`].
//!
//! Spans in diagnostics are file ids plus byte ranges; the source map turns them into
//! `path:line:col` and the source line under which carets are drawn.

use infra_provider::{FileId, Span};
use std::path::{Path, PathBuf};

/// One loaded file.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as shown to the user (relative to where infra runs when possible).
    pub path: PathBuf,
    /// The full text.
    pub text: String,
    line_starts: Vec<usize>,
    /// For generated text (YAML translated to HCL): where its pieces came from, by offset.
    mapping: Vec<Mapping>,
}

/// A piece of generated text starting at `generated` came from `original`.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// Offset in the generated text.
    pub generated: usize,
    /// The original span.
    pub original: Span,
}

impl SourceFile {
    fn new(path: PathBuf, text: String) -> SourceFile {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect();
        SourceFile { path, text, line_starts, mapping: Vec::new() }
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index - 1,
        };
        let start = self.line_starts[line];
        let column = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The text of a one-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts.get(line - 1).copied().unwrap_or(self.text.len());
        let end = self.line_starts.get(line).map_or(self.text.len(), |next| next - 1);
        self.text.get(start..end.max(start)).unwrap_or("").trim_end_matches('\r')
    }

    /// Byte offset of a one-based line and column.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let start = self.line_starts.get(line.saturating_sub(1)).copied().unwrap_or(self.text.len());
        let rest = &self.text[start..];
        start + rest.char_indices().nth(column.saturating_sub(1)).map_or(rest.len(), |(at, _)| at)
    }
}

/// All loaded files.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: String) -> FileId {
        self.files.push(SourceFile::new(path.into(), text));
        FileId(self.files.len() as u32 - 1)
    }

    /// Adds generated text whose spans map back to other files.
    pub fn add_mapped(&mut self, path: impl Into<PathBuf>, text: String, mut mapping: Vec<Mapping>) -> FileId {
        mapping.sort_by_key(|piece| piece.generated);
        let id = self.add(path, text);
        self.files[id.0 as usize].mapping = mapping;
        id
    }

    /// The span users should see: spans in generated text are mapped to the original.
    pub fn resolve(&self, span: &Span) -> Span {
        let Some(file) = self.get(span.file) else { return span.clone() };
        if file.mapping.is_empty() {
            return span.clone();
        }
        let index = file.mapping.partition_point(|piece| piece.generated <= span.range.start);
        match index.checked_sub(1).and_then(|at| file.mapping.get(at)) {
            Some(piece) => piece.original.clone(),
            None => file.mapping[0].original.clone(),
        }
    }

    /// A file by id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The text of a span.
    pub fn snippet(&self, span: &Span) -> &str {
        self.get(span.file).and_then(|file| file.text.get(span.range.clone())).unwrap_or("")
    }

    /// The path of a file.
    pub fn path(&self, id: FileId) -> &Path {
        self.get(id).map_or(Path::new("<unknown>"), |file| file.path.as_path())
    }

    /// `path:line:col` of a span's start.
    pub fn location(&self, span: &Span) -> String {
        let span = &self.resolve(span);
        match self.get(span.file) {
            Some(file) => {
                let (line, column) = file.line_col(span.range.start);
                format!("{}:{line}:{column}", file.path.display())
            }
            None => "<unknown>".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let mut map = SourceMap::new();
        let id = map.add("main.hcl", "a = 1\nné = \"x\"\n".to_string());
        let file = map.get(id).expect("added");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(6), (2, 1));
        // "né" is three bytes; the `=` after "né " is the fourth character.
        assert_eq!(file.line_col(10), (2, 4));
        assert_eq!(file.line_text(2), "né = \"x\"");
        assert_eq!(file.offset_of(2, 4), 10);
    }
}
