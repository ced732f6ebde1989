//! What an API server keeps of a custom resource: the fields its CRD's structural schema
//! declares. Used at plan time for a custom resource whose CRD is in the same plan (so no
//! server can dry-run it yet): the fields the server will prune are named before the apply,
//! not discovered after it.

use serde_json::Value;

/// The paths of `object` (`.spec.colour`) that `schema` (a version's `openAPIV3Schema`) does not
/// declare and that are not kept by `x-kubernetes-preserve-unknown-fields`.
pub fn unknown_fields(object: &Value, schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(object, schema, true, "", &mut out);
    out
}

fn walk(value: &Value, schema: &Value, embedded: bool, at: &str, out: &mut Vec<String>) {
    let identity = |key: &str| embedded && matches!(key, "apiVersion" | "kind" | "metadata");
    match value {
        Value::Object(map) => {
            let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
            let properties = schema["properties"].as_object();
            let values = schema["additionalProperties"].as_object().map(|_| &schema["additionalProperties"]);
            for (key, child) in map.iter().filter(|(k, _)| !identity(k)) {
                let here = format!("{at}.{key}");
                match (properties.and_then(|p| p.get(key)), values) {
                    (Some(property), _) => {
                        walk(child, property, property["x-kubernetes-embedded-resource"] == true, &here, out);
                    }
                    (None, Some(values)) if properties.is_none() => walk(child, values, false, &here, out),
                    _ if preserve || schema["additionalProperties"] == true => {}
                    _ if properties.is_none() && schema["type"] != "object" => {}
                    _ => out.push(here),
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            let embedded = schema["items"]["x-kubernetes-embedded-resource"] == true;
            for (index, item) in items.iter().enumerate() {
                walk(item, &schema["items"], embedded, &format!("{at}[{index}]"), out);
            }
        }
        _ => {}
    }
}

/// The schema of each version of a CRD manifest: `group/version/Kind` → `openAPIV3Schema`.
pub fn schemas(crd: &Value) -> Vec<(String, Value)> {
    let (Some(group), Some(kind)) = (crd["spec"]["group"].as_str(), crd["spec"]["names"]["kind"].as_str()) else {
        return Vec::new();
    };
    crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|version| {
            let name = version["name"].as_str()?;
            Some((format!("{group}/{name}/{kind}"), version["schema"]["openAPIV3Schema"].clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn undeclared_fields_are_named_and_preserved_parts_are_not() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "size": {"type": "integer"},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}
        }}}});
        let object = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 1, "shape": "round", "extra": {"any": 1}, "labels": {"a": "b"}, "items": [{"id": 1, "junk": 2}]}, "top": 1});
        assert_eq!(unknown_fields(&object, &schema), [".spec.items[0].junk", ".spec.shape", ".top"]);
    }
}
