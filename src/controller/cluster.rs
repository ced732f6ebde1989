//! In a cluster: stacks declared as `Stack` objects (`infra.dev/v1alpha1`, one CRD for every
//! kind of stack), their status written back as Flux and Argo CD users expect (conditions
//! `Ready`, `Reconciling`, `Stalled` with the commit, plan summary and message), and one
//! `coordination.k8s.io/v1` Lease per stack so that two replicas never reconcile the same
//! stack.
//!
//! Replicas share stacks by a stable hash of the stack name: the replica whose ordinal is
//! `hash % replicas` takes a free or expired Lease at once; the others wait one more lease
//! duration before taking over, so a dead replica's stacks move within about two lease
//! durations, and a live one keeps its own. A replica renews the Leases it holds at a third of
//! their duration and releases them on shutdown.

pub use super::config::ClusterOptions;
use super::config::{StackBlock, StackSpec};
use super::status::{ReconcileResult, StackStatus};
use super::{Controller, StackHandle};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// FNV-1a: a hash that is the same in every build and on every replica.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// The `Stack` resource.
pub fn stack_resource() -> ApiResource {
    ApiResource {
        group: "infra.dev".into(),
        version: "v1alpha1".into(),
        api_version: "infra.dev/v1alpha1".into(),
        kind: "Stack".into(),
        plural: "stacks".into(),
    }
}

/// A `Stack` object's spec as a stack (named `NAMESPACE.NAME`).
///
/// # Errors
///
/// A spec that does not fit (the message goes to the object's `Stalled` condition).
pub fn stack_spec(object: &DynamicObject, options: &ClusterOptions) -> Result<StackSpec, String> {
    let namespace = object.metadata.namespace.as_deref().unwrap_or("default");
    let name = object.metadata.name.as_deref().unwrap_or("");
    let mut spec: StackBlock = serde_json::from_value(object.data["spec"].clone()).map_err(|e| format!("spec: {e}"))?;
    // A key file on the controller's disk is not the object's to name.
    spec.strip_local_paths();
    spec.into_spec(format!("{namespace}.{name}"), options.shared_data_dir)
}

fn micro_time(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// One stack's Lease.
struct LeaseGate {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
    preferred: bool,
    held: AtomicBool,
}

impl LeaseGate {
    fn lease(&self, resource_version: Option<&str>, acquired: Option<&str>, transitions: i64) -> Option<Lease> {
        let now = micro_time(chrono::Utc::now());
        let mut metadata = json!({ "name": self.name });
        if let Some(version) = resource_version {
            metadata["resourceVersion"] = json!(version);
        }
        serde_json::from_value(json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self.duration.as_secs().max(1),
                "acquireTime": acquired.map_or(now.clone(), str::to_string),
                "renewTime": now,
                "leaseTransitions": transitions,
            }
        }))
        .ok()
    }

    /// Takes or renews the Lease; whether this replica holds it now.
    async fn try_hold(&self) -> bool {
        let held = self.attempt().await;
        let was = self.held.swap(held, Ordering::SeqCst);
        if held != was {
            tracing::info!(lease = self.name, identity = self.identity, held, "stack lease changed hands");
        }
        held
    }

    async fn attempt(&self) -> bool {
        let current = match self.api.get_opt(&self.name).await {
            Ok(current) => current,
            Err(error) => {
                tracing::warn!(lease = self.name, %error, "cannot read the stack lease");
                return false;
            }
        };
        let Some(current) = current else {
            let Some(lease) = self.lease(None, None, 0) else { return false };
            return self.api.create(&PostParams::default(), &lease).await.is_ok();
        };
        let value = serde_json::to_value(&current).unwrap_or_default();
        let spec = &value["spec"];
        let holder = spec["holderIdentity"].as_str().unwrap_or("");
        let version = current.metadata.resource_version.as_deref();
        let transitions = spec["leaseTransitions"].as_i64().unwrap_or(0);
        if holder == self.identity {
            let Some(lease) = self.lease(version, spec["acquireTime"].as_str(), transitions) else { return false };
            return self.api.replace(&self.name, &PostParams::default(), &lease).await.is_ok();
        }
        // Bounded: a Lease written by anyone else must not overflow the clock arithmetic below.
        let duration = spec["leaseDurationSeconds"].as_i64().unwrap_or(15).clamp(1, 366 * 24 * 3600);
        let renewed = spec["renewTime"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc));
        let now = chrono::Utc::now();
        let expires = renewed.map(|t| t + chrono::Duration::seconds(duration));
        if !holder.is_empty() {
            if expires.is_some_and(|expires| expires > now) {
                return false;
            }
            // The preferred replica takes an expired Lease at once; the others give it one more
            // lease duration.
            if !self.preferred && expires.is_some_and(|expires| expires + chrono::Duration::seconds(duration) > now) {
                return false;
            }
        }
        let Some(lease) = self.lease(version, None, transitions + 1) else { return false };
        self.api.replace(&self.name, &PostParams::default(), &lease).await.is_ok()
    }

    /// Gives the Lease up (on shutdown), so another replica takes it at once.
    async fn release(&self) {
        if !self.held.swap(false, Ordering::SeqCst) {
            return;
        }
        let patch = json!({ "spec": { "holderIdentity": null, "renewTime": null } });
        let _ = self.api.patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch)).await;
    }
}

/// A stack's ties to the cluster: its Lease and its `Stack` object.
pub struct StackBinding {
    gate: Arc<LeaseGate>,
    stacks: Api<DynamicObject>,
    object: String,
    generation: i64,
    renewer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    transitions: Mutex<BTreeMap<&'static str, (bool, String)>>,
}

impl StackBinding {
    fn new(client: &kube::Client, options: &ClusterOptions, spec: &StackSpec, object: &DynamicObject) -> StackBinding {
        let namespace = object.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let preferred = stable_hash(&spec.name) % options.replicas == options.ordinal;
        StackBinding {
            gate: Arc::new(LeaseGate {
                api: Api::namespaced(client.clone(), &options.namespace),
                name: format!("infra-stack-{}", spec.name.replace('.', "-")).chars().take(63).collect(),
                identity: options.identity.clone(),
                duration: options.lease_duration,
                preferred,
                held: AtomicBool::new(false),
            }),
            stacks: Api::namespaced_with(client.clone(), &namespace, &stack_resource()),
            object: object.metadata.name.clone().unwrap_or_default(),
            generation: object.metadata.generation.unwrap_or(0),
            renewer: Mutex::new(None),
            transitions: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes or keeps the stack's Lease (renewed in the background while held).
    pub async fn hold(&self) -> bool {
        let held = self.gate.try_hold().await;
        let mut renewer = self.renewer.lock().unwrap_or_else(|p| p.into_inner());
        if held && renewer.as_ref().is_none_or(|task| task.is_finished()) {
            let gate = self.gate.clone();
            *renewer = Some(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(gate.duration / 3).await;
                    if !gate.held.load(Ordering::SeqCst) || !gate.try_hold().await {
                        break;
                    }
                }
            }));
        }
        held
    }

    /// How soon a replica without the Lease looks again.
    pub fn retry_interval(&self) -> Duration {
        (self.gate.duration / 3).max(Duration::from_millis(200))
    }

    /// Whether this replica holds the Lease.
    pub fn held(&self) -> bool {
        self.gate.held.load(Ordering::SeqCst)
    }

    fn condition(&self, kind: &'static str, status: bool, reason: &str, message: &str) -> serde_json::Value {
        let mut transitions = self.transitions.lock().unwrap_or_else(|p| p.into_inner());
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let entry = transitions.entry(kind).or_insert((status, now.clone()));
        if entry.0 != status {
            *entry = (status, now);
        }
        json!({
            "type": kind,
            "status": if status { "True" } else { "False" },
            "reason": reason,
            "message": message,
            "lastTransitionTime": entry.1,
            "observedGeneration": self.generation,
        })
    }

    async fn patch(&self, status: serde_json::Value) {
        let patch = json!({ "status": status });
        if let Err(error) = self.stacks.patch_status(&self.object, &PatchParams::default(), &Patch::Merge(&patch)).await
        {
            tracing::warn!(stack = self.object, %error, "cannot write the Stack status");
        }
    }

    /// Marks the object `Reconciling`.
    pub async fn reconciling(&self, status: &StackStatus) {
        let conditions = vec![
            self.ready_condition(status),
            self.condition("Reconciling", true, "Progressing", "fetching, planning and applying"),
            self.stalled_condition(status),
        ];
        self.patch(json!({ "conditions": conditions, "observedGeneration": self.generation })).await;
    }

    fn ready_condition(&self, status: &StackStatus) -> serde_json::Value {
        let commit = status.applied_commit.as_deref().map_or(String::new(), |c| c.chars().take(12).collect());
        match status.last_result {
            Some(ReconcileResult::Applied) => self.condition("Ready", true, "Applied", &format!("applied {commit}")),
            Some(ReconcileResult::NoChanges) => {
                self.condition("Ready", true, "UpToDate", &format!("{commit} is applied; no changes"))
            }
            Some(ReconcileResult::Planned) => {
                self.condition("Ready", false, "ChangesPlanned", "changes are planned; autoApply is off")
            }
            Some(ReconcileResult::Failed) => self.condition(
                "Ready",
                false,
                "ReconcileFailed",
                status.last_error.as_deref().unwrap_or("the reconcile failed"),
            ),
            None => self.condition("Ready", false, "Progressing", "not reconciled yet"),
        }
    }

    fn stalled_condition(&self, status: &StackStatus) -> serde_json::Value {
        if status.failures >= 3 {
            self.condition(
                "Stalled",
                true,
                "RepeatedFailures",
                &format!("{} failures in a row; backing off", status.failures),
            )
        } else {
            self.condition("Stalled", false, "Progressing", "")
        }
    }

    /// Writes the status after a reconcile.
    pub async fn report(&self, status: &StackStatus) {
        let conditions = vec![
            self.ready_condition(status),
            self.condition("Reconciling", false, "Idle", ""),
            self.stalled_condition(status),
        ];
        self.patch(json!({
            "observedGeneration": self.generation,
            "appliedCommit": status.applied_commit,
            "lastCommit": status.last_commit,
            "lastResult": status.last_result.map(ReconcileResult::label),
            "lastError": status.last_error,
            "lastPlan": status.last_plan,
            "resources": status.resources,
            "drifted": status.drifted,
            "conditions": conditions,
        }))
        .await;
    }

    /// Stops renewing and gives the Lease up.
    pub async fn release(&self) {
        let task = self.renewer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            task.abort();
        }
        self.gate.release().await;
    }
}

/// Keeps the controller's cluster stacks in step with the `Stack` objects until it stops.
pub async fn sync(controller: Arc<Controller>, client: kube::Client, options: ClusterOptions) {
    let stacks: Api<DynamicObject> = match &options.stack_namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &stack_resource()),
        None => Api::all_with(client.clone(), &stack_resource()),
    };
    let mut stopping = controller.stopping();
    let mut known: BTreeMap<String, i64> = BTreeMap::new();
    loop {
        match stacks.list(&ListParams::default()).await {
            Ok(list) => {
                let mut seen = BTreeMap::new();
                for object in list.items {
                    let generation = object.metadata.generation.unwrap_or(0);
                    let spec = match stack_spec(&object, &options) {
                        Ok(spec) => spec,
                        Err(error) => {
                            stall(&client, &object, &error).await;
                            continue;
                        }
                    };
                    seen.insert(spec.name.clone(), generation);
                    if known.get(&spec.name) == Some(&generation) {
                        continue;
                    }
                    controller.remove(&spec.name);
                    let binding = StackBinding::new(&client, &options, &spec, &object);
                    tracing::info!(stack = spec.name, generation, "stack from the cluster");
                    controller.add(Arc::new(StackHandle::new(spec, &controller.config.data_dir, Some(binding))));
                }
                for name in known.keys().filter(|name| !seen.contains_key(*name)) {
                    tracing::info!(stack = name.as_str(), "stack deleted from the cluster");
                    controller.remove(name);
                }
                known = seen;
            }
            Err(error) => tracing::warn!(%error, "cannot list Stack objects"),
        }
        tokio::select! {
            () = tokio::time::sleep(options.sync_interval) => {}
            _ = stopping.changed() => break,
        }
    }
}

async fn stall(client: &kube::Client, object: &DynamicObject, error: &str) {
    let Some(name) = &object.metadata.name else { return };
    let namespace = object.metadata.namespace.as_deref().unwrap_or("default");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &stack_resource());
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let patch = json!({ "status": { "conditions": [
        { "type": "Ready", "status": "False", "reason": "InvalidSpec", "message": error, "lastTransitionTime": now },
        { "type": "Stalled", "status": "True", "reason": "InvalidSpec", "message": error, "lastTransitionTime": now },
    ] } });
    if let Err(error) = api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await {
        tracing::warn!(stack = name.as_str(), %error, "cannot write the Stack status");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_stable() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_stack_object_becomes_a_stack() {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "infra.dev/v1alpha1", "kind": "Stack",
            "metadata": { "name": "prod", "namespace": "team-a", "generation": 2 },
            "spec": { "source": { "url": "https://git.example.com/platform.git", "path": "envs/prod" },
                      "interval": "30s", "prune": true, "drift": { "default": "warn" } }
        }))
        .expect("object");
        let options =
            ClusterOptions::from_env("infra-system".into(), None, Duration::from_secs(15), Duration::from_secs(5));
        let spec = stack_spec(&object, &options).expect("spec");
        assert!(!spec.local_state, "replicas with their own volumes need a shared backend");
        assert_eq!(spec.name, "team-a.prod");
        assert_eq!(spec.interval, Duration::from_secs(30));
        assert!(spec.prune && spec.auto_apply);
        assert_eq!(spec.drift_policy("aws_vpc.x"), super::super::config::DriftPolicy::Warn);
    }
}
