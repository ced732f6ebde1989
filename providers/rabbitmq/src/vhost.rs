//! `rabbitmq_vhost`: a virtual host, by `name` (replaces). The id is the name.

use crate::api::{Api, segment};
use crate::{Object, ObjectResource, text};
use async_trait::async_trait;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostics, Value};

/// `rabbitmq_vhost`.
pub struct Vhost;

#[async_trait]
impl ObjectResource<Api> for Vhost {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("name", Attribute::required(AttrType::String).force_new())
    }

    fn id(&self, object: &Object) -> Option<String> {
        text(object, "name")
    }

    async fn create(&self, api: &Api, planned: &Object) -> Result<Object, Diagnostics> {
        let name = text(planned, "name").unwrap_or_default();
        api.put(&format!("vhosts/{}", segment(&name)), &serde_json::json!({}), "create the vhost").await?;
        Ok(planned.clone())
    }

    async fn delete(&self, api: &Api, prior: &Object) -> Result<(), Diagnostics> {
        api.delete(&format!("vhosts/{}", segment(&text(prior, "name").unwrap_or_default())), "delete the vhost").await
    }

    async fn read(&self, api: &Api, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let name = text(current, "name").unwrap_or_default();
        let found = api.get(&format!("vhosts/{}", segment(&name)), "read the vhost").await?;
        Ok(found.map(|_| {
            Object::from([
                ("name".to_string(), Value::from(name.as_str())),
                ("id".to_string(), Value::from(name.as_str())),
            ])
        }))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        Ok(Object::from([("name".to_string(), Value::from(id))]))
    }
}
