//! The NATS JetStream provider, with the names of Terraform's `nats-io/jetstream` provider:
//!
//! ```hcl
//! provider "jetstream" {
//!   servers = "nats://127.0.0.1:4222"
//! }
//! resource "jetstream_stream" "orders" {
//!   name     = "ORDERS"
//!   subjects = ["orders.>"]
//!   storage  = "file"     # or memory; a change replaces the stream
//!   max_age  = 86400      # seconds
//! }
//! resource "jetstream_consumer" "billing" {
//!   stream_id    = jetstream_stream.orders.id
//!   durable_name = "billing"
//!   ack_policy   = "explicit"
//! }
//! ```
//!
//! It speaks JetStream's JSON API (`$JS.API.STREAM.CREATE.NAME`, `…INFO…`, `…UPDATE…`,
//! `…DELETE…`, and the same for durable consumers) over a core NATS connection, so what is
//! sent is exactly what the server documents. Stream and consumer names become subject tokens:
//! anything but letters, digits, `-` and `_` is refused at plan time (a `.` or `*` in a name
//! would address another object). Settings the server cannot change in place (storage,
//! retention, a consumer's policies) replace, and the plan says which.

use async_trait::async_trait;
use infra_provider::resources::{Object, int, object_of, strings, text};
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, ConfigureRequest, Diagnostic, Diagnostics,
    ImportRequest, ImportResponse, PlanRequest, PlanResponse, Provider, ProviderSchema, ReadRequest, ReadResponse,
    ResourceSchema, Value, plan_by_schema,
};
use serde_json::{Value as Json, json};

const NANOS: i64 = 1_000_000_000;

/// Whether a name can be a subject token.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn invalid(reason: String) -> Diagnostics {
    Diagnostic::error("Invalid JetStream name", reason).into()
}

/// The NATS JetStream provider.
pub struct Jetstream {
    schema: ProviderSchema,
    servers: std::sync::Mutex<String>,
    client: tokio::sync::Mutex<Option<async_nats::Client>>,
}

impl Default for Jetstream {
    fn default() -> Self {
        Jetstream::new()
    }
}

fn stream_schema() -> BlockSchema {
    let number = || Attribute::optional(AttrType::Number);
    BlockSchema::new()
        .attribute("id", Attribute::computed(AttrType::String))
        .attribute("name", Attribute::required(AttrType::String).force_new())
        .attribute("subjects", Attribute::required(AttrType::List(Box::new(AttrType::String))))
        .attribute("description", Attribute::optional(AttrType::String))
        .attribute("storage", Attribute::optional(AttrType::String).force_new())
        .attribute("retention", Attribute::optional(AttrType::String).force_new())
        .attribute("discard", Attribute::optional(AttrType::String))
        .attribute("max_msgs", number())
        .attribute("max_bytes", number())
        .attribute("max_age", number())
        .attribute("max_msg_size", number())
        .attribute("replicas", number())
        .attribute("duplicate_window", number())
}

fn consumer_schema() -> BlockSchema {
    BlockSchema::new()
        .attribute("id", Attribute::computed(AttrType::String))
        .attribute("stream_id", Attribute::required(AttrType::String).force_new())
        .attribute("durable_name", Attribute::required(AttrType::String).force_new())
        .attribute("description", Attribute::optional(AttrType::String))
        .attribute("filter_subject", Attribute::optional(AttrType::String))
        .attribute("deliver_policy", Attribute::optional(AttrType::String).force_new())
        .attribute("ack_policy", Attribute::optional(AttrType::String).force_new())
        .attribute("ack_wait", Attribute::optional(AttrType::Number))
        .attribute("max_deliver", Attribute::optional(AttrType::Number))
        .attribute("max_ack_pending", Attribute::optional(AttrType::Number))
}

fn defaults(kind: &str) -> Vec<(&'static str, Value)> {
    match kind {
        "jetstream_stream" => vec![
            ("storage", Value::from("file")),
            ("retention", Value::from("limits")),
            ("discard", Value::from("old")),
            ("max_msgs", Value::int(-1)),
            ("max_bytes", Value::int(-1)),
            ("max_age", Value::int(0)),
            ("max_msg_size", Value::int(-1)),
            ("replicas", Value::int(1)),
            ("duplicate_window", Value::int(120)),
            ("description", Value::from("")),
        ],
        _ => vec![
            ("deliver_policy", Value::from("all")),
            ("ack_policy", Value::from("explicit")),
            ("ack_wait", Value::int(30)),
            ("max_deliver", Value::int(-1)),
            ("max_ack_pending", Value::int(1000)),
            ("filter_subject", Value::from("")),
            ("description", Value::from("")),
        ],
    }
}

fn stream_config(object: &Object) -> Json {
    let number = |name: &str, default: i64| int(object, name).unwrap_or(default);
    json!({
        "name": text(object, "name").unwrap_or_default(),
        "subjects": strings(object, "subjects"),
        "description": text(object, "description").unwrap_or_default(),
        "storage": text(object, "storage").unwrap_or_else(|| "file".into()),
        "retention": text(object, "retention").unwrap_or_else(|| "limits".into()),
        "discard": text(object, "discard").unwrap_or_else(|| "old".into()),
        "max_consumers": -1,
        "max_msgs": number("max_msgs", -1),
        "max_bytes": number("max_bytes", -1),
        "max_age": number("max_age", 0) * NANOS,
        "max_msg_size": number("max_msg_size", -1),
        "num_replicas": number("replicas", 1),
        "duplicate_window": number("duplicate_window", 120) * NANOS,
    })
}

fn stream_object(config: &Json) -> Object {
    let number = |name: &str| Value::int(config[name].as_i64().unwrap_or(0));
    let name = config["name"].as_str().unwrap_or("");
    Object::from([
        ("id".to_string(), Value::from(name)),
        ("name".to_string(), Value::from(name)),
        (
            "subjects".to_string(),
            Value::List(
                config["subjects"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str())
                    .map(Value::from)
                    .collect(),
            ),
        ),
        ("description".to_string(), Value::from(config["description"].as_str().unwrap_or(""))),
        ("storage".to_string(), Value::from(config["storage"].as_str().unwrap_or("file"))),
        ("retention".to_string(), Value::from(config["retention"].as_str().unwrap_or("limits"))),
        ("discard".to_string(), Value::from(config["discard"].as_str().unwrap_or("old"))),
        ("max_msgs".to_string(), number("max_msgs")),
        ("max_bytes".to_string(), number("max_bytes")),
        ("max_age".to_string(), Value::int(config["max_age"].as_i64().unwrap_or(0) / NANOS)),
        ("max_msg_size".to_string(), number("max_msg_size")),
        ("replicas".to_string(), number("num_replicas")),
        ("duplicate_window".to_string(), Value::int(config["duplicate_window"].as_i64().unwrap_or(0) / NANOS)),
    ])
}

fn consumer_config(object: &Object) -> Json {
    let mut config = json!({
        "durable_name": text(object, "durable_name").unwrap_or_default(),
        "description": text(object, "description").unwrap_or_default(),
        "deliver_policy": text(object, "deliver_policy").unwrap_or_else(|| "all".into()),
        "ack_policy": text(object, "ack_policy").unwrap_or_else(|| "explicit".into()),
        "ack_wait": int(object, "ack_wait").unwrap_or(30) * NANOS,
        "max_deliver": int(object, "max_deliver").unwrap_or(-1),
        "max_ack_pending": int(object, "max_ack_pending").unwrap_or(1000),
        "replay_policy": "instant",
    });
    if let Some(filter) = text(object, "filter_subject").filter(|f| !f.is_empty()) {
        config["filter_subject"] = json!(filter);
    }
    config
}

fn consumer_object(stream: &str, config: &Json) -> Object {
    let name = config["durable_name"].as_str().unwrap_or("");
    Object::from([
        ("id".to_string(), Value::from(format!("{stream}/{name}").as_str())),
        ("stream_id".to_string(), Value::from(stream)),
        ("durable_name".to_string(), Value::from(name)),
        ("description".to_string(), Value::from(config["description"].as_str().unwrap_or(""))),
        ("filter_subject".to_string(), Value::from(config["filter_subject"].as_str().unwrap_or(""))),
        ("deliver_policy".to_string(), Value::from(config["deliver_policy"].as_str().unwrap_or("all"))),
        ("ack_policy".to_string(), Value::from(config["ack_policy"].as_str().unwrap_or("explicit"))),
        ("ack_wait".to_string(), Value::int(config["ack_wait"].as_i64().unwrap_or(0) / NANOS)),
        ("max_deliver".to_string(), Value::int(config["max_deliver"].as_i64().unwrap_or(-1))),
        ("max_ack_pending".to_string(), Value::int(config["max_ack_pending"].as_i64().unwrap_or(0))),
    ])
}

impl Jetstream {
    /// The provider.
    pub fn new() -> Jetstream {
        let mut schema = ProviderSchema {
            provider: BlockSchema::new().attribute("servers", Attribute::optional(AttrType::String)),
            ..ProviderSchema::default()
        };
        schema.resources.insert("jetstream_stream".into(), ResourceSchema { version: 0, block: stream_schema() });
        schema.resources.insert("jetstream_consumer".into(), ResourceSchema { version: 0, block: consumer_schema() });
        Jetstream {
            schema,
            servers: std::sync::Mutex::new("nats://127.0.0.1:4222".into()),
            client: tokio::sync::Mutex::new(None),
        }
    }

    /// One JetStream API call; `Ok(None)` when the server says the object is not there.
    async fn api(&self, subject: &str, body: Option<Json>, what: &str) -> Result<Option<Json>, Diagnostics> {
        let servers = self.servers.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut guard = self.client.lock().await;
        if guard.is_none() {
            let client = async_nats::ConnectOptions::new()
                .connection_timeout(std::time::Duration::from_secs(10))
                .connect(servers.as_str())
                .await
                .map_err(|error| {
                    Diagnostics::from(
                        Diagnostic::error("Cannot connect to NATS", format!("{servers}: {error}"))
                            .with_hint("check the provider's `servers` and that the server runs with JetStream (-js)"),
                    )
                })?;
            *guard = Some(client);
        }
        let client = guard.clone().expect("connected above");
        drop(guard);
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let reply = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            client.request(format!("$JS.API.{subject}"), payload.into()),
        )
        .await
        .map_err(|_| {
            Diagnostics::from(Diagnostic::error(
                format!("NATS did not answer to {what}"),
                "timed out after 10 s (is JetStream enabled?)",
            ))
        })?
        .map_err(|error| Diagnostics::from(Diagnostic::error(format!("NATS refused to {what}"), error.to_string())))?;
        let answer: Json = serde_json::from_slice(&reply.payload).unwrap_or(Json::Null);
        if let Some(error) = answer.get("error") {
            if error["code"].as_u64() == Some(404) {
                return Ok(None);
            }
            return Err(Diagnostic::error(
                format!("JetStream refused to {what}"),
                format!("{} (code {})", error["description"].as_str().unwrap_or("error"), error["err_code"]),
            )
            .into());
        }
        Ok(Some(answer))
    }
}

#[async_trait]
impl Provider for Jetstream {
    fn name(&self) -> &str {
        "jetstream"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), Diagnostics> {
        let config = object_of(Some(&request.config));
        if let Some(servers) = text(&config, "servers").or_else(|| std::env::var("NATS_URL").ok()) {
            *self.servers.lock().unwrap_or_else(|p| p.into_inner()) = servers;
        }
        *self.client.lock().await = None;
        Ok(())
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        let mut request = request;
        let configured = object_of(Some(&request.config));
        let mut defaults = defaults(&request.kind);
        // The server's own default: a duplicate window of two minutes, or the max age if shorter.
        if let Some(age) = int(&configured, "max_age").filter(|age| (1..120).contains(age)) {
            defaults.retain(|(name, _)| *name != "duplicate_window");
            defaults.push(("duplicate_window", Value::int(age)));
        }
        for (name, default) in defaults {
            for value in [&mut request.config, &mut request.proposed] {
                if let Value::Map(map) = value
                    && map.get(name).is_none_or(Value::is_null)
                {
                    map.insert(name.to_string(), default.clone());
                }
            }
        }
        let config = object_of(Some(&request.config));
        for field in ["name", "durable_name"] {
            if let Some(name) = text(&config, field)
                && !valid_name(&name)
            {
                return Err(invalid(format!("`{field}` `{name}` may hold only letters, digits, `-` and `_`")));
            }
        }
        let block = self.schema.resources.get(&request.kind).map(|r| &r.block);
        let mut response = plan_by_schema(block, &request);
        if let Value::Map(planned) = &mut response.planned {
            let id = match request.kind.as_str() {
                "jetstream_stream" => text(planned, "name"),
                _ => text(planned, "stream_id").zip(text(planned, "durable_name")).map(|(s, d)| format!("{s}/{d}")),
            };
            if let Some(id) = id {
                planned.insert("id".into(), Value::from(id.as_str()));
            }
        }
        Ok(response)
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        let prior = request.prior.as_ref().map(|p| object_of(Some(p)));
        let planned = request.planned.as_ref().map(|p| object_of(Some(p)));
        let kind = request.kind.as_str();
        match (kind, &prior, &planned) {
            ("jetstream_stream", Some(prior), None) => {
                let name = text(prior, "name").unwrap_or_default();
                self.api(&format!("STREAM.DELETE.{name}"), None, "delete the stream").await?;
                Ok(ApplyResponse { new: None })
            }
            ("jetstream_stream", prior, Some(planned)) => {
                let name = text(planned, "name").unwrap_or_default();
                let verb = if prior.is_some() { "UPDATE" } else { "CREATE" };
                let answer = self
                    .api(&format!("STREAM.{verb}.{name}"), Some(stream_config(planned)), "create or update the stream")
                    .await?
                    .unwrap_or_default();
                Ok(ApplyResponse { new: Some(Value::Map(stream_object(&answer["config"]))) })
            }
            ("jetstream_consumer", Some(prior), None) => {
                let (stream, name) =
                    (text(prior, "stream_id").unwrap_or_default(), text(prior, "durable_name").unwrap_or_default());
                self.api(&format!("CONSUMER.DELETE.{stream}.{name}"), None, "delete the consumer").await?;
                Ok(ApplyResponse { new: None })
            }
            ("jetstream_consumer", _, Some(planned)) => {
                let (stream, name) =
                    (text(planned, "stream_id").unwrap_or_default(), text(planned, "durable_name").unwrap_or_default());
                let body = json!({ "stream_name": stream, "config": consumer_config(planned) });
                let answer = self
                    .api(
                        &format!("CONSUMER.DURABLE.CREATE.{stream}.{name}"),
                        Some(body),
                        "create or update the consumer",
                    )
                    .await?
                    .unwrap_or_default();
                Ok(ApplyResponse { new: Some(Value::Map(consumer_object(&stream, &answer["config"]))) })
            }
            _ => {
                Err(Diagnostic::error("Unsupported resource type", format!("The jetstream provider has no `{kind}`."))
                    .into())
            }
        }
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        let current = object_of(Some(&request.current));
        let current = match request.kind.as_str() {
            "jetstream_stream" => {
                let name = text(&current, "name").unwrap_or_default();
                self.api(&format!("STREAM.INFO.{name}"), None, "read the stream")
                    .await?
                    .map(|a| stream_object(&a["config"]))
            }
            _ => {
                let (stream, name) = (
                    text(&current, "stream_id").unwrap_or_default(),
                    text(&current, "durable_name").unwrap_or_default(),
                );
                self.api(&format!("CONSUMER.INFO.{stream}.{name}"), None, "read the consumer")
                    .await?
                    .map(|a| consumer_object(&stream, &a["config"]))
            }
        };
        Ok(ReadResponse { current: current.map(Value::Map) })
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        let skeleton = match request.kind.as_str() {
            "jetstream_stream" => Object::from([("name".to_string(), Value::from(request.id.as_str()))]),
            _ => {
                let (stream, name) = request.id.split_once('/').ok_or_else(|| {
                    Diagnostics::from(Diagnostic::error("Invalid import id", "A consumer's id is STREAM/DURABLE_NAME."))
                })?;
                Object::from([
                    ("stream_id".to_string(), Value::from(stream)),
                    ("durable_name".to_string(), Value::from(name)),
                ])
            }
        };
        for name in skeleton.values().filter_map(|v| v.as_str()) {
            if !valid_name(name) {
                return Err(invalid(format!("`{name}` may hold only letters, digits, `-` and `_`")));
            }
        }
        let read = self.read(ReadRequest { kind: request.kind.clone(), current: Value::Map(skeleton) }).await?;
        read.current.map(|current| ImportResponse { current }).ok_or_else(|| {
            Diagnostic::error(
                "Cannot import a missing object",
                format!("NATS has no {} `{}`.", request.kind, request.id),
            )
            .into()
        })
    }
}
