//! Values on the wire, as Terraform's type system (cty) writes them: types as compact JSON
//! (`"string"`, `["list","string"]`, `["object",{"a":"number"},["a"]]`), values as msgpack
//! shaped by their type. Null is nil; an unknown value is a msgpack extension (type 0; refined
//! unknowns use other extension types — every extension reads as unknown); a value of type
//! `dynamic` travels as `[type JSON, value]`; numbers are integers when they fit 64 bits,
//! floats when a float holds them exactly, and decimal strings otherwise.

use infra_provider::{Number, Value};
use rmpv::Value as Mp;
use std::collections::{BTreeMap, BTreeSet};

/// A cty type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `dynamic`: any type, decided by the value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`, with the names of optional attributes.
    Object(BTreeMap<String, Type>, BTreeSet<String>),
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

/// The deepest nesting of types or values infra reads (hostile input cannot exhaust the stack).
const MAX_DEPTH: usize = 64;

impl Type {
    /// Parses a type's JSON.
    ///
    /// # Errors
    ///
    /// JSON that is not a cty type.
    pub fn parse(json: &[u8]) -> Result<Type, String> {
        let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| format!("a type is not JSON: {e}"))?;
        Type::from_json(&value, 0)
    }

    fn from_json(json: &serde_json::Value, depth: usize) -> Result<Type, String> {
        if depth > MAX_DEPTH {
            return Err("a type is nested too deeply".into());
        }
        let bad = || format!("not a type: {}", shorten(&json.to_string()));
        match json {
            serde_json::Value::String(name) => match name.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            serde_json::Value::Array(parts) => {
                let kind = parts.first().and_then(|k| k.as_str()).ok_or_else(bad)?;
                let arg = parts.get(1).ok_or_else(bad)?;
                let element = || Type::from_json(arg, depth + 1).map(Box::new);
                match kind {
                    "list" => Ok(Type::List(element()?)),
                    "set" => Ok(Type::Set(element()?)),
                    "map" => Ok(Type::Map(element()?)),
                    "object" => {
                        let fields = arg.as_object().ok_or_else(bad)?;
                        let mut attributes = BTreeMap::new();
                        for (name, kind) in fields {
                            attributes.insert(name.clone(), Type::from_json(kind, depth + 1)?);
                        }
                        let optional = parts
                            .get(2)
                            .and_then(|o| o.as_array())
                            .map(|names| names.iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
                            .unwrap_or_default();
                        Ok(Type::Object(attributes, optional))
                    }
                    "tuple" => {
                        let items = arg.as_array().ok_or_else(bad)?;
                        items
                            .iter()
                            .map(|item| Type::from_json(item, depth + 1))
                            .collect::<Result<_, _>>()
                            .map(Type::Tuple)
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    /// The type's JSON.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Dynamic => json!("dynamic"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
            Type::Object(attributes, optional) => {
                let fields: serde_json::Map<String, serde_json::Value> =
                    attributes.iter().map(|(name, kind)| (name.clone(), kind.to_json())).collect();
                if optional.is_empty() {
                    json!(["object", fields])
                } else {
                    json!(["object", fields, optional.iter().collect::<Vec<_>>()])
                }
            }
            Type::Tuple(items) => json!(["tuple", items.iter().map(Type::to_json).collect::<Vec<_>>()]),
        }
    }

    /// The type a value has when nothing says otherwise (for `dynamic`).
    pub fn of(value: &Value) -> Type {
        match value.bare() {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::Tuple(items.iter().map(Type::of).collect()),
            Value::Set(items) => Type::Set(Box::new(items.first().map_or(Type::Dynamic, Type::of))),
            Value::Map(map) => {
                Type::Object(map.iter().map(|(k, v)| (k.clone(), Type::of(v))).collect(), BTreeSet::new())
            }
            Value::Sensitive(_) => Type::Dynamic,
        }
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

/// The msgpack encoding of `value` as a value of type `kind`.
///
/// # Errors
///
/// A value that does not fit the type.
pub fn encode(value: &Value, kind: &Type) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &to_msgpack(value, kind, 0)?).map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn unknown() -> Mp {
    Mp::Ext(0, vec![0])
}

fn to_msgpack(value: &Value, kind: &Type, depth: usize) -> Result<Mp, String> {
    if depth > MAX_DEPTH {
        return Err("a value is nested too deeply".into());
    }
    let value = value.bare();
    match value {
        Value::Null => return Ok(Mp::Nil),
        Value::Unknown => return Ok(unknown()),
        _ => {}
    }
    let mismatch = || format!("a {} value where {} is expected", value.kind(), kind.to_json());
    Ok(match kind {
        Type::Dynamic => {
            let actual = Type::of(value);
            let json = serde_json::to_vec(&actual.to_json()).map_err(|e| e.to_string())?;
            Mp::Array(vec![Mp::Binary(json), to_msgpack(value, &actual, depth + 1)?])
        }
        Type::String => match value {
            Value::String(text) => Mp::from(text.as_str()),
            Value::Number(number) => Mp::from(number.to_string()),
            Value::Bool(flag) => Mp::from(flag.to_string()),
            _ => return Err(mismatch()),
        },
        Type::Number => match value {
            Value::Number(number) => number_to_msgpack(number),
            Value::String(text) => number_to_msgpack(&text.parse::<Number>().map_err(|_| mismatch())?),
            _ => return Err(mismatch()),
        },
        Type::Bool => match value {
            Value::Bool(flag) => Mp::Boolean(*flag),
            Value::String(text) if text == "true" || text == "false" => Mp::Boolean(text == "true"),
            _ => return Err(mismatch()),
        },
        Type::List(element) | Type::Set(element) => {
            let items = value.as_items().ok_or_else(mismatch)?;
            Mp::Array(items.iter().map(|item| to_msgpack(item, element, depth + 1)).collect::<Result<_, _>>()?)
        }
        Type::Tuple(types) => {
            let items = value.as_items().ok_or_else(mismatch)?;
            if items.len() != types.len() {
                return Err(mismatch());
            }
            Mp::Array(
                items.iter().zip(types).map(|(item, t)| to_msgpack(item, t, depth + 1)).collect::<Result<_, _>>()?,
            )
        }
        Type::Map(element) => {
            let map = value.as_map().ok_or_else(mismatch)?;
            Mp::Map(
                map.iter()
                    .map(|(key, item)| Ok((Mp::from(key.as_str()), to_msgpack(item, element, depth + 1)?)))
                    .collect::<Result<_, String>>()?,
            )
        }
        Type::Object(attributes, _) => {
            let map = value.as_map().ok_or_else(mismatch)?;
            Mp::Map(
                attributes
                    .iter()
                    .map(|(name, kind)| {
                        let item = map.get(name).unwrap_or(&Value::Null);
                        Ok((
                            Mp::from(name.as_str()),
                            to_msgpack(item, kind, depth + 1).map_err(|e| format!("{name}: {e}"))?,
                        ))
                    })
                    .collect::<Result<_, String>>()?,
            )
        }
    })
}

fn number_to_msgpack(number: &Number) -> Mp {
    if let Some(int) = number.to_i64() {
        return Mp::from(int);
    }
    let float = number.to_f64();
    if float.is_finite() && Number::from_f64(float).is_some_and(|back| &back == number) {
        return Mp::F64(float);
    }
    Mp::from(number.to_string())
}

/// Reads msgpack `bytes` as a value of type `kind`.
///
/// # Errors
///
/// Bytes that are not msgpack, or do not fit the type.
pub fn decode(bytes: &[u8], kind: &Type) -> Result<Value, String> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut reader = bytes;
    let parsed =
        rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH * 2).map_err(|e| format!("not msgpack: {e}"))?;
    from_msgpack(&parsed, kind, 0)
}

fn from_msgpack(value: &Mp, kind: &Type, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("a value is nested too deeply".into());
    }
    match value {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(_, _) => return Ok(Value::Unknown),
        _ => {}
    }
    let mismatch = || format!("msgpack {} where {} is expected", shorten(&value.to_string()), kind.to_json());
    Ok(match kind {
        Type::Dynamic => {
            let parts = value.as_array().filter(|parts| parts.len() == 2).ok_or_else(mismatch)?;
            let json = match &parts[0] {
                Mp::Binary(bytes) => bytes.clone(),
                Mp::String(text) => text.as_bytes().to_vec(),
                _ => return Err(mismatch()),
            };
            from_msgpack(&parts[1], &Type::parse(&json)?, depth + 1)?
        }
        Type::String => Value::String(value.as_str().ok_or_else(mismatch)?.to_string()),
        Type::Number => Value::Number(match value {
            Mp::Integer(int) => {
                if let Some(i) = int.as_i64() {
                    Number::from(i)
                } else {
                    int.as_u64().map(|u| u.to_string()).unwrap_or_default().parse().map_err(|_| mismatch())?
                }
            }
            Mp::F32(f) => Number::from_f64(f64::from(*f)).ok_or_else(mismatch)?,
            Mp::F64(f) => Number::from_f64(*f).ok_or_else(mismatch)?,
            Mp::String(text) => text.as_str().and_then(|t| t.parse().ok()).ok_or_else(mismatch)?,
            _ => return Err(mismatch()),
        }),
        Type::Bool => Value::Bool(value.as_bool().ok_or_else(mismatch)?),
        Type::List(element) => Value::List(items(value, element, depth, &mismatch)?),
        Type::Set(element) => Value::set(items(value, element, depth, &mismatch)?),
        Type::Tuple(types) => {
            let parts = value.as_array().filter(|parts| parts.len() == types.len()).ok_or_else(mismatch)?;
            Value::List(parts.iter().zip(types).map(|(p, t)| from_msgpack(p, t, depth + 1)).collect::<Result<_, _>>()?)
        }
        Type::Map(element) => Value::Map(entries(value, depth, &mismatch, |_| Some(element))?),
        Type::Object(attributes, _) => {
            let mut map = entries(value, depth, &mismatch, |name| attributes.get(name))?;
            for name in attributes.keys() {
                map.entry(name.clone()).or_insert(Value::Null);
            }
            Value::Map(map)
        }
    })
}

fn items(value: &Mp, element: &Type, depth: usize, mismatch: &dyn Fn() -> String) -> Result<Vec<Value>, String> {
    let parts = value.as_array().ok_or_else(mismatch)?;
    parts.iter().map(|part| from_msgpack(part, element, depth + 1)).collect()
}

fn entries<'t>(
    value: &Mp,
    depth: usize,
    mismatch: &dyn Fn() -> String,
    kind_of: impl Fn(&str) -> Option<&'t Type>,
) -> Result<BTreeMap<String, Value>, String> {
    let pairs = value.as_map().ok_or_else(mismatch)?;
    let mut map = BTreeMap::new();
    for (key, item) in pairs {
        let key = key.as_str().ok_or_else(mismatch)?;
        // An attribute the schema does not have is dropped (a newer plugin's addition).
        if let Some(kind) = kind_of(key) {
            map.insert(key.to_string(), from_msgpack(item, kind, depth + 1)?);
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(fields: &[(&str, Type)]) -> Type {
        Type::Object(fields.iter().map(|(k, t)| (k.to_string(), t.clone())).collect(), BTreeSet::new())
    }

    #[test]
    fn types_read_and_write_their_json() {
        for text in [
            r#""string""#,
            r#"["list","number"]"#,
            r#"["set",["map","bool"]]"#,
            r#"["object",{"a":"string","b":["tuple",["number","dynamic"]]}]"#,
            r#"["object",{"a":"string"},["a"]]"#,
        ] {
            let parsed = Type::parse(text.as_bytes()).unwrap();
            assert_eq!(serde_json::to_string(&parsed.to_json()).unwrap(), text);
        }
        assert!(Type::parse(br#"["list"]"#).is_err());
        assert!(Type::parse(br#""integer""#).is_err());
    }

    #[test]
    fn values_round_trip_through_msgpack_by_their_type() {
        let kind = object(&[
            ("name", Type::String),
            ("count", Type::Number),
            ("big", Type::Number),
            ("ratio", Type::Number),
            ("on", Type::Bool),
            ("tags", Type::Map(Box::new(Type::String))),
            ("ports", Type::Set(Box::new(Type::Number))),
            ("id", Type::String),
            ("anything", Type::Dynamic),
            ("gone", Type::List(Box::new(Type::String))),
        ]);
        let value = Value::Map(BTreeMap::from([
            ("name".into(), Value::from("web")),
            ("count".into(), Value::int(3)),
            ("big".into(), Value::Number("123456789012345678901234567890".parse().unwrap())),
            ("ratio".into(), Value::Number("0.5".parse().unwrap())),
            ("on".into(), Value::Bool(true)),
            ("tags".into(), Value::Map(BTreeMap::from([("env".into(), Value::from("prod"))]))),
            ("ports".into(), Value::set(vec![Value::int(443), Value::int(80)])),
            ("id".into(), Value::Unknown),
            ("anything".into(), Value::List(vec![Value::from("a"), Value::int(1)])),
            ("gone".into(), Value::Null),
        ]));
        let bytes = encode(&value, &kind).unwrap();
        assert_eq!(decode(&bytes, &kind).unwrap(), value);
    }

    #[test]
    fn refined_unknowns_read_as_unknown_and_absent_attributes_as_null() {
        // {"a": ext12(...)}: a refined unknown, as newer plugins send.
        let mut bytes = Vec::new();
        let message = Mp::Map(vec![(Mp::from("a"), Mp::Ext(12, vec![0x81, 0x01, 0xc3]))]);
        rmpv::encode::write_value(&mut bytes, &message).unwrap();
        let kind = object(&[("a", Type::String), ("b", Type::Number)]);
        let decoded = decode(&bytes, &kind).unwrap();
        assert_eq!(decoded.as_map().unwrap().get("a"), Some(&Value::Unknown));
        assert_eq!(decoded.as_map().unwrap().get("b"), Some(&Value::Null));
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        let kind = object(&[("a", Type::String)]);
        for bytes in [&b"\xa5ab"[..], b"\x91\x91\x91", b"\xdd\xff\xff\xff\xff", b"\x81\xa1a\x05"] {
            assert!(decode(bytes, &kind).is_err(), "{bytes:?}");
        }
        let deep = vec![0x91u8; 10_000];
        assert!(decode(&deep, &Type::Dynamic).is_err());
    }
}
