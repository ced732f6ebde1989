//! The RabbitMQ provider, over the management HTTP API, with the names of Terraform's
//! `cyrilgdn/rabbitmq` provider so configurations port:
//!
//! ```hcl
//! provider "rabbitmq" {
//!   endpoint = "http://127.0.0.1:15672"
//!   username = "guest"
//!   password = var.rabbitmq_password   # sensitive
//! }
//! ```
//!
//! Types: `rabbitmq_vhost` ([`vhost`]); `rabbitmq_queue` and `rabbitmq_exchange` ([`entity`]:
//! `settings { durable, auto_delete, arguments }` — a broker cannot change those in place, so a
//! change replaces, saying why); `rabbitmq_binding` ([`binding`]); `rabbitmq_user` and
//! `rabbitmq_permissions` ([`user`]; a password changed out of band is drift, checked against
//! the broker's salted hash, never shown). Every object is read back (drift) and imports by
//! its id.

pub mod api;
pub mod binding;
pub mod entity;
pub mod user;
pub mod vhost;

use async_trait::async_trait;
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, ConfigureRequest, Diagnostic, Diagnostics,
    ImportRequest, ImportResponse, PlanRequest, PlanResponse, Provider, ProviderSchema, ReadRequest, ReadResponse,
    ResourceSchema, Value, plan_by_schema,
};
use std::collections::BTreeMap;

/// An object's attributes.
pub type Object = BTreeMap<String, Value>;

/// A string attribute.
pub fn text(object: &Object, name: &str) -> Option<String> {
    object.get(name).and_then(|v| v.bare().as_str()).map(str::to_string)
}

/// A nested single block's attributes (empty when absent).
pub fn block(object: &Object, name: &str) -> Object {
    object.get(name).and_then(|v| v.bare().as_map()).cloned().unwrap_or_default()
}

/// What every RabbitMQ resource type does.
#[async_trait]
pub trait Resource: Send + Sync {
    /// Its schema.
    fn schema(&self) -> BlockSchema;
    /// The id of a planned object.
    fn id(&self, object: &Object) -> Option<String>;
    /// Creates.
    async fn create(&self, api: &api::Api, planned: &Object) -> Result<Object, Diagnostics>;
    /// Updates in place (default: as create; most objects are PUT whole).
    async fn update(&self, api: &api::Api, _prior: &Object, planned: &Object) -> Result<Object, Diagnostics> {
        self.create(api, planned).await
    }
    /// Deletes.
    async fn delete(&self, api: &api::Api, prior: &Object) -> Result<(), Diagnostics>;
    /// Reads: `None` when gone.
    async fn read(&self, api: &api::Api, current: &Object) -> Result<Option<Object>, Diagnostics>;
    /// The object an import id names (enough for `read`).
    fn import(&self, id: &str) -> Result<Object, Diagnostics>;
}

/// The RabbitMQ provider.
pub struct Rabbitmq {
    schema: ProviderSchema,
    resources: BTreeMap<String, Box<dyn Resource>>,
    api: api::Api,
}

impl Default for Rabbitmq {
    fn default() -> Self {
        Rabbitmq::new()
    }
}

impl Rabbitmq {
    /// The provider with every resource type.
    pub fn new() -> Rabbitmq {
        let mut resources: BTreeMap<String, Box<dyn Resource>> = BTreeMap::new();
        resources.insert("rabbitmq_vhost".into(), Box::new(vhost::Vhost));
        resources.insert("rabbitmq_queue".into(), Box::new(entity::Entity::Queue));
        resources.insert("rabbitmq_exchange".into(), Box::new(entity::Entity::Exchange));
        resources.insert("rabbitmq_binding".into(), Box::new(binding::Binding));
        resources.insert("rabbitmq_user".into(), Box::new(user::User));
        resources.insert("rabbitmq_permissions".into(), Box::new(user::Permissions));
        let mut schema = ProviderSchema {
            provider: BlockSchema::new()
                .attribute("endpoint", Attribute::optional(AttrType::String))
                .attribute("username", Attribute::optional(AttrType::String))
                .attribute("password", Attribute::optional(AttrType::String).sensitive()),
            ..ProviderSchema::default()
        };
        for (name, resource) in &resources {
            schema.resources.insert(name.clone(), ResourceSchema { version: 0, block: resource.schema() });
        }
        Rabbitmq { schema, resources, api: api::Api::default() }
    }

    fn resource(&self, kind: &str) -> Result<&dyn Resource, Diagnostics> {
        self.resources.get(kind).map(|r| r.as_ref()).ok_or_else(|| {
            Diagnostic::error(
                "Unsupported resource type",
                format!("The rabbitmq provider has no resource type `{kind}`."),
            )
            .into()
        })
    }
}

fn object_of(value: Option<&Value>) -> Object {
    value.and_then(|v| v.bare().as_map()).cloned().unwrap_or_default()
}

#[async_trait]
impl Provider for Rabbitmq {
    fn name(&self) -> &str {
        "rabbitmq"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), Diagnostics> {
        let config = object_of(Some(&request.config));
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        *self.api.settings.lock().unwrap_or_else(|p| p.into_inner()) = api::Settings {
            endpoint: text(&config, "endpoint")
                .or_else(|| env("RABBITMQ_ENDPOINT"))
                .unwrap_or_else(|| "http://127.0.0.1:15672".into()),
            username: text(&config, "username").or_else(|| env("RABBITMQ_USERNAME")).unwrap_or_else(|| "guest".into()),
            password: text(&config, "password").or_else(|| env("RABBITMQ_PASSWORD")).unwrap_or_else(|| "guest".into()),
        };
        Ok(())
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let block = self.schema.resources.get(&request.kind).map(|r| &r.block);
        let mut response = plan_by_schema(block, &request);
        if let Value::Map(planned) = &mut response.planned
            && let Some(id) = resource.id(planned)
        {
            planned.insert("id".into(), Value::from(id.as_str()));
        }
        Ok(response)
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let prior = request.prior.as_ref().map(|p| object_of(Some(p)));
        let Some(planned) = &request.planned else {
            if let Some(prior) = &prior {
                resource.delete(&self.api, prior).await?;
            }
            return Ok(ApplyResponse { new: None });
        };
        let planned = object_of(Some(planned));
        let mut new = match &prior {
            None => resource.create(&self.api, &planned).await?,
            Some(prior) => resource.update(&self.api, prior, &planned).await?,
        };
        if let Some(id) = resource.id(&new) {
            new.insert("id".into(), Value::from(id.as_str()));
        }
        for value in new.values_mut() {
            if !value.is_known() {
                *value = Value::Null;
            }
        }
        Ok(ApplyResponse { new: Some(Value::Map(new)) })
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let read = resource.read(&self.api, &object_of(Some(&request.current))).await?;
        Ok(ReadResponse { current: read.map(Value::Map) })
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let skeleton = resource.import(&request.id)?;
        match resource.read(&self.api, &skeleton).await? {
            Some(object) => Ok(ImportResponse { current: Value::Map(object) }),
            None => Err(Diagnostic::error(
                "Cannot import a missing object",
                format!("RabbitMQ has no {} `{}`.", request.kind, request.id),
            )
            .into()),
        }
    }
}

/// Splits an import id `A@B` (RabbitMQ ids join names with `@`, as Terraform's provider does).
pub fn split_id(id: &str, shape: &str) -> Result<(String, String), Diagnostics> {
    id.rsplit_once('@').map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(|| {
        Diagnostics::from(Diagnostic::error("Invalid import id", format!("The id has the form {shape}.")))
    })
}
