//! Field ownership for server-side apply: field sets in the `FieldsV1` form of managedFields.
//!
//! A field set is a tree: `f:NAME` for a map field, `k:{"name":"web"}` for an element of a list
//! that is a map by key, `v:"value"` for an element of a set, `.` for the element itself;
//! every other list, and an atomic map or struct, is owned whole. How each field merges is its
//! [`Shape`]: for a custom resource, its schema's `x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys` and `x-kubernetes-map-type` markers (lists atomic unless
//! marked, as in the apiextensions server); for built-in kinds, Kubernetes' own markers for the
//! common fields (containers and env and volumes by name, ports by number and protocol,
//! finalizers a set, selectors and `roleRef` atomic).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A field set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields(pub BTreeMap<String, Fields>);

/// One step of a path: `f:spec`, `k:{"name":"web"}`, `v:"x"` or `.`.
pub type Path = Vec<String>;

/// How a list merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Elements by the values of these keys.
    Map(Vec<String>),
    /// Scalars, each owned on its own.
    Set,
    /// Replaced and owned whole.
    Atomic,
}

/// Where a field sits in its kind's schema, for how it merges.
#[derive(Clone, Copy, Debug)]
pub struct Shape<'a> {
    /// The schema node of a custom resource field; `None` for built-in kinds, and below a
    /// custom resource's untyped (`x-kubernetes-preserve-unknown-fields`) parts.
    schema: Option<&'a Value>,
    /// A built-in kind (the table by field name applies).
    builtin: bool,
}

impl<'a> Shape<'a> {
    /// A built-in kind.
    pub fn builtin() -> Shape<'static> {
        Shape { schema: None, builtin: true }
    }

    /// A custom resource of this `openAPIV3Schema` (or of none).
    pub fn custom(schema: Option<&'a Value>) -> Shape<'a> {
        Shape { schema, builtin: false }
    }

    /// The shape of a map field.
    pub fn child(self, key: &str) -> Shape<'a> {
        let schema = self.schema.and_then(|s| {
            s.get("properties")
                .and_then(|p| p.get(key))
                .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
        });
        Shape { schema, ..self }
    }

    /// The shape of a list's elements.
    pub fn items(self) -> Shape<'a> {
        Shape { schema: self.schema.and_then(|s| s.get("items")), ..self }
    }

    /// How the list `field` (with a first element `item`) merges.
    pub fn list(self, field: &str, item: &Value) -> ListType {
        if !self.builtin {
            let Some(schema) = self.schema else { return ListType::Atomic };
            return match schema["x-kubernetes-list-type"].as_str() {
                Some("map") => ListType::Map(
                    schema["x-kubernetes-list-map-keys"]
                        .as_array()
                        .map(|keys| keys.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                ),
                Some("set") => ListType::Set,
                _ => ListType::Atomic,
            };
        }
        let keys: &[&str] = match field {
            "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
                &["name"]
            }
            "volumeMounts" => &["mountPath"],
            "conditions" => &["type"],
            "ports" if item.get("containerPort").is_some() => &["containerPort", "protocol"],
            "ports" if item.get("port").is_some() => &["port", "protocol"],
            "ownerReferences" => &["uid"],
            "finalizers" => return ListType::Set,
            _ => return ListType::Atomic,
        };
        ListType::Map(keys.iter().map(|k| k.to_string()).collect())
    }

    /// Whether the map `field` is owned and replaced whole (`x-kubernetes-map-type: atomic`;
    /// label selectors and `roleRef` in built-in kinds).
    pub fn atomic_map(self, field: &str) -> bool {
        match self.schema {
            Some(schema) => schema["x-kubernetes-map-type"] == "atomic",
            None => self.builtin && matches!(field, "selector" | "roleRef"),
        }
    }
}

/// The keys of a keyed-list element by the built-in table (strategic merge patch's merge keys).
pub fn list_keys(field: &str, item: &Value) -> Option<Vec<String>> {
    match Shape::builtin().list(field, item) {
        ListType::Map(keys) => Some(keys),
        _ => None,
    }
}

/// The `k:` step of a list element.
pub fn key_step(keys: &[String], item: &Value) -> String {
    let mut object = Map::new();
    for key in keys {
        // `protocol` defaults to TCP, as the API server's defaulting fills it in.
        let value = match (item.get(key), key.as_str()) {
            (Some(value), _) => value.clone(),
            (None, "protocol") => Value::String("TCP".into()),
            (None, _) => Value::Null,
        };
        object.insert(key.clone(), value);
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
    pub fn of_object(object: &Value, status: bool, shape: Shape) -> Fields {
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
                            meta.0.insert(format!("f:{key}"), Fields::of_value(key, value, Shape::builtin()));
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
            out.0.insert(format!("f:{name}"), Fields::of_value(name, value, shape.child(name)));
        }
        out
    }

    fn of_value(field: &str, value: &Value, shape: Shape) -> Fields {
        match value {
            Value::Object(map) if !map.is_empty() && !shape.atomic_map(field) => {
                Fields(map.iter().map(|(k, v)| (format!("f:{k}"), Fields::of_value(k, v, shape.child(k)))).collect())
            }
            Value::Array(items) if !items.is_empty() => match shape.list(field, &items[0]) {
                ListType::Map(keys) => {
                    let mut out = Fields::default();
                    for item in items {
                        let mut inner = Fields::of_value("", item, shape.items());
                        inner.0.insert(".".into(), Fields::default());
                        out.0.insert(key_step(&keys, item), inner);
                    }
                    out
                }
                ListType::Set => Fields(items.iter().map(|item| (format!("v:{item}"), Fields::default())).collect()),
                ListType::Atomic => Fields::default(),
            },
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
        } else if let Some(value) = step.strip_prefix("v:") {
            let value: Value = serde_json::from_str(value).ok()?;
            node = node.as_array()?.iter().find(|item| **item == value)?;
        } else {
            return None;
        }
    }
    Some(node)
}

/// Removes the field at a path (an element when the path ends in `.`).
pub fn remove(object: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else { return };
    if let Some(value) = last.strip_prefix("v:").and_then(|v| serde_json::from_str::<Value>(v).ok()) {
        if let Some(Value::Array(items)) = get_mut(object, parent) {
            items.retain(|item| *item != value);
        }
        return;
    }
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
/// by element, sets value by value, everything else (atomic lists and maps) replaced.
pub fn merge(into: &mut Value, applied: &Value, field: &str, shape: Shape) {
    match (into, applied) {
        (Value::Object(target), Value::Object(source)) if !shape.atomic_map(field) => {
            for (key, value) in source {
                match target.get_mut(key) {
                    Some(existing) if !value.is_null() => merge(existing, value, key, shape.child(key)),
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(source)) if !source.is_empty() => match shape.list(field, &source[0]) {
            ListType::Map(keys) => {
                for item in source {
                    let step = key_step(&keys, item);
                    match target.iter_mut().find(|t| key_step(&keys, t) == step) {
                        Some(existing) => merge(existing, item, "", shape.items()),
                        None => target.push(item.clone()),
                    }
                }
            }
            ListType::Set => {
                for item in source {
                    if !target.contains(item) {
                        target.push(item.clone());
                    }
                }
            }
            ListType::Atomic => *target = source.clone(),
        },
        (target, source) => *target = source.clone(),
    }
}
