//! Expansion: `count` and `for_each` turn one block into instances.
//!
//! `count = 3` gives keys `[0]`, `[1]`, `[2]` with `count.index`; `for_each` over a map or a
//! set of strings gives `["key"]` with `each.key` / `each.value`. A value that is not known
//! yet, is sensitive, or has the wrong shape is a diagnostic at the argument, worded as
//! Terraform words it.

use crate::addr::InstanceKey;
use crate::config::Expr;
use crate::eval::convert::describe;
use infra_provider::{Diagnostic, Value};
use std::collections::BTreeMap;

/// The most instances one `count` may create: far above real configurations, low enough that
/// a mistaken huge number is an error instead of an exhausted machine.
pub const MAX_COUNT: i64 = 1_000_000;

/// One instance: its key and the `count` / `each` object it sees.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// `None` when the block has neither `count` nor `for_each`.
    pub key: Option<InstanceKey>,
    /// `count.index` or `each.key` / `each.value`, as (`count` | `each`, object).
    pub binding: Option<(&'static str, Value)>,
}

/// The result of expanding a block.
#[derive(Clone, Debug, PartialEq)]
pub enum Expansion {
    /// The instances, in key order.
    Known(Vec<Instance>),
    /// The number or keys of instances are not known until apply.
    Unknown {
        /// `count` or `for_each`.
        kind: &'static str,
    },
}

/// A block without `count` or `for_each`: one instance.
pub fn single() -> Expansion {
    Expansion::Known(vec![Instance { key: None, binding: None }])
}

/// Expands `count`.
///
/// # Errors
///
/// Null, negative, fractional, non-number or sensitive values; Unknown when `must_know`.
pub fn count(value: Value, expr: &Expr, must_know: bool) -> Result<Expansion, Diagnostic> {
    let invalid = |detail: String| Diagnostic::error("Invalid count argument", detail).at(expr.span());
    if value.contains_sensitive() {
        return Err(invalid(
            "The given `count` value is derived from a sensitive value, which would disclose it in resource addresses."
                .into(),
        ));
    }
    if !value.is_known() {
        if must_know {
            return Err(invalid("The `count` value depends on resource attributes that cannot be determined until apply, so infra cannot predict how many instances will be created. To work around this, use `-target` to first apply only the resources that the count depends on.".into()));
        }
        return Ok(Expansion::Unknown { kind: "count" });
    }
    if value.is_null() {
        return Err(invalid("The given `count` argument value is null. An integer is required.".into()));
    }
    let number = crate::eval::convert::to_number(&value)
        .map_err(|m| invalid(format!("The given `count` argument value is unsuitable: {m}.")))?;
    if !number.is_integer() {
        return Err(invalid("The given `count` argument value is unsuitable: it must be a whole number.".into()));
    }
    let count = number.to_i64().filter(|n| *n >= 0).ok_or_else(|| {
        invalid("The given `count` argument value is unsuitable: it must be a non-negative whole number.".into())
    })?;
    if count > MAX_COUNT {
        return Err(invalid(format!(
            "The given `count` argument value is {count}, more than the {MAX_COUNT} instances infra allows for one block."
        )));
    }
    Ok(Expansion::Known(
        (0..count)
            .map(|index| Instance {
                key: Some(InstanceKey::Int(index)),
                binding: Some(("count", Value::Map(BTreeMap::from([("index".to_string(), Value::int(index))])))),
            })
            .collect(),
    ))
}

/// Expands `for_each`.
///
/// # Errors
///
/// Anything but a map or a set of strings; null or unknown elements; sensitive values;
/// Unknown when `must_know`.
pub fn for_each(value: Value, expr: &Expr, must_know: bool) -> Result<Expansion, Diagnostic> {
    let invalid = |detail: String| Diagnostic::error("Invalid for_each argument", detail).at(expr.span());
    if value.is_marked() {
        return Err(invalid("Sensitive values, or values derived from sensitive values, cannot be used as `for_each` arguments: they would be disclosed in resource addresses.".into()));
    }
    if !value.is_known() {
        if must_know {
            return Err(invalid("The `for_each` map includes keys or set values derived from resource attributes that cannot be determined until apply, so infra cannot determine the full set of keys that will identify the instances of this resource. Use a map whose keys are defined in the configuration and only whose values are known after apply, or apply the dependencies first with `-target`.".into()));
        }
        return Ok(Expansion::Unknown { kind: "for_each" });
    }
    let entries: Vec<(String, Value)> = match value {
        Value::Null => {
            return Err(invalid(
                "The given `for_each` argument value is null. A map, or set of strings, is allowed.".into(),
            ));
        }
        Value::Map(entries) => entries.into_iter().collect(),
        Value::Set(items) => {
            let mut entries = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(key) => entries.push((key.clone(), Value::String(key))),
                    Value::Unknown if !must_know => return Ok(Expansion::Unknown { kind: "for_each" }),
                    Value::Unknown => return Err(invalid("The given `for_each` set includes values that cannot be determined until apply.".into())),
                    Value::Null => return Err(invalid("The given `for_each` argument value is unsuitable: `for_each` sets must not contain null values.".into())),
                    Value::Sensitive(_) => return Err(invalid("Sensitive values cannot be used as `for_each` keys.".into())),
                    other => return Err(invalid(format!("The given `for_each` argument value is unsuitable: `for_each` supports maps and sets of strings, but you have provided a set containing {}.", describe(&other)))),
                }
            }
            entries
        }
        other => {
            return Err(invalid(format!(
                "The given `for_each` argument value is unsuitable: the `for_each` argument must be a map, or set of strings, and you have provided {}. Convert a list with `toset(...)`.",
                describe(&other)
            )));
        }
    };
    Ok(Expansion::Known(
        entries
            .into_iter()
            .map(|(key, value)| Instance {
                key: Some(InstanceKey::Str(key.clone())),
                binding: Some((
                    "each",
                    Value::Map(BTreeMap::from([("key".to_string(), Value::String(key)), ("value".to_string(), value)])),
                )),
            })
            .collect(),
    ))
}
