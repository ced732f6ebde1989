//! Objects: a resource's configuration as the provider sees it, and state ↔ values.
//!
//! [`config_object`] evaluates a resource body against the type's schema: unknown arguments and
//! blocks are diagnostics (with "did you mean"), required arguments must be set, values are
//! converted to the schema's types, nested and `dynamic` blocks become lists (or one object),
//! and sensitive attributes are marked. [`to_state`] / [`from_state`] store values as JSON with
//! the paths of sensitive values beside them.

use crate::config::{Body, NestedBlock};
use crate::eval::{Scope, convert};
use crate::module_eval::eval_expr;
use crate::types::TypeConstraint;
use infra_provider::{AttrType, BlockSchema, Diagnostic, Diagnostics, Nesting, Value};
use std::collections::BTreeMap;

/// The type constraint for an attribute type.
pub fn constraint(kind: &AttrType) -> TypeConstraint {
    match kind {
        AttrType::String => TypeConstraint::String,
        AttrType::Number => TypeConstraint::Number,
        AttrType::Bool => TypeConstraint::Bool,
        AttrType::List(inner) => TypeConstraint::List(Box::new(constraint(inner))),
        AttrType::Set(inner) => TypeConstraint::Set(Box::new(constraint(inner))),
        AttrType::Map(inner) => TypeConstraint::Map(Box::new(constraint(inner))),
        AttrType::Object(attributes) => TypeConstraint::Object(
            attributes
                .iter()
                .map(|(name, kind)| {
                    (
                        name.clone(),
                        crate::config::types::ObjectAttribute {
                            constraint: constraint(kind),
                            optional: true,
                            default: None,
                        },
                    )
                })
                .collect(),
        ),
        AttrType::Dynamic => TypeConstraint::Any,
    }
}

/// Sets become lists, recursively, keeping marks and Unknowns: the shape a value has after a
/// round trip through JSON, so that a dynamic attribute read back from state compares equal to
/// its configuration.
pub fn json_shape(value: Value) -> Value {
    match value {
        Value::Set(items) | Value::List(items) => Value::List(items.into_iter().map(json_shape).collect()),
        Value::Map(entries) => Value::Map(entries.into_iter().map(|(k, v)| (k, json_shape(v))).collect()),
        Value::Sensitive(inner) => json_shape(*inner).mark_sensitive(),
        other => other,
    }
}

/// The block schema of the elements of a list or set of objects (written as blocks).
fn object_elements(kind: &AttrType) -> Option<BlockSchema> {
    let (AttrType::List(element) | AttrType::Set(element)) = kind else { return None };
    let AttrType::Object(fields) = element.as_ref() else { return None };
    let mut schema = BlockSchema::new();
    for (name, field) in fields {
        schema.attributes.insert(name.clone(), infra_provider::Attribute::optional(field.clone()));
    }
    Some(schema)
}

/// Evaluates a resource body into the object the provider receives.
///
/// Returns `None` (with diagnostics) when the body does not fit the schema or fails to evaluate.
pub fn config_object(
    body: &Body,
    schema: &BlockSchema,
    scope: &Scope,
    bindings: &[(&str, Value)],
    address: &str,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let before = diagnostics.len();
    let mut object = BTreeMap::new();
    for (name, attribute) in &body.attributes {
        let Some(declared) = schema.attributes.get(name) else {
            if schema.blocks.contains_key(name) {
                // An object or list written where blocks are expected (attributes-as-blocks).
                if let Some(value) = eval_expr(scope, &attribute.expr, bindings, diagnostics) {
                    object.insert(name.clone(), value);
                }
                continue;
            }
            let mut candidates: Vec<&str> = schema.attributes.keys().map(String::as_str).collect();
            candidates.extend(schema.blocks.keys().map(String::as_str));
            let mut diagnostic =
                Diagnostic::error("Unsupported argument", format!("An argument named `{name}` is not expected here."))
                    .at(attribute.name_span.clone())
                    .for_address(address);
            if let Some(suggestion) = crate::suggest::did_you_mean(name, candidates) {
                diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
            }
            diagnostics.push(diagnostic);
            continue;
        };
        if declared.computed && !declared.optional && !declared.required {
            diagnostics.push(
                Diagnostic::error(
                    "Value for unconfigurable attribute",
                    format!("`{name}` is set by the provider and cannot be configured."),
                )
                .at(attribute.name_span.clone())
                .for_address(address),
            );
            continue;
        }
        let Some(value) = eval_expr(scope, &attribute.expr, bindings, diagnostics) else { continue };
        match convert::convert(value, &constraint(&declared.kind)) {
            Ok(value) => {
                let value = if declared.kind == AttrType::Dynamic { json_shape(value) } else { value };
                object.insert(name.clone(), value.mark_if(declared.sensitive));
            }
            Err(message) => diagnostics.push(
                Diagnostic::error(
                    "Incorrect attribute value type",
                    format!("Inappropriate value for attribute `{name}`: {message}."),
                )
                .at(attribute.expr.span())
                .for_address(address),
            ),
        }
    }
    for (name, declared) in &schema.attributes {
        if declared.required && !object.contains_key(name) {
            diagnostics.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!("The argument `{name}` is required, but no definition was found."),
                )
                .at(body.span.clone())
                .for_address(address),
            );
        }
        object.entry(name.clone()).or_insert(Value::Null);
    }
    // `None`: a dynamic block of that type has an unknown `for_each`.
    let mut blocks: BTreeMap<String, Option<Vec<Value>>> = BTreeMap::new();
    let mut attribute_blocks: BTreeMap<String, Option<Vec<Value>>> = BTreeMap::new();
    let add = |slot: &mut Option<Vec<Value>>, items: Option<Vec<Value>>| match (slot.as_mut(), items) {
        (Some(all), Some(items)) => all.extend(items),
        _ => *slot = None,
    };
    for block in &body.blocks {
        // Attributes as blocks (Terraform's rule for the legacy SDK's list or set of objects,
        // `ingress { … }` of a security group): blocks become the attribute's elements.
        if let Some(element) = schema.attributes.get(&block.kind).and_then(|a| object_elements(&a.kind)) {
            let items = nested(block, &element, scope, bindings, address, diagnostics);
            add(attribute_blocks.entry(block.kind.clone()).or_insert_with(|| Some(Vec::new())), items);
            continue;
        }
        let Some(declared) = schema.blocks.get(&block.kind) else {
            let mut diagnostic = Diagnostic::error(
                "Unsupported block type",
                format!("Blocks of type `{}` are not expected here.", block.kind),
            )
            .at(block.span.clone())
            .for_address(address);
            if let Some(suggestion) =
                crate::suggest::did_you_mean(&block.kind, schema.blocks.keys().map(String::as_str))
            {
                diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
            }
            diagnostics.push(diagnostic);
            continue;
        };
        let items = nested(block, &declared.block, scope, bindings, address, diagnostics);
        add(blocks.entry(block.kind.clone()).or_insert_with(|| Some(Vec::new())), items);
    }
    for (name, items) in attribute_blocks {
        let set = matches!(schema.attributes.get(&name).map(|a| &a.kind), Some(AttrType::Set(_)));
        let value = match items {
            None => Value::Unknown,
            Some(items) if set => Value::set(items),
            Some(items) => Value::List(items),
        };
        object.insert(name, value);
    }
    for (name, declared) in &schema.blocks {
        if object.contains_key(name) {
            continue;
        }
        let Some(items) = blocks.remove(name).unwrap_or_else(|| Some(Vec::new())) else {
            object.insert(name.clone(), Value::Unknown);
            continue;
        };
        let value = match declared.nesting {
            Nesting::Single => items.into_iter().next().unwrap_or(Value::Null),
            Nesting::List => Value::List(items),
            Nesting::Set => Value::set(items),
        };
        object.insert(name.clone(), value);
    }
    (diagnostics.len() == before).then_some(Value::Map(object))
}

fn nested(
    block: &NestedBlock,
    schema: &BlockSchema,
    scope: &Scope,
    bindings: &[(&str, Value)],
    address: &str,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<Value>> {
    let Some(dynamic) = &block.dynamic else {
        return Some(config_object(&block.body, schema, scope, bindings, address, diagnostics).into_iter().collect());
    };
    let Some(collection) = eval_expr(scope, &dynamic.for_each, bindings, diagnostics) else { return Some(Vec::new()) };
    let pairs: Vec<(Value, Value)> = match collection.bare() {
        Value::List(items) => items.iter().enumerate().map(|(i, v)| (Value::int(i as i64), v.clone())).collect(),
        Value::Set(items) => items.iter().map(|v| (v.clone(), v.clone())).collect(),
        Value::Map(entries) => entries.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect(),
        // Not known yet (Terraform's rule): the blocks of this type are unknown until apply;
        // the content is still checked, once, with an unknown iterator.
        Value::Unknown => {
            let mut inner: Vec<(&str, Value)> = bindings.to_vec();
            inner.push((
                dynamic.iterator.as_str(),
                Value::Map(BTreeMap::from([
                    ("key".to_string(), Value::Unknown),
                    ("value".to_string(), Value::Unknown),
                ])),
            ));
            config_object(&block.body, schema, scope, &inner, address, diagnostics);
            return None;
        }
        _ => {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid dynamic for_each value",
                    "A dynamic block's `for_each` must be a known collection at plan time.",
                )
                .at(dynamic.for_each.span()),
            );
            return Some(Vec::new());
        }
    };
    let mut out = Vec::new();
    for (key, value) in pairs {
        let mut inner: Vec<(&str, Value)> = bindings.to_vec();
        inner.push((
            dynamic.iterator.as_str(),
            Value::Map(BTreeMap::from([("key".to_string(), key), ("value".to_string(), value)])),
        ));
        out.extend(config_object(&block.body, schema, scope, &inner, address, diagnostics));
    }
    Some(out)
}

/// Marks the attributes the schema declares sensitive.
///
/// It also gives collections the shape the schema declares: a set read back from JSON state
/// (where it is an array) becomes a set again, so it compares equal to the same set read from
/// the provider.
pub fn mark_schema_sensitive(value: Value, schema: &BlockSchema) -> Value {
    match value {
        Value::Map(mut entries) => {
            // In place: no entry is removed and re-inserted, no key cloned.
            for (name, attribute) in &schema.attributes {
                let Some(slot) = entries.get_mut(name) else { continue };
                let entry = shape(std::mem::replace(slot, Value::Null), &attribute.kind);
                *slot = entry.mark_if(attribute.sensitive);
            }
            for (name, block) in &schema.blocks {
                let Some(slot) = entries.get_mut(name) else { continue };
                *slot = match std::mem::replace(slot, Value::Null) {
                    Value::List(items) | Value::Set(items) => {
                        let items = items.into_iter().map(|item| mark_schema_sensitive(item, &block.block)).collect();
                        if block.nesting == Nesting::Set { Value::set(items) } else { Value::List(items) }
                    }
                    entry @ Value::Map(_) => mark_schema_sensitive(entry, &block.block),
                    other => other,
                };
            }
            Value::Map(entries)
        }
        other => other,
    }
}

/// A value in the collection shape of its type (sets sorted and deduplicated).
fn shape(value: Value, kind: &AttrType) -> Value {
    match (value, kind) {
        (Value::List(items) | Value::Set(items), AttrType::Set(inner)) => {
            Value::set(items.into_iter().map(|item| shape(item, inner)).collect())
        }
        (Value::List(items), AttrType::List(inner)) => {
            Value::List(items.into_iter().map(|item| shape(item, inner)).collect())
        }
        (Value::Map(entries), AttrType::Map(inner)) => {
            Value::Map(entries.into_iter().map(|(k, v)| (k, shape(v, inner))).collect())
        }
        (Value::Sensitive(inner), kind) => shape(*inner, kind).mark_sensitive(),
        (value, _) => value,
    }
}

/// The paths of the sensitive parts of `value` (`[["result"]]`, `[["rule", "0", "password"]]`):
/// list and set elements by index, map entries by key.
pub fn sensitive_paths(value: &Value) -> Vec<Vec<String>> {
    fn paths(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            Value::Sensitive(_) => out.push(path.clone()),
            // Set elements have no stable place (the provider may answer them in another
            // order): a set with a secret inside is sensitive whole, as Terraform has it.
            Value::Set(items) if items.iter().any(Value::contains_sensitive) => out.push(path.clone()),
            Value::List(items) | Value::Set(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(index.to_string());
                    paths(item, path, out);
                    path.pop();
                }
            }
            Value::Map(entries) => {
                for (key, item) in entries {
                    path.push(key.clone());
                    paths(item, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut sensitive = Vec::new();
    paths(value, &mut Vec::new(), &mut sensitive);
    sensitive
}

/// `value` with the parts at `paths` marked sensitive (paths that do not exist in it are
/// skipped: a provider may have dropped an attribute).
pub fn mark_paths(value: Value, paths: &[Vec<String>]) -> Value {
    fn mark(value: Value, path: &[String]) -> Value {
        let Some((first, rest)) = path.split_first() else { return value.mark_sensitive() };
        match value {
            Value::Sensitive(inner) => Value::Sensitive(inner),
            Value::Map(mut entries) => {
                if let Some(entry) = entries.remove(first) {
                    entries.insert(first.clone(), mark(entry, rest));
                }
                Value::Map(entries)
            }
            Value::List(mut items) => {
                if let Some(item) = first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    *item = mark(std::mem::take(item), rest);
                }
                Value::List(items)
            }
            Value::Set(mut items) => {
                if let Some(item) = first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    *item = mark(std::mem::take(item), rest);
                }
                Value::Set(items)
            }
            other => other,
        }
    }
    paths.iter().fold(value, |value, path| mark(value, path))
}

/// `to` with the marks of `from` applied by path: what a provider answers is built afresh
/// and carries no marks, so the marks of the configuration (or of the prior state) it was
/// planned from are put back on it — a value derived from a secret stays a secret in the plan,
/// in state and in every view of them (Terraform re-applies marks the same way).
pub fn copy_marks(from: &Value, to: Value) -> Value {
    if from.is_marked() {
        return to.mark_sensitive();
    }
    let paths = sensitive_paths(from);
    if paths.is_empty() { to } else { mark_paths(to, &paths) }
}

/// A value as stored: JSON without marks, and the paths of the marked parts.
pub fn to_state(value: &Value) -> (serde_json::Value, Vec<Vec<String>>) {
    (value.clone().deep_unmark().to_json().unwrap_or(serde_json::Value::Null), sensitive_paths(value))
}

/// A stored value, with its sensitive paths marked again.
pub fn from_state(json: &serde_json::Value, sensitive: &[Vec<String>]) -> Value {
    mark_paths(Value::from_json(json), sensitive)
}

/// A provider's private data for an object, as state keeps it (base64).
pub fn private_text(provider: &dyn infra_provider::Provider, kind: &str, object: &Value) -> Option<String> {
    use base64::Engine;
    provider
        .private_of(kind, object)
        .filter(|p| !p.is_empty())
        .map(|p| base64::engine::general_purpose::STANDARD.encode(p))
}

/// Private data as state keeps it, decoded (`None` when it is not base64).
pub fn private_bytes(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip_keeps_sensitive_paths() {
        let value = Value::Map(BTreeMap::from([
            ("result".to_string(), Value::from("hunter2").mark_sensitive()),
            ("nested".to_string(), Value::List(vec![Value::int(1), Value::from("x").mark_sensitive()])),
            ("plain".to_string(), Value::from("ok")),
        ]));
        let (json, sensitive) = to_state(&value);
        assert_eq!(sensitive, vec![vec!["nested".to_string(), "1".to_string()], vec!["result".to_string()]]);
        assert_eq!(from_state(&json, &sensitive), value);
    }
}
