//! Built-in kinds decoded as the API server decodes them: into their Go types, here the
//! `k8s-openapi` types generated from the same OpenAPI definitions. A field the type does not
//! have is unknown — pruned (`Warn`, the default, or `Ignore`) or refused (`Strict`) — and a
//! value of the wrong type is a 400 `BadRequest`, as `json: cannot unmarshal …` is on a real
//! server.

use k8s_openapi::api::{
    admissionregistration, apps, autoscaling, batch, coordination, core, discovery, networking, policy, rbac,
    scheduling, storage,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The object through `T` and back.
fn round_trip<T: DeserializeOwned + Serialize>(object: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(object.clone()).map_err(|e| without_value(&e.to_string()))?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

/// A decoding error in the API server's words, without the value (which may be a secret's):
/// `invalid type: string "two", expected i32` → `cannot unmarshal string into a value of type
/// i32`.
fn without_value(error: &str) -> String {
    let Some(rest) = error.strip_prefix("invalid type: ") else {
        return "cannot decode the object".to_string();
    };
    let found = rest.split([' ', ',']).next().unwrap_or("value");
    let expected = rest.split_once(", expected ").map_or("its field", |(_, e)| e);
    format!("json: cannot unmarshal {found} into a value of type {expected}")
}

/// The object as its built-in type reads it; `None` for kinds without a type here.
fn decoded(group: &str, kind: &str, object: &Value) -> Option<Result<Value, String>> {
    Some(match (group, kind) {
        ("", "ConfigMap") => round_trip::<core::v1::ConfigMap>(object),
        ("", "Secret") => round_trip::<core::v1::Secret>(object),
        ("", "Service") => round_trip::<core::v1::Service>(object),
        ("", "ServiceAccount") => round_trip::<core::v1::ServiceAccount>(object),
        ("", "Pod") => round_trip::<core::v1::Pod>(object),
        ("", "PersistentVolumeClaim") => round_trip::<core::v1::PersistentVolumeClaim>(object),
        ("", "Namespace") => round_trip::<core::v1::Namespace>(object),
        ("apps", "Deployment") => round_trip::<apps::v1::Deployment>(object),
        ("apps", "StatefulSet") => round_trip::<apps::v1::StatefulSet>(object),
        ("apps", "DaemonSet") => round_trip::<apps::v1::DaemonSet>(object),
        ("apps", "ReplicaSet") => round_trip::<apps::v1::ReplicaSet>(object),
        ("batch", "Job") => round_trip::<batch::v1::Job>(object),
        ("batch", "CronJob") => round_trip::<batch::v1::CronJob>(object),
        ("networking.k8s.io", "Ingress") => round_trip::<networking::v1::Ingress>(object),
        ("networking.k8s.io", "NetworkPolicy") => round_trip::<networking::v1::NetworkPolicy>(object),
        ("rbac.authorization.k8s.io", "Role") => round_trip::<rbac::v1::Role>(object),
        ("rbac.authorization.k8s.io", "RoleBinding") => round_trip::<rbac::v1::RoleBinding>(object),
        ("rbac.authorization.k8s.io", "ClusterRole") => round_trip::<rbac::v1::ClusterRole>(object),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => round_trip::<rbac::v1::ClusterRoleBinding>(object),
        ("policy", "PodDisruptionBudget") => round_trip::<policy::v1::PodDisruptionBudget>(object),
        ("autoscaling", "HorizontalPodAutoscaler") => round_trip::<autoscaling::v2::HorizontalPodAutoscaler>(object),
        ("", "PersistentVolume") => round_trip::<core::v1::PersistentVolume>(object),
        ("", "ResourceQuota") => round_trip::<core::v1::ResourceQuota>(object),
        ("", "LimitRange") => round_trip::<core::v1::LimitRange>(object),
        ("", "Endpoints") => round_trip::<core::v1::Endpoints>(object),
        ("", "Event") => round_trip::<core::v1::Event>(object),
        ("discovery.k8s.io", "EndpointSlice") => round_trip::<discovery::v1::EndpointSlice>(object),
        ("networking.k8s.io", "IngressClass") => round_trip::<networking::v1::IngressClass>(object),
        ("storage.k8s.io", "StorageClass") => round_trip::<storage::v1::StorageClass>(object),
        ("scheduling.k8s.io", "PriorityClass") => round_trip::<scheduling::v1::PriorityClass>(object),
        ("coordination.k8s.io", "Lease") => round_trip::<coordination::v1::Lease>(object),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            round_trip::<admissionregistration::v1::ValidatingWebhookConfiguration>(object)
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            round_trip::<admissionregistration::v1::MutatingWebhookConfiguration>(object)
        }
        _ => return None,
    })
}

/// The fields of `object` its built-in type does not have (`.spec.replica`), removed from it.
/// `Err` is the decoding error of a value of the wrong type.
pub fn prune(group: &str, kind: &str, object: &mut Value) -> Result<Vec<String>, String> {
    let Some(decoded) = decoded(group, kind, object) else { return Ok(Vec::new()) };
    let decoded = decoded?;
    let mut unknown = Vec::new();
    collect(object, &decoded, &mut unknown);
    for path in &unknown {
        remove(object, path);
    }
    Ok(unknown.into_iter().map(|steps| steps.concat()).collect())
}

/// Paths (as steps `.name` / `[i]`) present with a value in `sent` and absent from `decoded`.
fn collect(sent: &Value, decoded: &Value, out: &mut Vec<Vec<String>>) {
    fn walk(sent: &Value, decoded: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match (sent, decoded) {
            (Value::Object(sent), Value::Object(decoded)) => {
                for (key, value) in sent {
                    path.push(format!(".{key}"));
                    match decoded.get(key) {
                        None if !value.is_null() && !empty(value) => out.push(path.clone()),
                        None => {}
                        Some(inner) => walk(value, inner, path, out),
                    }
                    path.pop();
                }
            }
            (Value::Array(sent), Value::Array(decoded)) if sent.len() == decoded.len() => {
                for (index, (value, inner)) in sent.iter().zip(decoded).enumerate() {
                    path.push(format!("[{index}]"));
                    walk(value, inner, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    walk(sent, decoded, &mut Vec::new(), out);
}

/// An empty map or list, which a typed round trip may leave out without it being unknown.
fn empty(value: &Value) -> bool {
    value.as_object().is_some_and(|m| m.is_empty()) || value.as_array().is_some_and(|a| a.is_empty())
}

fn remove(object: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else { return };
    let mut node = object;
    for step in parent {
        let next = match step.strip_prefix('.') {
            Some(key) => node.get_mut(key),
            None => step.trim_matches(['[', ']']).parse::<usize>().ok().and_then(|i| node.get_mut(i)),
        };
        let Some(next) = next else { return };
        node = next;
    }
    if let (Some(key), Some(map)) = (last.strip_prefix('.'), node.as_object_mut()) {
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misspelt_field_of_a_deployment_is_unknown_and_the_rest_stays() {
        let mut object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {}},
            "spec": {"replica": 3, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx", "imagePullPolicy": "Always", "colour": "red"}]}}}});
        let unknown = prune("apps", "Deployment", &mut object).expect("decodes");
        assert_eq!(unknown, [".spec.replica", ".spec.template.spec.containers[0].colour"]);
        assert!(object["spec"].get("replica").is_none());
        assert_eq!(object["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(object["metadata"]["labels"], json!({}), "an empty map is not unknown");
    }

    #[test]
    fn a_value_of_the_wrong_type_does_not_decode() {
        let mut object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": "two"}});
        let error = prune("apps", "Deployment", &mut object).expect_err("refused");
        assert!(error.starts_with("json: cannot unmarshal string into a value of type"), "{error}");
        let mut secret =
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": 42424242}});
        let error = prune("", "Secret", &mut secret).expect_err("refused");
        assert!(!error.contains("42424242"), "a secret's value is never in the message: {error}");
    }
}
