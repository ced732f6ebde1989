//! Type constraints parsed from the expression syntax Terraform uses for
//! `variable { type = ... }`; the data type is [`crate::types`].

pub use crate::types::{ObjectAttribute, TypeConstraint};
use hcl_edit::expr::{Expression, ObjectKey};
use infra_provider::{Diagnostic, FileId, Span, Value};
use std::collections::BTreeMap;

fn invalid(span: Option<Span>, detail: String) -> Diagnostic {
    Diagnostic::error("Invalid type specification", detail).at(span)
}

/// Parses a type expression.
///
/// # Errors
///
/// A diagnostic at the offending part when the expression is not a type.
pub fn parse(expr: &Expression, file: FileId) -> Result<TypeConstraint, Diagnostic> {
    parse_inner(expr, file, false).map(|(constraint, _)| constraint)
}

fn span_of(expr: &Expression, file: FileId) -> Option<Span> {
    hcl_edit::Span::span(expr).map(|range| Span::new(file, range))
}

/// `optional(...)` found while parsing an object attribute: (optional, its default).
type Optional = Option<(bool, Option<Value>)>;

fn parse_inner(expr: &Expression, file: FileId, in_object: bool) -> Result<(TypeConstraint, Optional), Diagnostic> {
    let span = span_of(expr, file);
    match expr {
        Expression::Parenthesis(inner) => parse_inner(inner.inner(), file, in_object),
        Expression::Variable(ident) => {
            let constraint = match ident.value().as_str() {
                "any" => TypeConstraint::Any,
                "string" => TypeConstraint::String,
                "number" => TypeConstraint::Number,
                "bool" => TypeConstraint::Bool,
                "list" | "set" | "map" => {
                    return Err(invalid(span, format!(
                        "The {} type constructor requires one argument specifying the element type, as in `{}(string)`.",
                        ident.value().as_str(), ident.value().as_str()
                    )));
                }
                other => {
                    return Err(invalid(span, format!("The keyword `{other}` is not a valid type specification.")));
                }
            };
            Ok((constraint, None))
        }
        // Legacy quoted types ("string", "list", "map") from Terraform 0.11.
        Expression::String(text) => match text.value().as_str() {
            "string" => Ok((TypeConstraint::String, None)),
            "list" => Ok((TypeConstraint::List(Box::new(TypeConstraint::Any)), None)),
            "map" => Ok((TypeConstraint::Map(Box::new(TypeConstraint::Any)), None)),
            _ => Err(invalid(span, "A type specification is a keyword such as `string`, not a quoted string.".into())),
        },
        Expression::FuncCall(call) => {
            let name = call.name.name.value().as_str();
            let args: Vec<&Expression> = call.args.iter().collect();
            let one = |args: &[&Expression]| -> Result<TypeConstraint, Diagnostic> {
                match args {
                    [single] => parse_inner(single, file, false).map(|(c, _)| c),
                    _ => Err(invalid(span.clone(), format!("The {name} type constructor requires exactly one argument."))),
                }
            };
            match name {
                "list" => Ok((TypeConstraint::List(Box::new(one(&args)?)), None)),
                "set" => Ok((TypeConstraint::Set(Box::new(one(&args)?)), None)),
                "map" => Ok((TypeConstraint::Map(Box::new(one(&args)?)), None)),
                "tuple" => match args.as_slice() {
                    [Expression::Array(items)] => {
                        let items = items
                            .iter()
                            .map(|item| parse_inner(item, file, false).map(|(c, _)| c))
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok((TypeConstraint::Tuple(items), None))
                    }
                    _ => Err(invalid(span, "The tuple type constructor requires a list of element types, as in `tuple([string, number])`.".into())),
                },
                "object" => match args.as_slice() {
                    [Expression::Object(object)] => {
                        let mut attributes = BTreeMap::new();
                        for (key, value) in object.iter() {
                            let key_name = match key {
                                ObjectKey::Ident(ident) => ident.value().as_str().to_string(),
                                ObjectKey::Expression(Expression::String(text)) => text.value().clone(),
                                ObjectKey::Expression(other) => {
                                    return Err(invalid(span_of(other, file), "Object attribute names must be identifiers or quoted strings.".into()));
                                }
                            };
                            let (constraint, optional) = parse_inner(value.expr(), file, true)?;
                            let (optional, default) = optional.unwrap_or((false, None));
                            attributes.insert(key_name, ObjectAttribute { constraint, optional, default });
                        }
                        Ok((TypeConstraint::Object(attributes), None))
                    }
                    _ => Err(invalid(span, "The object type constructor requires an object of attribute types, as in `object({ name = string })`.".into())),
                },
                "optional" => {
                    if !in_object {
                        return Err(invalid(span, "Keyword `optional` is valid only as the type of an object attribute.".into()));
                    }
                    match args.as_slice() {
                        [inner] => Ok((parse_inner(inner, file, false)?.0, Some((true, None)))),
                        [inner, default] => {
                            let constraint = parse_inner(inner, file, false)?.0;
                            let value = crate::eval::constant(default, file)?;
                            let value = crate::eval::convert::convert(value, &constraint).map_err(|message| {
                                invalid(span_of(default, file), format!("The default for an optional attribute must be of type {constraint}: {message}."))
                            })?;
                            Ok((constraint, Some((true, Some(value)))))
                        }
                        _ => Err(invalid(span, "`optional` takes a type and, optionally, a default value.".into())),
                    }
                }
                other => Err(invalid(span, format!("`{other}` is not a type constructor; use list, set, map, tuple or object."))),
            }
        }
        _ => Err(invalid(span, "A type specification is a keyword (string, number, bool, any) or a type constructor such as `list(string)`.".into())),
    }
}
