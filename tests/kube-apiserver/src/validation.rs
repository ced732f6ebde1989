//! Validation of the built-in kinds, as the real API server's `Validate*` functions answer:
//! names (DNS-1123 subdomain, or label for the kinds whose names become DNS labels), required
//! fields, and the fields that cannot change after creation. Each problem is a cause of a 422
//! `Invalid` Status: a field path and a message in the server's words (`Required value`,
//! `Invalid value: …: field is immutable`, `Unsupported value: …`, `Forbidden: …`).

use serde_json::Value;

/// One cause: the field path and the message.
pub type Cause = (String, String);

/// A lowercase RFC 1123 subdomain: what most kinds' names must be.
pub fn valid_subdomain(name: &str) -> bool {
    name.len() <= 253 && !name.is_empty() && name.split('.').all(valid_label)
}

/// A lowercase RFC 1123 label: namespaces, services, container names.
pub fn valid_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Kinds whose names are DNS labels.
const LABEL_NAMED: [&str; 2] = ["Namespace", "Service"];

/// The name rule of a kind.
pub fn name(kind: &str, name: &str) -> Option<Cause> {
    let label = LABEL_NAMED.contains(&kind);
    if name.is_empty() {
        return Some(("metadata.name".into(), "Required value: name or generateName is required".into()));
    }
    let ok = if label { valid_label(name) } else { valid_subdomain(name) };
    (!ok).then(|| {
        (
            "metadata.name".to_string(),
            format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 {} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                if label { "label" } else { "subdomain" }
            ),
        )
    })
}

/// Go's `%v`-like rendering of a value in a message.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// Everything wrong with a built-in object (`old` is the stored object on updates).
pub fn builtin(group: &str, kind: &str, old: Option<&Value>, new: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let spec = &new["spec"];
    match (group, kind) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            let selector = &spec["selector"];
            let labels = &spec["template"]["metadata"]["labels"];
            if selector.is_null() {
                causes.push(("spec.selector".into(), "Required value".into()));
            } else if let Some(wanted) = selector["matchLabels"].as_object()
                && wanted.iter().any(|(k, v)| labels.get(k) != Some(v))
            {
                causes.push((
                    "spec.template.metadata.labels".into(),
                    format!("Invalid value: {}: `selector` does not match template `labels`", labels),
                ));
            }
            pod_spec("spec.template.spec", &spec["template"]["spec"], &mut causes);
            if let Some(old) = old
                && old["spec"]["selector"] != *selector
            {
                causes.push(("spec.selector".into(), format!("Invalid value: {selector}: field is immutable")));
            }
            if kind == "StatefulSet"
                && let Some(old) = old
            {
                let frozen = |object: &Value| {
                    let mut spec = object["spec"].clone();
                    if let Some(map) = spec.as_object_mut() {
                        for field in [
                            "replicas",
                            "ordinals",
                            "template",
                            "updateStrategy",
                            "persistentVolumeClaimRetentionPolicy",
                            "minReadySeconds",
                        ] {
                            map.remove(field);
                        }
                    }
                    spec
                };
                if frozen(old) != frozen(new) {
                    causes.push(("spec".into(), "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into()));
                }
            }
        }
        ("batch", "Job") => {
            pod_spec("spec.template.spec", &spec["template"]["spec"], &mut causes);
            restart_policy("spec.template.spec.restartPolicy", &spec["template"]["spec"], &mut causes);
            if let Some(old) = old {
                if old["spec"]["template"] != spec["template"] {
                    causes.push((
                        "spec.template".into(),
                        "Invalid value: core.PodTemplateSpec{...}: field is immutable".into(),
                    ));
                }
                for field in ["selector", "completionMode"] {
                    if old["spec"][field] != spec[field] {
                        causes.push((
                            format!("spec.{field}"),
                            format!("Invalid value: {}: field is immutable", shown(&spec[field])),
                        ));
                    }
                }
            }
        }
        ("batch", "CronJob") => {
            if spec["schedule"].as_str().is_none_or(str::is_empty) {
                causes.push(("spec.schedule".into(), "Required value".into()));
            }
            let pod = &spec["jobTemplate"]["spec"]["template"]["spec"];
            pod_spec("spec.jobTemplate.spec.template.spec", pod, &mut causes);
            restart_policy("spec.jobTemplate.spec.template.spec.restartPolicy", pod, &mut causes);
        }
        ("", "Pod") => pod_spec("spec", spec, &mut causes),
        ("", "Service") => service(old, new, &mut causes),
        ("", "ConfigMap" | "Secret") => {
            for field in ["data", "binaryData", "stringData"] {
                for key in new[field].as_object().into_iter().flatten().map(|(k, _)| k) {
                    let ok = !key.is_empty()
                        && key.len() <= 253
                        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
                    if !ok {
                        causes.push((
                            format!("{field}[{key}]"),
                            format!("Invalid value: \"{key}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"),
                        ));
                    }
                }
            }
            if let Some(old) = old
                && old["immutable"] == true
            {
                if new["immutable"] != true {
                    causes.push(("immutable".into(), "Forbidden: field is immutable when `immutable` is set".into()));
                }
                for field in ["data", "binaryData"] {
                    if old[field] != new[field] {
                        causes.push((field.into(), "Forbidden: field is immutable when `immutable` is set".into()));
                    }
                }
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(old) = old {
                let mut before = old["spec"].clone();
                let mut after = spec.clone();
                for spec in [&mut before, &mut after] {
                    if let Some(requests) = spec.get_mut("resources").and_then(|r| r.as_object_mut()) {
                        requests.remove("requests");
                    }
                }
                if before != after {
                    causes.push(("spec".into(), "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims".into()));
                }
            }
        }
        ("networking.k8s.io", "Ingress") => {
            for (r, rule) in spec["rules"].as_array().into_iter().flatten().enumerate() {
                for (p, path) in rule["http"]["paths"].as_array().into_iter().flatten().enumerate() {
                    let field = format!("spec.rules[{r}].http.paths[{p}].pathType");
                    match path["pathType"].as_str() {
                        None => causes.push((field, "Required value: pathType must be specified".into())),
                        Some("Exact" | "Prefix" | "ImplementationSpecific") => {}
                        Some(other) => causes.push((
                            field,
                            format!("Unsupported value: \"{other}\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""),
                        )),
                    }
                }
            }
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            if let Some(old) = old
                && old["roleRef"] != new["roleRef"]
            {
                causes.push(("roleRef".into(), format!("Invalid value: {}: cannot change roleRef", new["roleRef"])));
            }
            if new["roleRef"]["name"].as_str().is_none_or(str::is_empty) {
                causes.push(("roleRef.name".into(), "Required value".into()));
            }
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            if spec["maxReplicas"].as_i64().is_none_or(|m| m < 1) {
                causes.push(("spec.maxReplicas".into(), "Invalid value: 0: must be greater than or equal to 1".into()));
            }
            if let (Some(min), Some(max)) = (spec["minReplicas"].as_i64(), spec["maxReplicas"].as_i64())
                && min > max
            {
                causes.push((
                    "spec.maxReplicas".into(),
                    format!("Invalid value: {max}: must be greater than or equal to `minReplicas`"),
                ));
            }
        }
        _ => {}
    }
    causes
}

/// A pod spec: containers (required, named as DNS labels, with an image), ports in range.
fn pod_spec(at: &str, spec: &Value, causes: &mut Vec<Cause>) {
    let containers = spec["containers"].as_array().map_or(&[][..], Vec::as_slice);
    if containers.is_empty() {
        causes.push((format!("{at}.containers"), "Required value".into()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (list, items) in [
        ("containers", containers),
        ("initContainers", spec["initContainers"].as_array().map_or(&[][..], Vec::as_slice)),
    ] {
        for (index, container) in items.iter().enumerate() {
            let here = format!("{at}.{list}[{index}]");
            match container["name"].as_str() {
                None | Some("") => causes.push((format!("{here}.name"), "Required value".into())),
                Some(name) if !valid_label(name) => causes.push((
                    format!("{here}.name"),
                    format!("Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"),
                )),
                Some(name) if !seen.insert(name.to_string()) => {
                    causes.push((format!("{here}.name"), format!("Duplicate value: \"{name}\"")));
                }
                Some(_) => {}
            }
            if container["image"].as_str().is_none_or(|i| i.trim().is_empty()) {
                causes.push((format!("{here}.image"), "Required value".into()));
            }
            for (p, port) in container["ports"].as_array().into_iter().flatten().enumerate() {
                if let Some(number) = port["containerPort"].as_i64()
                    && !(1..=65535).contains(&number)
                {
                    causes.push((
                        format!("{here}.ports[{p}].containerPort"),
                        format!("Invalid value: {number}: must be between 1 and 65535, inclusive"),
                    ));
                }
            }
        }
    }
}

/// A Job's pods restart `OnFailure` or `Never`.
fn restart_policy(at: &str, pod: &Value, causes: &mut Vec<Cause>) {
    match pod["restartPolicy"].as_str() {
        Some("OnFailure" | "Never") => {}
        other => causes.push((
            at.to_string(),
            format!("Unsupported value: \"{}\": supported values: \"OnFailure\", \"Never\"", other.unwrap_or_default()),
        )),
    }
}

/// A Service: ports (required unless headless or ExternalName), in range; cluster IPs fixed.
fn service(old: Option<&Value>, new: &Value, causes: &mut Vec<Cause>) {
    let spec = &new["spec"];
    let kind = spec["type"].as_str().unwrap_or("ClusterIP");
    if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(&kind) {
        causes.push((
            "spec.type".into(),
            format!("Unsupported value: \"{kind}\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""),
        ));
    }
    let ports = spec["ports"].as_array().map_or(&[][..], Vec::as_slice);
    if ports.is_empty() && kind != "ExternalName" && spec["clusterIP"] != "None" {
        causes.push(("spec.ports".into(), "Required value".into()));
    }
    if kind == "ExternalName" && spec["externalName"].as_str().is_none_or(str::is_empty) {
        causes.push(("spec.externalName".into(), "Required value".into()));
    }
    for (index, port) in ports.iter().enumerate() {
        match port["port"].as_i64() {
            Some(number) if (1..=65535).contains(&number) => {}
            Some(number) => causes.push((
                format!("spec.ports[{index}].port"),
                format!("Invalid value: {number}: must be between 1 and 65535, inclusive"),
            )),
            None => causes.push((format!("spec.ports[{index}].port"), "Required value".into())),
        }
        if ports.len() > 1 && port["name"].as_str().is_none_or(str::is_empty) {
            causes.push((format!("spec.ports[{index}].name"), "Required value".into()));
        }
    }
    if let Some(old) = old
        && old["spec"]["type"] != "ExternalName"
        && kind != "ExternalName"
    {
        let before = &old["spec"]["clusterIP"];
        if !before.is_null() && *before != spec["clusterIP"] {
            causes.push((
                "spec.clusterIPs[0]".into(),
                format!("Invalid value: [{}]: may not change once set", shown(&spec["clusterIP"])),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_dns_rules_of_their_kind() {
        assert!(name("ConfigMap", "a.b-c").is_none());
        assert!(name("Service", "a.b").is_some(), "a service name is a label");
        assert!(name("ConfigMap", "Upper").is_some());
        assert!(name("ConfigMap", &"a".repeat(254)).is_some());
        assert!(name("Namespace", "").is_some());
    }

    #[test]
    fn a_changed_deployment_selector_is_immutable() {
        let old = json!({"spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {"metadata": {"labels": {"app": "a", "v": "2"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        let mut new = old.clone();
        new["spec"]["selector"]["matchLabels"]["v"] = json!("2");
        let causes = builtin("apps", "Deployment", Some(&old), &new);
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].0, "spec.selector");
        assert!(causes[0].1.ends_with("field is immutable"));
    }

    #[test]
    fn an_immutable_config_map_refuses_new_data() {
        let old = json!({"immutable": true, "data": {"a": "1"}});
        let new = json!({"immutable": true, "data": {"a": "2"}});
        assert_eq!(
            builtin("", "ConfigMap", Some(&old), &new),
            [("data".to_string(), "Forbidden: field is immutable when `immutable` is set".to_string())]
        );
        assert!(builtin("", "ConfigMap", Some(&old), &old).is_empty());
    }

    #[test]
    fn a_job_restarts_on_failure_or_never() {
        let job = json!({"spec": {"template": {"spec": {"restartPolicy": "Always", "containers": [{"name": "a", "image": "x"}]}}}});
        let causes = builtin("batch", "Job", None, &job);
        assert_eq!(causes[0].0, "spec.template.spec.restartPolicy");
    }
}
