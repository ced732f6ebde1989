//! What `infra` manages of an object: the live object projected onto the fields infra applies
//! (the manifest: exactly its `Apply` entry in managedFields, by server-side apply's rules).
//! Fields only other managers set — an autoscaler's `replicas`, a controller's annotations,
//! status, defaults — are left out, so they never show as drift; a field infra applies that
//! someone changed shows with its live value.

use serde_json::{Map, Value};

/// List keys by field name, as server-side apply merges them (containers by name, ...).
fn list_key(field: &str, item: &Value) -> Option<Vec<&'static str>> {
    Some(match field {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
            vec!["name"]
        }
        "volumeMounts" => vec!["mountPath"],
        "ports" if item.get("containerPort").is_some() => vec!["containerPort", "protocol"],
        "ports" if item.get("port").is_some() => vec!["port", "protocol"],
        _ => return None,
    })
}

fn same_key(keys: &[&str], a: &Value, b: &Value) -> bool {
    keys.iter().all(|k| match (a.get(*k), b.get(*k)) {
        (Some(x), Some(y)) => x == y,
        (None, Some(y)) | (Some(y), None) => *k == "protocol" && y == "TCP",
        (None, None) => true,
    })
}

/// `live` reduced to the shape of `applied`: its keys, its keyed list elements; other lists and
/// scalars whole. `None` where the live object lacks the field.
fn project_like(live: &Value, applied: &Value, field: &str) -> Option<Value> {
    match (live, applied) {
        (Value::Object(live), Value::Object(applied)) => {
            let mut out = Map::new();
            for (key, want) in applied {
                if let Some(value) = live.get(key).and_then(|l| project_like(l, want, key)) {
                    out.insert(key.clone(), value);
                }
            }
            Some(Value::Object(out))
        }
        (Value::Array(live), Value::Array(applied))
            if applied.first().is_some_and(|i| list_key(field, i).is_some()) =>
        {
            Some(Value::Array(
                applied
                    .iter()
                    .filter_map(|want| {
                        let keys = list_key(field, want)?;
                        let found = live.iter().find(|l| same_key(&keys, l, want))?;
                        project_like(found, want, "")
                    })
                    .collect(),
            ))
        }
        // A list of maps without keys (atomic): element by element while the lengths agree,
        // so what the server defaults inside its elements is not drift.
        (Value::Array(live), Value::Array(applied))
            if live.len() == applied.len() && applied.iter().all(Value::is_object) =>
        {
            live.iter().zip(applied).map(|(l, a)| project_like(l, a, "")).collect::<Option<Vec<_>>>().map(Value::Array)
        }
        (live, _) => Some(live.clone()),
    }
}

/// Whether a value is what Go's `omitempty` leaves out of an object the server returns (so
/// its absence is no sign the field was dropped).
fn zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

/// The fields of `applied` that the API server's answer `result` lacks: what it prunes as
/// undeclared by the kind's schema (`.spec.colour`). Zero values (which the server may omit)
/// and a Secret's `stringData` (folded into `data`) are not counted.
pub fn dropped(applied: &Value, result: &Value) -> Vec<String> {
    let mut out = Vec::new();
    dropped_below(applied, result, "", "", &mut out);
    out.retain(|path| !(applied["kind"] == "Secret" && path.starts_with(".stringData")));
    out
}

fn dropped_below(applied: &Value, result: &Value, field: &str, at: &str, out: &mut Vec<String>) {
    match (applied, result) {
        (Value::Object(applied), Value::Object(result)) => {
            for (key, want) in applied {
                let here = format!("{at}.{key}");
                match result.get(key) {
                    None if !zero(want) => out.push(here),
                    None => {}
                    Some(got) => dropped_below(want, got, key, &here, out),
                }
            }
        }
        (Value::Array(applied), Value::Array(result)) => {
            for (index, want) in applied.iter().enumerate() {
                let found = match list_key(field, want) {
                    Some(keys) => result.iter().find(|r| same_key(&keys, r, want)),
                    None if applied.len() == result.len() => result.get(index),
                    None => None,
                };
                if let Some(got) = found {
                    dropped_below(want, got, "", &format!("{at}[{index}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// The object as infra manages it: identity plus the fields of the applied manifest, with
/// their live values.
pub fn project(object: &Value, applied: &Value) -> Value {
    let mut out = project_like(object, applied, "").unwrap_or(Value::Object(Map::new()));
    if !out.is_object() {
        out = Value::Object(Map::new());
    }
    out["apiVersion"] = object["apiVersion"].clone();
    out["kind"] = object["kind"].clone();
    out["metadata"]["name"] = object["metadata"]["name"].clone();
    if object["metadata"]["namespace"].is_string() {
        out["metadata"]["namespace"] = object["metadata"]["namespace"].clone();
    }
    out
}

/// The managers named in a conflict message (`conflict with "kubectl-edit" using v1: ...`).
pub fn conflicting_managers(message: &str) -> Vec<String> {
    message.split("conflict with \"").skip(1).filter_map(|rest| rest.split('"').next().map(str::to_string)).collect()
}

/// Whether every named manager only ever *updated* the object (kubectl edit, scale, a patch):
/// such changes are drift, and infra takes its fields back. A manager that *applies* declares
/// intent, and taking fields from it needs `force_conflicts`.
pub fn only_updates(object: &Value, managers: &[String]) -> bool {
    let entries = object["metadata"]["managedFields"].as_array().map_or(&[][..], Vec::as_slice);
    !managers.is_empty()
        && managers
            .iter()
            .all(|m| entries.iter().filter(|e| e["manager"] == m.as_str()).all(|e| e["operation"] == "Update"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_only_other_managers_set_are_left_out() {
        let applied = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}
        });
        let live = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop", "uid": "1", "managedFields": []},
            "spec": {"replicas": 5, "template": {"spec": {"containers": [
                {"name": "api", "image": "nginx:evil", "imagePullPolicy": "Always", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                {"name": "sidecar", "image": "envoy"}
            ]}}},
            "status": {"readyReplicas": 5}
        });
        assert_eq!(
            project(&live, &applied),
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "api", "namespace": "shop"},
                "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "nginx:evil", "ports": [{"containerPort": 80}]}]}}}
            })
        );
    }

    #[test]
    fn defaults_inside_atomic_lists_are_left_out_and_undeclared_fields_are_found() {
        let applied = json!({"kind": "StatefulSet", "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}], "colour": "red", "paused": false}});
        let live = json!({"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": {"volumeMode": "Filesystem", "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Pending"}}]}});
        assert_eq!(project(&live, &applied)["spec"]["volumeClaimTemplates"], applied["spec"]["volumeClaimTemplates"]);
        assert_eq!(dropped(&applied, &live), [".spec.colour"], "a false the server omits is not dropped");
    }

    #[test]
    fn conflicts_name_their_managers() {
        let message = "Apply failed with 2 conflicts: conflict with \"kubectl-edit\" using apps/v1: .spec.template; conflict with \"hpa\": .spec.replicas";
        assert_eq!(conflicting_managers(message), ["kubectl-edit", "hpa"]);
    }
}
