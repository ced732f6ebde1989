//! Reading attributes out of [`Value`] objects and building objects back, so that resource
//! modules read like the attribute lists of their Terraform documentation.

use infra_provider::{Number, Value};
use std::collections::BTreeMap;

/// An object under construction.
#[derive(Default)]
pub struct Object(BTreeMap<String, Value>);

impl Object {
    /// An empty object.
    pub fn new() -> Object {
        Object::default()
    }

    /// Sets an attribute to a value.
    pub fn set(mut self, name: &str, value: Value) -> Object {
        self.0.insert(name.to_string(), value);
        self
    }

    /// Sets a string attribute; `None` and empty strings are null.
    pub fn str(self, name: &str, value: Option<&str>) -> Object {
        let value = value.filter(|s| !s.is_empty()).map_or(Value::Null, Value::string);
        self.set(name, value)
    }

    /// Sets a bool attribute; `None` is null.
    pub fn bool(self, name: &str, value: Option<bool>) -> Object {
        self.set(name, value.map_or(Value::Null, Value::Bool))
    }

    /// Sets a number attribute; `None` is null.
    pub fn int(self, name: &str, value: Option<i64>) -> Object {
        self.set(name, value.map_or(Value::Null, Value::int))
    }

    /// Sets a set-of-strings attribute.
    pub fn strings(self, name: &str, values: impl IntoIterator<Item = String>) -> Object {
        self.set(name, Value::set(values.into_iter().map(Value::String).collect()))
    }

    /// The finished object.
    pub fn build(self) -> Value {
        Value::Map(self.0)
    }
}

/// An attribute of an object (null when absent or not an object).
pub fn get<'a>(object: &'a Value, name: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    object.as_map().and_then(|m| m.get(name)).map_or(&NULL, Value::bare)
}

/// A string attribute.
pub fn string<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    get(object, name).as_str()
}

/// A string attribute, owned (the SDK builders take `impl Into<String>`).
pub fn owned(object: &Value, name: &str) -> Option<String> {
    string(object, name).map(str::to_string)
}

/// A bool attribute.
pub fn boolean(object: &Value, name: &str) -> Option<bool> {
    get(object, name).as_bool()
}

/// An integer attribute.
pub fn integer(object: &Value, name: &str) -> Option<i64> {
    get(object, name).as_number().and_then(Number::to_i64)
}

/// A list or set of strings.
pub fn strings(object: &Value, name: &str) -> Vec<String> {
    items(get(object, name)).iter().filter_map(|v| v.bare().as_str().map(str::to_string)).collect()
}

/// The elements of a list or set (empty for anything else).
pub fn items(value: &Value) -> &[Value] {
    value.bare().as_items().unwrap_or(&[])
}

/// The objects of a nested block (a list or set of objects).
pub fn blocks<'a>(object: &'a Value, name: &str) -> &'a [Value] {
    items(get(object, name))
}

/// A map of strings (tags).
pub fn string_map(object: &Value, name: &str) -> BTreeMap<String, String> {
    get(object, name)
        .as_map()
        .map(|m| m.iter().filter_map(|(k, v)| v.bare().as_str().map(|v| (k.clone(), v.to_string()))).collect())
        .unwrap_or_default()
}

/// Whether an attribute differs between two objects (sensitive marks ignored).
pub fn changed(before: &Value, after: &Value, name: &str) -> bool {
    !infra_provider::values_equal(get(before, name), get(after, name))
}

/// Copies attributes from `from` into `into` (values the API does not return, such as a key
/// pair's public key, are kept from state).
pub fn keep(into: Value, from: &Value, names: &[&str]) -> Value {
    let Value::Map(mut map) = into else { return into };
    for name in names {
        if let Some(value) = from.as_map().and_then(|m| m.get(*name)) {
            map.insert((*name).to_string(), value.clone());
        }
    }
    Value::Map(map)
}
