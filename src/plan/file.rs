//! Saved plans (`infra plan -out FILE`): every value exact, Unknowns and sensitive marks kept.
//!
//! The file is JSON: `{"infra_saved_plan": 1, ...}` with values encoded so that nothing is
//! ambiguous: scalars as JSON, `{"l": [...]}` lists, `{"s": [...]}` sets, `{"m": {...}}` maps,
//! `{"u": true}` unknown, `{"x": value}` sensitive. The file holds secrets: it is written with
//! mode 0600. Its rendering for people and tools is `infra show [-json] FILE`.

use super::{Action, Change, OutputChange, Plan, ReplaceOrder, ResourceChange};
use crate::addr::Address;
use infra_provider::Value;
use serde_json::{Map, Value as Json, json};

/// The format version of saved plan files.
pub const SAVED_PLAN_VERSION: u64 = 1;

fn encode_value(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => Json::Number(serde_json::Number::from_string_unchecked(n.to_string())),
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) => json!({ "l": items.iter().map(encode_value).collect::<Vec<_>>() }),
        Value::Set(items) => json!({ "s": items.iter().map(encode_value).collect::<Vec<_>>() }),
        Value::Map(entries) => {
            json!({ "m": entries.iter().map(|(k, v)| (k.clone(), encode_value(v))).collect::<Map<_, _>>() })
        }
        Value::Unknown => json!({ "u": true }),
        Value::Sensitive(inner) => json!({ "x": encode_value(inner) }),
    }
}

fn decode_value(json: &Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.to_string().parse().map_err(|_| format!("bad number {n}"))?),
        Json::String(s) => Value::String(s.clone()),
        Json::Object(object) if object.len() == 1 => {
            let (tag, inner) = object.iter().next().expect("one entry");
            match (tag.as_str(), inner) {
                ("l", Json::Array(items)) => Value::List(items.iter().map(decode_value).collect::<Result<_, _>>()?),
                ("s", Json::Array(items)) => Value::set(items.iter().map(decode_value).collect::<Result<_, _>>()?),
                ("m", Json::Object(entries)) => Value::Map(
                    entries.iter().map(|(k, v)| Ok((k.clone(), decode_value(v)?))).collect::<Result<_, String>>()?,
                ),
                ("u", _) => Value::Unknown,
                ("x", inner) => decode_value(inner)?.mark_sensitive(),
                _ => return Err(format!("unknown value tag {tag:?}")),
            }
        }
        other => return Err(format!("unexpected value {other}")),
    })
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Read => "read",
        Action::Update => "update",
        Action::Replace(ReplaceOrder::DestroyBeforeCreate) => "replace",
        Action::Replace(ReplaceOrder::CreateBeforeDestroy) => "replace-create-first",
        Action::Delete => "delete",
        Action::Forget => "forget",
    }
}

fn parse_action(name: &str) -> Result<Action, String> {
    Ok(match name {
        "no-op" => Action::NoOp,
        "create" => Action::Create,
        "read" => Action::Read,
        "forget" => Action::Forget,
        "update" => Action::Update,
        "replace" => Action::Replace(ReplaceOrder::DestroyBeforeCreate),
        "replace-create-first" => Action::Replace(ReplaceOrder::CreateBeforeDestroy),
        "delete" => Action::Delete,
        other => return Err(format!("unknown action {other:?}")),
    })
}

fn optional(value: &Option<Value>) -> Json {
    value.as_ref().map_or(Json::Null, |v| json!({ "v": encode_value(v) }))
}

fn parse_optional(json: &Json) -> Result<Option<Value>, String> {
    match json {
        Json::Null => Ok(None),
        Json::Object(object) => object.get("v").map(decode_value).transpose(),
        other => Err(format!("unexpected {other}")),
    }
}

fn encode_change(change: &ResourceChange) -> Json {
    json!({
        "address": change.address(),
        "mode": change.addr.mode.as_str(),
        "type": change.addr.kind,
        "name": change.addr.name,
        "provider": change.provider,
        "action": action_name(change.change.action),
        "before": optional(&change.change.before),
        "after": optional(&change.change.after),
        "requires_replace": change.requires_replace,
        "reason": change.reason,
        "dependencies": change.dependencies,
        "import_id": change.import_id,
        "moved_from": change.prev_addr.as_ref().map(ToString::to_string),
    })
}

fn decode_change(json: &Json) -> Result<ResourceChange, String> {
    let text = |key: &str| json[key].as_str().map(str::to_string).ok_or_else(|| format!("missing {key}"));
    let strings = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let address = |text: String| text.parse::<Address>().map_err(|e| format!("`{text}` is not an address: {e}"));
    Ok(ResourceChange {
        addr: address(text("address")?)?,
        provider: text("provider")?,
        change: Change {
            action: parse_action(&text("action")?)?,
            before: parse_optional(&json["before"])?,
            after: parse_optional(&json["after"])?,
        },
        requires_replace: json["requires_replace"]
            .as_array()
            .map(|paths| {
                paths
                    .iter()
                    .map(|p| {
                        p.as_array()
                            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default(),
        reason: json["reason"].as_str().map(str::to_string),
        dependencies: strings("dependencies"),
        import_id: json["import_id"].as_str().map(str::to_string),
        prev_addr: json["moved_from"].as_str().map(|text| address(text.to_string())).transpose()?,
    })
}

/// The saved form of a plan.
pub fn encode(plan: &Plan) -> Vec<u8> {
    let document = json!({
        "infra_saved_plan": SAVED_PLAN_VERSION,
        "infra_version": env!("CARGO_PKG_VERSION"),
        "prior_serial": plan.prior_serial,
        "prior_lineage": plan.prior_lineage,
        "destroy": plan.destroy,
        "refresh_only": plan.refresh_only,
        "variables": plan.variables.iter().map(|(k, v)| (k.clone(), encode_value(v))).collect::<Map<_, _>>(),
        "changes": plan.changes.iter().map(encode_change).collect::<Vec<_>>(),
        "drift": plan.drift.iter().map(encode_change).collect::<Vec<_>>(),
        "outputs": plan.outputs.iter().map(|(name, o)| (name.clone(), json!({
            "action": action_name(o.action), "before": optional(&o.before), "after": optional(&o.after), "sensitive": o.sensitive,
        }))).collect::<Map<_, _>>(),
    });
    serde_json::to_vec(&document).unwrap_or_default()
}

/// Reads a saved plan.
///
/// # Errors
///
/// A sentence saying what is wrong with the file.
pub fn decode(bytes: &[u8]) -> Result<Plan, String> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| format!("it is not a saved plan ({e})"))?;
    if json["infra_saved_plan"].as_u64() != Some(SAVED_PLAN_VERSION) {
        return Err("it is not an infra saved plan of a version this infra reads".into());
    }
    let changes = |key: &str| -> Result<Vec<ResourceChange>, String> {
        json[key].as_array().map(|a| a.iter().map(decode_change).collect()).unwrap_or(Ok(Vec::new()))
    };
    let mut outputs = std::collections::BTreeMap::new();
    for (name, output) in json["outputs"].as_object().into_iter().flatten() {
        outputs.insert(
            name.clone(),
            OutputChange {
                action: parse_action(output["action"].as_str().unwrap_or("no-op"))?,
                before: parse_optional(&output["before"])?,
                after: parse_optional(&output["after"])?,
                sensitive: output["sensitive"].as_bool().unwrap_or(false),
            },
        );
    }
    Ok(Plan {
        api_calls: std::collections::BTreeMap::new(),
        prior_serial: json["prior_serial"].as_u64(),
        prior_lineage: json["prior_lineage"].as_str().map(str::to_string),
        changes: changes("changes")?,
        drift: changes("drift")?,
        outputs,
        variables: json["variables"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| Ok((k.clone(), decode_value(v)?)))
            .collect::<Result<_, String>>()?,
        destroy: json["destroy"].as_bool().unwrap_or(false),
        refresh_only: json["refresh_only"].as_bool().unwrap_or(false),
        errored: false,
        root_values: std::collections::BTreeMap::new(),
    })
}
