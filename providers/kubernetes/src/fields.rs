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
        (live, _) => Some(live.clone()),
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
    fn conflicts_name_their_managers() {
        let message = "Apply failed with 2 conflicts: conflict with \"kubectl-edit\" using apps/v1: .spec.template; conflict with \"hpa\": .spec.replicas";
        assert_eq!(conflicting_managers(message), ["kubectl-edit", "hpa"]);
    }
}
