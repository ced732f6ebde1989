//! The AWS provider: the EC2 network and compute a cluster runs on, with the resource types
//! and attribute names of Terraform's AWS provider, so existing `.tf` files run unchanged.
//!
//! - [`client`]: the `provider "aws"` block, credentials, endpoints, the counted EC2 client.
//! - [`resources`]: one module per EC2 object behind the [`resources::Resource`] trait.
//! - [`tags`]: `tags` / `tags_all` / `default_tags`.
//! - [`error`]: EC2 errors as diagnostics, and the eventual-consistency retry.
//!
//! [`Aws`] turns the resource modules into the engine's protocol: plans from the schema plus
//! each type's rules, creates made idempotent by a token derived from the engine's key, a read
//! after every write, and refresh by type in a few Describe calls ([`Provider::read_batch`]).

pub mod client;
pub mod docs;
pub mod error;
pub mod object;
pub mod resources;
pub mod tags;

use async_trait::async_trait;
use client::{CallCounter, Ec2};
use error::{AwsError, eventually};
use infra_provider::{
    ApplyRequest, ApplyResponse, BlockSchema, ConfigureRequest, Diagnostic, Diagnostics, ImportRequest, ImportResponse,
    PlanRequest, PlanResponse, Provider, ProviderSchema, ReadDataRequest, ReadDataResponse, ReadRequest, ReadResponse,
    ResourceSchema, Value, plan_by_schema,
};
use resources::{DataSource, Resource};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The AWS provider.
pub struct Aws {
    schema: ProviderSchema,
    resources: BTreeMap<&'static str, Box<dyn Resource>>,
    data_sources: BTreeMap<&'static str, Box<dyn DataSource>>,
    config: OnceLock<Value>,
    client: tokio::sync::OnceCell<Result<Ec2, Diagnostic>>,
    calls: Arc<CallCounter>,
}

impl Default for Aws {
    fn default() -> Self {
        Aws::new()
    }
}

impl Aws {
    /// The provider, not yet configured (it configures itself from the environment when no
    /// `provider "aws"` block is given).
    pub fn new() -> Aws {
        let resources: BTreeMap<_, _> = resources::all().into_iter().collect();
        let data_sources: BTreeMap<_, _> = resources::data_sources().into_iter().collect();
        let schema = ProviderSchema {
            provider: client::schema(),
            resources: resources
                .iter()
                .map(|(name, r)| (name.to_string(), ResourceSchema { version: 0, block: r.schema() }))
                .collect(),
            data_sources: data_sources
                .iter()
                .map(|(name, d)| (name.to_string(), ResourceSchema { version: 0, block: d.schema() }))
                .collect(),
        };
        Aws {
            schema,
            resources,
            data_sources,
            config: OnceLock::new(),
            client: tokio::sync::OnceCell::new(),
            calls: Arc::new(CallCounter::default()),
        }
    }

    fn config(&self) -> &Value {
        self.config.get().unwrap_or(&Value::Null)
    }

    /// The EC2 client, connected on first use.
    ///
    /// # Errors
    ///
    /// The configuration problem (no region, half-set credentials, …).
    pub async fn ec2(&self) -> Result<&Ec2, Diagnostics> {
        let connected = self.client.get_or_init(|| client::connect(self.config(), self.calls.clone())).await;
        connected.as_ref().map_err(|d| d.clone().into())
    }

    fn resource(&self, kind: &str) -> Result<&dyn Resource, Diagnostics> {
        self.resources.get(kind).map(|r| r.as_ref()).ok_or_else(|| {
            Diagnostic::error("Unsupported resource type", format!("The AWS provider has no resource type `{kind}`."))
                .into()
        })
    }

    fn block(&self, kind: &str) -> Option<&BlockSchema> {
        self.schema.resources.get(kind).map(|r| &r.block)
    }

    /// Reads one object back after a write, waiting out EC2's eventual consistency.
    async fn read_back(&self, ec2: &Ec2, resource: &dyn Resource, object: Value) -> Result<Value, AwsError> {
        eventually(|| async {
            resource.read(ec2, std::slice::from_ref(&object)).await?.into_iter().next().flatten().ok_or_else(|| {
                AwsError {
                    operation: "Describe",
                    code: Some("InvalidObject.NotFound".into()),
                    message: format!("`{}` is not visible yet", object::string(&object, "id").unwrap_or("?")),
                }
            })
        })
        .await
    }
}

/// The EC2 client token for an engine idempotency key: the same key gives the same token.
pub fn client_token(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

/// An object with every attribute of its schema (null where the read had none), so an
/// imported object compares equal to the same object planned from configuration.
fn complete(value: Value, schema: Option<&BlockSchema>) -> Value {
    let (Value::Map(mut map), Some(schema)) = (value.clone(), schema) else { return value };
    for name in schema.attributes.keys() {
        map.entry(name.clone()).or_insert(Value::Null);
    }
    Value::Map(map)
}

/// `planned` with the id set.
fn with_id(planned: &Value, id: &str) -> Value {
    let mut map = planned.as_map().cloned().unwrap_or_default();
    map.insert("id".into(), Value::string(id));
    Value::Map(map)
}

#[async_trait]
impl Provider for Aws {
    fn name(&self) -> &str {
        "aws"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), Diagnostics> {
        let _ = self.config.set(request.config);
        Ok(())
    }

    fn api_calls(&self) -> Option<u64> {
        Some(self.calls.get())
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let schema = self.block(&request.kind);
        let mut response = plan_by_schema(schema, &request);
        let replacing_before = !response.requires_replace.is_empty();
        resource.plan(&request, &mut response);
        let replacing = !response.requires_replace.is_empty();
        let Value::Map(planned) = &mut response.planned else { return Ok(response) };
        let prior = request.prior.as_ref().filter(|_| !replacing);
        for name in resource.computed_blocks() {
            let configured = object::items(object::get(&request.config, name));
            if configured.is_empty() {
                let kept = prior.map(|p| object::get(p, name).clone());
                planned.insert((*name).to_string(), kept.unwrap_or(Value::Unknown));
            } else if let Some(nested) = schema.and_then(|s| s.blocks.get(*name)) {
                // Attributes of a written block that EC2 fills in: kept, or known after apply.
                let before = prior.map(|p| object::blocks(p, name)).unwrap_or(&[]);
                let filled: Vec<Value> = configured
                    .iter()
                    .enumerate()
                    .map(|(index, block)| {
                        let Value::Map(mut map) = block.bare().clone() else { return block.clone() };
                        for (attribute, declared) in &nested.block.attributes {
                            if declared.computed && map.get(attribute).is_none_or(Value::is_null) {
                                let kept = before.get(index).map(|b| object::get(b, attribute).clone());
                                map.insert(attribute.clone(), kept.unwrap_or(Value::Unknown));
                            }
                        }
                        Value::Map(map)
                    })
                    .collect();
                let filled = match planned.get(*name) {
                    Some(Value::Set(_)) => Value::set(filled),
                    _ => Value::List(filled),
                };
                planned.insert((*name).to_string(), filled);
            }
        }
        if replacing && !replacing_before {
            // A replacement the type's own rules found: computed values start over.
            if let Some(schema) = schema {
                for (name, attribute) in &schema.attributes {
                    if attribute.computed && object::get(&request.config, name).is_null() {
                        planned.insert(name.clone(), Value::Unknown);
                    }
                }
            }
        }
        if planned.contains_key("tags_all") {
            let default_tags = object::string_map(object::get(self.config(), "default_tags"), "tags");
            let all = tags::planned_all(&default_tags, planned.get("tags").unwrap_or(&Value::Null));
            planned.insert("tags_all".into(), all);
        }
        Ok(response)
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let ec2 = self.ec2().await?;
        match (&request.prior, &request.planned) {
            (None, Some(planned)) => {
                let id = resource.create(ec2, planned, &client_token(&request.idempotency_key)).await?;
                let new = self.read_back(ec2, resource, with_id(planned, &id)).await?;
                Ok(ApplyResponse { new: Some(new) })
            }
            (Some(prior), Some(planned)) => {
                resource.update(ec2, prior, planned).await?;
                let id = object::owned(prior, "id").unwrap_or_default();
                let new = self.read_back(ec2, resource, with_id(planned, &id)).await?;
                Ok(ApplyResponse { new: Some(new) })
            }
            (Some(prior), None) => match resource.delete(ec2, prior).await {
                Err(error) if !error.is_not_found() => Err(error.into()),
                _ => Ok(ApplyResponse { new: None }),
            },
            (None, None) => Ok(ApplyResponse { new: None }),
        }
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        let mut answers = self.read_batch(vec![request]).await;
        answers.pop().unwrap_or(Ok(ReadResponse { current: None }))
    }

    fn batches_reads(&self) -> bool {
        true
    }

    async fn read_batch(&self, requests: Vec<ReadRequest>) -> Vec<Result<ReadResponse, Diagnostics>> {
        let mut answers: Vec<Option<Result<ReadResponse, Diagnostics>>> = requests.iter().map(|_| None).collect();
        let mut by_kind: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, request) in requests.iter().enumerate() {
            by_kind.entry(request.kind.as_str()).or_default().push(index);
        }
        let ec2 = self.ec2().await;
        for (kind, indexes) in by_kind {
            let outcome = match (&ec2, self.resource(kind)) {
                (Err(errors), _) => Err(errors.clone()),
                (_, Err(errors)) => Err(errors),
                (Ok(ec2), Ok(resource)) => {
                    let objects: Vec<Value> = indexes.iter().map(|&i| requests[i].current.clone()).collect();
                    resource.read(ec2, &objects).await.map_err(Diagnostics::from)
                }
            };
            match outcome {
                Ok(found) => {
                    let schema = self.block(kind);
                    for (index, current) in indexes.into_iter().zip(found) {
                        let current = current.map(|value| complete(value, schema));
                        answers[index] = Some(Ok(ReadResponse { current }));
                    }
                }
                Err(errors) => {
                    for index in indexes {
                        answers[index] = Some(Err(errors.clone()));
                    }
                }
            }
        }
        tracing::debug!(target: "infra::aws", objects = requests.len(), calls = self.calls.get(), "refresh");
        answers.into_iter().map(|a| a.unwrap_or(Ok(ReadResponse { current: None }))).collect()
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let stub = resource.import_stub(&request.id).map_err(|message| {
            Diagnostics::from(Diagnostic::error("Invalid import id", format!("`{}`: {message}", request.id)))
        })?;
        let ec2 = self.ec2().await?;
        match resource.read(ec2, &[stub]).await?.pop().flatten() {
            Some(current) => {
                let current = resource.imported(ec2, current).await?;
                Ok(ImportResponse { current: complete(current, self.block(&request.kind)) })
            }
            None => Err(Diagnostic::error(
                "Cannot import non-existent remote object",
                format!("No `{}` with id `{}` exists in {}.", request.kind, request.id, ec2.region),
            )
            .into()),
        }
    }

    async fn read_data(&self, request: ReadDataRequest) -> Result<ReadDataResponse, Diagnostics> {
        let Some(source) = self.data_sources.get(request.kind.as_str()) else {
            return Err(Diagnostic::error(
                "Unsupported data source",
                format!("The AWS provider has no data source `{}`.", request.kind),
            )
            .into());
        };
        let ec2 = self.ec2().await?;
        Ok(ReadDataResponse { state: source.read(ec2, &request.config).await? })
    }
}
