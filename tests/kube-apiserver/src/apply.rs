//! Server-side apply: `PATCH` with `application/apply-patch+yaml`.
//!
//! The applied configuration's field set becomes the manager's; a field it sets that another
//! manager owns with a different value is a conflict (409, listing fields and managers) unless
//! `force=true`, which takes it over; a field the manager applied before and no longer does is
//! removed when nobody else owns it; the object is created when absent.

use crate::catalog::ResourceType;
use crate::fields::{self, Fields, Path};
use crate::status::ApiError;
use crate::store::{Manager, Store, managers, set_managers, with_version};
use serde_json::{Value, json};

/// How a path reads in a conflict message: `.spec.replicas`, `.spec.containers[name="web"].image`.
fn describe(path: &Path) -> String {
    let mut out = String::new();
    for step in path {
        if let Some(name) = step.strip_prefix("f:") {
            out.push('.');
            out.push_str(name);
        } else if let Some(key) = step.strip_prefix("k:") {
            let key: serde_json::Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
            let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        }
    }
    out
}

/// Applies a configuration for `manager`.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    store: &mut Store,
    rtype: &ResourceType,
    namespace: &str,
    name: &str,
    mut applied: Value,
    manager: &str,
    force: bool,
    subresource: Option<&str>,
    dry_run: bool,
) -> Result<Value, ApiError> {
    if !applied.is_object() {
        return Err(ApiError::bad_request("an applied configuration must be an object"));
    }
    if applied["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request("the name in the applied configuration does not match the URL"));
    }
    applied["metadata"]["name"] = json!(name);
    if rtype.namespaced {
        applied["metadata"]["namespace"] = json!(namespace);
    }
    let status = subresource == Some("status");
    // Fields a custom resource's schema does not declare never enter the object or the
    // manager's field set (or fail the apply, with `fieldValidation=Strict`).
    store.prune(rtype, &mut applied, true)?;
    let schema = store.crd_schema(rtype);
    let shape = crate::store::shape(rtype, schema.as_ref());
    let new_fields = Fields::of_object(&applied, status, shape);
    let live = match store.get(rtype, namespace, name) {
        Ok(live) => live,
        Err(error) if error.code == 404 => {
            if status {
                return Err(error);
            }
            let created = store.create(rtype, namespace, applied.clone(), manager, true)?;
            let mut object = created;
            set_managers(&mut object, vec![Manager::apply(manager, &rtype.api_version(), new_fields)]);
            if dry_run {
                return Ok(object);
            }
            return store.create_with_managers(rtype, namespace, object);
        }
        Err(error) => return Err(error),
    };
    let mut entries = managers(&live);
    let mine = entries
        .iter()
        .position(|m| m.name == manager && m.operation == "Apply" && m.subresource.as_deref() == subresource);
    let previous = mine.map(|i| entries[i].fields.clone()).unwrap_or_default();

    // Conflicts: fields others own whose live value differs from the applied one.
    let mut conflicts: Vec<(String, Path)> = Vec::new();
    for path in new_fields.leaves() {
        if path.last().is_some_and(|s| s == ".") {
            continue;
        }
        let applied_value = fields::get(&applied, &path);
        let live_value = fields::get(&live, &path);
        if applied_value == live_value {
            continue;
        }
        for (index, other) in entries.iter().enumerate() {
            // Managers of other subresources count too: `/scale` writes `.spec.replicas`.
            if Some(index) == mine || (other.subresource.as_deref() == Some("status")) != status {
                continue;
            }
            // Structured-merge-diff: a conflict is a field the other manager owns itself. An
            // applied `data: {}` does not conflict with another manager's `.data.a`.
            if other.fields.owns(&path) {
                conflicts.push((other.name.clone(), path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(who, path)| {
                json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{who}\""), "field": describe(path)})
            })
            .collect();
        let listed: Vec<String> =
            conflicts.iter().map(|(who, path)| format!("conflict with \"{who}\": {}", describe(path))).collect();
        let count = conflicts.len();
        return Err(ApiError::conflict(
            &rtype.group,
            &rtype.plural,
            name,
            format!("Apply failed with {count} conflict{}: {}", if count == 1 { "" } else { "s" }, listed.join("; ")),
            Value::Array(causes),
        ));
    }
    for (who, path) in &conflicts {
        for entry in entries.iter_mut().filter(|e| &e.name == who) {
            entry.fields.remove(path);
        }
    }

    // The new object: fields this manager dropped (and nobody else owns) go, then the
    // applied configuration is merged in.
    let mut object = live.clone();
    let others_own = |path: &Path, entries: &[Manager]| {
        entries.iter().enumerate().any(|(i, e)| Some(i) != mine && e.fields.contains(path))
    };
    let mut dropped: Vec<Path> =
        previous.leaves().into_iter().filter(|p| !new_fields.contains(p) && !others_own(p, &entries)).collect();
    // Whole elements first (found by their keys while those are still there), then fields.
    dropped.sort_by_key(|p| (p.last().is_none_or(|s| s != "."), p.len()));
    for path in &dropped {
        fields::remove(&mut object, path);
    }
    // Maps and lists left empty by the removal, that nobody owns, go too.
    for path in &dropped {
        for end in (1..path.len()).rev() {
            let ancestor = &path[..end];
            if ancestor.last().is_some_and(|s| s.starts_with("k:")) {
                continue;
            }
            let empty = fields::get(&object, ancestor).is_some_and(|v| {
                v.as_object().is_some_and(|m| m.is_empty()) || v.as_array().is_some_and(|a| a.is_empty())
            });
            if empty && !new_fields.contains(ancestor) && !others_own(&ancestor.to_vec(), &entries) {
                fields::remove(&mut object, ancestor);
            }
        }
    }
    let mut clean_applied = applied.clone();
    if let Some(meta) = clean_applied["metadata"].as_object_mut() {
        for key in ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"] {
            meta.remove(key);
        }
    }
    if status {
        fields::merge(&mut object["status"], &clean_applied["status"], "status", shape.child("status"));
    } else {
        if let Some(map) = clean_applied.as_object_mut() {
            map.remove("status");
        }
        fields::merge(&mut object, &clean_applied, "", shape);
    }
    match mine {
        Some(index) => {
            if entries[index].fields != new_fields || object != live {
                entries[index].time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            }
            entries[index].fields = new_fields;
            entries[index].api_version = rtype.api_version();
        }
        None => {
            let mut entry = Manager::apply(manager, &rtype.api_version(), new_fields);
            entry.subresource = subresource.map(str::to_string);
            entries.push(entry);
        }
    }
    set_managers(&mut object, entries);
    if let Some(map) = object["metadata"].as_object_mut() {
        map.remove("resourceVersion");
    }
    let result = store.update(rtype, namespace, name, object, None, subresource, dry_run)?;
    Ok(with_version(result, rtype))
}
