//! The patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge
//! patch (merge keys for containers, ports, env, volumes…, `$patch: delete|replace`,
//! `$deleteFromPrimitiveList`, `$setElementOrder` ignored).

use crate::fields::list_keys;
use serde_json::Value;

/// RFC 7386: objects merge, `null` deletes, everything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let Some(map) = target.as_object_mut() else { return };
            for (key, value) in patch {
                if value.is_null() {
                    map.remove(key);
                } else {
                    merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Strategic merge patch: like a merge patch, but lists with a merge key merge by key.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value, field: &str) {
    match patch {
        Value::Object(patch_map) => {
            if patch_map.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut replaced = patch.clone();
                if let Some(map) = replaced.as_object_mut() {
                    map.remove("$patch");
                }
                *target = replaced;
                return;
            }
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let Some(map) = target.as_object_mut() else { return };
            for (key, value) in patch_map {
                if key.starts_with("$setElementOrder/") || key == "$patch" || key == "$retainKeys" {
                    continue;
                }
                if let Some(list) = key.strip_prefix("$deleteFromPrimitiveList/") {
                    if let (Some(Value::Array(items)), Some(remove)) = (map.get_mut(list), value.as_array()) {
                        items.retain(|item| !remove.contains(item));
                    }
                    continue;
                }
                if value.is_null() {
                    map.remove(key);
                } else {
                    strategic_merge_patch(map.entry(key.clone()).or_insert(Value::Null), value, key);
                }
            }
        }
        Value::Array(items) if items.iter().any(|i| list_keys(field, i).is_some()) => {
            if !target.is_array() {
                *target = Value::Array(Vec::new());
            }
            let Some(existing) = target.as_array_mut() else { return };
            for item in items {
                let Some(keys) = list_keys(field, item) else { continue };
                let step = crate::fields::key_step(&keys, item);
                let matches = |candidate: &Value| crate::fields::key_step(&keys, candidate) == step;
                if item.get("$patch").and_then(Value::as_str) == Some("delete") {
                    existing.retain(|candidate| !matches(candidate));
                    continue;
                }
                match existing.iter_mut().find(|candidate| matches(candidate)) {
                    Some(found) => strategic_merge_patch(found, item, ""),
                    None => existing.push(item.clone()),
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// RFC 6902. Errors name the failing operation.
pub fn json_patch(target: &mut Value, operations: &Value) -> Result<(), String> {
    let Some(operations) = operations.as_array() else { return Err("a JSON patch is an array of operations".into()) };
    for (index, operation) in operations.iter().enumerate() {
        let op = operation["op"].as_str().unwrap_or_default();
        let path = operation["path"].as_str().ok_or(format!("operation {index} has no `path`"))?;
        match op {
            "add" => add(target, path, operation["value"].clone())?,
            "remove" => {
                take(target, path)?;
            }
            "replace" => {
                take(target, path)?;
                add(target, path, operation["value"].clone())?;
            }
            "move" => {
                let from = operation["from"].as_str().ok_or("`move` needs `from`")?;
                let value = take(target, from)?;
                add(target, path, value)?;
            }
            "copy" => {
                let from = operation["from"].as_str().ok_or("`copy` needs `from`")?;
                let value = target.pointer(from).cloned().ok_or(format!("`{from}` does not exist"))?;
                add(target, path, value)?;
            }
            "test" => {
                if target.pointer(path) != Some(&operation["value"]) {
                    return Err(format!("test of `{path}` failed"));
                }
            }
            other => return Err(format!("unknown operation `{other}`")),
        }
    }
    Ok(())
}

fn split(path: &str) -> Result<(String, String), String> {
    let (parent, last) = path.rsplit_once('/').ok_or(format!("`{path}` is not a JSON pointer"))?;
    Ok((parent.to_string(), last.replace("~1", "/").replace("~0", "~")))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = split(path)?;
    match target.pointer_mut(&parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let index =
                if last == "-" { items.len() } else { last.parse().map_err(|_| format!("bad index in `{path}`"))? };
            if index > items.len() {
                return Err(format!("index out of range in `{path}`"));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!("the parent of `{path}` does not exist")),
    }
}

fn take(target: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split(path)?;
    match target.pointer_mut(&parent) {
        Some(Value::Object(map)) => map.remove(&last).ok_or(format!("`{path}` does not exist")),
        Some(Value::Array(items)) => {
            let index: usize = last.parse().map_err(|_| format!("bad index in `{path}`"))?;
            if index < items.len() { Ok(items.remove(index)) } else { Err(format!("index out of range in `{path}`")) }
        }
        _ => Err(format!("`{path}` does not exist")),
    }
}
