//! The apply walk: carry out a plan, in dependency order, with bounded parallelism.
//!
//! The module walk runs again with every value now known as it becomes known: at each wave the
//! [`Applier`] re-evaluates each changed instance's configuration, asks the provider for its
//! final plan (which must agree with the saved one), applies it, and records the result in the
//! state journal before reporting it. All instances of a wave run concurrently, at most
//! `parallelism` at a time. A failure stops only what depends on it; independent work goes on,
//! and every error is reported at the end. Deletes of objects no longer in configuration run
//! last, dependents first.
//!
//! State is never rewritten per resource: each finished change is one appended journal line
//! (written at once, so a killed process loses nothing; fsynced once per wave), and the journal
//! is folded into one new snapshot at the end — or by the next run, after a crash.

use crate::addr::{Mode, Target};
use crate::config::LoadedConfig;
use crate::eval::Scope;
use crate::graph::select::Selection;
use crate::graph::walk::{EvalOptions, Phases, ResourceHandler, ResourceItem, Work, walk};
use crate::module_eval::collect;
use crate::objects::{config_object, copy_marks, mark_schema_sensitive, to_state};
use crate::plan::planner::{PriorInstance, depends_on_any, prior_instances};
use crate::plan::{Action, Plan, ReplaceOrder, ResourceChange};
use crate::registry::Registry;
use crate::runtime::block_on;
use infra_provider::contract::{check_new, check_planned};
use infra_provider::{
    ApplyRequest, Diagnostic, Diagnostics, PlanRequest, Provider, ReadDataRequest, Value, values_equal,
};
use infra_state::{Backend, JournalEntry, Lease, ResourceState, Snapshot};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the apply reports as it goes (progress lines).
pub trait Progress: Send + Sync {
    /// An instance starts (`Creating...`).
    fn started(&self, address: &str, action: Action);
    /// An instance finished (`Creation complete after 2s [id=...]`).
    fn finished(&self, address: &str, action: Action, elapsed: std::time::Duration, id: Option<&str>);
}

/// Prints nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn started(&self, _: &str, _: Action) {}
    fn finished(&self, _: &str, _: Action, _: std::time::Duration, _: Option<&str>) {}
}

/// How to apply.
pub struct ApplyOptions<'a> {
    /// Instances applied at once.
    pub parallelism: usize,
    /// Set by Ctrl-C: start nothing new.
    pub interrupted: Arc<AtomicBool>,
    /// Progress lines.
    pub progress: &'a dyn Progress,
    /// `terraform.workspace`.
    pub workspace: String,
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Instances changed.
    pub applied: usize,
    /// The new snapshot, written.
    pub snapshot: Option<Snapshot>,
    /// Whether Ctrl-C stopped it early.
    pub interrupted: bool,
    /// The root module's names after apply (as [`crate::plan::Plan::root_values`]).
    pub root_values: BTreeMap<String, Value>,
}

/// Checks that a final plan agrees with the saved one: every value the saved plan knew.
fn consistent(saved: &Value, fresh: &Value, path: &str) -> Result<(), String> {
    match (saved.bare(), fresh.bare()) {
        (Value::Unknown, _) => Ok(()),
        (Value::Map(s), Value::Map(f)) => {
            for (key, value) in s {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                consistent(value, f.get(key).unwrap_or(&Value::Null), &child)?;
            }
            Ok(())
        }
        (Value::List(s), Value::List(f)) if s.len() == f.len() => {
            s.iter().zip(f).enumerate().try_for_each(|(index, (s, f))| consistent(s, f, &format!("{path}[{index}]")))
        }
        // A collection with unknown parts may take any shape once they are known.
        (s @ (Value::List(_) | Value::Set(_)), _) if !s.is_wholly_known() => Ok(()),
        (s, f) if values_equal(s, f) => Ok(()),
        _ => Err(format!("planned a different value for `{path}` at apply than in the saved plan")),
    }
}

struct Shared<'a> {
    backend: &'a dyn Backend,
    failed: Mutex<BTreeSet<String>>,
    diagnostics: Mutex<Diagnostics>,
    applied: std::sync::atomic::AtomicUsize,
    options: &'a ApplyOptions<'a>,
    /// Idempotency keys of creates a crashed run sent (from the state's `pending`).
    pending: BTreeMap<String, String>,
    /// The lock this run holds: every journal append is fenced with it, so a run that was
    /// paused past its lease's expiry cannot record anything over a newer run's state.
    lease: Option<&'a Lease>,
}

impl Shared<'_> {
    fn fail(&self, address: &str, errors: Diagnostics) {
        self.failed.lock().unwrap_or_else(|p| p.into_inner()).insert(address.to_string());
        let mut diagnostics = self.diagnostics.lock().unwrap_or_else(|p| p.into_inner());
        diagnostics.extend(
            errors.into_iter().map(|d| if d.address.is_none() { d.for_address(address.to_string()) } else { d }),
        );
    }

    fn blocked(&self, dependencies: &[String]) -> Option<String> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.iter().find(|f| depends_on_any(f, dependencies)).cloned()
    }

    fn record(&self, entry: JournalEntry) -> Result<(), Diagnostics> {
        self.backend
            .journal_append(&[entry], self.lease)
            .map_err(|e| Diagnostics::from(Diagnostic::error("Failed to record the change in state", e.to_string())))
    }
}

fn resource_state(
    change: &ResourceChange,
    value: &Value,
    cbd: bool,
    provider: Option<&dyn Provider>,
) -> Box<ResourceState> {
    let (attributes, sensitive_attributes) = to_state(value);
    let kind = &change.addr.kind;
    Box::new(ResourceState {
        mode: change.addr.mode.as_str().to_string(),
        kind: kind.clone(),
        provider: change.provider.clone(),
        schema_version: provider.and_then(|p| p.schema().resources.get(kind).map(|s| s.version)).unwrap_or(0),
        attributes,
        sensitive_attributes,
        dependencies: change.dependencies.clone(),
        create_before_destroy: cbd,
        private: provider.and_then(|p| crate::objects::private_text(p, kind, value)),
        plugin: provider.and_then(|p| p.plugin()).map(str::to_string),
    })
}

/// One instance's work: everything it needs, evaluated on the walk's thread.
struct Unit {
    change: ResourceChange,
    config: Option<Value>,
    provider: Arc<dyn Provider>,
    create_before_destroy: bool,
    /// Where a data source may read local files (`ReadDataRequest::files_within`).
    files_within: Option<std::path::PathBuf>,
}

async fn run_unit(unit: &Unit, shared: &Shared<'_>, permits: &tokio::sync::Semaphore) -> Option<Value> {
    let change = &unit.change;
    let address = change.address();
    let address = address.as_str();
    if let Some(failed) = shared.blocked(&change.dependencies) {
        shared.fail(
            address,
            Diagnostic::warning(
                "Skipped",
                format!("`{address}` was not changed because `{failed}`, which it depends on, failed."),
            )
            .into(),
        );
        return None;
    }
    if shared.options.interrupted.load(Ordering::SeqCst) {
        return None;
    }
    let _permit = permits.acquire().await.ok()?;
    if shared.options.interrupted.load(Ordering::SeqCst) {
        return None;
    }
    let started = Instant::now();
    let action = change.change.action;
    shared.options.progress.started(address, action);
    let provider = unit.provider.as_ref();
    let kind = change.addr.kind.clone();
    // A create that a crashed run already sent is retried with the key it used.
    let key = shared.pending.get(address).cloned().unwrap_or_else(|| format!("{address}/{}", uuid::Uuid::new_v4()));
    let prior = change.change.before.clone();
    // A result that breaks the contract is still recorded (the object exists), then reported.
    let inconsistent: std::sync::Mutex<Option<Diagnostics>> = std::sync::Mutex::new(None);
    let tolerated = |message: &str| crate::plan::planner::tolerated(provider, &kind, message);
    let result: Result<Option<Value>, Diagnostics> = async {
        let create = |prior: Option<Value>| async {
            let config = unit.config.clone().unwrap_or(Value::Null);
            let fresh = provider
                .plan(PlanRequest {
                    kind: kind.clone(),
                    prior: prior.clone(),
                    proposed: config.clone(),
                    config: config.clone(),
                })
                .await?;
            if let Err(message) = check_planned(&config, &fresh.planned)
                && !tolerated(&message)
            {
                return Err(blame(provider, "invalid plan", &message));
            }
            if let Some(saved) = &change.change.after
                && let Err(message) = consistent(saved, &fresh.planned, "")
                && !tolerated(&message)
            {
                return Err(blame(provider, "inconsistent final plan", &message));
            }
            if prior.is_none() && change.addr.mode == Mode::Managed {
                shared.record(JournalEntry::Intent { address: address.to_string(), key: key.clone() })?;
            }
            let new = provider
                .apply(ApplyRequest {
                    kind: kind.clone(),
                    prior,
                    planned: Some(fresh.planned.clone()),
                    idempotency_key: key.clone(),
                    config: config.clone(),
                })
                .await?
                .new
                .ok_or_else(|| blame(provider, "no object", "returned no object after a create or update"))?;
            if let Err(message) = check_new(&fresh.planned, &new)
                && !tolerated(&message)
            {
                *inconsistent.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(blame(provider, "inconsistent result after apply", &message));
            }
            Ok::<Value, Diagnostics>(new)
        };
        let delete = |prior: Option<Value>| async {
            provider
                .apply(ApplyRequest {
                    kind: kind.clone(),
                    prior,
                    planned: None,
                    idempotency_key: key.clone(),
                    config: Value::Null,
                })
                .await
                .map(|_| ())
        };
        match action {
            Action::Create | Action::Update => {
                let prior = if action == Action::Create { None } else { prior.clone() };
                create(prior).await.map(Some)
            }
            Action::Replace(ReplaceOrder::DestroyBeforeCreate) => {
                delete(prior.clone()).await?;
                shared.record(JournalEntry::Remove { address: address.to_string() })?;
                create(None).await.map(Some)
            }
            Action::Replace(ReplaceOrder::CreateBeforeDestroy) => {
                let new = create(None).await?;
                delete(prior.clone()).await?;
                Ok(Some(new))
            }
            Action::Delete => delete(prior.clone()).await.map(|_| None),
            Action::Read => {
                let config = unit.config.clone().unwrap_or(Value::Null);
                let files_within = unit.files_within.clone();
                provider
                    .read_data(ReadDataRequest { kind: kind.clone(), config, files_within })
                    .await
                    .map(|r| Some(r.state))
            }
            Action::NoOp => Ok(prior.clone()),
            Action::Forget => Ok(None),
        }
    }
    .await;
    match result {
        Ok(new) => {
            // The provider's answer is built afresh: the marks of the configuration it was
            // applied from (and, for an unchanged object, of its prior state) go back on it,
            // so a value derived from a secret is recorded as sensitive.
            let new = new.map(|value| match (&unit.config, action) {
                (Some(config), _) => copy_marks(config, value),
                (None, Action::NoOp) => copy_marks(prior.as_ref().unwrap_or(&Value::Null), value),
                (None, _) => value,
            });
            let new = match provider.schema().resources.get(&change.addr.kind) {
                Some(schema) => new.map(|v| mark_schema_sensitive(v, &schema.block)),
                None => new,
            };
            let entry = match &new {
                Some(value) if change.addr.mode == Mode::Managed => Some(JournalEntry::Set {
                    address: address.to_string(),
                    resource: resource_state(change, value, unit.create_before_destroy, Some(provider)),
                }),
                None => Some(JournalEntry::Remove { address: address.to_string() }),
                Some(_) => None,
            };
            if let Some(entry) = entry
                && let Err(errors) = shared.record(entry)
            {
                shared.fail(address, errors);
                return None;
            }
            shared.applied.fetch_add(1, Ordering::SeqCst);
            if let Some(errors) = inconsistent.lock().unwrap_or_else(|p| p.into_inner()).take() {
                shared.fail(address, errors);
                return None;
            }
            let id = new
                .as_ref()
                .and_then(|v| v.as_map())
                .and_then(|m| m.get("id"))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            shared.options.progress.finished(address, action, started.elapsed(), id.as_deref());
            new
        }
        Err(errors) => {
            shared.fail(address, errors);
            None
        }
    }
}

/// Runs a wave's units phase by phase (the provider's [`Provider::phase`]: a Kubernetes
/// namespace before the objects in it; deletes in the reverse order); each phase concurrently.
/// Results come back in the order of `units`.
fn run_phases(
    units: &[Unit],
    shared: &Shared<'_>,
    permits: &tokio::sync::Semaphore,
    deleting: bool,
) -> Vec<Option<Value>> {
    let phase_of: Vec<u8> = units
        .iter()
        .map(|unit| {
            let value =
                unit.change.change.after.as_ref().or(unit.change.change.before.as_ref()).unwrap_or(&Value::Null);
            unit.provider.phase(&unit.change.addr.kind, value)
        })
        .collect();
    let mut phases = phase_of.clone();
    phases.sort_unstable();
    phases.dedup();
    if deleting {
        phases.reverse();
    }
    let mut results: Vec<Option<Value>> = vec![None; units.len()];
    for current in phases {
        let indexes: Vec<usize> = (0..units.len()).filter(|&i| phase_of[i] == current).collect();
        let outcomes =
            block_on(futures::future::join_all(indexes.iter().map(|&i| run_unit(&units[i], shared, permits))));
        for (index, outcome) in indexes.into_iter().zip(outcomes) {
            results[index] = outcome;
        }
    }
    results
}

fn blame(provider: &dyn Provider, what: &str, message: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Provider produced {what}"),
        format!("The provider `{}` {message}. This is a bug in the provider.", provider.name()),
    )
    .into()
}

struct Applier<'a> {
    registry: &'a Registry,
    changes: &'a BTreeMap<String, ResourceChange>,
    /// State instances the plan does not cover (targeted away).
    prior: &'a BTreeMap<String, PriorInstance>,
    /// Instances refresh found changed outside infra: their new values go into state.
    drifted: BTreeSet<String>,
    shared: &'a Shared<'a>,
    permits: &'a tokio::sync::Semaphore,
    phases: Phases,
    visited: Mutex<BTreeSet<String>>,
}

impl ResourceHandler for Applier<'_> {
    fn resource<'s>(&'s self, item: ResourceItem<'s>, scope: &Scope, diagnostics: &mut Diagnostics) -> Work<'s> {
        let resource = item.resource;
        let mut values = vec![Value::Unknown; item.instances.len()];
        let Some((_, provider)) = self.registry.for_resource(&resource.kind, resource.provider.as_deref()) else {
            return Work::Done(collect(&item.instances, values));
        };
        let schemas =
            if resource.mode == Mode::Data { &provider.schema().data_sources } else { &provider.schema().resources };
        let mut units = Vec::new();
        for (position, instance) in item.instances.iter().enumerate() {
            let address = item.address(instance).to_string();
            self.visited.lock().unwrap_or_else(|p| p.into_inner()).insert(address.clone());
            let Some(change) = self.changes.get(&address) else {
                // Not in the plan (targeted away, or a known data source): as state has it.
                values[position] = self.prior.get(&address).map(|p| p.value.clone()).unwrap_or(Value::Unknown);
                continue;
            };
            let managed = change.addr.mode == Mode::Managed;
            if change.change.action == Action::NoOp {
                let journaled = managed
                    && (self.drifted.contains(&address) || change.prev_addr.is_some() || change.import_id.is_some());
                if !item.referenced && !journaled {
                    continue;
                }
                let value = change.change.after.clone().unwrap_or(Value::Null);
                if journaled {
                    // Refreshed, moved or imported: the state takes the object as it is.
                    if let Some(from) = &change.prev_addr {
                        let _ = self.shared.record(JournalEntry::Remove { address: from.to_string() });
                    }
                    let _ = self.shared.record(JournalEntry::Set {
                        address: address.clone(),
                        resource: resource_state(
                            change,
                            &value,
                            resource.lifecycle.create_before_destroy,
                            Some(provider.as_ref()),
                        ),
                    });
                }
                values[position] = value;
                continue;
            }
            let bindings: Vec<(&str, Value)> = instance.binding.iter().cloned().collect();
            let config = match schemas.get(&resource.kind) {
                Some(schema) => config_object(&resource.body, &schema.block, scope, &bindings, &address, diagnostics),
                None => None,
            };
            if config.is_none() && change.change.action != Action::Delete {
                self.shared.failed.lock().unwrap_or_else(|p| p.into_inner()).insert(address.clone());
                continue;
            }
            if let Some(from) = &change.prev_addr {
                let _ = self.shared.record(JournalEntry::Remove { address: from.to_string() });
            }
            let value = change.change.after.as_ref().or(change.change.before.as_ref()).unwrap_or(&Value::Null);
            let phase = provider.phase(&change.addr.kind, value);
            self.phases.enter(provider.name(), phase);
            units.push((
                position,
                phase,
                Unit {
                    change: change.clone(),
                    config,
                    provider: provider.clone(),
                    create_before_destroy: resource.lifecycle.create_before_destroy,
                    files_within: scope.files.confine.clone(),
                },
            ));
        }
        if units.is_empty() {
            return Work::Done(collect(&item.instances, values));
        }
        // Postconditions are checked against each applied object (`self`).
        let post_scope = (!resource.lifecycle.postconditions.is_empty()).then(|| scope.clone());
        Work::Pending(Box::pin(async move {
            let name = provider.name();
            let results = futures::future::join_all(units.iter().map(|(_, phase, unit)| async move {
                self.phases.wait(name, *phase).await;
                let result = run_unit(unit, self.shared, self.permits).await;
                self.phases.leave(name, *phase);
                result
            }))
            .await;
            let mut diagnostics = Diagnostics::new();
            for ((position, _, unit), result) in units.iter().zip(results) {
                if let (Some(scope), Some(new)) = (&post_scope, &result) {
                    let mut bindings: Vec<(&str, Value)> = item.instances[*position].binding.iter().cloned().collect();
                    bindings.push(("self", new.clone()));
                    crate::module_eval::check_conditions(
                        &resource.lifecycle.postconditions,
                        scope,
                        &bindings,
                        "Resource postcondition failed",
                        &unit.change.address(),
                        &mut diagnostics,
                    );
                }
                if item.referenced {
                    values[*position] = result.unwrap_or(Value::Unknown);
                }
            }
            (collect(&item.instances, values), diagnostics)
        }))
    }
}

/// Deletes in dependency order: an object goes only after everything that depends on it (from
/// the dependencies recorded with each).
fn delete_order(deletes: Vec<ResourceChange>) -> Vec<Vec<ResourceChange>> {
    // Instances by resource type and name, to find what a dependency names without a scan.
    let mut by_name: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (index, change) in deletes.iter().enumerate() {
        by_name.entry((change.addr.kind.as_str(), change.addr.name.as_str())).or_default().push(index);
    }
    // dependents[j]: the deletes that must run before delete j.
    let mut waiting = vec![0usize; deletes.len()];
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); deletes.len()];
    for (dependent, change) in deletes.iter().enumerate() {
        let mut found = BTreeSet::new();
        for dependency in change.dependencies.iter().filter_map(|d| d.parse::<Target>().ok()) {
            let candidates: Box<dyn Iterator<Item = usize>> = match &dependency {
                Target::Resource(resource) => Box::new(
                    by_name.get(&(resource.kind.as_str(), resource.name.as_str())).into_iter().flatten().copied(),
                ),
                Target::Module(_) => Box::new(0..deletes.len()),
            };
            for candidate in candidates {
                if candidate != dependent && dependency.contains(&deletes[candidate].addr) {
                    found.insert(candidate);
                }
            }
        }
        for dependency in found {
            waiting[dependency] += 1;
            unblocks[dependent].push(dependency);
        }
    }
    let mut slots: Vec<Option<ResourceChange>> = deletes.into_iter().map(Some).collect();
    let mut ready: Vec<usize> = (0..slots.len()).filter(|&i| waiting[i] == 0).collect();
    let mut waves = Vec::new();
    while !ready.is_empty() {
        let mut next = Vec::new();
        for &index in &ready {
            for &dependency in &unblocks[index] {
                waiting[dependency] -= 1;
                if waiting[dependency] == 0 {
                    next.push(dependency);
                }
            }
        }
        waves.push(ready.iter().filter_map(|&i| slots[i].take()).collect());
        ready = next;
    }
    // A dependency cycle in stale state: delete the rest together.
    let rest: Vec<ResourceChange> = slots.into_iter().flatten().collect();
    if !rest.is_empty() {
        waves.push(rest);
    }
    waves
}

/// The part of a snapshot the plan does not cover.
fn uncovered(snapshot: &Snapshot, plan: &Plan) -> Snapshot {
    let covered: BTreeSet<String> = plan.changes.iter().map(ResourceChange::address).collect();
    Snapshot {
        resources: snapshot
            .resources
            .iter()
            .filter(|(a, _)| !covered.contains(a.as_str()))
            .map(|(a, r)| (a.clone(), r.clone()))
            .collect(),
        outputs: BTreeMap::new(),
        ..Snapshot::new()
    }
}

/// Applies a plan. The caller holds the lock (`lease`) and has checked that the plan was made
/// against the current state (`snapshot`, taken by value so a large state is held once).
pub fn apply(
    config: &LoadedConfig,
    plan: &Plan,
    snapshot: Option<Snapshot>,
    registry: &Registry,
    backend: &dyn Backend,
    lease: Option<&Lease>,
    options: &ApplyOptions<'_>,
) -> (Outcome, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    registry.configure(config, &plan.variables, &mut diagnostics);
    if diagnostics.has_errors() {
        return (Outcome::default(), diagnostics);
    }
    // The state's attributes become values once; the JSON is dropped at once.
    // Instances the plan covers are taken from the plan; only the rest are converted.
    let prior = prior_instances(snapshot.as_ref().map(|s| uncovered(s, plan)).as_ref(), registry, &mut diagnostics);
    let had_outputs = snapshot.as_ref().is_some_and(|s| !s.outputs.is_empty());
    let pending = snapshot.as_ref().map(|s| s.pending.clone()).unwrap_or_default();
    // Objects the plan leaves alone whose stored dependencies are not the configuration's (an
    // imported object has none): they are recorded again, so a later destroy orders them right.
    let stale_dependencies: BTreeSet<String> = snapshot
        .as_ref()
        .map(|snapshot| {
            plan.changes
                .iter()
                .filter(|c| c.addr.mode == Mode::Managed && c.change.action == Action::NoOp)
                .filter(|c| snapshot.resources.get(&c.address()).is_some_and(|r| r.dependencies != c.dependencies))
                .map(|c| c.address())
                .collect()
        })
        .unwrap_or_default();
    drop(snapshot);
    let changes: BTreeMap<String, ResourceChange> = plan.changes.iter().map(|c| (c.address(), c.clone())).collect();
    let shared = Shared {
        backend,
        failed: Mutex::new(BTreeSet::new()),
        diagnostics: Mutex::new(Diagnostics::new()),
        applied: std::sync::atomic::AtomicUsize::new(0),
        options,
        pending,
        lease,
    };
    let permits = tokio::sync::Semaphore::new(options.parallelism.max(1));
    // Refresh-only: the state takes the drift.
    for drift in plan.drift.iter().filter(|_| plan.refresh_only) {
        let entry = match &drift.change.after {
            Some(after) => {
                let provider = registry.for_resource(&drift.addr.kind, Some(&drift.provider)).map(|(_, p)| p);
                JournalEntry::Set {
                    address: drift.address(),
                    resource: resource_state(drift, after, false, provider.as_deref()),
                }
            }
            None => JournalEntry::Remove { address: drift.address() },
        };
        if let Err(errors) = shared.record(entry) {
            diagnostics.extend(errors);
        }
    }
    // `removed` with `destroy = false`: out of state, object left alone.
    for change in plan.changes.iter().filter(|c| c.change.action == Action::Forget) {
        if let Err(errors) = shared.record(JournalEntry::Remove { address: change.address() }) {
            diagnostics.extend(errors);
        }
    }
    let mut outputs = BTreeMap::new();
    let mut visited = BTreeSet::new();
    let mut root_values = BTreeMap::new();
    if !plan.destroy && !plan.refresh_only {
        let applier = Applier {
            registry,
            changes: &changes,
            prior: &prior,
            // Drifted objects, and those with stale dependencies, are recorded as they are.
            drifted: plan.drift.iter().map(|d| d.address()).chain(stale_dependencies).collect(),
            shared: &shared,
            permits: &permits,
            phases: Phases::default(),
            visited: Mutex::new(BTreeSet::new()),
        };
        let eval_options = EvalOptions {
            workspace: options.workspace.clone(),
            expansion_must_be_known: true,
            functions: Some(registry.functions()),
            ..EvalOptions::default()
        };
        let (values, walk_diagnostics) =
            walk(config, &plan.variables, &eval_options, &applier, &Selection::everything());
        diagnostics.extend(walk_diagnostics);
        if let Err(error) = backend.journal_flush() {
            diagnostics.push(Diagnostic::error("Failed to record changes in state", error.to_string()));
        }
        visited = applier.visited.into_inner().unwrap_or_else(|p| p.into_inner());
        diagnostics.extend(crate::module_eval::run_checks(&config.root, &values.scope));
        root_values = values.scope.roots.clone();
        root_values.insert("output".into(), Value::Map(values.outputs.clone()));
        for (name, value) in values.outputs {
            let sensitive = config.root.outputs.get(&name).is_some_and(|o| o.sensitive);
            if value.is_wholly_known() {
                outputs.insert(name, crate::types::output_state(&value, sensitive));
            }
        }
    }
    // Deletes of what is no longer in configuration (or of everything, for destroy).
    let deletes: Vec<ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.change.action == Action::Delete && !visited.contains(&c.address()))
        .cloned()
        .collect();
    for wave in delete_order(deletes) {
        let units: Vec<Unit> = wave
            .into_iter()
            .filter_map(|change| {
                let provider = registry.for_resource(&change.addr.kind, Some(&change.provider)).map(|(_, p)| p)?;
                Some(Unit { change, config: None, provider, create_before_destroy: false, files_within: None })
            })
            .collect();
        run_phases(&units, &shared, &permits, true);
        let _ = backend.journal_flush();
    }
    if !plan.refresh_only
        && (plan.destroy || !outputs.is_empty() || had_outputs)
        && let Err(errors) = shared.record(JournalEntry::Outputs { outputs })
    {
        diagnostics.extend(errors);
    }
    let _ = backend.journal_flush();
    diagnostics.extend(shared.diagnostics.into_inner().unwrap_or_else(|p| p.into_inner()));
    let interrupted = options.interrupted.load(Ordering::SeqCst);
    let snapshot = match backend.read_folded(lease) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                "Failed to save state",
                format!(
                    "{error}. The finished changes are kept in the state journal and will be folded in by the next run."
                ),
            ));
            None
        }
    };
    (Outcome { applied: shared.applied.into_inner(), snapshot, interrupted, root_values }, diagnostics)
}
