//! String templates and heredocs: interpolations, `%{ if }` and `%{ for }` directives, and the
//! `~` strip markers that trim whitespace next to them.

use super::convert::to_string;
use super::Evaluator;
use hcl_edit::template::{Directive, Element, Strip};
use infra_provider::{Diagnostic, Value};

/// Whether an element strips the whitespace of the literal before it (`${~`, `%{~`).
fn strips_before(element: &Element) -> bool {
    match element {
        Element::Literal(_) => false,
        Element::Interpolation(interpolation) => interpolation.strip.strip_start(),
        Element::Directive(directive) => match directive.as_ref() {
            Directive::If(if_directive) => if_directive.if_expr.strip.strip_start(),
            Directive::For(for_directive) => for_directive.for_expr.strip.strip_start(),
        },
    }
}

/// Whether an element strips the whitespace of the literal after it (`~}`).
fn strips_after(element: &Element) -> bool {
    match element {
        Element::Literal(_) => false,
        Element::Interpolation(interpolation) => interpolation.strip.strip_end(),
        Element::Directive(directive) => match directive.as_ref() {
            Directive::If(if_directive) => if_directive.endif_expr.strip.strip_end(),
            Directive::For(for_directive) => for_directive.endfor_expr.strip.strip_end(),
        },
    }
}

fn elements(template: &hcl_edit::template::Template) -> Vec<&Element> {
    template.iter().collect()
}

/// Evaluates a template's elements. `trim_first` / `trim_last` come from the strip markers of
/// an enclosing directive; `top` enables unwrapping (`"${x}"` is `x` itself, of any type).
pub(super) fn evaluate(
    evaluator: &mut Evaluator<'_>,
    parts: &[&Element],
    trim_first: bool,
    trim_last: bool,
    top: bool,
) -> Result<Value, Diagnostic> {
    if top {
        if let [Element::Interpolation(interpolation)] = parts {
            return evaluator.eval(&interpolation.expr);
        }
    }
    let mut out = String::new();
    let mut unknown = false;
    let mut marked = false;
    let last = parts.len().saturating_sub(1);
    for (index, element) in parts.iter().enumerate() {
        match element {
            Element::Literal(text) => {
                let mut text: &str = text.value();
                if (index == 0 && trim_first) || (index > 0 && strips_after(parts[index - 1])) {
                    text = text.trim_start();
                }
                if (index == last && trim_last) || parts.get(index + 1).is_some_and(|next| strips_before(next)) {
                    text = text.trim_end();
                }
                out.push_str(text);
            }
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
                        evaluator.error("Invalid template if condition", format!("The condition must be a bool: {message}."), &if_directive.if_expr.cond_expr)
                    })?;
                    let else_strip = if_directive.else_expr.as_ref().map(|e| e.strip);
                    let result = if chosen {
                        let trim_end = else_strip.unwrap_or(if_directive.endif_expr.strip).strip_start();
                        evaluate(evaluator, &elements(&if_directive.if_expr.template), if_directive.if_expr.strip.strip_end(), trim_end, false)?
                    } else if let Some(else_expr) = &if_directive.else_expr {
                        evaluate(evaluator, &elements(&else_expr.template), else_expr.strip.strip_end(), if_directive.endif_expr.strip.strip_start(), false)?
                    } else {
                        Value::String(String::new())
                    };
                    append(&mut out, result, &mut unknown, &mut marked);
                }
                Directive::For(for_directive) => {
                    let intro = &for_directive.for_expr;
                    let collection = evaluator.eval(&intro.collection_expr)?;
                    let Some((pairs, is_marked)) = evaluator.iterate(collection, &intro.collection_expr)? else {
                        unknown = true;
                        continue;
                    };
                    marked |= is_marked;
                    let body = elements(&intro.template);
                    let before = evaluator.bindings.len();
                    for (key, value) in pairs {
                        evaluator.bindings.truncate(before);
                        if let Some(key_var) = &intro.key_var {
                            evaluator.bindings.push((key_var.value().as_str().to_string(), key));
                        }
                        evaluator.bindings.push((intro.value_var.value().as_str().to_string(), value));
                        let result = evaluate(evaluator, &body, intro.strip.strip_end(), for_directive.endfor_expr.strip.strip_start(), false);
                        match result {
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
    let _ = Strip::None;
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
