//! Health after apply: Deployments, StatefulSets and DaemonSets rolled out, Jobs complete, CRDs
//! Established, anything with `status.conditions` Ready — polled, bounded by a timeout, and a
//! failure that quotes the object's conditions.

use serde_json::Value;
use std::time::Duration;

/// What the object's status says.
#[derive(Debug, PartialEq, Eq)]
pub enum Health {
    /// Done.
    Healthy,
    /// Not yet.
    Progressing,
    /// Will not get there: why.
    Failed(String),
}

fn conditions(object: &Value) -> &[Value] {
    object["status"]["conditions"].as_array().map_or(&[], Vec::as_slice)
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    conditions(object).iter().find(|c| c["type"] == kind)
}

/// Quotes conditions for an error message.
pub fn quote_conditions(object: &Value) -> String {
    let quoted: Vec<String> = conditions(object)
        .iter()
        .map(|c| {
            format!(
                "{}={} ({}: {})",
                c["type"].as_str().unwrap_or("?"),
                c["status"].as_str().unwrap_or("?"),
                c["reason"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    if quoted.is_empty() { "no conditions reported".into() } else { quoted.join("; ") }
}

/// The health of an object of a kind infra waits for; `None` for kinds it does not wait for.
pub fn health(object: &Value, rollout: bool) -> Option<Health> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let generation = &object["metadata"]["generation"];
    let status = &object["status"];
    let observed = status["observedGeneration"] == *generation;
    let failed = |reason: &str| Health::Failed(format!("{reason}: {}", quote_conditions(object)));
    Some(match kind {
        "Deployment" if rollout => {
            if condition(object, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
                return Some(failed("the rollout exceeded its progress deadline"));
            }
            let wanted = object["spec"]["replicas"].as_i64().unwrap_or(1);
            let ready = status["availableReplicas"].as_i64().unwrap_or(0) >= wanted
                && status["updatedReplicas"].as_i64().unwrap_or(0) >= wanted;
            if observed && ready { Health::Healthy } else { Health::Progressing }
        }
        "StatefulSet" if rollout => {
            let wanted = object["spec"]["replicas"].as_i64().unwrap_or(1);
            if observed && status["readyReplicas"].as_i64().unwrap_or(0) >= wanted {
                Health::Healthy
            } else {
                Health::Progressing
            }
        }
        "DaemonSet" if rollout => {
            let wanted = status["desiredNumberScheduled"].as_i64().unwrap_or(0);
            if observed && status["numberAvailable"].as_i64().unwrap_or(0) >= wanted && wanted > 0 {
                Health::Healthy
            } else {
                Health::Progressing
            }
        }
        "Job" if rollout => {
            if condition(object, "Failed").is_some_and(|c| c["status"] == "True") {
                return Some(failed("the job failed"));
            }
            if condition(object, "Complete").is_some_and(|c| c["status"] == "True") {
                Health::Healthy
            } else {
                Health::Progressing
            }
        }
        "CustomResourceDefinition" => {
            if condition(object, "Established").is_some_and(|c| c["status"] == "True") {
                Health::Healthy
            } else {
                Health::Progressing
            }
        }
        _ => match condition(object, "Ready") {
            Some(c) if c["status"] == "True" => Health::Healthy,
            Some(_) if rollout => Health::Progressing,
            _ => return None,
        },
    })
}

/// `wait { condition = { type, status }, fields = { "status.phase" = "Active" } }`, given as
/// `condition.type`, `condition.status`, `fields.PATH` entries.
pub fn awaited(object: &Value, wanted: &std::collections::BTreeMap<String, String>) -> Health {
    if let Some(kind) = wanted.get("condition.type") {
        let status = wanted.get("condition.status").map_or("True", String::as_str);
        if !condition(object, kind).is_some_and(|c| c["status"] == status) {
            return Health::Progressing;
        }
    }
    for (key, value) in wanted {
        let Some(path) = key.strip_prefix("fields.") else { continue };
        let found = path.split('.').try_fold(object, |node, step| node.get(step));
        let matches = match found {
            Some(Value::String(s)) => s == value,
            Some(other) => serde_json::from_str::<Value>(value).ok().as_ref() == Some(other),
            None => false,
        };
        if !matches {
            return Health::Progressing;
        }
    }
    Health::Healthy
}

/// How long to wait at most, from a timeout string (`5m`, `90s`) or the default.
pub fn timeout(text: Option<&str>, default: Duration) -> Duration {
    let Some(text) = text else { return default };
    let (number, unit) = text.trim().split_at(text.trim().find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let number: u64 = number.parse().unwrap_or(0);
    match unit {
        "s" | "" => Duration::from_secs(number),
        "m" => Duration::from_secs(number * 60),
        "h" => Duration::from_secs(number * 3600),
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn awaited_conditions_and_fields() {
        let object = json!({"status": {"phase": "Active", "conditions": [{"type": "Ready", "status": "True"}]}});
        let wanted = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(awaited(&object, &wanted(&[("condition.type", "Ready")])), Health::Healthy);
        assert_eq!(
            awaited(&object, &wanted(&[("condition.type", "Ready"), ("condition.status", "False")])),
            Health::Progressing
        );
        assert_eq!(awaited(&object, &wanted(&[("fields.status.phase", "Active")])), Health::Healthy);
        assert_eq!(awaited(&object, &wanted(&[("fields.status.phase", "Terminating")])), Health::Progressing);
    }

    #[test]
    fn a_deployment_past_its_deadline_fails() {
        let object = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "timed out"}]}});
        assert!(matches!(health(&object, true), Some(Health::Failed(why)) if why.contains("ProgressDeadlineExceeded")));
    }
}
