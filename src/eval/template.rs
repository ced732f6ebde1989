//! String templates and heredocs: interpolations, `%{ if }` and `%{ for }` directives, `~`
//! strip markers, and the indentation stripping of `<<-` heredocs.
//!
//! Strip markers and heredoc indentation are applied once, when a configuration is loaded
//! ([`prepare_body`], [`prepare_expr`]), exactly as HCL applies them: the template is seen as a
//! flat sequence of tokens in which a literal is split into line tokens (each ending at a
//! newline); a `~` trims only the adjacent line token; then, for `<<-`, the smallest
//! indentation of the tokens that start a line is removed from each of them (a directive or
//! interpolation that starts a line counts as no indentation). Evaluation then only
//! concatenates.

use super::Evaluator;
use super::convert::to_string;
use hcl_edit::expr::Expression;
use hcl_edit::structure::Body;
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::visit_mut::{self, VisitMut};
use infra_provider::{Diagnostic, Value};
use unicode_segmentation::UnicodeSegmentation;

/// Applies strip markers and heredoc indentation to every template in a body. `dash_heredocs`
/// holds the start offsets of heredocs written `<<-` (the body was parsed with them written as
/// plain `<<`, so that the raw text is kept for this step).
pub fn prepare_body(body: &mut Body, dash_heredocs: &[usize]) {
    Preparer { dash_heredocs }.visit_body_mut(body);
}

/// Applies strip markers (and heredoc indentation) to every template in an expression.
pub fn prepare_expr(expr: &mut Expression, dash_heredocs: &[usize]) {
    Preparer { dash_heredocs }.visit_expr_mut(expr);
}

/// Applies strip markers to a standalone template (`templatefile`).
pub fn prepare_template(template: &mut Template) {
    normalize(template.iter_mut(), false);
    Preparer { dash_heredocs: &[] }.visit_template_mut(template);
}

struct Preparer<'a> {
    dash_heredocs: &'a [usize],
}

impl VisitMut for Preparer<'_> {
    fn visit_string_template_mut(&mut self, node: &mut hcl_edit::template::StringTemplate) {
        normalize(node.iter_mut(), false);
        visit_mut::visit_string_template_mut(self, node);
    }

    fn visit_heredoc_template_mut(&mut self, node: &mut hcl_edit::template::HeredocTemplate) {
        let dash = hcl_edit::Span::span(node).is_some_and(|range| self.dash_heredocs.contains(&range.start));
        normalize(node.template.iter_mut(), dash);
        visit_mut::visit_heredoc_template_mut(self, node);
    }
}

/// One token of the flat view: a literal, or a marker with its strip flags.
enum Token {
    Literal(String),
    Marker { strip_before: bool, strip_after: bool },
}

fn collect<'a>(elements: impl Iterator<Item = &'a Element>, out: &mut Vec<Token>) {
    for element in elements {
        match element {
            Element::Literal(text) => out.push(Token::Literal(text.value().clone())),
            Element::Interpolation(interpolation) => out.push(Token::Marker {
                strip_before: interpolation.strip.strip_start(),
                strip_after: interpolation.strip.strip_end(),
            }),
            Element::Directive(directive) => match directive.as_ref() {
                Directive::If(d) => {
                    out.push(Token::Marker {
                        strip_before: d.if_expr.strip.strip_start(),
                        strip_after: d.if_expr.strip.strip_end(),
                    });
                    collect(d.if_expr.template.iter(), out);
                    if let Some(else_expr) = &d.else_expr {
                        out.push(Token::Marker {
                            strip_before: else_expr.strip.strip_start(),
                            strip_after: else_expr.strip.strip_end(),
                        });
                        collect(else_expr.template.iter(), out);
                    }
                    out.push(Token::Marker {
                        strip_before: d.endif_expr.strip.strip_start(),
                        strip_after: d.endif_expr.strip.strip_end(),
                    });
                }
                Directive::For(d) => {
                    out.push(Token::Marker {
                        strip_before: d.for_expr.strip.strip_start(),
                        strip_after: d.for_expr.strip.strip_end(),
                    });
                    collect(d.for_expr.template.iter(), out);
                    out.push(Token::Marker {
                        strip_before: d.endfor_expr.strip.strip_start(),
                        strip_after: d.endfor_expr.strip.strip_end(),
                    });
                }
            },
        }
    }
}

fn write_back<'a>(elements: impl Iterator<Item = &'a mut Element>, literals: &mut std::vec::IntoIter<String>) {
    for element in elements {
        match element {
            Element::Literal(text) => {
                if let Some(value) = literals.next() {
                    *text.value_mut() = value;
                }
            }
            Element::Interpolation(_) => {}
            Element::Directive(directive) => match directive.as_mut() {
                Directive::If(d) => {
                    write_back(d.if_expr.template.iter_mut(), literals);
                    if let Some(else_expr) = &mut d.else_expr {
                        write_back(else_expr.template.iter_mut(), literals);
                    }
                }
                Directive::For(d) => write_back(d.for_expr.template.iter_mut(), literals),
            },
        }
    }
}

/// The byte offset where the last line token of `text` starts.
fn last_line_start(text: &str) -> usize {
    let body = text.strip_suffix('\n').unwrap_or(text);
    body.rfind('\n').map_or(0, |at| at + 1)
}

/// The byte offset where the first line token of `text` ends.
fn first_line_end(text: &str) -> usize {
    text.find('\n').map_or(text.len(), |at| at + 1)
}

fn normalize<'a>(elements: impl Iterator<Item = &'a mut Element>, dedent: bool) {
    let elements: Vec<&'a mut Element> = elements.collect();
    let mut tokens = Vec::new();
    collect(elements.iter().map(|e| &**e), &mut tokens);
    if !tokens
        .iter()
        .any(|t| matches!(t, Token::Marker { strip_before: true, .. } | Token::Marker { strip_after: true, .. }))
        && !dedent
    {
        return;
    }
    // 1. Strip markers trim the adjacent line token.
    for index in 0..tokens.len() {
        let Token::Marker { strip_before, strip_after } = tokens[index] else { continue };
        if strip_before
            && index > 0
            && let Token::Literal(text) = &mut tokens[index - 1]
        {
            let start = last_line_start(text);
            let trimmed = text[start..].trim_end().to_string();
            text.truncate(start);
            text.push_str(&trimmed);
        }
        if strip_after && let Some(Token::Literal(text)) = tokens.get_mut(index + 1) {
            let end = first_line_end(text);
            let trimmed = text[..end].trim_start().to_string();
            *text = format!("{trimmed}{}", &text[end..]);
        }
    }
    // 2. `<<-`: remove the smallest indentation of the line-start tokens.
    if dedent {
        let mut adjust: Vec<(usize, usize)> = Vec::new(); // (token, byte offset of a line start)
        let mut smallest = usize::MAX;
        let mut newline = true;
        for (index, token) in tokens.iter().enumerate() {
            match token {
                Token::Literal(text) => {
                    let mut offset = 0;
                    let mut pieces: Vec<&str> = text.split_inclusive('\n').collect();
                    if pieces.is_empty() {
                        pieces.push("");
                    }
                    for piece in pieces {
                        if newline {
                            let trimmed = piece.trim_start();
                            if !(trimmed.is_empty() && piece.ends_with('\n')) {
                                let spaces = piece[..piece.len() - trimmed.len()].graphemes(true).count();
                                smallest = smallest.min(spaces);
                                adjust.push((index, offset));
                            }
                        }
                        newline = piece.ends_with('\n');
                        offset += piece.len();
                    }
                }
                Token::Marker { .. } => {
                    if newline {
                        smallest = 0;
                    }
                    newline = false;
                }
            }
        }
        if smallest != usize::MAX && smallest > 0 {
            // Remove from the end of each literal first so earlier offsets stay valid.
            for (index, offset) in adjust.into_iter().rev() {
                if let Token::Literal(text) = &mut tokens[index] {
                    let cut: usize = text[offset..].graphemes(true).take(smallest).map(str::len).sum();
                    text.replace_range(offset..offset + cut, "");
                }
            }
        }
    }
    let literals: Vec<String> = tokens
        .into_iter()
        .filter_map(|t| match t {
            Token::Literal(text) => Some(text),
            Token::Marker { .. } => None,
        })
        .collect();
    write_back(elements.into_iter(), &mut literals.into_iter());
}

/// Evaluates a template's elements (already prepared). At the top level `"${x}"` is `x`
/// itself, of any type.
pub(super) fn evaluate(evaluator: &mut Evaluator<'_>, parts: &[&Element], top: bool) -> Result<Value, Diagnostic> {
    if top && let [Element::Interpolation(interpolation)] = parts {
        return evaluator.eval(&interpolation.expr);
    }
    let mut out = String::new();
    let mut unknown = false;
    let mut marked = false;
    for element in parts {
        match element {
            Element::Literal(text) => out.push_str(text.value()),
            Element::Interpolation(interpolation) => {
                let value = evaluator.eval(&interpolation.expr)?;
                let (value, is_marked) = value.unmark();
                marked |= is_marked;
                if !value.is_known() {
                    unknown = true;
                    continue;
                }
                if value.is_null() {
                    return Err(evaluator.error(
                        "Invalid template interpolation value",
                        "The expression result is null. Cannot include a null value in a string template.",
                        &interpolation.expr,
                    ));
                }
                let text = to_string(&value).map_err(|_| {
                    evaluator.error(
                        "Invalid template interpolation value",
                        format!("Cannot include {} in a string template; only strings, numbers and bools can be interpolated.", super::convert::describe(&value)),
                        &interpolation.expr,
                    )
                })?;
                out.push_str(&text);
            }
            Element::Directive(directive) => match directive.as_ref() {
                Directive::If(if_directive) => {
                    let condition = evaluator.eval(&if_directive.if_expr.cond_expr)?;
                    let (condition, is_marked) = condition.unmark();
                    marked |= is_marked;
                    if !condition.is_known() {
                        unknown = true;
                        continue;
                    }
                    let chosen = super::convert::to_bool(&condition).map_err(|message| {
                        evaluator.error(
                            "Invalid template if condition",
                            format!("The condition must be a bool: {message}."),
                            &if_directive.if_expr.cond_expr,
                        )
                    })?;
                    let branch = if chosen {
                        Some(&if_directive.if_expr.template)
                    } else {
                        if_directive.else_expr.as_ref().map(|e| &e.template)
                    };
                    if let Some(branch) = branch {
                        let result = evaluate(evaluator, &branch.iter().collect::<Vec<_>>(), false)?;
                        append(&mut out, result, &mut unknown, &mut marked);
                    }
                }
                Directive::For(for_directive) => {
                    let intro = &for_directive.for_expr;
                    let collection = evaluator.eval(&intro.collection_expr)?;
                    let Some((pairs, is_marked)) = evaluator.iterate(collection, &intro.collection_expr)? else {
                        unknown = true;
                        continue;
                    };
                    marked |= is_marked;
                    let body: Vec<&Element> = intro.template.iter().collect();
                    let before = evaluator.bindings.len();
                    for (key, value) in pairs {
                        evaluator.bindings.truncate(before);
                        if let Some(key_var) = &intro.key_var {
                            evaluator.bindings.push((key_var.value().as_str().to_string(), key));
                        }
                        evaluator.bindings.push((intro.value_var.value().as_str().to_string(), value));
                        match evaluate(evaluator, &body, false) {
                            Ok(result) => append(&mut out, result, &mut unknown, &mut marked),
                            Err(error) => {
                                evaluator.bindings.truncate(before);
                                return Err(error);
                            }
                        }
                    }
                    evaluator.bindings.truncate(before);
                }
            },
        }
    }
    if unknown {
        return Ok(Value::Unknown.mark_if(marked));
    }
    Ok(Value::String(super::nfc(&out)).mark_if(marked))
}

fn append(out: &mut String, value: Value, unknown: &mut bool, marked: &mut bool) {
    let (value, is_marked) = value.unmark();
    *marked |= is_marked;
    match value {
        Value::String(text) => out.push_str(&text),
        _ => *unknown = true,
    }
}
