//! `infra fmt`: the canonical layout of `.hcl` / `.tf` files.
//!
//! Two-space indentation by nesting depth (hclwrite's rule: a line opening several brackets
//! indents once; `}, {` stays at the inner level), `=` aligned across consecutive arguments at
//! the same depth (as `terraform fmt` does), one space around `=`, no trailing whitespace; blank
//! lines and the file's ending are kept, as `terraform fmt` keeps them. Comments, blank lines, heredoc bodies and multi-line comments are kept exactly.
//! Formatting is idempotent: formatting formatted text changes nothing.
//!
//! Design choice: a line-based rewrite over a small lexer rather than a reprint of the syntax
//! tree, so that nothing the parser does not model (comments in odd places, the user's
//! line breaks) can be lost. The input is parsed with hcl-edit first: files that do not parse
//! are reported, never rewritten.

/// What the lexer is inside at a point of a line.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Context {
    /// Opened on this line (several brackets opened on one line indent once, as
    /// `terraform fmt` does: `map(object({`).
    Bracket(usize),
    String,
    Interpolation,
}

#[derive(Debug)]
enum Line {
    Blank,
    /// Kept exactly (heredoc body, block comment, continuation inside a string).
    Verbatim(String),
    /// `key = value` at `level`; `opens`: the value goes on over the next lines (such a
    /// line is not aligned with its neighbours, and ends their group, as `terraform fmt` does).
    Attribute {
        level: usize,
        key: String,
        rest: String,
        opens: bool,
    },
    /// Any other line at `level`.
    Other {
        level: usize,
        text: String,
    },
}

/// Formats HCL text.
///
/// # Errors
///
/// The parser's message when the text is not valid HCL.
pub fn format_hcl(text: &str) -> Result<String, hcl_edit::parser::Error> {
    crate::config::parse::parse_hcl(text)?;
    let lines = classify(text);
    let mut out = render(&lines);
    // Blank lines at the start and end, and a missing final newline, are the author's:
    // `terraform fmt` keeps them.
    if !text.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

fn classify(text: &str) -> Vec<Line> {
    let mut stack: Vec<Context> = Vec::new();
    let mut heredoc: Option<(String, bool)> = None;
    let mut in_block_comment = false;
    let mut out = Vec::new();
    let mut indentation = crate::syntax::Indentation::default();
    for (number, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        if let Some((delimiter, _)) = &heredoc {
            if raw.trim() == delimiter {
                heredoc = None;
            }
            out.push(Line::Verbatim(raw.to_string()));
            continue;
        }
        if in_block_comment {
            if let Some(end) = raw.find("*/") {
                in_block_comment = false;
                scan(&raw[end + 2..], &mut stack, &mut heredoc, &mut in_block_comment, number);
            }
            out.push(Line::Verbatim(raw.to_string()));
            continue;
        }
        if matches!(stack.last(), Some(Context::String | Context::Interpolation)) {
            scan(raw, &mut stack, &mut heredoc, &mut in_block_comment, number);
            out.push(Line::Verbatim(raw.to_string()));
            continue;
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            out.push(Line::Blank);
            continue;
        }
        let before = stack.len();
        let brackets_before = brackets(&stack);
        scan(trimmed, &mut stack, &mut heredoc, &mut in_block_comment, number);
        let opens = stack.len() > before;
        // hclwrite's rule (`crate::syntax::Indentation`).
        let net = brackets(&stack) as i64 - brackets_before as i64;
        let level = indentation.line(net);
        out.push(match split_attribute(trimmed) {
            Some((key, rest)) => Line::Attribute { level, key, rest, opens },
            None => Line::Other { level, text: trimmed.to_string() },
        });
    }
    out
}

/// How many brackets and interpolations are open.
fn brackets(stack: &[Context]) -> usize {
    stack.iter().filter(|c| matches!(c, Context::Bracket(_) | Context::Interpolation)).count()
}

/// Updates the lexer state with one line's tokens.
fn scan(
    line: &str,
    stack: &mut Vec<Context>,
    heredoc: &mut Option<(String, bool)>,
    in_block_comment: &mut bool,
    number: usize,
) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match stack.last() {
            Some(Context::String) => match (c, next) {
                ('\\', _) => i += 1,
                ('"', _) => {
                    stack.pop();
                }
                ('$' | '%', Some('{')) if chars.get(i.wrapping_sub(1)) != Some(&c) || i == 0 => {
                    stack.push(Context::Interpolation);
                    i += 1;
                }
                ('$' | '%', Some('{')) => i += 1,
                _ => {}
            },
            _ => match (c, next) {
                ('#', _) | ('/', Some('/')) => return,
                ('/', Some('*')) => match chars[i + 2..].windows(2).position(|w| w == ['*', '/']) {
                    Some(end) => i += 2 + end + 1,
                    None => {
                        *in_block_comment = true;
                        return;
                    }
                },
                ('"', _) => stack.push(Context::String),
                ('{' | '[' | '(', _) => stack.push(Context::Bracket(number)),
                ('}', _) if stack.last() == Some(&Context::Interpolation) => {
                    stack.pop();
                }
                ('}' | ']' | ')', _) => {
                    stack.pop();
                }
                ('<', Some('<')) => {
                    let rest: String = chars[i + 2..].iter().collect();
                    let (indented, rest) = match rest.strip_prefix('-') {
                        Some(rest) => (true, rest.to_string()),
                        None => (false, rest),
                    };
                    let delimiter: String =
                        rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').collect();
                    if !delimiter.is_empty() && rest[delimiter.len()..].trim().is_empty() {
                        *heredoc = Some((delimiter, indented));
                        return;
                    }
                    i += 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
}

/// `key = rest` when the line starts an argument (not `==`).
fn split_attribute(line: &str) -> Option<(String, String)> {
    let key_end = if line.starts_with('"') {
        let mut escaped = false;
        let mut end = None;
        for (at, c) in line.char_indices().skip(1) {
            match (c, escaped) {
                ('\\', false) => escaped = true,
                ('"', false) => {
                    end = Some(at + 1);
                    break;
                }
                _ => escaped = false,
            }
        }
        end?
    } else {
        let end = line.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(line.len());
        if end == 0 || line[..end].starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return None;
        }
        end
    };
    let after = line[key_end..].trim_start();
    let rest = after.strip_prefix('=')?;
    if rest.starts_with('=') || rest.starts_with('>') {
        return None;
    }
    let rest = rest.trim_start();
    if rest.is_empty() {
        return None;
    }
    Some((line[..key_end].to_string(), rest.to_string()))
}

fn render(lines: &[Line]) -> String {
    // Alignment groups, as `terraform fmt` makes them: runs of single-line arguments at one
    // level; an argument whose value goes on over the next lines (`tags = {`) is not aligned
    // and ends the run; a heredoc's body does not.
    let mut widths = vec![0usize; lines.len()];
    let mut index = 0;
    while index < lines.len() {
        let Line::Attribute { level, opens: false, .. } = &lines[index] else {
            if let Line::Attribute { key, .. } = &lines[index] {
                widths[index] = key.chars().count();
            }
            index += 1;
            continue;
        };
        let mut group = vec![index];
        let mut next = index + 1;
        loop {
            match lines.get(next) {
                Some(Line::Attribute { level: other, opens: false, .. }) if other == level => group.push(next),
                // A heredoc's body does not end the group (`terraform fmt` aligns across it).
                Some(Line::Verbatim(_)) => {}
                _ => break,
            }
            next += 1;
        }
        let width = group
            .iter()
            .map(|i| match &lines[*i] {
                Line::Attribute { key, .. } => key.chars().count(),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        for i in group {
            widths[i] = width;
        }
        index = next;
    }
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        match line {
            Line::Blank => {}
            Line::Verbatim(text) => out.push_str(text),
            Line::Attribute { level, key, rest, .. } => {
                out.push_str(&"  ".repeat(*level));
                out.push_str(key);
                out.push_str(&" ".repeat(widths[i] - key.chars().count()));
                out.push_str(" = ");
                out.push_str(rest);
            }
            Line::Other { level, text } => {
                out.push_str(&"  ".repeat(*level));
                out.push_str(text);
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_aligns_and_keeps_comments() {
        let input = "# top comment\nresource \"a\" \"b\" {\nname=\"x\" # trailing\n    long_name   =   2\n  tags = {\n      k = \"v\"\n  }\n}\n\n\n";
        let formatted = format_hcl(input).expect("valid");
        assert_eq!(
            formatted,
            "# top comment\nresource \"a\" \"b\" {\n  name      = \"x\" # trailing\n  long_name = 2\n  tags = {\n    k = \"v\"\n  }\n}\n\n\n"
        );
        assert_eq!(format_hcl(&formatted).expect("valid"), formatted);
    }

    #[test]
    fn keeps_heredocs_and_braces_in_strings() {
        let input = "locals {\nscript = <<-EOT\n    echo {\n  EOT\nbrace = \"}${var.x}{\"\n}\n";
        let formatted = format_hcl(input).expect("valid");
        // As `terraform fmt`: alignment carries across a heredoc's body.
        assert_eq!(formatted, "locals {\n  script = <<-EOT\n    echo {\n  EOT\n  brace  = \"}${var.x}{\"\n}\n");
        assert_eq!(format_hcl(&formatted).expect("valid"), formatted);
    }

    #[test]
    fn brackets_opened_on_one_line_indent_once() {
        let input = "variable \"x\" {\ntype = map(object({\na = number\n}))\n}\n";
        assert_eq!(
            format_hcl(input).expect("valid"),
            "variable \"x\" {\n  type = map(object({\n    a = number\n  }))\n}\n"
        );
    }

    #[test]
    fn lays_out_as_terraform_fmt_does() {
        // Input and output as terraform fmt 1.11 gives them: `}, {` at the inner level, a
        // for-object's closing `] }` at the opening line's level, a conditional continued on
        // the next line, blank lines at the end kept.
        let input = "locals {\nx = [{\na = 1\n}, {\na = 2\n}]\nlabels = { for k, v in var.m : k => [\nfor l in v : l\n] }\nc = { for k in var.ks : k => var.mode == \"a\" ? 1 :\nvar.mode == \"b\" ? 2 : 3\n}\n}\n\n\n";
        let expected = "locals {\n  x = [{\n    a = 1\n    }, {\n    a = 2\n  }]\n  labels = { for k, v in var.m : k => [\n    for l in v : l\n  ] }\n  c = { for k in var.ks : k => var.mode == \"a\" ? 1 :\n    var.mode == \"b\" ? 2 : 3\n  }\n}\n\n\n";
        assert_eq!(format_hcl(input).expect("valid"), expected);
        assert_eq!(format_hcl(expected).expect("valid"), expected);
        assert_eq!(format_hcl("a = 1").expect("valid"), "a = 1", "a missing final newline is kept");
    }

    #[test]
    fn refuses_invalid_input() {
        assert!(format_hcl("resource {").is_err());
    }
}
