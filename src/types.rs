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
