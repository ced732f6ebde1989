//! `rabbitmq_binding`: `source` exchange → `destination` (`destination_type` `queue` or
//! `exchange`) in a `vhost`, with a `routing_key` and `arguments`; everything replaces. The id
//! is `VHOST/SOURCE/DESTINATION/TYPE/PROPERTIES_KEY`, as Terraform's provider writes it.

use crate::api::{Api, segment};
use crate::{Object, ObjectResource, text};
use async_trait::async_trait;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, Value};
use reqwest::Method;

/// `rabbitmq_binding`.
pub struct Binding;

fn kind_letter(object: &Object) -> &'static str {
    if text(object, "destination_type").as_deref() == Some("exchange") { "e" } else { "q" }
}

fn base(object: &Object) -> String {
    format!(
        "bindings/{}/e/{}/{}/{}",
        segment(&text(object, "vhost").unwrap_or_else(|| "/".into())),
        segment(&text(object, "source").unwrap_or_default()),
        kind_letter(object),
        segment(&text(object, "destination").unwrap_or_default())
    )
}

#[async_trait]
impl ObjectResource<Api> for Binding {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("source", Attribute::required(AttrType::String).force_new())
            .attribute("vhost", Attribute::required(AttrType::String).force_new())
            .attribute("destination", Attribute::required(AttrType::String).force_new())
            .attribute("destination_type", Attribute::required(AttrType::String).force_new())
            .attribute("routing_key", Attribute::optional(AttrType::String).force_new())
            .attribute("arguments", Attribute::optional(AttrType::Dynamic).force_new())
            .attribute("properties_key", Attribute::computed(AttrType::String))
    }

    fn id(&self, object: &Object) -> Option<String> {
        Some(format!(
            "{}/{}/{}/{}/{}",
            text(object, "vhost")?,
            text(object, "source")?,
            text(object, "destination")?,
            text(object, "destination_type")?,
            text(object, "properties_key")?
        ))
    }

    async fn create(&self, api: &Api, planned: &Object) -> Result<Object, Diagnostics> {
        if !matches!(text(planned, "destination_type").as_deref(), Some("queue" | "exchange")) {
            return Err(
                Diagnostic::error("Invalid destination_type", "`destination_type` is `queue` or `exchange`.").into()
            );
        }
        let body = serde_json::json!({
            "routing_key": text(planned, "routing_key").unwrap_or_default(),
            "arguments": planned.get("arguments").and_then(Value::to_json).filter(|a| a.is_object()).unwrap_or_else(|| serde_json::json!({})),
        });
        let answer = api.call(Method::POST, &base(planned), Some(&body), "create the binding").await?;
        // The broker names the binding in the Location header: …/PROPERTIES_KEY.
        let key = answer
            .and_then(|(_, headers)| headers.get("location").and_then(|l| l.to_str().ok()).map(str::to_string))
            .and_then(|location| location.rsplit('/').next().map(str::to_string))
            .map(|key| percent_encoding::percent_decode_str(&key).decode_utf8_lossy().into_owned())
            .unwrap_or_else(|| text(planned, "routing_key").unwrap_or_else(|| "~".into()));
        let mut new = planned.clone();
        new.insert("properties_key".into(), Value::from(key.as_str()));
        Ok(new)
    }

    async fn delete(&self, api: &Api, prior: &Object) -> Result<(), Diagnostics> {
        let key = text(prior, "properties_key").unwrap_or_default();
        api.delete(&format!("{}/{}", base(prior), segment(&key)), "delete the binding").await
    }

    async fn read(&self, api: &Api, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let key = text(current, "properties_key").unwrap_or_default();
        let Some(found) = api.get(&format!("{}/{}", base(current), segment(&key)), "read the binding").await? else {
            return Ok(None);
        };
        let mut object = current.clone();
        let routing_key = found["routing_key"].as_str().unwrap_or("");
        if !(routing_key.is_empty() && current.get("routing_key").is_none_or(Value::is_null)) {
            object.insert("routing_key".into(), Value::from(routing_key));
        }
        let arguments = Value::from_json(&found["arguments"]);
        let empty = arguments.as_map().is_some_and(|m| m.is_empty());
        if !(empty && current.get("arguments").is_none_or(Value::is_null)) {
            object.insert("arguments".into(), arguments);
        }
        if let Some(id) = self.id(&object) {
            object.insert("id".into(), Value::from(id.as_str()));
        }
        Ok(Some(object))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        let parts: Vec<&str> = id.splitn(5, '/').collect();
        let [vhost, source, destination, kind, key] = parts.as_slice() else {
            return Err(Diagnostic::error(
                "Invalid import id",
                "A binding's id is VHOST/SOURCE/DESTINATION/TYPE/PROPERTIES_KEY.",
            )
            .into());
        };
        Ok(Object::from([
            ("vhost".to_string(), Value::from(*vhost)),
            ("source".to_string(), Value::from(*source)),
            ("destination".to_string(), Value::from(*destination)),
            ("destination_type".to_string(), Value::from(*kind)),
            ("properties_key".to_string(), Value::from(*key)),
        ]))
    }
}
