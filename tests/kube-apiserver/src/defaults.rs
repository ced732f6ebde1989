//! Defaulting of the built-in kinds, with the values and rules of the real API server's
//! `SetDefaults_*` functions (core, apps, batch, autoscaling, rbac), as the API reference
//! documents each field's default. Defaulting runs on every write (create, update, patch,
//! apply and their dry runs), so a field a client stops sending comes back with its default.
//!
//! Allocations (a Service's cluster IP and node ports) and a Job's generated selector need the
//! store and live there; everything here is a pure function of the object.

use serde_json::{Value, json};

/// Sets `field` of `object` to `value` when it is absent or null (and `object` is a map).
fn or_default(object: &mut Value, field: &str, value: Value) {
    if let Some(map) = object.as_object_mut()
        && map.get(field).is_none_or(Value::is_null)
    {
        map.insert(field.to_string(), value);
    }
}

/// `object[field]` as a map, created when absent (only when `object` is a map).
fn child<'a>(object: &'a mut Value, field: &str) -> Option<&'a mut Value> {
    let map = object.as_object_mut()?;
    let entry = map.entry(field.to_string()).or_insert_with(|| json!({}));
    if entry.is_null() {
        *entry = json!({});
    }
    entry.is_object().then_some(entry)
}

/// Every element of the list `object[field]` that is a map.
fn each<'a>(object: &'a mut Value, field: &str) -> impl Iterator<Item = &'a mut Value> {
    object.get_mut(field).and_then(Value::as_array_mut).into_iter().flatten().filter(|v| v.is_object())
}

/// Defaults of a built-in kind (group, kind). Unknown kinds are left alone.
pub fn builtin(group: &str, kind: &str, object: &mut Value) {
    match (group, kind) {
        ("", "Pod") => {
            if let Some(spec) = child(object, "spec") {
                pod_spec(spec);
                or_default(spec, "enableServiceLinks", json!(true));
                or_default(spec, "serviceAccountName", json!("default"));
                let account = spec["serviceAccountName"].clone();
                or_default(spec, "serviceAccount", account);
                or_default(spec, "priority", json!(0));
                or_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
            }
        }
        ("", "Secret") => or_default(object, "type", json!("Opaque")),
        ("", "Service") => {
            if let Some(spec) = child(object, "spec") {
                service(spec);
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(spec) = child(object, "spec") {
                or_default(spec, "volumeMode", json!("Filesystem"));
            }
            if let Some(status) = child(object, "status") {
                or_default(status, "phase", json!("Pending"));
            }
        }
        ("apps", "Deployment") => {
            if let Some(spec) = child(object, "spec") {
                or_default(spec, "replicas", json!(1));
                rolling_update(spec, "strategy", &[("maxUnavailable", json!("25%")), ("maxSurge", json!("25%"))]);
                or_default(spec, "revisionHistoryLimit", json!(10));
                or_default(spec, "progressDeadlineSeconds", json!(600));
                template(spec);
            }
        }
        ("apps", "StatefulSet") => {
            if let Some(spec) = child(object, "spec") {
                or_default(spec, "replicas", json!(1));
                or_default(spec, "podManagementPolicy", json!("OrderedReady"));
                rolling_update(spec, "updateStrategy", &[("partition", json!(0))]);
                or_default(spec, "revisionHistoryLimit", json!(10));
                if let Some(retention) = child(spec, "persistentVolumeClaimRetentionPolicy") {
                    or_default(retention, "whenDeleted", json!("Retain"));
                    or_default(retention, "whenScaled", json!("Retain"));
                }
                for claim in each(spec, "volumeClaimTemplates") {
                    or_default(claim, "apiVersion", json!("v1"));
                    or_default(claim, "kind", json!("PersistentVolumeClaim"));
                    if let Some(claim_spec) = child(claim, "spec") {
                        or_default(claim_spec, "volumeMode", json!("Filesystem"));
                    }
                    if let Some(status) = child(claim, "status") {
                        or_default(status, "phase", json!("Pending"));
                    }
                }
                template(spec);
            }
        }
        ("apps", "DaemonSet") => {
            if let Some(spec) = child(object, "spec") {
                rolling_update(spec, "updateStrategy", &[("maxUnavailable", json!(1)), ("maxSurge", json!(0))]);
                or_default(spec, "revisionHistoryLimit", json!(10));
                template(spec);
            }
        }
        ("apps", "ReplicaSet") => {
            if let Some(spec) = child(object, "spec") {
                or_default(spec, "replicas", json!(1));
                template(spec);
            }
        }
        ("batch", "Job") => {
            if let Some(spec) = child(object, "spec") {
                job(spec);
            }
        }
        ("batch", "CronJob") => {
            if let Some(spec) = child(object, "spec") {
                or_default(spec, "concurrencyPolicy", json!("Allow"));
                or_default(spec, "suspend", json!(false));
                or_default(spec, "successfulJobsHistoryLimit", json!(3));
                or_default(spec, "failedJobsHistoryLimit", json!(1));
                if let Some(job_spec) =
                    spec.get_mut("jobTemplate").filter(|t| t.is_object()).and_then(|t| child(t, "spec"))
                {
                    // The Job defaults apply to a Job the CronJob creates, not to its template;
                    // the pod template is defaulted like every PodTemplateSpec.
                    template(job_spec);
                }
            }
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            if let Some(spec) = child(object, "spec") {
                autoscaler(spec);
            }
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            // A ServiceAccount's group is "" — which `omitempty` never shows.
            for subject in each(object, "subjects") {
                if matches!(subject["kind"].as_str(), Some("User" | "Group")) {
                    or_default(subject, "apiGroup", json!("rbac.authorization.k8s.io"));
                }
            }
        }
        _ => {}
    }
}

/// A workload's update strategy: `RollingUpdate` unless set, with these rolling parameters.
fn rolling_update(spec: &mut Value, field: &str, parameters: &[(&str, Value)]) {
    if let Some(strategy) = child(spec, field) {
        or_default(strategy, "type", json!("RollingUpdate"));
        if strategy["type"] == "RollingUpdate"
            && let Some(rolling) = child(strategy, "rollingUpdate")
        {
            for (name, value) in parameters {
                or_default(rolling, name, value.clone());
            }
        }
    }
}

/// `spec.template` of a workload: its pod spec.
fn template(spec: &mut Value) {
    if let Some(pod) = child(spec, "template").and_then(|t| child(t, "spec")) {
        pod_spec(pod);
    }
}

/// A PodSpec (in a pod or a template): `SetDefaults_PodSpec` and those of its parts.
fn pod_spec(spec: &mut Value) {
    or_default(spec, "dnsPolicy", json!("ClusterFirst"));
    or_default(spec, "restartPolicy", json!("Always"));
    or_default(spec, "schedulerName", json!("default-scheduler"));
    or_default(spec, "securityContext", json!({}));
    or_default(spec, "terminationGracePeriodSeconds", json!(30));
    for list in ["containers", "initContainers"] {
        for container in each(spec, list) {
            self::container(container);
        }
    }
    for volume in each(spec, "volumes") {
        for source in ["configMap", "secret", "downwardAPI", "projected"] {
            if let Some(source) = volume.get_mut(source).filter(|s| s.is_object()) {
                or_default(source, "defaultMode", json!(420));
            }
        }
        if let Some(path) = volume.get_mut("hostPath").filter(|s| s.is_object()) {
            or_default(path, "type", json!(""));
        }
    }
}

/// A container: pull policy by tag, termination message, port protocols, probes, env sources.
fn container(container: &mut Value) {
    let image = container["image"].as_str().unwrap_or_default();
    // `:latest` or no tag (and no digest) → Always; any other tag → IfNotPresent.
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last.split_once(':').map(|(_, tag)| tag);
    let policy = if !image.contains('@') && tag.is_none_or(|t| t == "latest") { "Always" } else { "IfNotPresent" };
    or_default(container, "imagePullPolicy", json!(policy));
    or_default(container, "terminationMessagePath", json!("/dev/termination-log"));
    or_default(container, "terminationMessagePolicy", json!("File"));
    or_default(container, "resources", json!({}));
    for port in each(container, "ports") {
        or_default(port, "protocol", json!("TCP"));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get_mut(probe).filter(|p| p.is_object()) {
            or_default(probe, "timeoutSeconds", json!(1));
            or_default(probe, "periodSeconds", json!(10));
            or_default(probe, "successThreshold", json!(1));
            or_default(probe, "failureThreshold", json!(3));
            if let Some(get) = probe.get_mut("httpGet").filter(|g| g.is_object()) {
                or_default(get, "scheme", json!("HTTP"));
            }
        }
    }
    for variable in each(container, "env") {
        if let Some(field) = variable.get_mut("valueFrom").and_then(|v| v.get_mut("fieldRef")).filter(|f| f.is_object())
        {
            or_default(field, "apiVersion", json!("v1"));
        }
    }
}

/// A Service spec (allocations are the store's).
fn service(spec: &mut Value) {
    or_default(spec, "type", json!("ClusterIP"));
    or_default(spec, "sessionAffinity", json!("None"));
    let kind = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
    if kind != "ExternalName" {
        or_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if matches!(kind.as_str(), "NodePort" | "LoadBalancer") {
        or_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        or_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    for port in each(spec, "ports") {
        or_default(port, "protocol", json!("TCP"));
        if kind != "ExternalName" {
            let target = port["port"].clone();
            or_default(port, "targetPort", target);
        }
    }
}

/// A Job spec: `SetDefaults_Job`.
fn job(spec: &mut Value) {
    if spec["completions"].is_null() && spec["parallelism"].is_null() {
        spec["completions"] = json!(1);
        spec["parallelism"] = json!(1);
    }
    or_default(spec, "parallelism", json!(1));
    or_default(spec, "backoffLimit", json!(6));
    or_default(spec, "completionMode", json!("NonIndexed"));
    or_default(spec, "suspend", json!(false));
    or_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    template(spec);
}

/// An autoscaling/v2 HorizontalPodAutoscaler spec: min replicas, the CPU metric, behavior.
fn autoscaler(spec: &mut Value) {
    or_default(spec, "minReplicas", json!(1));
    if spec["metrics"].as_array().is_none_or(Vec::is_empty) {
        spec["metrics"] = json!([{
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}
        }]);
    }
    let Some(behavior) = child(spec, "behavior") else { return };
    if let Some(up) = child(behavior, "scaleUp") {
        or_default(up, "stabilizationWindowSeconds", json!(0));
        or_default(up, "selectPolicy", json!("Max"));
        or_default(
            up,
            "policies",
            json!([{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }
    if let Some(down) = child(behavior, "scaleDown") {
        or_default(down, "stabilizationWindowSeconds", json!(300));
        or_default(down, "selectPolicy", json!("Max"));
        or_default(down, "policies", json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_written_with_only_its_containers_reads_back_with_the_api_servers_defaults() {
        let mut object = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [
                {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
                 "readinessProbe": {"httpGet": {"path": "/", "port": 80}}},
                {"name": "sidecar", "image": "envoyproxy/envoy"}
            ]}
        }}});
        builtin("apps", "Deployment", &mut object);
        let spec = &object["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(
            (spec["revisionHistoryLimit"].clone(), spec["progressDeadlineSeconds"].clone()),
            (json!(10), json!(600))
        );
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["schedulerName"], "default-scheduler");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        let web = &pod["containers"][0];
        assert_eq!(web["imagePullPolicy"], "IfNotPresent");
        assert_eq!(web["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(web["ports"][0]["protocol"], "TCP");
        assert_eq!(
            web["readinessProbe"],
            json!({"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(pod["containers"][1]["imagePullPolicy"], "Always", "no tag means :latest");
    }

    #[test]
    fn a_recreate_strategy_gets_no_rolling_update_parameters() {
        let mut object = json!({"spec": {"strategy": {"type": "Recreate"}, "template": {"spec": {"containers": []}}}});
        builtin("apps", "Deployment", &mut object);
        assert_eq!(object["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn a_service_gets_its_type_affinity_policies_and_target_ports() {
        let mut object = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]}});
        builtin("", "Service", &mut object);
        let spec = &object["spec"];
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(
            spec["ports"],
            json!([{"port": 80, "protocol": "TCP", "targetPort": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}])
        );
    }

    #[test]
    fn digests_and_tags_choose_the_pull_policy() {
        for (image, policy) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("registry.local:5000/nginx", "Always"),
            ("registry.local:5000/nginx:1.2", "IfNotPresent"),
            ("nginx@sha256:abc", "IfNotPresent"),
        ] {
            let mut c = json!({"image": image});
            container(&mut c);
            assert_eq!(c["imagePullPolicy"], policy, "{image}");
        }
    }
}
