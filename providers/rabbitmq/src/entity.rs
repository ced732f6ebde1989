//! `rabbitmq_queue` and `rabbitmq_exchange`: a `name` in a `vhost` (default `/`) with
//! `settings { durable, auto_delete, arguments }` (an exchange adds `type`; `arguments` is an
//! object, so `x-message-ttl = 60000` stays a number, as the broker requires). A broker cannot
//! change a declared queue's or exchange's settings, so every change replaces it; the plan
//! marks the attribute that forces replacement. The id is `NAME@VHOST`.

use crate::api::{Api, segment};
use crate::{Object, ObjectResource, block, split_id, text};
use async_trait::async_trait;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostics, NestedBlock, Nesting, Value};

/// A queue or an exchange.
pub enum Entity {
    /// `rabbitmq_queue`.
    Queue,
    /// `rabbitmq_exchange`.
    Exchange,
}

impl Entity {
    fn collection(&self) -> &'static str {
        match self {
            Entity::Queue => "queues",
            Entity::Exchange => "exchanges",
        }
    }

    fn noun(&self) -> &'static str {
        match self {
            Entity::Queue => "queue",
            Entity::Exchange => "exchange",
        }
    }

    fn path(&self, object: &Object) -> String {
        let vhost = text(object, "vhost").unwrap_or_else(|| "/".into());
        format!("{}/{}/{}", self.collection(), segment(&vhost), segment(&text(object, "name").unwrap_or_default()))
    }
}

fn flag_or(settings: &Object, name: &str, default: bool) -> bool {
    settings.get(name).and_then(|v| v.bare().as_bool()).unwrap_or(default)
}

/// A broker value for a setting the configuration may have left unset (null when it is the
/// default and the configuration said nothing, so an unset default is not drift).
fn setting(current: &Object, name: &str, actual: Value, default: &Value) -> Value {
    let unset = current.get(name).is_none_or(Value::is_null);
    if unset && infra_provider::values_equal(&actual, default) { Value::Null } else { actual }
}

#[async_trait]
impl ObjectResource<Api> for Entity {
    fn schema(&self) -> BlockSchema {
        let mut settings = BlockSchema::new()
            .attribute("durable", Attribute::optional(AttrType::Bool))
            .attribute("auto_delete", Attribute::optional(AttrType::Bool))
            .attribute("arguments", Attribute::optional(AttrType::Dynamic));
        if matches!(self, Entity::Exchange) {
            settings = settings.attribute("type", Attribute::required(AttrType::String));
        }
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("name", Attribute::required(AttrType::String).force_new())
            .attribute("vhost", Attribute::optional(AttrType::String).and_computed().force_new())
            .block("settings", NestedBlock { nesting: Nesting::Single, block: settings, force_new: true })
    }

    fn id(&self, object: &Object) -> Option<String> {
        Some(format!("{}@{}", text(object, "name")?, text(object, "vhost")?))
    }

    async fn create(&self, api: &Api, planned: &Object) -> Result<Object, Diagnostics> {
        let settings = block(planned, "settings");
        let mut body = serde_json::json!({
            "durable": flag_or(&settings, "durable", false),
            "auto_delete": flag_or(&settings, "auto_delete", false),
            "arguments": settings.get("arguments").and_then(Value::to_json).filter(|a| a.is_object()).unwrap_or_else(|| serde_json::json!({})),
        });
        if let Some(kind) = text(&settings, "type") {
            body["type"] = serde_json::json!(kind);
        }
        api.put(&self.path(planned), &body, &format!("declare the {}", self.noun())).await?;
        let mut new = planned.clone();
        new.insert("vhost".into(), Value::from(text(planned, "vhost").unwrap_or_else(|| "/".into()).as_str()));
        Ok(new)
    }

    async fn delete(&self, api: &Api, prior: &Object) -> Result<(), Diagnostics> {
        api.delete(&self.path(prior), &format!("delete the {}", self.noun())).await
    }

    async fn read(&self, api: &Api, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let Some(found) = api.get(&self.path(current), &format!("read the {}", self.noun())).await? else {
            return Ok(None);
        };
        let configured = block(current, "settings");
        let mut settings = Object::new();
        let boolean = |name: &str| Value::Bool(found[name].as_bool().unwrap_or(false));
        settings.insert("durable".into(), setting(&configured, "durable", boolean("durable"), &Value::Bool(false)));
        settings.insert(
            "auto_delete".into(),
            setting(&configured, "auto_delete", boolean("auto_delete"), &Value::Bool(false)),
        );
        let arguments = Value::from_json(&found["arguments"]);
        settings
            .insert("arguments".into(), setting(&configured, "arguments", arguments, &Value::Map(Default::default())));
        if matches!(self, Entity::Exchange) {
            settings.insert("type".into(), Value::from(found["type"].as_str().unwrap_or("")));
        }
        // Unset defaults stay as the configuration wrote them (absent or null).
        settings.retain(|name, value| !value.is_null() || configured.contains_key(name));
        let mut object = current.clone();
        object.insert("vhost".into(), Value::from(text(current, "vhost").unwrap_or_else(|| "/".into()).as_str()));
        object.insert("settings".into(), Value::Map(settings));
        if let Some(id) = self.id(&object) {
            object.insert("id".into(), Value::from(id.as_str()));
        }
        Ok(Some(object))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        let (name, vhost) = split_id(id, '@', "NAME@VHOST")?;
        Ok(Object::from([
            ("name".to_string(), Value::from(name.as_str())),
            ("vhost".to_string(), Value::from(vhost.as_str())),
        ]))
    }
}
