//! Simulated controllers: what a cluster's controllers would write into status, a configurable
//! delay after each change. Deployments, StatefulSets and DaemonSets become available (or, with
//! an image starting with `fail/`, never do and report `ProgressDeadlineExceeded`); Jobs complete
//! (or fail); CRDs become `Established`; terminating namespaces are emptied and removed.

use crate::server::Server;
use crate::store::Event;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn failing(object: &Value) -> bool {
    let containers = &object["spec"]["template"]["spec"]["containers"];
    containers.as_array().is_some_and(|c| c.iter().any(|c| c["image"].as_str().is_some_and(|i| i.starts_with("fail/"))))
}

fn condition(kind: &str, status: bool, reason: &str, message: &str) -> Value {
    let time = now();
    json!({
        "type": kind,
        "status": if status { "True" } else { "False" },
        "reason": reason,
        "message": message,
        "lastUpdateTime": time,
        "lastTransitionTime": time,
    })
}

/// The status a controller would write for an object, if it has one to write.
pub fn status_for(kind: &str, object: &Value) -> Option<Value> {
    let generation = object["metadata"]["generation"].clone();
    let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    Some(match kind {
        "Deployment" if failing(object) => json!({
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "unavailableReplicas": replicas,
            "conditions": [
                condition("Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
                condition("Progressing", false, "ProgressDeadlineExceeded", &format!("ReplicaSet \"{name}\" has timed out progressing.")),
            ],
        }),
        "Deployment" => json!({
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                condition("Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability."),
                condition("Progressing", true, "NewReplicaSetAvailable", &format!("ReplicaSet \"{name}\" has successfully progressed.")),
            ],
        }),
        "StatefulSet" => {
            let ready = if failing(object) { 0 } else { replicas };
            json!({
                "observedGeneration": generation,
                "replicas": replicas,
                "currentReplicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "currentRevision": format!("{name}-1"),
                "updateRevision": format!("{name}-1"),
            })
        }
        "DaemonSet" => {
            let ready = if failing(object) { 0 } else { 1 };
            json!({
                "observedGeneration": generation,
                "desiredNumberScheduled": 1,
                "currentNumberScheduled": 1,
                "updatedNumberScheduled": 1,
                "numberReady": ready,
                "numberAvailable": ready,
                "numberUnavailable": 1 - ready,
            })
        }
        "Job" if failing(object) => json!({
            "failed": 1,
            "conditions": [condition("Failed", true, "BackoffLimitExceeded", "Job has reached the specified backoff limit")],
        }),
        "Job" => json!({
            "succeeded": 1,
            "startTime": now(),
            "completionTime": now(),
            "conditions": [condition("Complete", true, "", "")],
        }),
        "CustomResourceDefinition" => json!({
            "acceptedNames": object["spec"]["names"],
            "storedVersions": object["spec"]["versions"].as_array().map(|v| v.iter().filter(|v| v["storage"] == true).map(|v| v["name"].clone()).collect::<Vec<_>>()).unwrap_or_default(),
            "conditions": [
                condition("NamesAccepted", true, "NoConflicts", "no conflicts found"),
                condition("Established", true, "InitialNamesAccepted", "the initial names have been accepted"),
            ],
        }),
        _ => return None,
    })
}

fn wants_status(event: &Event) -> bool {
    matches!(
        (event.key.group.as_str(), event.key.plural.as_str()),
        ("apps", "deployments" | "statefulsets" | "daemonsets")
            | ("batch", "jobs")
            | ("apiextensions.k8s.io", "customresourcedefinitions")
    ) && event.kind != "DELETED"
}

/// Runs the controllers until the server stops.
pub fn start(server: Arc<Server>) {
    let mut events = server.store.lock().unwrap_or_else(|p| p.into_inner()).events.subscribe();
    let delay = server.options.controller_delay;
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            };
            if event.key.plural == "namespaces" && event.object["metadata"]["deletionTimestamp"].is_string() {
                let server = server.clone();
                tokio::spawn(async move {
                    for _ in 0..600 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let pending = server.store.lock().unwrap_or_else(|p| p.into_inner()).sweep_namespaces();
                        if !pending {
                            return;
                        }
                    }
                });
                continue;
            }
            if !server.options.controllers || !wants_status(&event) {
                continue;
            }
            let server = server.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let mut store = server.store.lock().unwrap_or_else(|p| p.into_inner());
                let Some(rtype) = store.find(&event.key.group, &event.key.plural).cloned() else { return };
                let Ok(current) = store.get(&rtype, &event.key.namespace, &event.key.name) else { return };
                // Only the latest change counts.
                if current["metadata"]["resourceVersion"] != event.object["metadata"]["resourceVersion"] {
                    return;
                }
                // A controller acts on what it has not seen yet, not on its own status writes.
                let unseen = match rtype.kind.as_str() {
                    "CustomResourceDefinition" | "Job" => current["status"]["conditions"].is_null(),
                    _ => current["status"]["observedGeneration"] != current["metadata"]["generation"],
                };
                if !unseen {
                    return;
                }
                let Some(status) = status_for(&rtype.kind, &current) else { return };
                let mut updated = current.clone();
                updated["status"] = status;
                let _ =
                    store.update(&rtype, &event.key.namespace, &event.key.name, updated, None, Some("status"), false);
            });
        }
    });
}
