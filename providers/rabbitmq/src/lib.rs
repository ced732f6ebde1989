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
use infra_provider::resources::Resources;
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, ConfigureRequest, Diagnostics, ImportRequest,
    ImportResponse, PlanRequest, PlanResponse, Provider, ProviderSchema, ReadRequest, ReadResponse,
};

pub use infra_provider::resources::{Object, ObjectResource, block, split_id, text};

/// The RabbitMQ provider.
pub struct Rabbitmq {
    schema: ProviderSchema,
    resources: Resources<api::Api>,
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
        let resources = Resources::new("rabbitmq")
            .with("rabbitmq_vhost", vhost::Vhost)
            .with("rabbitmq_queue", entity::Entity::Queue)
            .with("rabbitmq_exchange", entity::Entity::Exchange)
            .with("rabbitmq_binding", binding::Binding)
            .with("rabbitmq_user", user::User)
            .with("rabbitmq_permissions", user::Permissions);
        let mut schema = ProviderSchema {
            provider: BlockSchema::new()
                .attribute("endpoint", Attribute::optional(AttrType::String))
                .attribute("username", Attribute::optional(AttrType::String))
                .attribute("password", Attribute::optional(AttrType::String).sensitive()),
            ..ProviderSchema::default()
        };
        resources.add_schemas(&mut schema);
        Rabbitmq { schema, resources, api: api::Api::default() }
    }
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
        let config = infra_provider::resources::object_of(Some(&request.config));
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
        // `.` and `..` as a path segment are collapsed by URL handling (`%2E%2E` too): the
        // request would reach another object than the one named.
        if let Some(entries) = request.config.as_map() {
            for (attribute, value) in entries {
                if let Some(name @ ("." | "..")) = value.as_str() {
                    return Err(infra_provider::Diagnostic::error(
                        "Invalid name",
                        format!("`{attribute}` cannot be `{name}`: RabbitMQ's management API cannot address an object of that name."),
                    )
                    .into());
                }
            }
        }
        self.resources.plan(&self.schema, request)
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        self.resources.apply(&self.api, request).await
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        self.resources.read(&self.api, request).await
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        self.resources.import(&self.api, request).await
    }
}
