//! A plugin as an infra [`Provider`]: started on first use, its schema read once, each engine
//! call one protocol call. The plugin lives on a runtime of its own (its gRPC channel is tied to
//! the runtime it was opened on), so the engine may call it from any thread or runtime.

use crate::PluginClient;
use crate::cache;
use crate::cty::{self, Type};
use crate::schema::{block_schema, block_type, proposed_new};
use crate::tfplugin5 as wire;
use crate::tfplugin6::{self as v6, Methods};
use async_trait::async_trait;
use infra_provider::{
    ApplyRequest, ApplyResponse, ConfigureRequest, Diagnostic, Diagnostics, FunctionSignature, ImportRequest,
    ImportResponse, PlanRequest, PlanResponse, Provider, ProviderSchema, ReadDataRequest, ReadDataResponse,
    ReadRequest, ReadResponse, ResourceSchema, UpgradeRequest, Value,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// The Terraform version infra reports to plugins (the language it implements).
const TERRAFORM_VERSION: &str = "1.11.4";

/// A provider served by a plugin binary.
pub struct PluginProvider {
    name: String,
    source: String,
    binary: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
    loaded: OnceLock<Result<Loaded, String>>,
    empty: ProviderSchema,
    /// The types whose answers said `legacy_type_system`.
    legacy: Mutex<BTreeSet<String>>,
    /// Private data by object (kind and id) and by planned object (kind and the plan's hash):
    /// what the plugin answered last, for its next call about the same object.
    privates: Mutex<HashMap<Private, Vec<u8>>>,
}

/// Whose private data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Private {
    /// An object in state, by type and id.
    Object(String, String),
    /// A planned object, by type and the planned value's hash (apply sends the plan's private).
    Planned(String, u64),
}

fn object_key(kind: &str, object: &Value) -> Option<Private> {
    let id = object.bare().as_map()?.get("id")?.bare().as_str()?;
    Some(Private::Object(kind.to_string(), id.to_string()))
}

fn planned_key(kind: &str, planned: &Value) -> Private {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    planned.hash(&mut hasher);
    Private::Planned(kind.to_string(), hasher.finish())
}

struct Kind {
    block: v6::Block,
    object: Type,
}

/// A provider-defined function: its signature and the cty types of its arguments and result.
struct Function {
    signature: FunctionSignature,
    parameters: Vec<Type>,
    variadic: Option<Type>,
    result: Type,
}

struct Loaded {
    client: Arc<PluginClient>,
    /// The method paths of the protocol the plugin chose.
    methods: Methods,
    functions: BTreeMap<String, Function>,
    schema: ProviderSchema,
    provider: Kind,
    resources: BTreeMap<String, Kind>,
    data_sources: BTreeMap<String, Kind>,
}

impl PluginProvider {
    /// The plugin at `binary`, serving the provider whose local name is `name` (`aws`) and
    /// whose source address is `source` (`registry.terraform.io/hashicorp/aws`). Nothing is
    /// started until the provider is first used.
    pub fn new(name: &str, source: &str, binary: PathBuf) -> PluginProvider {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("infra-plugin")
            .enable_all()
            .build()
            .ok();
        PluginProvider {
            name: name.to_string(),
            source: source.to_string(),
            binary,
            runtime,
            loaded: OnceLock::new(),
            empty: ProviderSchema::default(),
            legacy: Mutex::new(BTreeSet::new()),
            privates: Mutex::new(HashMap::new()),
        }
    }

    /// The plugin binary.
    pub fn binary(&self) -> &std::path::Path {
        &self.binary
    }

    fn private(&self, key: Option<Private>) -> Vec<u8> {
        key.and_then(|key| self.privates.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned())
            .unwrap_or_default()
    }

    /// Remembers that `kind`'s answers come from the legacy SDK, when an answer says so.
    fn note_legacy(&self, kind: &str, legacy: bool) {
        if legacy {
            self.legacy.lock().unwrap_or_else(|p| p.into_inner()).insert(kind.to_string());
        }
    }

    fn keep_private(&self, key: Option<Private>, private: Vec<u8>) {
        let Some(key) = key else { return };
        let mut privates = self.privates.lock().unwrap_or_else(|p| p.into_inner());
        if private.is_empty() {
            privates.remove(&key);
        } else {
            privates.insert(key, private);
        }
    }

    /// Starts the plugin and reads its schema, once.
    fn loaded(&self) -> Result<&Loaded, Diagnostics> {
        let loaded = self.loaded.get_or_init(|| {
            let runtime = self.runtime.as_ref().ok_or("cannot start a runtime for the plugin")?;
            // `block_on` must not run on a runtime's thread: a scoped thread of its own.
            std::thread::scope(|scope| {
                scope
                    .spawn(|| runtime.block_on(load(&self.binary, &self.source)))
                    .join()
                    .unwrap_or_else(|_| Err("the plugin loader panicked".into()))
            })
        });
        loaded.as_ref().map_err(|error| {
            Diagnostic::error(format!("Cannot start the provider plugin `{}`", self.source), error.clone()).into()
        })
    }

    /// Runs a protocol call on the plugin's runtime.
    async fn call<Req, Resp>(&self, method: &'static str, request: Req) -> Result<Resp, Diagnostics>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let client = self.loaded()?.client.clone();
        let runtime = self.runtime.as_ref().ok_or_else(|| Diagnostics::from(Diagnostic::error("No runtime", "")))?;
        runtime
            .spawn(async move { client.call::<Req, Resp>(method, request).await })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
            .map_err(|error| Diagnostic::error(format!("Provider `{}` failed", self.source), error).into())
    }

    fn methods(&self) -> Result<Methods, Diagnostics> {
        Ok(self.loaded()?.methods)
    }

    fn resource(&self, kind: &str) -> Result<&Kind, Diagnostics> {
        self.loaded()?.resources.get(kind).ok_or_else(|| self.unknown("resource type", kind))
    }

    fn data_source(&self, kind: &str) -> Result<&Kind, Diagnostics> {
        self.loaded()?.data_sources.get(kind).ok_or_else(|| self.unknown("data source", kind))
    }

    fn unknown(&self, what: &str, kind: &str) -> Diagnostics {
        Diagnostic::error(
            format!("Unsupported {what}"),
            format!("The provider `{}` has no {what} `{kind}`.", self.source),
        )
        .into()
    }

    fn encode(&self, value: &Value, kind: &Type) -> Result<wire::DynamicValue, Diagnostics> {
        cty::encode(value, kind)
            .map(|msgpack| wire::DynamicValue { msgpack, json: Vec::new() })
            .map_err(|e| Diagnostic::error("Cannot send a value to the plugin", e).into())
    }

    fn decode(&self, value: Option<wire::DynamicValue>, kind: &Type) -> Result<Value, Diagnostics> {
        let Some(value) = value else { return Ok(Value::Null) };
        if value.msgpack.is_empty() && !value.json.is_empty() {
            let json: serde_json::Value = serde_json::from_slice(&value.json).map_err(|e| {
                Diagnostics::from(Diagnostic::error("The plugin answered a value that is not JSON", e.to_string()))
            })?;
            return Ok(Value::from_json(&json));
        }
        cty::decode(&value.msgpack, kind).map_err(|e| {
            Diagnostic::error(format!("The plugin `{}` answered a value infra cannot read", self.source), e).into()
        })
    }

    /// Converts the plugin's diagnostics; errors fail the call.
    fn diagnostics(&self, diagnostics: Vec<wire::Diagnostic>) -> Result<(), Diagnostics> {
        let mut errors = Diagnostics::new();
        for diagnostic in diagnostics {
            let mut detail = diagnostic.detail;
            if let Some(path) = diagnostic.attribute.as_ref().map(attribute_path).filter(|p| !p.is_empty()) {
                detail = if detail.is_empty() {
                    format!("At `{}`.", path.join("."))
                } else {
                    format!("{detail} (at `{}`)", path.join("."))
                };
            }
            if diagnostic.severity == wire::Severity::Warning as i32 {
                tracing::warn!(
                    provider = self.source.as_str(),
                    summary = diagnostic.summary.as_str(),
                    detail = detail.as_str(),
                    "plugin warning"
                );
            } else {
                errors.push(Diagnostic::error(diagnostic.summary, detail));
            }
        }
        if errors.has_errors() { Err(errors) } else { Ok(()) }
    }
}

impl Drop for PluginProvider {
    fn drop(&mut self) {
        if let (Some(Ok(loaded)), Some(runtime)) = (self.loaded.get(), self.runtime.as_ref()) {
            let client = loaded.client.clone();
            let _ = std::thread::scope(|scope| scope.spawn(|| runtime.block_on(client.shutdown())).join());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Whether the value at `path` differs between `prior` and `planned` (unknown counts as a
/// change).
fn changes(prior: &Value, planned: &Value, path: &[String]) -> bool {
    fn at<'v>(value: &'v Value, path: &[String]) -> &'v Value {
        path.iter()
            .try_fold(value, |place, step| match place.bare() {
                Value::Map(map) => map.get(step),
                Value::List(items) | Value::Set(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            })
            .unwrap_or(&Value::Null)
    }
    let after = at(planned, path);
    !after.is_wholly_known() || !infra_provider::values_equal(at(prior, path), after)
}

/// Diagnostics as one line (a function's error is a message, not diagnostics).
fn sentence(diagnostics: &Diagnostics) -> String {
    diagnostics
        .iter()
        .map(|d| if d.detail.is_empty() { d.summary.clone() } else { format!("{}: {}", d.summary, d.detail) })
        .collect::<Vec<_>>()
        .join("; ")
}

fn attribute_path(path: &wire::AttributePath) -> Vec<String> {
    path.steps
        .iter()
        .filter_map(|step| match step.selector.as_ref()? {
            wire::Selector::AttributeName(name) => Some(name.clone()),
            wire::Selector::ElementKeyString(key) => Some(key.clone()),
            wire::Selector::ElementKeyInt(index) => Some(index.to_string()),
        })
        .collect()
}

async fn load(binary: &std::path::Path, source: &str) -> Result<Loaded, String> {
    // A cached schema is read and converted while the plugin starts (each takes ~0.15 s).
    let cache = cache::path(binary);
    let cached = {
        let cache = cache.clone();
        tokio::task::spawn_blocking(move || cache.as_deref().and_then(cache::read).map(|answer| convert(&answer)))
    };
    let client = PluginClient::start(binary, source).await;
    let cached = cached.await.ok().flatten();
    let client = client?;
    let Some(methods) = Methods::of(client.protocol) else {
        client.shutdown().await;
        return Err(format!("the plugin chose protocol {}; infra speaks protocols 5 and 6", client.protocol));
    };
    let converted = match cached {
        Some(converted) => converted?,
        None => {
            let method = methods.get_schema.rsplit('/').next().unwrap_or_default();
            tracing::debug!(provider = source, method, "plugin call");
            let answer = if client.protocol == 5 {
                let answer: wire::GetSchemaResponse = client.call(methods.get_schema, wire::Empty {}).await?;
                v6::GetProviderSchemaResponse::from_v5(answer)
            } else {
                client.call(methods.get_schema, wire::Empty {}).await?
            };
            if let Some(path) = &cache {
                cache::write(path, &answer);
            }
            convert(&answer)?
        }
    };
    let Converted { schema, provider, resources, data_sources, functions } = converted;
    Ok(Loaded { client: Arc::new(client), methods, functions, schema, provider, resources, data_sources })
}

/// A schema answer in the engine's terms and the wire types kept for encoding.
struct Converted {
    schema: ProviderSchema,
    provider: Kind,
    resources: BTreeMap<String, Kind>,
    data_sources: BTreeMap<String, Kind>,
    functions: BTreeMap<String, Function>,
}

fn convert(answer: &v6::GetProviderSchemaResponse) -> Result<Converted, String> {
    if let Some(error) = answer.diagnostics.iter().find(|d| d.severity == wire::Severity::Error as i32) {
        return Err(format!("{}: {}", error.summary, error.detail));
    }
    let kind = |schema: Option<&v6::Schema>| -> Result<(Kind, ResourceSchema), String> {
        let block = schema.and_then(|s| s.block.clone()).unwrap_or_default();
        let version = schema.map_or(0, |s| u64::try_from(s.version).unwrap_or(0));
        let resource = ResourceSchema { version, block: block_schema(&block)? };
        Ok((Kind { object: block_type(&block)?, block }, resource))
    };
    let mut schema = ProviderSchema::default();
    let (provider, provider_schema) = kind(answer.provider.as_ref())?;
    schema.provider = provider_schema.block;
    let mut resources = BTreeMap::new();
    for (name, wire_schema) in &answer.resource_schemas {
        let (kind, resource) = kind(Some(wire_schema)).map_err(|e| format!("{name}: {e}"))?;
        schema.resources.insert(name.clone(), resource);
        resources.insert(name.clone(), kind);
    }
    let mut data_sources = BTreeMap::new();
    for (name, wire_schema) in &answer.data_source_schemas {
        let (kind, resource) = kind(Some(wire_schema)).map_err(|e| format!("{name}: {e}"))?;
        schema.data_sources.insert(name.clone(), resource);
        data_sources.insert(name.clone(), kind);
    }
    let mut functions = BTreeMap::new();
    for (name, function) in &answer.functions {
        let parse = |bytes: &[u8]| Type::parse(bytes).map_err(|e| format!("function {name}: {e}"));
        let parameters = function.parameters.iter().map(|p| parse(&p.r#type)).collect::<Result<Vec<_>, _>>()?;
        let variadic = function.variadic_parameter.as_ref().map(|p| parse(&p.r#type)).transpose()?;
        let result = parse(function.r#return.as_ref().map_or(&b"\"dynamic\""[..], |r| &r.r#type))?;
        let signature = FunctionSignature {
            parameters: function.parameters.iter().map(|p| p.name.clone()).collect(),
            variadic: variadic.is_some(),
            summary: function.summary.clone(),
        };
        functions.insert(name.clone(), Function { signature, parameters, variadic, result });
    }
    Ok(Converted { schema, provider, resources, data_sources, functions })
}

#[async_trait]
impl Provider for PluginProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> &ProviderSchema {
        match self.loaded() {
            Ok(loaded) => &loaded.schema,
            Err(_) => &self.empty,
        }
    }

    fn plugin(&self) -> Option<&str> {
        Some(&self.source)
    }

    fn private_of(&self, kind: &str, object: &Value) -> Option<Vec<u8>> {
        Some(self.private(object_key(kind, object))).filter(|p| !p.is_empty())
    }

    fn restore_private(&self, kind: &str, object: &Value, private: &[u8]) {
        self.keep_private(object_key(kind, object), private.to_vec());
    }

    fn stop(&self) {
        // Only a started plugin has anything to stop.
        let (Some(Ok(loaded)), Some(runtime)) = (self.loaded.get(), self.runtime.as_ref()) else { return };
        let client = loaded.client.clone();
        let source = self.source.clone();
        let path = loaded.methods.stop;
        runtime.spawn(async move {
            let method = path.rsplit('/').next().unwrap_or_default();
            tracing::debug!(provider = source.as_str(), method, "plugin call");
            match client.call::<wire::Empty, wire::StopResponse>(path, wire::Empty {}).await {
                Ok(answer) if answer.error.trim().is_empty() => {}
                Ok(answer) => {
                    tracing::warn!(provider = source.as_str(), error = answer.error, "the plugin could not stop")
                }
                Err(error) => tracing::warn!(provider = source.as_str(), error, "the plugin could not stop"),
            }
        });
    }

    fn unavailable(&self) -> Option<Diagnostics> {
        self.loaded().err()
    }

    fn legacy_type_system(&self, kind: &str) -> bool {
        self.legacy.lock().unwrap_or_else(|p| p.into_inner()).contains(kind)
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), Diagnostics> {
        let provider = &self.loaded()?.provider.object;
        let config = self.encode(&request.config, provider)?;
        let prepared: wire::PrepareProviderConfigResponse = self
            .call(
                self.methods()?.validate_provider,
                wire::PrepareProviderConfigRequest { config: Some(config.clone()) },
            )
            .await?;
        self.diagnostics(prepared.diagnostics)?;
        let config = prepared.prepared_config.filter(|c| !c.msgpack.is_empty()).unwrap_or(config);
        let answer: wire::DiagnosticsResponse = self
            .call(
                self.methods()?.configure,
                wire::ConfigureRequest {
                    terraform_version: TERRAFORM_VERSION.into(),
                    config: Some(config),
                    client_capabilities: Some(wire::ClientCapabilities::default()),
                },
            )
            .await?;
        self.diagnostics(answer.diagnostics)
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        let kind = self.resource(&request.kind)?;
        let config = self.encode(&request.config, &kind.object)?;
        if !request.config.is_null() {
            // Terraform validates every resource's configuration before planning it.
            let validated: wire::DiagnosticsResponse = self
                .call(
                    self.methods()?.validate_resource,
                    wire::ValidateConfigRequest { type_name: request.kind.clone(), config: Some(config.clone()) },
                )
                .await?;
            self.diagnostics(validated.diagnostics)?;
        }
        let proposed = proposed_new(&kind.block, request.prior.as_ref(), &request.config);
        let answer: wire::PlanResourceChangeResponse = self
            .call(
                self.methods()?.plan_resource_change,
                wire::PlanResourceChangeRequest {
                    type_name: request.kind.clone(),
                    prior_state: Some(self.encode(request.prior.as_ref().unwrap_or(&Value::Null), &kind.object)?),
                    proposed_new_state: Some(self.encode(&proposed, &kind.object)?),
                    config: Some(config),
                    prior_private: self.private(request.prior.as_ref().and_then(|p| object_key(&request.kind, p))),
                    client_capabilities: Some(wire::ClientCapabilities::default()),
                },
            )
            .await?;
        self.diagnostics(answer.diagnostics)?;
        self.note_legacy(&request.kind, answer.legacy_type_system);
        let planned = self.decode(answer.planned_state, &kind.object)?;
        self.keep_private(Some(planned_key(&request.kind, &planned)), answer.planned_private);
        // As Terraform: a path forces replacement only when its value changes (a create
        // replaces nothing; the legacy SDK lists `id` and every ForceNew attribute each time).
        let requires_replace = match &request.prior {
            Some(prior) => answer
                .requires_replace
                .iter()
                .map(attribute_path)
                .filter(|path| changes(prior, &planned, path))
                .collect(),
            None => Vec::new(),
        };
        Ok(PlanResponse { planned, requires_replace, ..PlanResponse::default() })
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        let kind = self.resource(&request.kind)?;
        let answer: wire::ApplyResourceChangeResponse = self
            .call(
                self.methods()?.apply_resource_change,
                wire::ApplyResourceChangeRequest {
                    type_name: request.kind.clone(),
                    prior_state: Some(self.encode(request.prior.as_ref().unwrap_or(&Value::Null), &kind.object)?),
                    planned_state: Some(self.encode(request.planned.as_ref().unwrap_or(&Value::Null), &kind.object)?),
                    config: Some(self.encode(&request.config, &kind.object)?),
                    planned_private: request
                        .planned
                        .as_ref()
                        .map(|planned| self.private(Some(planned_key(&request.kind, planned))))
                        .unwrap_or_default(),
                },
            )
            .await?;
        self.diagnostics(answer.diagnostics)?;
        self.note_legacy(&request.kind, answer.legacy_type_system);
        let new = self.decode(answer.new_state, &kind.object)?;
        if let Some(planned) = &request.planned {
            self.keep_private(Some(planned_key(&request.kind, planned)), Vec::new());
        }
        match new.is_null() {
            true => self.keep_private(request.prior.as_ref().and_then(|p| object_key(&request.kind, p)), Vec::new()),
            false => self.keep_private(object_key(&request.kind, &new), answer.private),
        }
        Ok(ApplyResponse { new: (!new.is_null()).then_some(new) })
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        let kind = self.resource(&request.kind)?;
        let answer: wire::ReadResourceResponse = self
            .call(
                self.methods()?.read_resource,
                wire::ReadResourceRequest {
                    type_name: request.kind.clone(),
                    current_state: Some(self.encode(&request.current, &kind.object)?),
                    private: self.private(object_key(&request.kind, &request.current)),
                    client_capabilities: Some(wire::ClientCapabilities::default()),
                },
            )
            .await?;
        self.diagnostics(answer.diagnostics)?;
        let current = self.decode(answer.new_state, &kind.object)?;
        if !current.is_null() {
            self.keep_private(object_key(&request.kind, &current), answer.private);
        }
        Ok(ReadResponse { current: (!current.is_null()).then_some(current) })
    }

    async fn upgrade(&self, request: UpgradeRequest) -> Result<Value, Diagnostics> {
        let kind = self.resource(&request.kind)?;
        let json = serde_json::to_vec(&request.raw).map_err(|e| {
            Diagnostics::from(Diagnostic::error("Cannot send a stored object to the plugin", e.to_string()))
        })?;
        let answer: wire::UpgradeResourceStateResponse = self
            .call(
                self.methods()?.upgrade_resource_state,
                wire::UpgradeResourceStateRequest {
                    type_name: request.kind.clone(),
                    version: i64::try_from(request.version).unwrap_or(i64::MAX),
                    raw_state: Some(wire::RawState { json, flatmap: BTreeMap::new() }),
                },
            )
            .await?;
        self.diagnostics(answer.diagnostics)?;
        self.decode(answer.upgraded_state, &kind.object)
    }

    fn functions(&self) -> BTreeMap<String, FunctionSignature> {
        self.loaded()
            .map(|loaded| loaded.functions.iter().map(|(name, f)| (name.clone(), f.signature.clone())).collect())
            .unwrap_or_default()
    }

    async fn call_function(&self, name: &str, arguments: Vec<Value>) -> Result<Value, String> {
        let loaded = self.loaded().map_err(|d| sentence(&d))?;
        let function = loaded
            .functions
            .get(name)
            .ok_or_else(|| format!("The provider `{}` has no function `{name}`.", self.source))?;
        let mut encoded = Vec::with_capacity(arguments.len());
        for (index, argument) in arguments.iter().enumerate() {
            let kind = function.parameters.get(index).or(function.variadic.as_ref()).ok_or_else(|| {
                format!("Function `{name}` takes {} arguments, not {}.", function.parameters.len(), arguments.len())
            })?;
            let msgpack = cty::encode(argument, kind).map_err(|e| format!("argument {}: {e}", index + 1))?;
            encoded.push(wire::DynamicValue { msgpack, json: Vec::new() });
        }
        if arguments.len() < function.parameters.len() {
            return Err(format!(
                "Function `{name}` takes {} arguments, not {}.",
                function.parameters.len(),
                arguments.len()
            ));
        }
        let answer: v6::CallFunctionResponse = self
            .call(loaded.methods.call_function, v6::CallFunctionRequest { name: name.to_string(), arguments: encoded })
            .await
            .map_err(|d| sentence(&d))?;
        if let Some(error) = answer.error.filter(|e| !e.text.is_empty()) {
            return Err(match error.function_argument {
                Some(index) => format!("argument {}: {}", index + 1, error.text),
                None => error.text,
            });
        }
        self.decode(answer.result, &function.result).map_err(|d| sentence(&d))
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        let kind = self.resource(&request.kind)?;
        let answer: wire::ImportResourceStateResponse = self
            .call(
                self.methods()?.import_resource_state,
                wire::ImportResourceStateRequest {
                    type_name: request.kind.clone(),
                    id: request.id.clone(),
                    client_capabilities: Some(wire::ClientCapabilities::default()),
                },
            )
            .await?;
        self.diagnostics(answer.diagnostics)?;
        let imported =
            answer.imported_resources.into_iter().find(|r| r.type_name == request.kind).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Nothing imported",
                    format!("The plugin found no {} `{}`.", request.kind, request.id),
                ))
            })?;
        let state = self.decode(imported.state, &kind.object)?;
        self.keep_private(object_key(&request.kind, &state), imported.private);
        let read = self.read(ReadRequest { kind: request.kind.clone(), current: state }).await?;
        let current = read.current.ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Cannot import a missing object",
                format!("There is no {} `{}`.", request.kind, request.id),
            ))
        })?;
        Ok(ImportResponse { current })
    }

    async fn read_data(&self, request: ReadDataRequest) -> Result<ReadDataResponse, Diagnostics> {
        let kind = self.data_source(&request.kind)?;
        let config = self.encode(&request.config, &kind.object)?;
        let validated: wire::DiagnosticsResponse = self
            .call(
                self.methods()?.validate_data_source,
                wire::ValidateConfigRequest { type_name: request.kind.clone(), config: Some(config.clone()) },
            )
            .await?;
        self.diagnostics(validated.diagnostics)?;
        let answer: wire::ReadDataSourceResponse = self
            .call(
                self.methods()?.read_data_source,
                wire::ReadDataSourceRequest {
                    type_name: request.kind.clone(),
                    config: Some(config),
                    client_capabilities: Some(wire::ClientCapabilities::default()),
                },
            )
            .await?;
        self.diagnostics(answer.diagnostics)?;
        Ok(ReadDataResponse { state: self.decode(answer.state, &kind.object)? })
    }
}
