//! The [`Provider`] trait: the only boundary between the engine and a provider.
//!
//! Shaped after Terraform's provider protocol with a request and a response struct per call, so
//! fields can be added without breaking providers. Lifecycle words (OpenTofu's): `config` is what
//! the user wrote, `prior` what state holds, `proposed` the config merged over prior, `planned`
//! the provider's prediction, `new` what apply produced.
//!
//! # Guarantees the engine checks
//!
//! - `plan`: every known value of `planned` that the configuration set equals the configuration.
//! - `apply`: `new` is wholly known, and every value that `planned` knew is unchanged in `new`.
//!
//! A provider that breaks them is blamed by name in the diagnostic.

use crate::diagnostic::Diagnostics;
use crate::schema::{AttrType, BlockSchema, ProviderSchema};
use crate::value::Value;
use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use std::collections::BTreeMap;

/// How many reads the default `read_batch` runs at once.
pub const DEFAULT_READ_CONCURRENCY: usize = 8;

/// `configure`: the evaluated `provider` block.
#[derive(Clone, Debug)]
pub struct ConfigureRequest {
    /// The configuration object.
    pub config: Value,
}

/// `plan`: what should this object become?
#[derive(Clone, Debug)]
pub struct PlanRequest {
    /// Resource type.
    pub kind: String,
    /// Current state, `None` for a create.
    pub prior: Option<Value>,
    /// The configuration merged over prior state (computed attributes from prior, Unknown on create).
    pub proposed: Value,
    /// The configuration as written.
    pub config: Value,
}

/// An attribute path: `["root_block_device", "0", "size"]`.
pub type AttrPath = Vec<String>;

/// The answer to `plan`.
#[derive(Clone, Debug, Default)]
pub struct PlanResponse {
    /// The predicted object; Unknown where only apply can tell.
    pub planned: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
    /// Why the object must be replaced, in words (`` `spec.selector` of a Deployment cannot
    /// change ``), when the attribute alone does not say.
    pub replace_reason: Option<String>,
    /// Warnings for the user (the plan goes on): a field the API will drop, say.
    pub warnings: Diagnostics,
}

/// `apply`: make it so.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    /// Resource type.
    pub kind: String,
    /// Current state; `None` to create.
    pub prior: Option<Value>,
    /// The planned object; `None` to delete.
    pub planned: Option<Value>,
    /// Stable across retries of the same change (address + plan id), for idempotent creates.
    pub idempotency_key: String,
    /// The configuration as written (null for a delete); plugins are sent it beside the plan.
    pub config: Value,
}

/// The answer to `apply`.
#[derive(Clone, Debug)]
pub struct ApplyResponse {
    /// The object as it now is; `None` after a delete.
    pub new: Option<Value>,
}

/// `read`: refresh one object.
#[derive(Clone, Debug)]
pub struct ReadRequest {
    /// Resource type.
    pub kind: String,
    /// The object as state has it.
    pub current: Value,
}

/// The answer to `read`.
#[derive(Clone, Debug)]
pub struct ReadResponse {
    /// The object as it is, or `None` when it is gone.
    pub current: Option<Value>,
}

/// `import`: adopt an existing object.
#[derive(Clone, Debug)]
pub struct ImportRequest {
    /// Resource type.
    pub kind: String,
    /// The provider's id for it.
    pub id: String,
}

/// The answer to `import`.
#[derive(Clone, Debug)]
pub struct ImportResponse {
    /// The object, read.
    pub current: Value,
}

/// `read_data`: a data source.
#[derive(Clone, Debug)]
pub struct ReadDataRequest {
    /// Data source type.
    pub kind: String,
    /// Its configuration.
    pub config: Value,
    /// Where a data source that reads local files may read (canonical): the checkout in
    /// controller runs, where the configuration is someone else's; `None`: anywhere.
    pub files_within: Option<std::path::PathBuf>,
}

/// The answer to `read_data`.
#[derive(Clone, Debug)]
pub struct ReadDataResponse {
    /// The result.
    pub state: Value,
}

/// `upgrade`: an object stored under an older schema version of its type.
#[derive(Clone, Debug)]
pub struct UpgradeRequest {
    /// Resource type.
    pub kind: String,
    /// The schema version the object was stored with.
    pub version: u64,
    /// The object as stored (JSON).
    pub raw: serde_json::Value,
}

/// A provider-defined function (`provider::NAME::FUNCTION(...)`).
#[derive(Clone, Debug, Default)]
pub struct FunctionSignature {
    /// Its positional parameters' names.
    pub parameters: Vec<String>,
    /// Whether it takes any number of further arguments.
    pub variadic: bool,
    /// One line on what it does.
    pub summary: String,
}

/// A provider: compiled in, found in a registry by name.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Its name (`aws`, `kubernetes`, `builtin`).
    fn name(&self) -> &str;

    /// What it accepts.
    fn schema(&self) -> &ProviderSchema;

    /// How many API calls this provider instance has made (for `-json` output and debug logs),
    /// when it counts them.
    fn api_calls(&self) -> Option<u64> {
        None
    }

    /// The phase of an object within a wave of changes: objects of phase 0 are created (and
    /// deleted last) before those of phase 1, and so on. Kubernetes namespaces and CRDs are
    /// phase 0, the objects that live in them phase 1. `value` is the planned object (the prior
    /// one for a delete). The default is 0 for all.
    fn phase(&self, _kind: &str, _value: &Value) -> u8 {
        0
    }

    /// Applies the `provider` block.
    async fn configure(&self, _request: ConfigureRequest) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Plans a create or update. The default ([`plan_by_schema`]) keeps prior computed values,
    /// marks unset computed values Unknown on create, and replaces on `force_new` changes.
    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        let schema = self.schema().resources.get(&request.kind).map(|r| &r.block);
        Ok(plan_by_schema(schema, &request))
    }

    /// Creates, updates or deletes.
    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics>;

    /// Reads one object.
    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics>;

    /// Reads many objects. The default reads one by one, [`DEFAULT_READ_CONCURRENCY`] at a time;
    /// providers override it to batch (Describe* by id lists, LIST by label).
    async fn read_batch(&self, requests: Vec<ReadRequest>) -> Vec<Result<ReadResponse, Diagnostics>> {
        stream::iter(requests).map(|request| self.read(request)).buffered(DEFAULT_READ_CONCURRENCY).collect().await
    }

    /// Whether [`Provider::read_batch`] reads many objects in a few API calls (the engine then
    /// sends one batch per resource type as one call); otherwise the engine calls
    /// [`Provider::read`] per object, as many at once as `-parallelism` allows.
    fn batches_reads(&self) -> bool {
        false
    }

    /// The provider's private data for an object it answered (`object` as it returned it),
    /// for the engine to keep in state beside the object (Terraform's `private`).
    fn private_of(&self, _kind: &str, _object: &Value) -> Option<Vec<u8>> {
        None
    }

    /// Gives back the private data kept in state for an object, before any call about it.
    fn restore_private(&self, _kind: &str, _object: &Value, _private: &[u8]) {}

    /// The source address of the plugin serving this provider (`registry.terraform.io/hashicorp/aws`);
    /// `None` for infra's native providers. Recorded with each object in state.
    fn plugin(&self) -> Option<&str> {
        None
    }

    /// Stops running operations as soon as it can (an interrupt); they then fail. The default
    /// does nothing: native calls finish on their own.
    fn stop(&self) {}

    /// Why the provider cannot serve at all (a plugin that does not start), for the engine to
    /// report instead of "no such type" when its schema is empty.
    fn unavailable(&self) -> Option<Diagnostics> {
        None
    }

    /// Whether the provider's answers for `kind` come from Terraform's legacy plugin SDK (a
    /// plugin's `legacy_type_system`): its plans and results may differ from the configuration
    /// in ways that type system cannot express, and the engine then logs the [`crate::contract`]
    /// violations as warnings, as Terraform does, instead of failing.
    fn legacy_type_system(&self, _kind: &str) -> bool {
        false
    }

    /// Brings an object stored under an older schema version (`request.version`) of its type
    /// to the current one (Terraform's `UpgradeResourceState`). The engine calls it only when
    /// the stored version differs from the schema's. The default reads the JSON as it is.
    async fn upgrade(&self, request: UpgradeRequest) -> Result<Value, Diagnostics> {
        Ok(Value::from_json(&request.raw))
    }

    /// The functions the provider defines, by name.
    fn functions(&self) -> std::collections::BTreeMap<String, FunctionSignature> {
        std::collections::BTreeMap::new()
    }

    /// Calls one of [`Provider::functions`]. The error is the function's message.
    async fn call_function(&self, name: &str, _arguments: Vec<Value>) -> Result<Value, String> {
        Err(format!("The provider `{}` has no function `{name}`.", self.name()))
    }

    /// Adopts an existing object.
    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        Err(crate::Diagnostic::error(
            "Import not supported",
            format!("The resource type `{}` cannot be imported.", request.kind),
        )
        .into())
    }

    /// Reads a data source.
    async fn read_data(&self, request: ReadDataRequest) -> Result<ReadDataResponse, Diagnostics> {
        Err(crate::Diagnostic::error("Unsupported data source", format!("There is no data source `{}`.", request.kind))
            .into())
    }
}

fn null_of(kind: &AttrType) -> Value {
    let _ = kind;
    Value::Null
}

/// The default plan: config values where set; prior values (or Unknown on create) for computed
/// attributes left unset; `force_new` attributes whose value changed are reported, and a replaced
/// object's computed attributes become Unknown again.
pub fn plan_by_schema(schema: Option<&BlockSchema>, request: &PlanRequest) -> PlanResponse {
    let Some(schema) = schema else {
        return PlanResponse { planned: request.proposed.clone(), ..PlanResponse::default() };
    };
    let config = request.config.as_map().cloned().unwrap_or_default();
    let prior = request.prior.as_ref().and_then(|p| p.as_map().cloned());
    let mut requires_replace = Vec::new();
    if let Some(prior) = &prior {
        for (name, attribute) in &schema.attributes {
            if !attribute.force_new {
                continue;
            }
            let configured = config.get(name).cloned().unwrap_or(Value::Null);
            if attribute.computed && configured.is_null() {
                continue;
            }
            let before = prior.get(name).cloned().unwrap_or(Value::Null);
            if !values_equal(&configured, &before) {
                requires_replace.push(vec![name.clone()]);
            }
        }
        for (name, block) in &schema.blocks {
            if block.force_new
                && !values_equal(config.get(name).unwrap_or(&Value::Null), prior.get(name).unwrap_or(&Value::Null))
            {
                requires_replace.push(vec![name.clone()]);
            }
        }
    }
    let replacing = !requires_replace.is_empty();
    let mut planned = BTreeMap::new();
    for (name, attribute) in &schema.attributes {
        let configured = config.get(name).cloned().unwrap_or(Value::Null);
        let value = if !configured.is_null() || !attribute.computed {
            if configured.is_null() { null_of(&attribute.kind) } else { configured }
        } else {
            match (&prior, replacing) {
                (Some(prior), false) => prior.get(name).cloned().unwrap_or(Value::Unknown),
                _ => Value::Unknown,
            }
        };
        planned.insert(name.clone(), value.mark_if(attribute.sensitive));
    }
    for name in schema.blocks.keys() {
        planned.insert(name.clone(), config.get(name).cloned().unwrap_or(Value::Null));
    }
    PlanResponse { planned: Value::Map(planned), requires_replace, ..PlanResponse::default() }
}

/// Equality that ignores sensitive marks (without copying either value).
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a.bare(), b.bare()) {
        (Value::List(x), Value::List(y)) | (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| values_equal(x, y))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((kx, vx), (ky, vy))| kx == ky && values_equal(vx, vy))
        }
        (x, y) => x == y,
    }
}
