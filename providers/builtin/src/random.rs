//! `random_id`, `random_string` and `random_password`: random values generated on create and
//! kept in state until an argument (or `keepers`) change replaces them.

use base64::Engine;
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, PlanRequest, PlanResponse,
    ResourceSchema, Value, plan_by_schema,
};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};
use std::collections::BTreeMap;

/// `random_id`'s schema.
pub fn id_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute(
                "byte_length",
                Attribute::required(AttrType::Number).force_new().describe("Number of random bytes."),
            )
            .attribute("prefix", Attribute::optional(AttrType::String).force_new())
            .attribute("keepers", Attribute::optional(AttrType::Map(Box::new(AttrType::String))).force_new())
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("b64_url", Attribute::computed(AttrType::String))
            .attribute("b64_std", Attribute::computed(AttrType::String))
            .attribute("hex", Attribute::computed(AttrType::String))
            .attribute("dec", Attribute::computed(AttrType::String)),
    }
}

/// `random_string`'s (or, `sensitive`, `random_password`'s) schema.
pub fn string_schema(sensitive: bool) -> ResourceSchema {
    let flag = || Attribute::optional(AttrType::Bool).and_computed().force_new();
    let minimum = || Attribute::optional(AttrType::Number).and_computed().force_new();
    let result = Attribute::computed(AttrType::String);
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("length", Attribute::required(AttrType::Number).force_new().describe("Number of characters."))
            .attribute("special", flag())
            .attribute("upper", flag())
            .attribute("lower", flag())
            .attribute("numeric", flag())
            .attribute("min_special", minimum())
            .attribute("min_upper", minimum())
            .attribute("min_lower", minimum())
            .attribute("min_numeric", minimum())
            .attribute("override_special", Attribute::optional(AttrType::String).force_new())
            .attribute("keepers", Attribute::optional(AttrType::Map(Box::new(AttrType::String))).force_new())
            .attribute("result", if sensitive { result.sensitive() } else { result })
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

/// The schema's plan, with the documented defaults of unset flags filled in.
pub fn plan(schema: &BlockSchema, request: &PlanRequest) -> PlanResponse {
    let mut response = plan_by_schema(Some(schema), request);
    if let Value::Map(planned) = &mut response.planned {
        for (name, default) in [
            ("special", Value::Bool(true)),
            ("upper", Value::Bool(true)),
            ("lower", Value::Bool(true)),
            ("numeric", Value::Bool(true)),
            ("min_special", Value::int(0)),
            ("min_upper", Value::int(0)),
            ("min_lower", Value::int(0)),
            ("min_numeric", Value::int(0)),
        ] {
            if let Some(value) = planned.get_mut(name)
                && !value.is_known()
            {
                *value = default;
            }
        }
    }
    response
}

fn number(object: &BTreeMap<String, Value>, name: &str, default: i64) -> i64 {
    object.get(name).and_then(|v| v.as_number()).and_then(|n| n.to_i64()).unwrap_or(default)
}

/// Decimal text of big-endian bytes.
fn decimal(bytes: &[u8]) -> String {
    let mut digits = vec![0u8]; // little-endian base-10 digits
    for byte in bytes {
        let mut carry = *byte as u32;
        for digit in digits.iter_mut() {
            let value = *digit as u32 * 256 + carry;
            *digit = (value % 10) as u8;
            carry = value / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

fn id_fields(object: &mut BTreeMap<String, Value>, bytes: &[u8]) {
    let prefix = object.get("prefix").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    object.insert("id".into(), Value::String(url.clone()));
    object.insert("b64_url".into(), Value::String(format!("{prefix}{url}")));
    object.insert(
        "b64_std".into(),
        Value::String(format!("{prefix}{}", base64::engine::general_purpose::STANDARD.encode(bytes))),
    );
    object.insert(
        "hex".into(),
        Value::String(format!("{prefix}{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())),
    );
    object.insert("dec".into(), Value::String(format!("{prefix}{}", decimal(bytes))));
}

/// Creates (generates) or deletes a `random_id`; an update keeps the bytes.
pub fn apply_id(request: &ApplyRequest) -> ApplyResponse {
    let Some(Value::Map(mut object)) = request.planned.as_ref().map(|p| p.clone().deep_unmark()) else {
        return ApplyResponse { new: None };
    };
    if object.get("id").is_some_and(Value::is_known) {
        return ApplyResponse { new: Some(Value::Map(object)) };
    }
    let length = number(&object, "byte_length", 8).clamp(1, 1024) as usize;
    let mut bytes = vec![0u8; length];
    rand::rng().fill_bytes(&mut bytes);
    id_fields(&mut object, &bytes);
    ApplyResponse { new: Some(Value::Map(object)) }
}

/// Imports a `random_id` from its base64url id.
///
/// # Errors
///
/// When the id is not base64url.
pub fn import_id(id: &str) -> Result<Value, Diagnostics> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id).map_err(|_| {
        Diagnostics::from(Diagnostic::error(
            "Invalid import id",
            "A `random_id` is imported by its base64url id (the `id` attribute).",
        ))
    })?;
    let mut object = BTreeMap::from([
        ("byte_length".to_string(), Value::int(bytes.len() as i64)),
        ("prefix".to_string(), Value::Null),
        ("keepers".to_string(), Value::Null),
    ]);
    id_fields(&mut object, &bytes);
    Ok(Value::Map(object))
}

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC: &str = "0123456789";
const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

/// Creates (generates) or deletes a `random_string` / `random_password`.
pub fn apply_string(request: &ApplyRequest, password: bool) -> ApplyResponse {
    let Some(Value::Map(mut object)) = request.planned.as_ref().map(|p| p.clone().deep_unmark()) else {
        return ApplyResponse { new: None };
    };
    if object.get("result").is_some_and(Value::is_known) {
        return ApplyResponse { new: Some(Value::Map(object).mark_if(false)) };
    }
    let flag = |name: &str| object.get(name).and_then(|v| v.as_bool()).unwrap_or(true);
    let special_set = object
        .get("override_special")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(SPECIAL)
        .to_string();
    let classes: Vec<(bool, &str, i64)> = vec![
        (flag("lower"), LOWER, number(&object, "min_lower", 0)),
        (flag("upper"), UPPER, number(&object, "min_upper", 0)),
        (flag("numeric"), NUMERIC, number(&object, "min_numeric", 0)),
        (flag("special"), special_set.as_str(), number(&object, "min_special", 0)),
    ];
    let length = number(&object, "length", 16).clamp(1, 4096) as usize;
    let mut rng = rand::rng();
    let mut chars: Vec<char> = Vec::with_capacity(length);
    let mut pool = String::new();
    for (enabled, set, minimum) in &classes {
        if !enabled {
            continue;
        }
        pool.push_str(set);
        let set: Vec<char> = set.chars().collect();
        for _ in 0..(*minimum).max(0) {
            chars.push(set[rng.random_range(0..set.len())]);
        }
    }
    let pool: Vec<char> = if pool.is_empty() { LOWER.chars().collect() } else { pool.chars().collect() };
    while chars.len() < length {
        chars.push(pool[rng.random_range(0..pool.len())]);
    }
    chars.shuffle(&mut rng);
    let result: String = chars.into_iter().collect();
    object.insert("id".into(), Value::String(if password { "none".into() } else { result.clone() }));
    object.insert("result".into(), Value::String(result).mark_if(password));
    ApplyResponse { new: Some(Value::Map(object)) }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_of_bytes() {
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        assert_eq!(decimal(&[0xff; 8]), u64::MAX.to_string());
    }
}
