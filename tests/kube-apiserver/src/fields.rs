//! Field ownership for server-side apply: field sets in the `FieldsV1` form of managedFields.
//!
//! A field set is a tree: `f:NAME` for a map field, `k:{"name":"web"}` for an element of a list
//! that is a map by key (containers by `name`, ports by `containerPort` + `protocol`, …), `.` for
//! the element itself; every other list is atomic (owned whole). The list keys are Kubernetes'
//! own `x-kubernetes-list-map-keys` / patch merge keys for the common fields.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A field set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields(pub BTreeMap<String, Fields>);

/// One step of a path: `f:spec`, `k:{"name":"web"}` or `.`.
pub type Path = Vec<String>;

/// The keys of a list that is a map, by the list's field name.
pub fn list_keys(field: &str, item: &Value) -> Option<Vec<&'static str>> {
    Some(match field {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
            vec!["name"]
        }
        "volumeMounts" => vec!["mountPath"],
        "conditions" => vec!["type"],
        "ports" if item.get("containerPort").is_some() => vec!["containerPort", "protocol"],
        "ports" if item.get("port").is_some() => vec!["port", "protocol"],
        _ => return None,
    })
}

/// The `k:` step of a list element.
pub fn key_step(keys: &[&str], item: &Value) -> String {
    let mut object = Map::new();
    for key in keys {
        // `protocol` defaults to TCP, as the API server's defaulting fills it in.
        let value = match (item.get(*key), *key) {
            (Some(value), _) => value.clone(),
            (None, "protocol") => Value::String("TCP".into()),
            (None, _) => Value::Null,
        };
        object.insert((*key).to_string(), value);
    }
    format!("k:{}", Value::Object(object))
}

/// Whether a list element has the key values of a `k:` step (with defaults applied).
fn key_matches(item: &Value, key: &Map<String, Value>) -> bool {
    key.iter().all(|(k, v)| match item.get(k) {
        Some(value) => value == v,
        None => k == "protocol" && v == "TCP" || v.is_null(),
    })
}

/// Identity fields nobody owns.
const IDENTITY: [&str; 2] = ["apiVersion", "kind"];
const METADATA_IDENTITY: [&str; 9] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
];

impl Fields {
    /// The fields an object sets (its status only with `status`, never its identity).
    pub fn of_object(object: &Value, status: bool) -> Fields {
        let mut out = Fields::default();
        let Some(map) = object.as_object() else { return out };
        for (name, value) in map {
            if IDENTITY.contains(&name.as_str()) {
                continue;
            }
            if name == "metadata" {
                if status {
                    continue;
                }
                let mut meta = Fields::default();
                if let Some(meta_map) = value.as_object() {
                    for (key, value) in meta_map {
                        if !METADATA_IDENTITY.contains(&key.as_str()) {
                            meta.0.insert(format!("f:{key}"), Fields::of_value(key, value));
                        }
                    }
                }
                if !meta.0.is_empty() {
                    out.0.insert("f:metadata".into(), meta);
                }
                continue;
            }
            if (name == "status") != status {
                continue;
            }
            out.0.insert(format!("f:{name}"), Fields::of_value(name, value));
        }
        out
    }

    fn of_value(field: &str, value: &Value) -> Fields {
        match value {
            Value::Object(map) if !map.is_empty() => {
                Fields(map.iter().map(|(k, v)| (format!("f:{k}"), Fields::of_value(k, v))).collect())
            }
            Value::Array(items) if items.first().is_some_and(|i| list_keys(field, i).is_some()) => {
                let mut out = Fields::default();
                for item in items {
                    let Some(keys) = list_keys(field, item) else { continue };
                    let mut inner = Fields::of_value("", item);
                    inner.0.insert(".".into(), Fields::default());
                    out.0.insert(key_step(&keys, item), inner);
                }
                out
            }
            _ => Fields::default(),
        }
    }

    /// Whether nothing is owned.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every leaf path.
    pub fn leaves(&self) -> Vec<Path> {
        let mut out = Vec::new();
        fn walk(fields: &Fields, path: &mut Path, out: &mut Vec<Path>) {
            for (step, child) in &fields.0 {
                path.push(step.clone());
                if child.0.is_empty() {
                    out.push(path.clone());
                } else {
                    walk(child, path, out);
                }
                path.pop();
            }
        }
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    /// Whether a leaf path is in the set.
    pub fn contains(&self, path: &[String]) -> bool {
        let mut node = self;
        for step in path {
            match node.0.get(step) {
                Some(child) => node = child,
                None => return false,
            }
        }
        true
    }

    /// Whether the path is a field of this set itself (a leaf), not only the way to fields
    /// below it: owning `.data.a` is not owning `.data`.
    pub fn owns(&self, path: &[String]) -> bool {
        let mut node = self;
        for step in path {
            match node.0.get(step) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.0.is_empty()
    }

    /// Adds a path.
    pub fn insert(&mut self, path: &[String]) {
        let mut node = self;
        for step in path {
            node = node.0.entry(step.clone()).or_default();
        }
    }

    /// Removes a leaf path (and the branches it leaves empty).
    pub fn remove(&mut self, path: &[String]) {
        fn go(node: &mut Fields, path: &[String]) -> bool {
            let Some((first, rest)) = path.split_first() else { return true };
            let Some(child) = node.0.get_mut(first) else { return false };
            if rest.is_empty() || go(child, rest) && child.0.is_empty() {
                node.0.remove(first);
            }
            node.0.is_empty()
        }
        go(self, path);
    }

    /// The set as FieldsV1 JSON.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
    }

    /// A set from FieldsV1 JSON.
    pub fn from_json(value: &Value) -> Fields {
        Fields(
            value
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), Fields::from_json(v))).collect())
                .unwrap_or_default(),
        )
    }
}

/// The value at a path in an object (`.` is the element itself).
pub fn get<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = object;
    for step in path {
        if step == "." {
            continue;
        }
        if let Some(name) = step.strip_prefix("f:") {
            node = node.get(name)?;
        } else if let Some(key) = step.strip_prefix("k:") {
            let key: Map<String, Value> = serde_json::from_str(key).ok()?;
            node = node.as_array()?.iter().find(|item| key_matches(item, &key))?;
        } else {
            return None;
        }
    }
    Some(node)
}

/// Removes the field at a path (an element when the path ends in `.`).
pub fn remove(object: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else { return };
    if last == "." {
        let Some((element, list_path)) = parent.split_last() else { return };
        let Some(key) = element.strip_prefix("k:").and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())
        else {
            return;
        };
        if let Some(Value::Array(items)) = get_mut(object, list_path) {
            items.retain(|item| !key_matches(item, &key));
        }
        return;
    }
    if let (Some(name), Some(Value::Object(map))) = (last.strip_prefix("f:"), get_mut(object, parent)) {
        map.remove(name);
    }
}

fn get_mut<'a>(object: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut node = object;
    for step in path {
        if step == "." {
            continue;
        }
        if let Some(name) = step.strip_prefix("f:") {
            node = node.get_mut(name)?;
        } else if let Some(key) = step.strip_prefix("k:") {
            let key: Map<String, Value> = serde_json::from_str(key).ok()?;
            node = node.as_array_mut()?.iter_mut().find(|item| key_matches(item, &key))?;
        } else {
            return None;
        }
    }
    Some(node)
}

/// Merges an applied configuration into an object: maps field by field, keyed lists element
/// by element, everything else replaced.
pub fn merge(into: &mut Value, applied: &Value, field: &str) {
    match (into, applied) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(key) {
                    Some(existing) if !value.is_null() => merge(existing, value, key),
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(source))
            if source.first().is_some_and(|i| list_keys(field, i).is_some()) =>
        {
            for item in source {
                let Some(keys) = list_keys(field, item) else { continue };
                let step = key_step(&keys, item);
                match target.iter_mut().find(|t| list_keys(field, t).is_some_and(|k| key_step(&k, t) == step)) {
                    Some(existing) => merge(existing, item, ""),
                    None => target.push(item.clone()),
                }
            }
        }
        (target, source) => *target = source.clone(),
    }
}
