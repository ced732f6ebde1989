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
    let body = hcl_edit::parser::parse_body(text)?;
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
