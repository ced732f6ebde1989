//! HCL literal syntax every stage shares: identifiers, quoted strings, and the indentation
//! rule of `terraform fmt`.
//!
//! Addresses, rendered values, generated HCL (YAML documents) and messages all write strings
//! the way a configuration would; this is the one place that knows how.

/// Whether `text` is an HCL identifier (`aws_vpc`, `my-name`).
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// A string as a quoted HCL/JSON literal (`"a\"b"`), as addresses and messages show keys.
pub fn quote_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_quoted(&mut out, text, false);
    out
}

/// Writes `text` as a quoted HCL string: quotes, backslashes and control characters escaped;
/// `${` and `%{` escaped as `$${` and `%%{` unless `templates` keeps them as template syntax.
pub fn write_quoted(out: &mut String, text: &str, templates: bool) {
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' | '%' if !templates && chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            // `$${` is a literal `${` in both syntaxes.
            '$' | '%' if templates && chars.peek() == Some(&c) => {
                out.push(c);
                out.push(c);
                chars.next();
            }
            // An interpolation or directive is an expression: copied as written (its own
            // strings keep their own quotes and escapes).
            '$' | '%' if templates && chars.peek() == Some(&'{') => {
                out.push(c);
                out.push('{');
                chars.next();
                copy_expression(out, &mut chars);
            }
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Copies an interpolation's expression up to and including its closing `}`: nested braces,
/// quoted strings (with escapes and their own interpolations) skipped over; newlines become
/// spaces so the expression stays inside its quoted string.
fn copy_expression(out: &mut String, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push('}');
                return;
            }
            '}' => depth -= 1,
            '"' => {
                out.push('"');
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            out.push('\\');
                            if let Some(escaped) = chars.next() {
                                out.push(escaped);
                            }
                            continue;
                        }
                        '"' => break,
                        '$' | '%' if chars.peek() == Some(&'{') => {
                            out.push(inner);
                            out.push('{');
                            chars.next();
                            copy_expression(out, chars);
                            continue;
                        }
                        '\n' => out.push(' '),
                        other => out.push(other),
                    }
                }
                out.push('"');
                continue;
            }
            '\n' | '\r' => {
                out.push(' ');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
}

/// Reads a quoted string written by [`write_quoted`] (or by hand in a configuration) from the
/// start of `text`: the string and the bytes consumed, or `None` when it is not one.
pub fn read_quoted(text: &str) -> Option<(String, usize)> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((out, at + 1)),
            '\\' => match chars.next()?.1 {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                escape @ ('u' | 'U') => {
                    let digits = if escape == 'u' { 4 } else { 8 };
                    let hex: String = (0..digits).map(|_| chars.next().map(|(_, c)| c)).collect::<Option<String>>()?;
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            '$' | '%' => {
                // `$${` is a literal `${`.
                let rest = &text[at + 1..];
                if rest.starts_with(c) && rest[1..].starts_with('{') {
                    chars.next();
                } else if rest.starts_with('{') {
                    return None;
                }
                out.push(c);
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_round_trip() {
        for text in ["plain", "with \"quotes\"", "back\\slash", "line\nbreak", "${not a template}", "%{x}", "é ü"] {
            let quoted = quote_string(text);
            assert_eq!(read_quoted(&quoted), Some((text.to_string(), quoted.len())), "{quoted}");
        }
        assert_eq!(read_quoted("\"unterminated"), None);
        assert_eq!(read_quoted("\"${template}\""), None);
    }
}

/// hclwrite's indentation rule (what `terraform fmt` does), line by line: a line whose brackets
/// open on balance starts one level however many it opens; a line that closes on balance closes
/// the levels of the lines it closes and sits at what remains; a balanced line (`}, {`) stays
/// where it is.
#[derive(Debug, Default)]
pub struct Indentation {
    /// How many brackets each indenting line still holds open.
    open: Vec<i64>,
}

impl Indentation {
    /// The level of a line whose brackets change by `net`.
    pub fn line(&mut self, net: i64) -> usize {
        if net > 0 {
            self.open.push(net);
            return self.open.len() - 1;
        }
        let mut closed = -net;
        while closed > 0 {
            let Some(last) = self.open.last_mut() else { break };
            if closed >= *last {
                closed -= *last;
                self.open.pop();
            } else {
                *last -= closed;
                closed = 0;
            }
        }
        self.open.len()
    }
}
