//! The resource types the server knows: the built-in kinds, and those CRDs register.

use serde_json::{Value, json};

/// One resource type: `apps/v1` `deployments` of kind `Deployment`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// API group (`""` for core).
    pub group: String,
    /// Version (`v1`).
    pub version: String,
    /// Kind (`Deployment`).
    pub kind: String,
    /// Plural resource name (`deployments`).
    pub plural: String,
    /// Singular name (`deployment`).
    pub singular: String,
    /// Lives in a namespace.
    pub namespaced: bool,
    /// `kubectl get deploy`.
    pub short_names: Vec<String>,
    /// Has a `/status` subresource (the main endpoint ignores status changes).
    pub status: bool,
    /// Defined by a CRD (its name), rather than built in.
    pub crd: Option<String>,
    /// A CRD's `additionalPrinterColumns`: name, type, JSONPath.
    pub columns: Vec<(String, String, String)>,
}

impl ResourceType {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The legacy discovery entry.
    pub fn discovery(&self) -> Value {
        let mut verbs = vec!["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
        verbs.sort_unstable();
        json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
            "shortNames": self.short_names,
            "categories": if self.crd.is_none() && ["pods", "services", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs"].contains(&self.plural.as_str()) { vec!["all"] } else { Vec::<&str>::new() },
            "storageVersionHash": "",
        })
    }
}

fn builtin(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
    status: bool,
) -> ResourceType {
    ResourceType {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_ascii_lowercase(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        status,
        crd: None,
        columns: Vec::new(),
    }
}

/// The built-in kinds.
pub fn builtins() -> Vec<ResourceType> {
    vec![
        builtin("", "v1", "Namespace", "namespaces", false, &["ns"], true),
        builtin("", "v1", "ConfigMap", "configmaps", true, &["cm"], false),
        builtin("", "v1", "Secret", "secrets", true, &[], false),
        builtin("", "v1", "Service", "services", true, &["svc"], true),
        builtin("", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"], false),
        builtin("", "v1", "Pod", "pods", true, &["po"], true),
        builtin("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, &["pvc"], true),
        builtin("", "v1", "Event", "events", true, &["ev"], false),
        builtin("apps", "v1", "Deployment", "deployments", true, &["deploy"], true),
        builtin("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"], true),
        builtin("apps", "v1", "DaemonSet", "daemonsets", true, &["ds"], true),
        builtin("apps", "v1", "ReplicaSet", "replicasets", true, &["rs"], true),
        builtin("batch", "v1", "Job", "jobs", true, &[], true),
        builtin("batch", "v1", "CronJob", "cronjobs", true, &["cj"], true),
        builtin("networking.k8s.io", "v1", "Ingress", "ingresses", true, &["ing"], true),
        builtin("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, &["netpol"], false),
        builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", true, &[], false),
        builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, &[], false),
        builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, &[], false),
        builtin("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, &[], false),
        builtin("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, &["pdb"], true),
        builtin("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, &["hpa"], true),
        builtin("coordination.k8s.io", "v1", "Lease", "leases", true, &[], false),
        builtin("", "v1", "PersistentVolume", "persistentvolumes", false, &["pv"], true),
        builtin("", "v1", "ResourceQuota", "resourcequotas", true, &["quota"], true),
        builtin("", "v1", "LimitRange", "limitranges", true, &["limits"], false),
        builtin("", "v1", "Endpoints", "endpoints", true, &["ep"], false),
        builtin("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, &[], false),
        builtin("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, &[], false),
        builtin("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, &["sc"], false),
        builtin("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, &["pc"], false),
        builtin(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            false,
            &[],
            false,
        ),
        builtin(
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
            false,
            &[],
            false,
        ),
        builtin(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["crd", "crds"],
            true,
        ),
    ]
}

/// The resource types a CRD object defines (one per served version).
pub fn from_crd(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let (Some(group), Some(kind), Some(plural)) =
        (spec["group"].as_str(), names["kind"].as_str(), names["plural"].as_str())
    else {
        return Vec::new();
    };
    let singular = names["singular"].as_str().map_or_else(|| kind.to_ascii_lowercase(), str::to_string);
    let short_names: Vec<String> = names["shortNames"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    spec["versions"]
        .as_array()
        .map(|versions| {
            versions
                .iter()
                .filter(|v| v["served"].as_bool().unwrap_or(true))
                .filter_map(|v| {
                    Some(ResourceType {
                        group: group.into(),
                        version: v["name"].as_str()?.into(),
                        kind: kind.into(),
                        plural: plural.into(),
                        singular: singular.clone(),
                        namespaced,
                        short_names: short_names.clone(),
                        status: v["subresources"]["status"].is_object(),
                        crd: crd["metadata"]["name"].as_str().map(str::to_string),
                        columns: v["additionalPrinterColumns"]
                            .as_array()
                            .map(|columns| {
                                columns
                                    .iter()
                                    .filter_map(|c| {
                                        Some((
                                            c["name"].as_str()?.to_string(),
                                            c["type"].as_str().unwrap_or("string").to_string(),
                                            c["jsonPath"].as_str()?.to_string(),
                                        ))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
