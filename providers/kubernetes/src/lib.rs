//! The Kubernetes provider: any object — built-in kinds, CRDs, custom resources — by
//! server-side apply, with plans that show what the API server will do.
//!
//! - [`client`]: the `provider "kubernetes"` block, the client, discovery cached per run.
//! - [`manifest`]: `kubernetes_manifest` (Terraform's name), identities, immutable fields.
//! - [`fields`]: what infra manages of an object (its Apply entry in managedFields).
//! - [`health`]: waiting for rollouts, jobs, CRDs and Ready conditions.
//! - [`structural`]: the fields a CRD's schema keeps, for custom resources planned with it.
//!
//! Plans are server-side dry-run applies with field manager `infra`, so defaults, admission and
//! other managers are accounted for; `object` holds only the fields infra manages, so a field an
//! autoscaler owns never shows as drift. Refresh lists each kind and namespace once by the
//! `app.kubernetes.io/managed-by=infra` label.

pub mod client;
pub mod fields;
pub mod health;
pub mod manifest;
pub mod structural;

use async_trait::async_trait;
use futures::future::join_all;
use infra_provider::{
    ApplyRequest, ApplyResponse, ConfigureRequest, Diagnostic, Diagnostics, ImportRequest, ImportResponse, PlanRequest,
    PlanResponse, Provider, ProviderSchema, ReadRequest, ReadResponse, ResourceSchema, Value, plan_by_schema,
};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use manifest::{Identity, MANAGED_BY};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The field manager infra applies with, unless `field_manager` says otherwise.
pub const FIELD_MANAGER: &str = "infra";

/// The Kubernetes provider.
pub struct Kubernetes {
    schema: ProviderSchema,
    config: OnceLock<Value>,
    client: tokio::sync::OnceCell<Result<kube::Client, Diagnostic>>,
    kinds: client::Kinds,
    calls: Arc<AtomicU64>,
    /// `apiVersion/kind` of the kinds CRDs planned in this run define (planned before the
    /// custom resources, by phase): such a kind is not an error while the cluster lacks it.
    /// Each with the version's schema, to name the fields the server will prune.
    planned_kinds: std::sync::Mutex<BTreeMap<String, serde_json::Value>>,
}

impl Default for Kubernetes {
    fn default() -> Self {
        Kubernetes::new()
    }
}

fn attr<'a>(object: &'a Value, name: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    object.as_map().and_then(|m| m.get(name)).map_or(&NULL, Value::bare)
}

fn text<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    attr(object, name).as_str()
}

/// A kube error as a diagnostic: the Status reason and message.
fn api_error(what: &str, error: &kube::Error) -> Diagnostic {
    match error {
        kube::Error::Api(status)
            if status.code == 409 && status.reason == "Conflict" && status.message.contains("conflict") =>
        {
            Diagnostic::error("Field manager conflict", format!("{what}: {}", status.message))
                .with_hint("another field manager owns these fields; set `force_conflicts = true` to take them over")
        }
        kube::Error::Api(status) => Diagnostic::error(
            "Kubernetes API error",
            format!("{what}: {} ({}, {})", status.message, status.reason, status.code),
        ),
        other => Diagnostic::error("Kubernetes API error", format!("{what}: {other}"))
            .with_hint("check that the cluster is reachable and the provider's credentials"),
    }
}

/// The warning for a field the API server prunes (it is not in the kind's schema).
fn pruned_field(identity: &Identity, path: &str) -> Diagnostic {
    Diagnostic::warning(
        "Field not in the kind's schema",
        format!(
            "{}: the API server prunes `{path}`: {} {} does not declare it, so it is never stored.",
            identity.id(),
            identity.api_version,
            identity.kind
        ),
    )
    .with_hint("remove the field, or correct its name or place in the manifest")
}

fn is_code(error: &kube::Error, code: u16) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == code)
}

fn retryable(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code == 429 || status.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Runs a call, retrying 429 / 5xx / connection errors with exponential backoff and jitter.
pub(crate) async fn retrying<T, F, Fut>(mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 0u32;
    loop {
        match call().await {
            Err(error) if retryable(&error) && attempt < 6 => {
                attempt += 1;
                let cap = 100u64 << attempt.min(5);
                tokio::time::sleep(Duration::from_millis(rand::random_range(cap / 2..=cap))).await;
            }
            other => return other,
        }
    }
}

impl Kubernetes {
    /// The provider, configured from the environment until a `provider "kubernetes"` block says
    /// otherwise.
    pub fn new() -> Kubernetes {
        let mut schema = ProviderSchema { provider: client::schema(), ..ProviderSchema::default() };
        schema.resources.insert("kubernetes_manifest".into(), ResourceSchema { version: 0, block: manifest::schema() });
        Kubernetes {
            schema,
            config: OnceLock::new(),
            client: tokio::sync::OnceCell::new(),
            kinds: client::Kinds::default(),
            calls: Arc::new(AtomicU64::new(0)),
            planned_kinds: std::sync::Mutex::new(BTreeMap::new()),
        }
    }

    async fn client(&self) -> Result<&kube::Client, Diagnostics> {
        let client = self
            .client
            .get_or_init(|| async {
                let config = client::config(self.config.get().unwrap_or(&Value::Null)).await?;
                kube::Client::try_from(config).map_err(|e| Diagnostic::error("Kubernetes client", e.to_string()))
            })
            .await;
        client.as_ref().map_err(|d| d.clone().into())
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// The API for an object (discovery resolves its kind and scope).
    async fn api(&self, identity: &Identity) -> Result<(Api<DynamicObject>, ApiResource), client::Unresolved> {
        let client = self.client().await.map_err(|errors| {
            let why: Vec<String> = errors.iter().map(|d| format!("{}: {}", d.summary, d.detail)).collect();
            client::Unresolved::Failed(format!("no client ({})", why.join("; ")))
        })?;
        let (resource, namespaced) = self.kinds.resolve(client, &identity.api_version, &identity.kind).await?;
        let api = match (&identity.namespace, namespaced) {
            (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &resource),
            (None, true) => Api::default_namespaced_with(client.clone(), &resource),
            (_, false) => Api::all_with(client.clone(), &resource),
        };
        Ok((api, resource))
    }

    async fn patch(
        &self,
        api: &Api<DynamicObject>,
        identity: &Identity,
        object: &serde_json::Value,
        manager: &str,
        force: bool,
        dry_run: bool,
    ) -> Result<serde_json::Value, kube::Error> {
        let mut params = PatchParams::apply(manager);
        params.force = force;
        params.dry_run = dry_run;
        let patch = Patch::Apply(object);
        let result = retrying(|| {
            self.count();
            api.patch(&identity.name, &params, &patch)
        })
        .await?;
        Ok(serde_json::to_value(result).unwrap_or_default())
    }

    fn manager(config: &Value) -> String {
        text(config, "field_manager").unwrap_or(FIELD_MANAGER).to_string()
    }

    /// Waits until the object is healthy, or fails quoting its conditions.
    async fn wait_healthy(
        &self,
        api: &Api<DynamicObject>,
        identity: &Identity,
        planned: &Value,
        created: bool,
    ) -> Result<(), Diagnostics> {
        let wait = attr(planned, "wait");
        let rollout = wait.as_map().and_then(|m| m.get("rollout")).and_then(Value::as_bool).unwrap_or(true);
        let timeouts = attr(planned, "timeouts");
        let limit = health::timeout(
            text(wait, "timeout").or(text(timeouts, if created { "create" } else { "update" })),
            Duration::from_secs(300),
        );
        let started = Instant::now();
        loop {
            self.count();
            let live = retrying(|| api.get(&identity.name)).await.map_err(|e| api_error(&identity.id(), &e))?;
            let live = serde_json::to_value(live).unwrap_or_default();
            let wanted: BTreeMap<String, String> = ["condition", "fields"]
                .iter()
                .flat_map(|name| {
                    attr(wait, name)
                        .as_map()
                        .map(|m| {
                            m.iter()
                                .filter_map(|(k, v)| Some((format!("{name}.{k}"), v.bare().as_str()?.to_string())))
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                })
                .collect();
            let state =
                if wanted.is_empty() { health::health(&live, rollout) } else { Some(health::awaited(&live, &wanted)) };
            match state {
                None | Some(health::Health::Healthy) => return Ok(()),
                Some(health::Health::Failed(why)) => {
                    return Err(Diagnostic::error(
                        "Object did not become healthy",
                        format!("{}: {why}", identity.id()),
                    )
                    .into());
                }
                Some(health::Health::Progressing) if started.elapsed() > limit => {
                    return Err(Diagnostic::error(
                        "Timed out waiting for the object",
                        format!(
                            "{} was not healthy after {} s: {}",
                            identity.id(),
                            limit.as_secs(),
                            health::quote_conditions(&live)
                        ),
                    )
                    .into());
                }
                Some(health::Health::Progressing) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// The state of an object from its live form: `object` is the live object in the shape of
    /// the manifest infra applies.
    fn state(planned: &Value, live: &serde_json::Value) -> Value {
        let mut map = planned.as_map().cloned().unwrap_or_default();
        let manifest = attr(planned, "manifest").to_json().unwrap_or_default();
        // The id is the manifest's (as planned): a manifest without a namespace keeps an id
        // without one, though the object lives in the client's default namespace.
        let identity = Identity::of(&manifest).or_else(|| Identity::of(live));
        let applied = manifest::applied(&manifest);
        map.insert("id".into(), identity.map_or(Value::Null, |i| Value::string(i.id())));
        map.insert("object".into(), manifest::to_value(&fields::project(live, &applied)));
        Value::Map(map)
    }

    /// Applies (or dry-runs) with conflict rules: fields another manager took by *updating*
    /// the object (kubectl edit, a patch) are drift and taken back; fields another manager
    /// *applies* are a conflict unless `force_conflicts`.
    async fn apply_with_rules(
        &self,
        api: &Api<DynamicObject>,
        identity: &Identity,
        object: &serde_json::Value,
        manager: &str,
        force: bool,
        dry_run: bool,
    ) -> Result<serde_json::Value, kube::Error> {
        match self.patch(api, identity, object, manager, force, dry_run).await {
            Err(kube::Error::Api(status)) if status.code == 409 && !force => {
                let managers = fields::conflicting_managers(&status.message);
                self.count();
                let live = retrying(|| api.get(&identity.name)).await?;
                let live = serde_json::to_value(live).unwrap_or_default();
                if fields::only_updates(&live, &managers) {
                    self.patch(api, identity, object, manager, true, dry_run).await
                } else {
                    Err(kube::Error::Api(status))
                }
            }
            other => other,
        }
    }
}

#[async_trait]
impl Provider for Kubernetes {
    fn name(&self) -> &str {
        "kubernetes"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), Diagnostics> {
        let _ = self.config.set(request.config);
        Ok(())
    }

    fn api_calls(&self) -> Option<u64> {
        Some(self.calls.load(Ordering::Relaxed))
    }

    /// Namespaces and CRDs first: the objects of a wave live in them.
    fn phase(&self, _kind: &str, value: &Value) -> u8 {
        let kind = attr(attr(value, "manifest"), "kind");
        u8::from(!matches!(kind.as_str(), Some("Namespace" | "CustomResourceDefinition")))
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        let schema = self.schema.resources.get(&request.kind).map(|r| &r.block);
        let mut response = plan_by_schema(schema, &request);
        let manifest_value = attr(&request.config, "manifest").clone();
        let Some(manifest) = manifest_value.is_wholly_known().then(|| manifest_value.to_json()).flatten() else {
            if let Value::Map(map) = &mut response.planned {
                map.insert("object".into(), Value::Unknown);
                map.insert("id".into(), Value::Unknown);
            }
            return Ok(response);
        };
        let Some(identity) = Identity::of(&manifest) else {
            return Err(Diagnostic::error(
                "Invalid Kubernetes manifest",
                "A manifest needs `apiVersion`, `kind` and `metadata.name`.",
            )
            .into());
        };
        if let Value::Map(map) = &mut response.planned {
            map.insert("manifest".into(), manifest::to_value(&manifest));
            map.insert("id".into(), Value::string(identity.id()));
        }
        if let Some(prior) = &request.prior {
            let before = attr(prior, "manifest").to_json().unwrap_or_default();
            let reason = if Identity::of(&before).is_some_and(|b| b != identity) {
                Some("because the object's apiVersion, kind, namespace or name changes".to_string())
            } else {
                manifest::replace_reason(&identity.kind, &before, &manifest)
            };
            if let Some(reason) = reason {
                response.requires_replace.push(vec!["manifest".into()]);
                response.replace_reason = Some(reason);
            }
        }
        if !response.requires_replace.is_empty() {
            if let Value::Map(map) = &mut response.planned {
                map.insert("object".into(), Value::Unknown);
            }
            return Ok(response);
        }
        // Nothing to ask when the live object already has every value the manifest applies:
        // a no-change plan of many objects costs no call per object.
        let applied = manifest::applied(&manifest);
        if let Some(prior) = &request.prior
            && attr(prior, "object").to_json().is_some_and(|live| {
                let mut expected = fields::project(&applied, &applied);
                // The namespace the object was given when the manifest names none.
                if applied["metadata"]["namespace"].is_null() && live["metadata"]["namespace"].is_string() {
                    expected["metadata"]["namespace"] = live["metadata"]["namespace"].clone();
                }
                live == expected
            })
        {
            if let Value::Map(map) = &mut response.planned {
                map.insert("object".into(), attr(prior, "object").clone());
            }
            return Ok(response);
        }
        // The API server's answer to the apply, without storing it.
        let manager = Kubernetes::manager(&request.config);
        let force = attr(&request.config, "force_conflicts").as_bool().unwrap_or(false);
        if identity.kind == "CustomResourceDefinition"
            && let Ok(mut planned) = self.planned_kinds.lock()
        {
            planned.extend(structural::schemas(&manifest));
        }
        let object = match self.api(&identity).await {
            // A kind a CRD of this plan defines: known once that CRD is applied; the fields
            // its schema will prune are named now.
            Err(_)
                if let Some(schema) = self
                    .planned_kinds
                    .lock()
                    .ok()
                    .and_then(|p| p.get(&format!("{}/{}", identity.api_version, identity.kind)).cloned()) =>
            {
                if schema.is_object() {
                    for path in structural::unknown_fields(&manifest, &schema) {
                        response.warnings.push(pruned_field(&identity, &path));
                    }
                }
                Value::Unknown
            }
            Err(client::Unresolved::Failed(message)) => {
                return Err(Diagnostic::error("Kubernetes API error", format!("{}: {message}", identity.id())).into());
            }
            Err(client::Unresolved::Missing(message)) => {
                return Err(Diagnostic::error("Unknown kind", format!("{}: {message}.", identity.id()))
                    .with_hint("install the CRD that defines it (or add it to this configuration), or check `apiVersion` and `kind`")
                    .into());
            }
            Ok((api, _)) => {
                match self.apply_with_rules(&api, &identity, &applied, &manager, force, true).await {
                    Ok(result) => {
                        for path in fields::dropped(&applied, &result) {
                            response.warnings.push(pruned_field(&identity, &path));
                        }
                        manifest::to_value(&fields::project(&result, &applied))
                    }
                    // The namespace is created by this plan.
                    Err(error) if is_code(&error, 404) => Value::Unknown,
                    Err(error) => return Err(api_error(&identity.id(), &error).into()),
                }
            }
        };
        if let Value::Map(map) = &mut response.planned {
            map.insert("object".into(), object);
        }
        Ok(response)
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        self.client().await?;
        match (&request.prior, &request.planned) {
            (_, Some(planned)) => {
                let manifest = attr(planned, "manifest").to_json().unwrap_or_default();
                let identity = Identity::of(&manifest).ok_or_else(|| {
                    Diagnostics::from(Diagnostic::error("Invalid Kubernetes manifest", "no identity"))
                })?;
                let manager = Kubernetes::manager(planned);
                let force = attr(planned, "force_conflicts").as_bool().unwrap_or(false);
                // Kinds of CRDs and namespaces applied in the same wave: wait for them to appear.
                let started = Instant::now();
                let (api, result) = loop {
                    let attempt: Result<(), Diagnostic> = match self.api(&identity).await {
                        Err(message) => Err(Diagnostic::error("Unknown kind", format!("{}: {message}", identity.id()))
                            .with_hint("install the CRD that defines it, or check `apiVersion` and `kind`")),
                        Ok((api, _)) => match self
                            .apply_with_rules(&api, &identity, &manifest::applied(&manifest), &manager, force, false)
                            .await
                        {
                            Ok(result) => break (api, result),
                            Err(error) if is_code(&error, 404) => Err(api_error(&identity.id(), &error)),
                            Err(error) => return Err(api_error(&identity.id(), &error).into()),
                        },
                    };
                    if started.elapsed() > Duration::from_secs(30) {
                        return Err(attempt.err().map(Diagnostics::from).unwrap_or_default());
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                };
                self.wait_healthy(&api, &identity, planned, request.prior.is_none()).await?;
                Ok(ApplyResponse { new: Some(Kubernetes::state(planned, &result)) })
            }
            (Some(prior), None) => {
                let manifest = attr(prior, "manifest").to_json().unwrap_or_default();
                let Some(identity) = Identity::of(&manifest) else { return Ok(ApplyResponse { new: None }) };
                let Ok((api, _)) = self.api(&identity).await else { return Ok(ApplyResponse { new: None }) };
                let params = DeleteParams {
                    propagation_policy: Some(kube::api::PropagationPolicy::Background),
                    ..DeleteParams::default()
                };
                self.count();
                match retrying(|| api.delete(&identity.name, &params)).await {
                    Err(error) if is_code(&error, 404) => return Ok(ApplyResponse { new: None }),
                    Err(error) => return Err(api_error(&identity.id(), &error).into()),
                    Ok(_) => {}
                }
                let limit = health::timeout(text(attr(prior, "timeouts"), "delete"), Duration::from_secs(300));
                let started = Instant::now();
                loop {
                    self.count();
                    match retrying(|| api.get_opt(&identity.name)).await {
                        Ok(None) => return Ok(ApplyResponse { new: None }),
                        Ok(Some(live)) if started.elapsed() > limit => {
                            let finalizers = live.metadata.finalizers.unwrap_or_default().join(", ");
                            return Err(Diagnostic::error(
                                "Timed out deleting the object",
                                format!(
                                    "{} still exists after {} s; finalizers holding it: {finalizers}",
                                    identity.id(),
                                    limit.as_secs()
                                ),
                            )
                            .into());
                        }
                        Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(200)).await,
                        Err(error) => return Err(api_error(&identity.id(), &error).into()),
                    }
                }
            }
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
        if let Err(errors) = self.client().await {
            return requests.iter().map(|_| Err(errors.clone())).collect();
        }
        // One LIST per kind and namespace, by the managed-by label.
        let mut groups: BTreeMap<(String, String, Option<String>), Vec<usize>> = BTreeMap::new();
        let identities: Vec<Option<Identity>> =
            requests.iter().map(|r| attr(&r.current, "manifest").to_json().and_then(|m| Identity::of(&m))).collect();
        for (index, identity) in identities.iter().enumerate() {
            if let Some(identity) = identity {
                groups
                    .entry((identity.api_version.clone(), identity.kind.clone(), identity.namespace.clone()))
                    .or_default()
                    .push(index);
            }
        }
        let lists = join_all(groups.into_iter().map(|((_, _, _), indexes)| {
            let identity = identities[indexes[0]].clone();
            async move {
                let Some(identity) = identity else { return (indexes, Ok(BTreeMap::new())) };
                let Ok((api, _)) = self.api(&identity).await else { return (indexes, Ok(BTreeMap::new())) };
                self.count();
                let params = ListParams::default().labels(&format!("{MANAGED_BY}=infra"));
                let listed = retrying(|| api.list(&params)).await;
                let found = listed.map(|list| {
                    list.items
                        .into_iter()
                        .filter(|o| identity.namespace.is_none() || o.metadata.namespace == identity.namespace)
                        .filter_map(|o| Some((o.metadata.name.clone()?, serde_json::to_value(o).ok()?)))
                        .collect::<BTreeMap<String, serde_json::Value>>()
                });
                (indexes, found.map_err(|e| api_error(&identity.id(), &e)))
            }
        }))
        .await;
        let mut answers: Vec<Option<Result<ReadResponse, Diagnostics>>> = requests.iter().map(|_| None).collect();
        for (indexes, found) in lists {
            for index in indexes {
                let request = &requests[index];
                answers[index] = Some(match &found {
                    Err(error) => Err(error.clone().into()),
                    Ok(found) => {
                        let name = identities[index].as_ref().map(|i| i.name.clone()).unwrap_or_default();
                        match found.get(&name) {
                            Some(live) => Ok(ReadResponse { current: Some(Kubernetes::state(&request.current, live)) }),
                            // Not labelled (adopted by import, or relabelled): one GET.
                            None => self.read_one(&request.current, identities[index].as_ref()).await,
                        }
                    }
                });
            }
        }
        answers.into_iter().map(|a| a.unwrap_or(Ok(ReadResponse { current: None }))).collect()
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        let identity = Identity::parse(&request.id).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import id",
                format!("`{}`: expected `apiVersion/kind/namespace/name` (e.g. `apps/v1/Deployment/shop/api`) or `apiVersion/kind/name`", request.id),
            ))
        })?;
        self.client().await?;
        let stub = json!({"apiVersion": identity.api_version, "kind": identity.kind, "metadata": {"name": identity.name, "namespace": identity.namespace}});
        let current = Value::Map(BTreeMap::from([("manifest".to_string(), Value::from_json(&stub))]));
        match self.read_one(&current, Some(&identity)).await? {
            ReadResponse { current: Some(current) } => Ok(ImportResponse { current }),
            ReadResponse { current: None } => Err(Diagnostic::error(
                "Cannot import non-existent remote object",
                format!("There is no {} `{}` in the cluster.", identity.kind, identity.id()),
            )
            .into()),
        }
    }
}

impl Kubernetes {
    async fn read_one(&self, current: &Value, identity: Option<&Identity>) -> Result<ReadResponse, Diagnostics> {
        let Some(identity) = identity else { return Ok(ReadResponse { current: None }) };
        let Ok((api, _)) = self.api(identity).await else { return Ok(ReadResponse { current: None }) };
        self.count();
        match retrying(|| api.get_opt(&identity.name)).await {
            Ok(Some(live)) => {
                let live = serde_json::to_value(live).unwrap_or_default();
                let mut state = Kubernetes::state(current, &live);
                if let Value::Map(map) = &mut state {
                    for name in self.schema.resources["kubernetes_manifest"].block.attributes.keys() {
                        map.entry(name.clone()).or_insert(Value::Null);
                    }
                    for name in ["wait", "timeouts"] {
                        map.entry(name.to_string()).or_insert(Value::Null);
                    }
                }
                Ok(ReadResponse { current: Some(state) })
            }
            Ok(None) => Ok(ReadResponse { current: None }),
            Err(error) => Err(api_error(&identity.id(), &error).into()),
        }
    }
}
