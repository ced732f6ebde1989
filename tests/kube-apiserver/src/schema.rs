//! Custom resources by their CRD's structural schema (`openAPIV3Schema` of the version), as
//! the apiextensions server treats them on every write:
//!
//! 1. **pruning**: fields the schema does not declare are dropped, unless the node says
//!    `x-kubernetes-preserve-unknown-fields: true` (or is `x-kubernetes-embedded-resource`'s
//!    identity); `apiVersion`, `kind` and `metadata` at the root always stay;
//! 2. **defaulting**: a property's `default` fills an absent field of an object that exists;
//! 3. **validation**: `type` (and `nullable`, `x-kubernetes-int-or-string`), `required`, `enum`,
//!    `pattern`, `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems` — each a
//!    cause of a 422 in the apiextensions server's words.

use crate::validation::Cause;
use serde_json::{Map, Value};

/// Where a field is, for messages: `spec.replicas`, `spec.items[2].name`.
fn join(at: &str, field: &str) -> String {
    if at.is_empty() { field.to_string() } else { format!("{at}.{field}") }
}

/// Drops what the schema does not declare; returns the dropped paths (`.spec.colour`).
pub fn prune(object: &mut Value, schema: &Value) -> Vec<String> {
    node(object, schema, true)
}

/// Prunes below one node. An embedded resource (the root, or a node marked
/// `x-kubernetes-embedded-resource`) keeps its `apiVersion`, `kind` and `metadata`.
fn node(value: &mut Value, schema: &Value, embedded: bool) -> Vec<String> {
    let mut pruned = Vec::new();
    let identity = |key: &str| embedded && matches!(key, "apiVersion" | "kind" | "metadata");
    match value {
        Value::Object(map) => {
            let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
            if let Some(properties) = schema["properties"].as_object() {
                if !preserve {
                    let unknown: Vec<String> =
                        map.keys().filter(|k| !identity(k) && !properties.contains_key(*k)).cloned().collect();
                    for key in unknown {
                        map.remove(&key);
                        pruned.push(format!(".{key}"));
                    }
                }
                for (key, child) in map.iter_mut().filter(|(k, _)| !identity(k)) {
                    if let Some(property) = properties.get(key) {
                        let inner = property["x-kubernetes-embedded-resource"] == true;
                        pruned.extend(node(child, property, inner).into_iter().map(|p| format!(".{key}{p}")));
                    }
                }
            } else if schema["additionalProperties"].is_object() {
                let values = &schema["additionalProperties"];
                for (key, child) in map.iter_mut() {
                    pruned.extend(node(child, values, false).into_iter().map(|p| format!(".{key}{p}")));
                }
            } else if !preserve && schema["additionalProperties"] != true && schema["type"] == "object" {
                // An object node with neither properties nor additionalProperties keeps nothing
                // (but an embedded resource's identity).
                let unknown: Vec<String> = map.keys().filter(|k| !identity(k)).cloned().collect();
                for key in unknown {
                    map.remove(&key);
                    pruned.push(format!(".{key}"));
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            let inner = schema["items"]["x-kubernetes-embedded-resource"] == true;
            for (index, item) in items.iter_mut().enumerate() {
                pruned.extend(node(item, &schema["items"], inner).into_iter().map(|p| format!("[{index}]{p}")));
            }
        }
        _ => {}
    }
    pruned
}

/// Fills defaults of absent properties, recursively, inside objects that exist.
pub fn default(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema["properties"].as_object() {
                for (key, property) in properties {
                    // A null where the schema does not allow one is dropped (then defaulted).
                    if map.get(key).is_some_and(Value::is_null) && property["nullable"] != true {
                        map.remove(key);
                    }
                    if !map.contains_key(key)
                        && let Some(default) = property.get("default")
                    {
                        map.insert(key.clone(), default.clone());
                    }
                    if let Some(child) = map.get_mut(key) {
                        self::default(child, property);
                    }
                }
            } else if schema["additionalProperties"].is_object() {
                for child in map.values_mut() {
                    self::default(child, &schema["additionalProperties"]);
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for item in items {
                self::default(item, &schema["items"]);
            }
        }
        _ => {}
    }
}

/// Every way the object breaks its schema (the root's metadata is the server's business).
pub fn validate(object: &Value, schema: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let Some(map) = object.as_object() else { return causes };
    let root: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut schema = schema.clone();
    if let Some(properties) = schema["properties"].as_object_mut() {
        for key in ["apiVersion", "kind", "metadata"] {
            properties.remove(key);
        }
    }
    check(&Value::Object(root), &schema, "", &mut causes);
    causes
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        // A whole number written as a float (`2.0`) reads as an integer, as Go's decoder does.
        Value::Number(n) if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(value: &Value, schema: &Value, at: &str, causes: &mut Vec<Cause>) {
    if value.is_null() {
        if schema["nullable"] != true && !at.is_empty() {
            causes.push((
                at.to_string(),
                format!(
                    "Invalid value: \"null\": {at} in body must be of type {}: \"null\"",
                    schema["type"].as_str().unwrap_or("object")
                ),
            ));
        }
        return;
    }
    let actual = type_name(value);
    let int_or_string = schema["x-kubernetes-int-or-string"] == true;
    if let Some(wanted) = schema["type"].as_str() {
        let fits = wanted == actual || (wanted == "number" && actual == "integer");
        if !(fits || int_or_string && matches!(actual, "integer" | "string")) {
            let shown = if let Value::String(s) = value { s.clone() } else { actual.to_string() };
            causes.push((
                at.to_string(),
                format!("Invalid value: \"{shown}\": {at} in body must be of type {wanted}: \"{shown}\""),
            ));
            return;
        }
    } else if int_or_string && !matches!(actual, "integer" | "string") {
        causes.push((
            at.to_string(),
            format!("Invalid value: \"{actual}\": {at} in body must be of type integer-or-string"),
        ));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        causes.push((at.to_string(), format!("Unsupported value: {value}: supported values: {}", listed.join(", "))));
    }
    match value {
        Value::String(text) => {
            if let Some(pattern) = schema["pattern"].as_str() {
                match regex::Regex::new(pattern) {
                    Ok(re) if !re.is_match(text) => causes.push((
                        at.to_string(),
                        format!("Invalid value: \"{text}\": {at} in body should match '{pattern}'"),
                    )),
                    _ => {}
                }
            }
            let length = text.chars().count() as u64;
            if let Some(min) = schema["minLength"].as_u64()
                && length < min
            {
                causes.push((
                    at.to_string(),
                    format!("Invalid value: \"{text}\": {at} in body should be at least {min} chars long"),
                ));
            }
            if let Some(max) = schema["maxLength"].as_u64()
                && length > max
            {
                causes.push((at.to_string(), format!("Too long: may not be more than {max} bytes")));
            }
        }
        Value::Number(number) => {
            let n = number.as_f64().unwrap_or_default();
            if let Some(min) = schema["minimum"].as_f64()
                && n < min
            {
                causes.push((
                    at.to_string(),
                    format!("Invalid value: {number}: {at} in body should be greater than or equal to {min}"),
                ));
            }
            if let Some(max) = schema["maximum"].as_f64()
                && n > max
            {
                causes.push((
                    at.to_string(),
                    format!("Invalid value: {number}: {at} in body should be less than or equal to {max}"),
                ));
            }
        }
        Value::Array(items) => {
            if let Some(min) = schema["minItems"].as_u64()
                && (items.len() as u64) < min
            {
                causes.push((
                    at.to_string(),
                    format!("Invalid value: {}: {at} in body should have at least {min} items", items.len()),
                ));
            }
            if let Some(max) = schema["maxItems"].as_u64()
                && (items.len() as u64) > max
            {
                causes.push((at.to_string(), format!("Too many: {}: must have at most {max} items", items.len())));
            }
            if schema["items"].is_object() {
                for (index, item) in items.iter().enumerate() {
                    check(item, &schema["items"], &format!("{at}[{index}]"), causes);
                }
            }
        }
        Value::Object(map) => {
            for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !map.contains_key(required) {
                    causes.push((join(at, required), "Required value".into()));
                }
            }
            let properties = schema["properties"].as_object();
            for (key, child) in map {
                if let Some(property) = properties.and_then(|p| p.get(key)) {
                    check(child, property, &join(at, key), causes);
                } else if schema["additionalProperties"].is_object() {
                    check(child, &schema["additionalProperties"], &join(at, key), causes);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn widget_schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["size"], "properties": {
                "size": {"type": "integer", "minimum": 1},
                "colour": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "name": {"type": "string", "pattern": "^[a-z]+$"},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}
            }},
            "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
        }})
    }

    #[test]
    fn undeclared_fields_are_pruned_except_where_the_schema_preserves_them() {
        let mut object = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 1, "shape": "round", "extra": {"anything": [1]}, "labels": {"a": "b"}, "items": [{"id": 1, "junk": true}]},
            "top": 1});
        let pruned = prune(&mut object, &widget_schema());
        assert_eq!(pruned, [".top", ".spec.shape", ".spec.items[0].junk"]);
        assert_eq!(object["spec"]["extra"], json!({"anything": [1]}));
        assert_eq!(object["metadata"]["name"], "w");
    }

    #[test]
    fn an_embedded_resource_keeps_its_identity() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}
        }}}});
        let mut object = json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": 1}, "junk": 1}}});
        assert_eq!(prune(&mut object, &schema), [".spec.template.junk"]);
        assert_eq!(object["spec"]["template"]["kind"], "Pod");
    }

    #[test]
    fn defaults_fill_absent_fields_of_present_objects() {
        let mut nulled = json!({"spec": {"size": 2, "colour": null}});
        default(&mut nulled, &widget_schema());
        assert_eq!(nulled["spec"]["colour"], "red", "a null that is not nullable is dropped, then defaulted");
        let mut object = json!({"spec": {"size": 2}});
        default(&mut object, &widget_schema());
        assert_eq!(object["spec"]["colour"], "red");
        assert!(object.get("status").is_none());
    }

    #[test]
    fn types_required_enums_patterns_and_bounds_are_causes() {
        let object = json!({"metadata": {"name": "w"}, "spec": {"size": "big", "colour": "green", "name": "Upper"}});
        let causes = validate(&object, &widget_schema());
        let fields: Vec<&str> = causes.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["spec.colour", "spec.name", "spec.size"], "{causes:?}");
        assert!(causes[2].1.contains("must be of type integer"));
        let missing = validate(&json!({"spec": {"size": 0}}), &widget_schema());
        assert!(missing[0].1.contains("greater than or equal to 1"), "{missing:?}");
        assert_eq!(
            validate(&json!({"spec": {}}), &widget_schema())[0],
            ("spec.size".to_string(), "Required value".to_string())
        );
    }
}
