//! The JSON plan: documented and versioned in docs/plan-json.md, byte-for-byte deterministic
//! for the same inputs. Shaped after Terraform's `show -json` plan representation
//! (`resource_changes`, `actions`, `after_unknown`, `before_sensitive`...), with one deliberate
//! difference: sensitive values are never written, only marked (`*_sensitive`).

use crate::plan::{Plan, ResourceChange};
use infra_provider::Value;
use serde_json::{Map, Value as Json, json};

/// The plan JSON format version.
pub const FORMAT_VERSION: &str = "1.0";

/// A value with sensitive and unknown parts replaced by null, and the two masks beside it.
fn split(value: Option<&Value>) -> (Json, Json, Json) {
    fn walk(value: &Value) -> (Json, Json, Json) {
        match value {
            Value::Unknown => (Json::Null, Json::Bool(true), Json::Bool(false)),
            Value::Sensitive(_) => (Json::Null, Json::Bool(!value.is_known()), Json::Bool(true)),
            Value::List(items) | Value::Set(items) => {
                let parts: Vec<_> = items.iter().map(walk).collect();
                let unknown: Vec<Json> = parts.iter().map(|p| p.1.clone()).collect();
                let sensitive: Vec<Json> = parts.iter().map(|p| p.2.clone()).collect();
                let any = |masks: &Vec<Json>| masks.iter().any(|m| m != &Json::Bool(false));
                (
                    Json::Array(parts.iter().map(|p| p.0.clone()).collect()),
                    if any(&unknown) { Json::Array(unknown) } else { Json::Bool(false) },
                    if any(&sensitive) { Json::Array(sensitive) } else { Json::Bool(false) },
                )
            }
            Value::Map(entries) => {
                let mut values = Map::new();
                let mut unknown = Map::new();
                let mut sensitive = Map::new();
                for (key, item) in entries {
                    let (v, u, s) = walk(item);
                    values.insert(key.clone(), v);
                    if u != Json::Bool(false) {
                        unknown.insert(key.clone(), u);
                    }
                    if s != Json::Bool(false) {
                        sensitive.insert(key.clone(), s);
                    }
                }
                (Json::Object(values), Json::Object(unknown), Json::Object(sensitive))
            }
            other => (other.to_json().unwrap_or(Json::Null), Json::Bool(false), Json::Bool(false)),
        }
    }
    match value {
        Some(value) => walk(value),
        None => (Json::Null, Json::Bool(false), Json::Bool(false)),
    }
}

fn resource_change(change: &ResourceChange) -> Json {
    let (before, _, before_sensitive) = split(change.change.before.as_ref());
    let (after, after_unknown, after_sensitive) = split(change.change.after.as_ref());
    let mut object = Map::new();
    object.insert("address".into(), json!(change.address()));
    if let Some(from) = &change.prev_addr {
        object.insert("previous_address".into(), json!(from.to_string()));
    }
    object.insert("mode".into(), json!(change.addr.mode.as_str()));
    object.insert("type".into(), json!(change.addr.kind));
    object.insert("name".into(), json!(change.addr.name));
    object.insert("provider_name".into(), json!(change.provider));
    object.insert(
        "change".into(),
        json!({
            "actions": change.change.action.json_actions(),
            "before": before,
            "after": after,
            "after_unknown": after_unknown,
            "before_sensitive": before_sensitive,
            "after_sensitive": after_sensitive,
            "replace_paths": change.requires_replace,
        }),
    );
    if let Some(reason) = &change.reason {
        object.insert("action_reason".into(), json!(reason));
    }
    if let Some(id) = &change.import_id {
        object.insert("importing".into(), json!({ "id": id }));
    }
    Json::Object(object)
}

/// The JSON document of a plan (one line).
pub fn render(plan: &Plan) -> String {
    let outputs: Map<String, Json> = plan
        .outputs
        .iter()
        .map(|(name, output)| {
            let (mut before, _, mut before_sensitive) = split(output.before.as_ref());
            let (mut after, after_unknown, mut after_sensitive) = split(output.after.as_ref());
            if output.sensitive {
                before = Json::Null;
                after = Json::Null;
                before_sensitive = Json::Bool(true);
                after_sensitive = Json::Bool(true);
            }
            (
                name.clone(),
                json!({
                    "actions": output.action.json_actions(),
                    "before": before,
                    "after": after,
                    "after_unknown": after_unknown,
                    "before_sensitive": before_sensitive,
                    "after_sensitive": after_sensitive,
                }),
            )
        })
        .collect();
    let summary = plan.summary();
    let mut document = json!({
        "format_version": FORMAT_VERSION,
        "infra_version": env!("CARGO_PKG_VERSION"),
        "prior_state": { "serial": plan.prior_serial, "lineage": plan.prior_lineage },
        "destroy": plan.destroy,
        "refresh_only": plan.refresh_only,
        "resource_changes": plan.changes.iter().map(resource_change).collect::<Vec<_>>(),
        "resource_drift": plan.drift.iter().map(resource_change).collect::<Vec<_>>(),
        "output_changes": outputs,
        "summary": { "add": summary.add, "change": summary.change, "destroy": summary.destroy, "import": summary.import },
        "errored": plan.errored,
    });
    // infra's addition to Terraform's format: how many API calls refresh and planning took.
    if !plan.api_calls.is_empty() {
        document["api_calls"] = json!(plan.api_calls);
    }
    document.to_string()
}
