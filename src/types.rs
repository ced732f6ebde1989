//! Type constraints: `string`, `list(number)`, `object({ name = string, port = optional(number, 80) })`.
//!
//! The data type only, below both the configuration (`crate::config::types` parses it from
//! `variable { type = ... }`) and evaluation (`crate::eval::convert` converts values to it).

use infra_provider::Value;
use std::collections::BTreeMap;
use std::fmt;

/// A type constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeConstraint {
    /// `any`: no conversion.
    Any,
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `list(T)`
    List(Box<TypeConstraint>),
    /// `set(T)`
    Set(Box<TypeConstraint>),
    /// `map(T)`
    Map(Box<TypeConstraint>),
    /// `tuple([T, ...])`
    Tuple(Vec<TypeConstraint>),
    /// `object({ name = T, ... })`
    Object(BTreeMap<String, ObjectAttribute>),
}

/// One attribute of an object type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectAttribute {
    /// Its type.
    pub constraint: TypeConstraint,
    /// Declared with `optional(...)`.
    pub optional: bool,
    /// `optional(T, default)`'s default.
    pub default: Option<Value>,
}

impl fmt::Display for TypeConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeConstraint::Any => f.write_str("any"),
            TypeConstraint::String => f.write_str("string"),
            TypeConstraint::Number => f.write_str("number"),
            TypeConstraint::Bool => f.write_str("bool"),
            TypeConstraint::List(inner) => write!(f, "list({inner})"),
            TypeConstraint::Set(inner) => write!(f, "set({inner})"),
            TypeConstraint::Map(inner) => write!(f, "map({inner})"),
            TypeConstraint::Tuple(items) => {
                f.write_str("tuple([")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("])")
            }
            TypeConstraint::Object(attributes) => {
                f.write_str("object({")?;
                for (index, (name, attribute)) in attributes.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    if attribute.optional {
                        write!(f, "{name} = optional({})", attribute.constraint)?;
                    } else {
                        write!(f, "{name} = {}", attribute.constraint)?;
                    }
                }
                f.write_str("})")
            }
        }
    }
}

impl TypeConstraint {
    /// Whether values need no conversion.
    pub fn is_any(&self) -> bool {
        matches!(self, TypeConstraint::Any)
    }
}

/// Terraform's JSON notation of a value's type (`"string"`, `["set", "string"]`,
/// `["object", {...}]`): what `output -json` and state show. A list whose type infra does not
/// keep is a tuple, a map an object (as Terraform types literals); a set's element type is its
/// elements' when they agree.
pub fn type_json(value: &Value) -> serde_json::Value {
    use serde_json::json;
    match value.bare() {
        Value::Null | Value::Unknown | Value::Sensitive(_) => json!("dynamic"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::List(items) => json!(["tuple", items.iter().map(type_json).collect::<Vec<_>>()]),
        Value::Set(items) => {
            let mut types = items.iter().map(type_json);
            let first = types.next().unwrap_or_else(|| json!("dynamic"));
            let element = if types.all(|t| t == first) { first } else { json!("dynamic") };
            json!(["set", element])
        }
        Value::Map(entries) => {
            json!(["object", entries.iter().map(|(k, v)| (k.clone(), type_json(v))).collect::<serde_json::Map<_, _>>()])
        }
    }
}

/// A root output as state keeps it: the value as JSON and its type.
pub fn output_state(value: &Value, sensitive: bool) -> infra_state::OutputState {
    let value = value.clone().deep_unmark();
    infra_state::OutputState {
        value: value.to_json().unwrap_or_default(),
        sensitive,
        value_type: Some(type_json(&value)),
    }
}

/// A stored output's value, with the sets its recorded type says it holds (JSON has arrays
/// only): an output holding a set compares equal to the set on the next plan.
pub fn output_value(output: &infra_state::OutputState) -> Value {
    fn typed(value: Value, ty: &serde_json::Value) -> Value {
        let kind = ty.get(0).and_then(serde_json::Value::as_str);
        let inner = ty.get(1);
        match (value, kind, inner) {
            (Value::List(items), Some("set"), Some(element)) => {
                Value::set(items.into_iter().map(|item| typed(item, element)).collect())
            }
            (Value::List(items), Some("list"), Some(element)) => {
                Value::List(items.into_iter().map(|item| typed(item, element)).collect())
            }
            (Value::List(items), Some("tuple"), Some(serde_json::Value::Array(elements))) => Value::List(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| match elements.get(i) {
                        Some(element) => typed(item, element),
                        None => item,
                    })
                    .collect(),
            ),
            (Value::Map(entries), Some("map"), Some(element)) => {
                Value::Map(entries.into_iter().map(|(k, v)| (k, typed(v, element))).collect())
            }
            (Value::Map(entries), Some("object"), Some(serde_json::Value::Object(attributes))) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match attributes.get(&k) {
                            Some(t) => typed(v, t),
                            None => v,
                        };
                        (k, v)
                    })
                    .collect(),
            ),
            (value, _, _) => value,
        }
    }
    let value = Value::from_json(&output.value);
    match &output.value_type {
        Some(ty) => typed(value, ty),
        None => value,
    }
}
