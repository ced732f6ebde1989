//! Type conversion as Terraform does it: number↔string, string→bool, tuple→list,
//! object→map where the element types unify, and conversion to a declared type constraint.

use crate::types::TypeConstraint;
use infra_provider::{Number, Value};
use std::collections::BTreeMap;

/// The message of a failed operation on a sensitive value, in place of one that would show it.
pub const HIDDEN: &str = "the value is sensitive, so it is not shown";

/// Converts `value` to a string: numbers print exactly, bools as `true`/`false`.
///
/// # Errors
///
/// A sentence fragment ("a string is required, got a list") when it cannot be converted.
pub fn to_string(value: &Value) -> Result<String, String> {
    match value.bare() {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(value) => Ok(value.to_string()),
        Value::Null => Err("a string is required, got null".into()),
        other => Err(format!("a string is required, got {}", describe(other))),
    }
}

/// Converts `value` to a number: strings that spell a number convert.
///
/// # Errors
///
/// A sentence fragment when it cannot be converted.
pub fn to_number(value: &Value) -> Result<Number, String> {
    match value.bare() {
        Value::Number(number) => Ok(number.clone()),
        Value::String(text) => {
            text.parse::<Number>().map_err(|_| format!("a number is required, and {text:?} is not a number"))
        }
        Value::Null => Err("a number is required, got null".into()),
        other => Err(format!("a number is required, got {}", describe(other))),
    }
}

/// Converts `value` to a bool: the strings `"true"` and `"false"` convert.
///
/// # Errors
///
/// A sentence fragment when it cannot be converted.
pub fn to_bool(value: &Value) -> Result<bool, String> {
    match value.bare() {
        Value::Bool(value) => Ok(*value),
        Value::String(text) if text == "true" => Ok(true),
        Value::String(text) if text == "false" => Ok(false),
        Value::Null => Err("a bool is required, got null".into()),
        other => Err(format!("a bool is required, got {}", describe(other))),
    }
}

/// "a string", "a list of 3 elements", ... for messages; never the content of a value.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a bool".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::List(items) => format!("a list of {} element{}", items.len(), if items.len() == 1 { "" } else { "s" }),
        Value::Set(items) => format!("a set of {} element{}", items.len(), if items.len() == 1 { "" } else { "s" }),
        Value::Map(entries) => {
            format!("an object with {} attribute{}", entries.len(), if entries.len() == 1 { "" } else { "s" })
        }
        Value::Unknown => "a value known only after apply".into(),
        Value::Sensitive(inner) => describe(inner),
    }
}

/// Converts a value to a type constraint, applying optional-attribute defaults.
///
/// # Errors
///
/// A sentence fragment naming the path that does not convert.
pub fn convert(value: Value, constraint: &TypeConstraint) -> Result<Value, String> {
    let (value, sensitive) = value.unmark();
    let hidden = sensitive || value.contains_sensitive();
    let converted =
        convert_bare(value, constraint).map_err(|message| if hidden { HIDDEN.to_string() } else { message })?;
    Ok(converted.mark_if(sensitive))
}

fn at(path: &str, message: String) -> String {
    if message.starts_with("attribute ") || message.starts_with("element ") {
        format!("{path}: {message}")
    } else {
        format!("{path} {message}")
    }
}

fn convert_bare(value: Value, constraint: &TypeConstraint) -> Result<Value, String> {
    if matches!(value, Value::Null | Value::Unknown) {
        return Ok(value);
    }
    match constraint {
        TypeConstraint::Any => Ok(value),
        TypeConstraint::String => to_string(&value).map(Value::String),
        TypeConstraint::Number => to_number(&value).map(Value::Number),
        TypeConstraint::Bool => to_bool(&value).map(Value::Bool),
        TypeConstraint::List(element) | TypeConstraint::Set(element) => {
            let items = match value {
                Value::List(items) | Value::Set(items) => items,
                other => return Err(format!("a list is required, got {}", describe(&other))),
            };
            let mut converted = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                converted.push(convert(item, element).map_err(|m| at(&format!("element {index}"), m))?);
            }
            if element.is_any() {
                converted = unify(converted).map_err(|m| format!("all elements must have the same type: {m}"))?;
            }
            Ok(match constraint {
                TypeConstraint::Set(_) => Value::set(converted),
                _ => Value::List(converted),
            })
        }
        TypeConstraint::Map(element) => {
            let Value::Map(entries) = value else {
                return Err(format!("a map is required, got {}", describe(&value)));
            };
            let mut converted = BTreeMap::new();
            for (key, item) in entries {
                let item = convert(item, element).map_err(|m| at(&format!("attribute {key:?}"), m))?;
                converted.insert(key, item);
            }
            if element.is_any() {
                let keys: Vec<String> = converted.keys().cloned().collect();
                let values = unify(converted.into_values().collect())
                    .map_err(|m| format!("all map elements must have the same type: {m}"))?;
                converted = keys.into_iter().zip(values).collect();
            }
            Ok(Value::Map(converted))
        }
        TypeConstraint::Tuple(elements) => {
            let items = match value {
                Value::List(items) | Value::Set(items) => items,
                other => return Err(format!("a tuple is required, got {}", describe(&other))),
            };
            if items.len() != elements.len() {
                return Err(format!("a tuple of {} elements is required, got {}", elements.len(), items.len()));
            }
            items
                .into_iter()
                .zip(elements)
                .enumerate()
                .map(|(index, (item, element))| convert(item, element).map_err(|m| at(&format!("element {index}"), m)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List)
        }
        TypeConstraint::Object(attributes) => {
            let Value::Map(mut entries) = value else {
                return Err(format!("an object is required, got {}", describe(&value)));
            };
            let mut converted = BTreeMap::new();
            for (name, attribute) in attributes {
                match entries.remove(name) {
                    Some(item) if !item.is_null() => {
                        let item =
                            convert(item, &attribute.constraint).map_err(|m| at(&format!("attribute {name:?}"), m))?;
                        converted.insert(name.clone(), item);
                    }
                    found => {
                        if !attribute.optional && found.is_none() {
                            return Err(format!("attribute {name:?} is required"));
                        }
                        let default = attribute.default.clone().unwrap_or(Value::Null);
                        converted.insert(name.clone(), default);
                    }
                }
            }
            Ok(Value::Map(converted))
        }
    }
}

/// Makes the elements of a collection one type, as Terraform does for `tolist`, `tomap` and
/// `toset`: mixed strings, numbers and bools all become strings.
///
/// # Errors
///
/// When primitives and collections are mixed.
pub fn unify(items: Vec<Value>) -> Result<Vec<Value>, String> {
    use infra_provider::ValueKind as K;
    let kinds: Vec<K> = items.iter().map(Value::kind).filter(|kind| !matches!(kind, K::Null | K::Unknown)).collect();
    let Some(first) = kinds.first() else { return Ok(items) };
    if kinds.iter().all(|kind| kind == first) {
        return Ok(items);
    }
    let primitive = |kind: &K| matches!(kind, K::String | K::Number | K::Bool);
    if kinds.iter().all(|kind| matches!(kind, K::Set | K::List)) {
        // A set and a tuple unify to the set (Terraform: `cond ? toset(a) : []` is a set).
        return Ok(items
            .into_iter()
            .map(|item| {
                let (bare, sensitive) = item.unmark();
                match bare {
                    Value::List(elements) => Value::set(elements).mark_if(sensitive),
                    other => other.mark_if(sensitive),
                }
            })
            .collect());
    }
    if kinds.iter().all(primitive) {
        return items
            .into_iter()
            .map(|item| {
                if item.is_null() || !item.is_known() {
                    return Ok(item);
                }
                let (bare, sensitive) = item.unmark();
                to_string(&bare).map(|text| Value::String(text).mark_if(sensitive))
            })
            .collect();
    }
    Err(format!(
        "{} and {} cannot be combined",
        kinds[0],
        kinds.iter().find(|k| *k != first).copied().unwrap_or(*first)
    ))
}
