//! `kubernetes_manifest`: its schema, an object's identity, the fields that cannot change in
//! place, the labels infra adds, and which values are secret.

use infra_provider::{AttrType, Attribute, BlockSchema, NestedBlock, Nesting, Value};
use serde_json::json;

/// The label every object infra applies carries (and refresh lists by).
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The resource's schema.
pub fn schema() -> BlockSchema {
    BlockSchema::new()
        .attribute("manifest", Attribute::required(AttrType::Dynamic).describe("The object, as YAML or HCL."))
        .attribute("field_manager", Attribute::optional(AttrType::String))
        .attribute("force_conflicts", Attribute::optional(AttrType::Bool))
        .attribute("computed_fields", Attribute::optional(AttrType::List(Box::new(AttrType::String))))
        .attribute("id", Attribute::computed(AttrType::String))
        .attribute(
            "object",
            Attribute::computed(AttrType::Dynamic).describe("The fields infra manages, as the API server has them."),
        )
        .block(
            "wait",
            NestedBlock {
                nesting: Nesting::Single,
                force_new: false,
                block: BlockSchema::new()
                    .attribute("rollout", Attribute::optional(AttrType::Bool))
                    .attribute("fields", Attribute::optional(AttrType::Map(Box::new(AttrType::String))))
                    .attribute("condition", Attribute::optional(AttrType::Map(Box::new(AttrType::String))))
                    .attribute("timeout", Attribute::optional(AttrType::String)),
            },
        )
        .block(
            "timeouts",
            NestedBlock {
                nesting: Nesting::Single,
                force_new: false,
                block: BlockSchema::new()
                    .attribute("create", Attribute::optional(AttrType::String))
                    .attribute("update", Attribute::optional(AttrType::String))
                    .attribute("delete", Attribute::optional(AttrType::String)),
            },
        )
}

/// Who an object is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// Namespace, if any.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl Identity {
    /// From a manifest.
    pub fn of(manifest: &serde_json::Value) -> Option<Identity> {
        Some(Identity {
            api_version: manifest["apiVersion"].as_str()?.to_string(),
            kind: manifest["kind"].as_str()?.to_string(),
            namespace: manifest["metadata"]["namespace"].as_str().map(str::to_string),
            name: manifest["metadata"]["name"].as_str()?.to_string(),
        })
    }

    /// `apps/v1/Deployment/shop/api`: the id, and the import id.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{ns}/{}", self.api_version, self.kind, self.name),
            None => format!("{}/{}/{}", self.api_version, self.kind, self.name),
        }
    }

    /// Parses an import id: `apps/v1/Deployment/shop/api`, `v1/ConfigMap/shop/settings`,
    /// `v1/Namespace/shop`, `apiextensions.k8s.io/v1/CustomResourceDefinition/widgets.example.com`.
    pub fn parse(id: &str) -> Option<Identity> {
        let parts: Vec<&str> = id.split('/').collect();
        let versioned = |s: &str| s.starts_with('v') && s[1..].starts_with(|c: char| c.is_ascii_digit());
        let (api_version, rest) = if parts.len() >= 3 && versioned(parts[1]) && !versioned(parts[0]) {
            (format!("{}/{}", parts[0], parts[1]), &parts[2..])
        } else {
            (parts.first()?.to_string(), &parts[1..])
        };
        match rest {
            [kind, name] => {
                Some(Identity { api_version, kind: kind.to_string(), namespace: None, name: name.to_string() })
            }
            [kind, namespace, name] => Some(Identity {
                api_version,
                kind: kind.to_string(),
                namespace: Some(namespace.to_string()),
                name: name.to_string(),
            }),
            _ => None,
        }
    }
}

/// Fields an API server refuses to change in place, by kind.
pub fn immutable_paths(kind: &str) -> &'static [&'static str] {
    match kind {
        "Deployment" | "ReplicaSet" | "DaemonSet" => &["/spec/selector"],
        "StatefulSet" => {
            &["/spec/selector", "/spec/serviceName", "/spec/volumeClaimTemplates", "/spec/podManagementPolicy"]
        }
        "Job" => &["/spec/selector", "/spec/template", "/spec/completionMode"],
        "Service" => &["/spec/clusterIP", "/spec/clusterIPs", "/spec/ipFamilies"],
        "RoleBinding" | "ClusterRoleBinding" => &["/roleRef"],
        "PersistentVolumeClaim" => {
            &["/spec/storageClassName", "/spec/accessModes", "/spec/volumeName", "/spec/selector"]
        }
        _ => &[],
    }
}

/// The object as applied: the manifest without its null fields (a null in the configuration
/// means "not set", as in Terraform's `kubernetes_manifest`), with the managed-by label.
pub fn applied(manifest: &serde_json::Value) -> serde_json::Value {
    let mut object = without_nulls(manifest.clone());
    object["metadata"]["labels"][MANAGED_BY] = json!("infra");
    object
}

fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect()
        }
        serde_json::Value::Array(items) => items.into_iter().map(without_nulls).collect(),
        other => other,
    }
}

/// Why a change of `before` into `after` cannot be made in place: the first immutable field
/// of the kind that changes, in words.
pub fn replace_reason(kind: &str, before: &serde_json::Value, after: &serde_json::Value) -> Option<String> {
    immutable_paths(kind)
        .iter()
        .find(|path| before.pointer(path).is_some() && before.pointer(path) != after.pointer(path))
        .map(|path| {
            format!("because `{}` of a {kind} cannot change in place", path.trim_start_matches('/').replace('/', "."))
        })
}

/// A JSON object as a value, with a Secret's `data` and `stringData` marked sensitive.
pub fn to_value(object: &serde_json::Value) -> Value {
    let value = Value::from_json(object);
    if object["kind"] != "Secret" {
        return value;
    }
    let Value::Map(mut map) = value else { return value };
    for field in ["data", "stringData"] {
        if let Some(Value::Map(entries)) = map.remove(field) {
            let marked = entries.into_iter().map(|(k, v)| (k, v.mark_sensitive())).collect();
            map.insert(field.to_string(), Value::Map(marked));
        }
    }
    Value::Map(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_name_every_scope() {
        let id = |s| Identity::parse(s).map(|i| (i.api_version, i.kind, i.namespace, i.name));
        assert_eq!(
            id("apps/v1/Deployment/shop/api"),
            Some(("apps/v1".into(), "Deployment".into(), Some("shop".into()), "api".into()))
        );
        assert_eq!(
            id("v1/ConfigMap/shop/settings"),
            Some(("v1".into(), "ConfigMap".into(), Some("shop".into()), "settings".into()))
        );
        assert_eq!(id("v1/Namespace/shop"), Some(("v1".into(), "Namespace".into(), None, "shop".into())));
        assert_eq!(
            id("apiextensions.k8s.io/v1/CustomResourceDefinition/widgets.example.com"),
            Some((
                "apiextensions.k8s.io/v1".into(),
                "CustomResourceDefinition".into(),
                None,
                "widgets.example.com".into()
            ))
        );
        assert_eq!(id("nonsense"), None);
    }
}
