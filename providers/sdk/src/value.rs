//! [`Value`]: what every expression evaluates to and every provider receives.

use crate::number::Number;
use std::collections::BTreeMap;
use std::fmt;

/// A value of the configuration language.
///
/// Lists and tuples share [`Value::List`]; maps and objects share [`Value::Map`] (ordered, so
/// output and diffs are deterministic); sets are kept sorted and free of duplicates in
/// [`Value::Set`]. [`Value::Unknown`] is "known after apply" and never reaches a state file.
/// [`Value::Sensitive`] marks its content as secret: every operation on it yields a marked
/// result, and renderers show `(sensitive value)`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An arbitrary-precision number.
    Number(Number),
    /// A Unicode string (NFC-normalized by the evaluator, as Terraform's are).
    String(String),
    /// A list or tuple.
    List(Vec<Value>),
    /// A set: sorted, without duplicates.
    Set(Vec<Value>),
    /// A map or object, ordered by key.
    Map(BTreeMap<String, Value>),
    /// Known only after apply.
    Unknown,
    /// A sensitive value.
    Sensitive(Box<Value>),
}

/// The kind of a value, as messages name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// `null`
    Null,
    /// `bool`
    Bool,
    /// `number`
    Number,
    /// `string`
    String,
    /// list or tuple
    List,
    /// set
    Set,
    /// map or object
    Map,
    /// unknown
    Unknown,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Null => "null",
            ValueKind::Bool => "bool",
            ValueKind::Number => "number",
            ValueKind::String => "string",
            ValueKind::List => "list",
            ValueKind::Set => "set",
            ValueKind::Map => "object",
            ValueKind::Unknown => "unknown",
        })
    }
}

impl Value {
    /// A string value.
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    /// A number value from an integer.
    pub fn int(value: i64) -> Value {
        Value::Number(Number::from(value))
    }

    /// A set from any values: sorted, duplicates removed.
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items)
    }

    /// The kind of the value under any sensitive mark.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Null => ValueKind::Null,
            Value::Bool(_) => ValueKind::Bool,
            Value::Number(_) => ValueKind::Number,
            Value::String(_) => ValueKind::String,
            Value::List(_) => ValueKind::List,
            Value::Set(_) => ValueKind::Set,
            Value::Map(_) => ValueKind::Map,
            Value::Unknown => ValueKind::Unknown,
            Value::Sensitive(inner) => inner.kind(),
        }
    }

    /// Marks the value sensitive (idempotent).
    pub fn mark_sensitive(self) -> Value {
        match self {
            Value::Sensitive(_) => self,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// Marks the value sensitive when `sensitive` holds.
    pub fn mark_if(self, sensitive: bool) -> Value {
        if sensitive { self.mark_sensitive() } else { self }
    }

    /// Removes a top-level mark: the bare value and whether it was marked.
    pub fn unmark(self) -> (Value, bool) {
        match self {
            Value::Sensitive(inner) => (inner.unmark().0, true),
            other => (other, false),
        }
    }

    /// The value under a top-level mark, borrowed.
    pub fn bare(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner.bare(),
            other => other,
        }
    }

    /// Whether the value is marked sensitive at the top level.
    pub fn is_marked(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// Whether the value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) | Value::Set(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(entries) => entries.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// Removes every mark, at every depth.
    pub fn deep_unmark(self) -> Value {
        match self {
            Value::Sensitive(inner) => inner.deep_unmark(),
            Value::List(items) => Value::List(items.into_iter().map(Value::deep_unmark).collect()),
            Value::Set(items) => Value::set(items.into_iter().map(Value::deep_unmark).collect()),
            Value::Map(entries) => {
                Value::Map(entries.into_iter().map(|(key, value)| (key, value.deep_unmark())).collect())
            }
            other => other,
        }
    }

    /// Whether the value is known at the top level (under any mark).
    pub fn is_known(&self) -> bool {
        !matches!(self.bare(), Value::Unknown)
    }

    /// Whether the value and everything inside it is known.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Sensitive(inner) => inner.is_wholly_known(),
            Value::List(items) | Value::Set(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(entries) => entries.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// Whether the value is null (under any mark).
    pub fn is_null(&self) -> bool {
        matches!(self.bare(), Value::Null)
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self.bare() {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The number inside, if this is a number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.bare() {
            Value::Number(number) => Some(number),
            _ => None,
        }
    }

    /// The bool inside, if this is a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.bare() {
            Value::Bool(value) => Some(*value),
            _ => None,
        }
    }

    /// The elements of a list, tuple or set.
    pub fn as_items(&self) -> Option<&[Value]> {
        match self.bare() {
            Value::List(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.bare() {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Terraform's JSON encoding of a known value (`terraform output -json`, `jsonencode`):
    /// sets and lists as arrays, maps as objects, numbers exact. Marks are dropped: callers
    /// decide what may be shown. `None` when the value is not wholly known.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        Some(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(value) => serde_json::Value::Bool(*value),
            Value::Number(number) => {
                let text = number.to_string();
                serde_json::Value::Number(serde_json::Number::from_string_unchecked(text))
            }
            Value::String(text) => serde_json::Value::String(text.clone()),
            Value::List(items) | Value::Set(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect::<Option<Vec<_>>>()?)
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| Some((key.clone(), value.to_json()?)))
                    .collect::<Option<serde_json::Map<_, _>>>()?,
            ),
            Value::Unknown => return None,
            Value::Sensitive(inner) => return inner.to_json(),
        })
    }

    /// The value of a JSON document: arrays become lists, objects maps, numbers exact.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(value) => Value::Bool(*value),
            serde_json::Value::Number(number) => number.to_string().parse().map(Value::Number).unwrap_or(Value::Null),
            serde_json::Value::String(text) => Value::String(text.clone()),
            serde_json::Value::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(entries) => {
                Value::Map(entries.iter().map(|(key, value)| (key.clone(), Value::from_json(value))).collect())
            }
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(value) => write!(f, "{value}"),
            Value::Number(number) => write!(f, "{number}"),
            Value::String(text) => write!(f, "{text:?}"),
            Value::List(items) => f.debug_list().entries(items).finish(),
            Value::Set(items) => {
                f.write_str("set")?;
                f.debug_list().entries(items).finish()
            }
            Value::Map(entries) => f.debug_map().entries(entries).finish(),
            Value::Unknown => f.write_str("(known after apply)"),
            Value::Sensitive(_) => f.write_str("(sensitive value)"),
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::String(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::String(text)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl From<Number> for Value {
    fn from(value: Number) -> Self {
        Value::Number(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let secret = Value::string("hunter2").mark_sensitive();
        let wrapped = Value::List(vec![secret]);
        assert_eq!(format!("{wrapped:?}"), "[(sensitive value)]");
    }

    #[test]
    fn sets_are_sorted_and_unique() {
        let set = Value::set(vec![Value::from("b"), Value::from("a"), Value::from("b")]);
        assert_eq!(set, Value::Set(vec![Value::from("a"), Value::from("b")]));
    }

    #[test]
    fn json_round_trips_big_numbers() {
        let json: serde_json::Value = serde_json::from_str("[9007199254740993, 0.1]").expect("valid json");
        let value = Value::from_json(&json);
        assert_eq!(value.to_json().expect("known").to_string(), "[9007199254740993,0.1]");
    }

    #[test]
    fn unknown_is_not_encodable() {
        assert!(Value::List(vec![Value::Unknown]).to_json().is_none());
        assert!(!Value::List(vec![Value::Unknown]).is_wholly_known());
    }
}
