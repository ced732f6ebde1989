//! YAML documents with their locations: the reader behind YAML configuration files
//! (`crate::config::yaml`) and the `yamldecode` function.

use infra_provider::Value;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A YAML node with its location.
pub(crate) type Node = Spanned<NodeKind>;

/// The content of a YAML node.
#[derive(Debug)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = NodeKind;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<NodeKind, E> {
                Ok(NodeKind::Null)
            }
            fn visit_none<E>(self) -> Result<NodeKind, E> {
                Ok(NodeKind::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeKind, D::Error> {
                NodeKind::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<NodeKind, E> {
                Ok(NodeKind::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<NodeKind, E> {
                Ok(NodeKind::Number(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<NodeKind, E> {
                Ok(NodeKind::Number(v.to_string()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<NodeKind, E> {
                Ok(NodeKind::Number(v.to_string()))
            }
            fn visit_u128<E>(self, v: u128) -> Result<NodeKind, E> {
                Ok(NodeKind::Number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeKind, E> {
                if v.is_finite() {
                    Ok(NodeKind::Number(format!("{v}")))
                } else {
                    Err(E::custom("infinite and NaN numbers are not supported"))
                }
            }
            fn visit_str<E>(self, v: &str) -> Result<NodeKind, E> {
                Ok(NodeKind::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<NodeKind, E> {
                Ok(NodeKind::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeKind, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(NodeKind::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeKind, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Node>()?;
                    entries.push((key, value));
                }
                Ok(NodeKind::Map(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// A node's value, for manifests and `yamldecode`.
pub(crate) fn node_value(node: &NodeKind) -> Value {
    match node {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(value) => Value::Bool(*value),
        NodeKind::Number(text) => text.parse().map(Value::Number).unwrap_or_else(|_| Value::String(text.clone())),
        NodeKind::String(text) => Value::String(text.clone()),
        NodeKind::Seq(items) => Value::List(items.iter().map(|item| node_value(&item.value)).collect()),
        NodeKind::Map(entries) => {
            Value::Map(entries.iter().map(|(key, value)| (key.clone(), node_value(&value.value))).collect())
        }
    }
}

/// A YAML parse failure: the message and, when known, the one-based line and column.
pub(crate) type YamlError = (String, Option<(usize, usize)>);

/// Parses every document of a YAML text.
///
/// # Errors
///
/// The parser's message and one-based line and column.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    serde_saphyr::from_multiple::<Node>(text).map_err(|error| {
        let location = error.location().map(|l| (l.line() as usize, l.column() as usize));
        let message = error.to_string().lines().next().unwrap_or("invalid YAML").to_string();
        (message, location)
    })
}

/// Decodes YAML text into a value (`yamldecode`): one document.
///
/// # Errors
///
/// The parser's message.
pub(crate) fn decode_value(text: &str) -> Result<Value, String> {
    let documents = parse_documents(text).map_err(|(message, _)| message)?;
    match documents.as_slice() {
        [] => Ok(Value::Null),
        [single] => Ok(node_value(&single.value)),
        _ => Err("the text holds more than one YAML document".to_string()),
    }
}
