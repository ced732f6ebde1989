//! HCL text to a syntax tree, and parse errors as diagnostics: shared by the HCL files and
//! the HCL that YAML files are translated to.

use infra_provider::{Diagnostic, Span};

/// Parses HCL text into a body whose templates are prepared for evaluation: strip markers
/// applied, and `<<-` heredocs dedented the way HCL does it.
///
/// hcl-edit dedents `<<-` heredocs itself, but only their top-level lines; to apply HCL's rule
/// (which reaches into directives) the text is parsed again with each `<<-` written ` <<` (same
/// length, so every span stays valid) and the raw heredocs are dedented by
/// [`crate::eval::template::prepare_body`].
///
/// # Errors
///
/// The parser's error.
pub fn parse_hcl(text: &str) -> Result<hcl_edit::structure::Body, hcl_edit::parser::Error> {
    use hcl_edit::visit::Visit;
    struct Heredocs<'a> {
        text: &'a str,
        dash: Vec<usize>,
    }
    impl Visit for Heredocs<'_> {
        fn visit_heredoc_template(&mut self, node: &hcl_edit::template::HeredocTemplate) {
            if let Some(range) = hcl_edit::Span::span(node)
                && self.text[range.start..].starts_with("<<-")
            {
                self.dash.push(range.start);
            }
            hcl_edit::visit::visit_heredoc_template(self, node);
        }
    }
    // Terraform ignores newlines inside a `for` expression between braces (a conditional
    // broken over lines in an object `for`); hcl-edit does not. When the text does not parse,
    // it is parsed again with those newlines written as spaces: same length, every span valid.
    let joined;
    let (text, body) = match hcl_edit::parser::parse_body(text) {
        Ok(body) => (text, body),
        Err(error) => match join_for_objects(text) {
            Some(candidate) => match hcl_edit::parser::parse_body(&candidate) {
                Ok(body) => {
                    joined = candidate;
                    (joined.as_str(), body)
                }
                Err(_) => return Err(error),
            },
            None => return Err(error),
        },
    };
    let mut heredocs = Heredocs { text, dash: Vec::new() };
    heredocs.visit_body(&body);
    let mut body = if heredocs.dash.is_empty() {
        body
    } else {
        let mut raw = text.to_string();
        for start in &heredocs.dash {
            raw.replace_range(*start..*start + 3, " <<");
        }
        hcl_edit::parser::parse_body(&raw)?
    };
    let shifted: Vec<usize> = heredocs.dash.iter().map(|start| start + 1).collect();
    crate::eval::template::prepare_body(&mut body, &shifted);
    Ok(body)
}

/// The text with the newlines inside object `for` expressions (`{ for k, v in x : k => ... }`)
/// written as spaces, outside strings, heredocs and comments; `None` when there are none.
fn join_for_objects(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut changed = false;
    // Open brackets: `true` for the brace of an object `for`.
    let mut stack: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let inside_for = stack.iter().any(|is_for| *is_for);
        match bytes[i] {
            b'"' => i = skip_string(bytes, i),
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(bytes.len(), |end| i + 2 + end + 2);
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => i = skip_heredoc(text, i),
            b'{' => {
                let rest = text[i + 1..].trim_start();
                let is_for = rest.starts_with("for") && rest[3..].starts_with(|c: char| c.is_whitespace());
                stack.push(is_for);
                i += 1;
            }
            b'[' | b'(' => {
                stack.push(false);
                i += 1;
            }
            b'}' | b']' | b')' => {
                stack.pop();
                i += 1;
            }
            b'\n' if inside_for => {
                out[i] = b' ';
                changed = true;
                i += 1;
            }
            b'\r' if inside_for => {
                out[i] = b' ';
                i += 1;
            }
            _ => i += 1,
        }
    }
    if !changed {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Past a quoted string (with escapes and `${ … }` interpolations holding strings).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    let mut depth = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 2;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b'"' if depth > 0 => i = skip_string(bytes, i),
            b'"' => return i + 1,
            b'\n' if depth == 0 => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// To the newline ending a line comment (kept: it ends the comment).
fn skip_line(bytes: &[u8], start: usize) -> usize {
    bytes[start..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |end| start + end + 1)
}

/// Past a heredoc (`<<EOT` / `<<-EOT` to its closing marker line), or past `<<` when it is not
/// one.
fn skip_heredoc(text: &str, start: usize) -> usize {
    let rest = &text[start + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let Some(first_line_end) = text[start..].find('\n').map(|n| start + n + 1) else { return text.len() };
    if marker.is_empty() {
        return start + 2;
    }
    let mut offset = first_line_end;
    for line in text[first_line_end..].split_inclusive('\n') {
        offset += line.len();
        if line.trim() == marker {
            return offset;
        }
    }
    text.len()
}

/// A diagnostic for an `hcl-edit` parse error.
pub fn parse_error(error: &hcl_edit::parser::Error, file: infra_provider::FileId, text: &str) -> Diagnostic {
    let mut offset = error.location().offset().min(text.len());
    // The parser may report an offset inside a multi-byte character.
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let end = text[offset..].chars().next().map_or(offset, |c| offset + c.len_utf8());
    let message = error.message();
    let detail = if message.is_empty() {
        "The file is not valid HCL here.".to_string()
    } else {
        format!("The parser says: {message}.")
    };
    Diagnostic::error("Invalid syntax", detail).at(Some(Span::new(file, offset..end)))
}
