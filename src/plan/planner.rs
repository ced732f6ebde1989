//! The planning walk: refresh, then compare every resource instance's configuration with its
//! state through its provider, in dependency order.
//!
//! 1. State is adjusted by `moved` blocks (addresses renamed, nothing destroyed) and `import`
//!    blocks (objects adopted through the provider).
//! 2. Refresh: every instance in state is read through its provider's `read_batch` — one call
//!    per resource type, so a provider can batch — and what changed outside infra is *drift*.
//! 3. The module walk ([`crate::module_eval`]) evaluates configuration; at each wave of resource
//!    blocks the [`Planner`] evaluates every instance's arguments against its schema and asks the
//!    provider to plan, all instances of a wave at once. Planned values (with Unknowns) flow on
//!    to the expressions that refer to them.
//! 4. Instances in state but no longer in configuration are deleted, with the reason.
//! 5. `-target` keeps only the targets and what they depend on; `-replace` forces replacement.

use super::{Action, Change, OutputChange, Plan, ReplaceOrder, ResourceChange};
use crate::addr::{Address, Mode, Target, relocate};
use crate::config::{LoadedConfig, Resource};
use crate::eval::Scope;
use crate::graph::select::Selection;
use crate::graph::walk::{EvalOptions, Phases, ResourceHandler, ResourceItem, Work, walk};
use crate::module_eval::collect;
use crate::objects::{config_object, copy_marks, from_state, mark_schema_sensitive, to_state};
use crate::registry::Registry;
use crate::runtime::block_on;
use infra_provider::contract::check_planned;
use infra_provider::{
    Diagnostic, Diagnostics, ImportRequest, PlanRequest, PlanResponse, ReadDataRequest, ReadRequest, UpgradeRequest,
    Value, values_equal,
};
use infra_state::{ResourceState, Snapshot};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// How to plan.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Plan to destroy everything in state.
    pub destroy: bool,
    /// Read every object before planning (on by default).
    pub refresh: bool,
    /// Only bring state in line with the objects.
    pub refresh_only: bool,
    /// `-target`: only these (and what they depend on).
    pub targets: Vec<crate::addr::Target>,
    /// `-replace`: replace these even if unchanged.
    pub replace: Vec<Address>,
    /// Provider calls at once (`-parallelism`, default 10), for refresh and plan alike.
    pub parallelism: usize,
    /// `terraform.workspace`.
    pub workspace: String,
}

/// An instance in state, as a value.
#[derive(Clone, Debug)]
pub struct PriorInstance {
    /// The stored record.
    pub state: ResourceState,
    /// Its attributes as a value, sensitive parts marked.
    pub value: Value,
}

/// Reads a snapshot's instances as values. The record keeps everything but its attributes
/// (they are in `value`, and holding both would double the memory of a large state).
///
/// An object stored under an older schema version of its type than the provider's is first
/// upgraded by the provider (Terraform's `UpgradeResourceState`; all such objects at once) and
/// its record takes the current version. An object that cannot be upgraded is an error.
/// (Terraform also calls the provider for objects of the current version, to normalise their
/// JSON; infra reads those directly, which is the same for every provider it has met.)
pub fn prior_instances(
    snapshot: Option<&Snapshot>,
    registry: &Registry,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<String, PriorInstance> {
    let Some(snapshot) = snapshot else { return BTreeMap::new() };
    let mut schemas: BTreeMap<&str, Option<infra_provider::ResourceSchema>> = BTreeMap::new();
    let mut upgrades = Vec::new();
    let mut privates = Vec::new();
    let mut instances: BTreeMap<String, PriorInstance> = snapshot
        .resources
        .iter()
        .map(|(address, state)| {
            let mut value = from_state(&state.attributes, &state.sensitive_attributes);
            let schema =
                schemas.entry(state.kind.as_str()).or_insert_with(|| registry.resource_schema(&state.kind)).as_ref();
            if let Some(schema) = schema {
                value = mark_schema_sensitive(value, &schema.block);
            }
            let provider = registry.for_resource(&state.kind, Some(&state.provider)).map(|(_, p)| p);
            if let Some(private) = state.private.as_deref().and_then(crate::objects::private_bytes)
                && let Some(provider) = &provider
            {
                privates.push((address.clone(), provider.clone(), state.kind.as_str(), private));
            }
            if let (Some(schema), Some(provider)) = (schema, provider)
                && state.mode == "managed"
                && state.schema_version < schema.version
            {
                upgrades.push((address.clone(), provider, schema.version, state));
            }
            let record = state.clone_without_attributes();
            (address.clone(), PriorInstance { state: record, value })
        })
        .collect();
    let upgraded = block_on(futures::future::join_all(upgrades.iter().map(|(_, provider, _, state)| {
        provider.upgrade(UpgradeRequest {
            kind: state.kind.clone(),
            version: state.schema_version,
            raw: state.attributes.clone(),
        })
    })));
    for ((address, _, version, state), result) in upgrades.iter().zip(upgraded) {
        match result {
            Ok(value) => {
                if let Some(instance) = instances.get_mut(address) {
                    let mut value = crate::objects::mark_paths(value, &state.sensitive_attributes);
                    if let Some(schema) = schemas.get(state.kind.as_str()).and_then(Option::as_ref) {
                        value = mark_schema_sensitive(value, &schema.block);
                    }
                    instance.value = value;
                    instance.state.schema_version = *version;
                }
            }
            Err(errors) => diagnostics.extend(errors.into_iter().map(|d| {
                let summary = format!("Cannot upgrade `{address}` from schema version {}", state.schema_version);
                let detail =
                    if d.detail.is_empty() { d.summary.clone() } else { format!("{}: {}", d.summary, d.detail) };
                Diagnostic::error(summary, detail).for_address(address.clone())
            })),
        }
    }
    // A provider's private data goes back to it before any call about the object (after any
    // upgrade: the plugin finds it by the object as it now reads).
    for (address, provider, kind, private) in privates {
        if let Some(instance) = instances.get(&address) {
            provider.restore_private(kind, &instance.value, &private);
        }
    }
    instances
}

/// Makes a plan.
///
/// The snapshot is taken by value: its attributes are converted to values and dropped at once,
/// so a large state is held in memory once, not twice.
pub fn plan(
    config: &LoadedConfig,
    variables: &BTreeMap<String, Value>,
    snapshot: Option<Snapshot>,
    registry: &Registry,
    options: &PlanOptions,
) -> (Plan, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    registry.configure(config, variables, &mut diagnostics);
    if diagnostics.has_errors() {
        return (Plan::default(), diagnostics);
    }
    let mut plan = Plan {
        prior_serial: snapshot.as_ref().map(|s| s.serial),
        prior_lineage: snapshot.as_ref().map(|s| s.lineage.clone()),
        variables: variables.clone(),
        destroy: options.destroy,
        refresh_only: options.refresh_only,
        ..Plan::default()
    };
    let mut prior = prior_instances(snapshot.as_ref(), registry, &mut diagnostics);
    if diagnostics.has_errors() {
        return (Plan::default(), diagnostics);
    }
    let snapshot = snapshot.map(|mut s| {
        s.resources.clear();
        s
    });
    let snapshot = snapshot.as_ref();

    // 1. `moved` and `import` blocks.
    let mut moved_from = BTreeMap::new();
    for moved in &config.root.moved {
        let (Ok(from), Ok(to)) = (moved.from.parse::<Target>(), moved.to.parse::<Target>()) else {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid `moved` block",
                    format!("`{}` or `{}` is not a resource or module address.", moved.from, moved.to),
                )
                .at(moved.span.clone()),
            );
            continue;
        };
        let moves: Vec<(Address, String)> = prior
            .keys()
            .filter_map(|old| {
                let address = old.parse::<Address>().ok()?;
                let new = relocate(&from, &to, &address)?.to_string();
                Some((address, new))
            })
            .collect();
        for (old_addr, new) in moves {
            let old = old_addr.to_string();
            if prior.contains_key(&new) {
                diagnostics.push(
                    Diagnostic::warning("Moved object still exists", format!("`{old}` cannot move to `{new}`: an object is already at the new address; the `moved` block is ignored for it."))
                        .at(moved.span.clone()),
                );
                continue;
            }
            if let Some(instance) = prior.remove(&old) {
                // A chain of moves (a → b, b → c) records where the object first was.
                let first = moved_from.remove(&old).unwrap_or(old_addr);
                moved_from.insert(new.clone(), first);
                prior.insert(new, instance);
            }
        }
    }
    // `removed` blocks: the objects leave state; `destroy = true` destroys them.
    let mut forgotten = Vec::new();
    for removed in &config.root.removed {
        let Ok(from) = removed.from.parse::<Target>() else { continue };
        let gone: Vec<String> = prior
            .keys()
            .filter(|address| address.parse::<Address>().is_ok_and(|a| from.contains(&a)))
            .cloned()
            .collect();
        if !removed.destroy {
            for address in gone {
                if let Some(instance) = prior.remove(&address) {
                    forgotten.push(ResourceChange {
                        change: Change { action: Action::Forget, before: Some(instance.value.clone()), after: None },
                        reason: Some("because a `removed` block drops it from management (`destroy = false`)".into()),
                        ..delete_change(&address, &instance, "")
                    });
                }
            }
        }
    }
    let mut imported = BTreeMap::new();
    for import in &config.root.imports {
        if prior.contains_key(&import.to) {
            continue;
        }
        let Ok(address) = import.to.parse::<Address>() else {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid import address",
                    format!("`{}` is not a resource instance address.", import.to),
                )
                .at(import.span.clone()),
            );
            continue;
        };
        let mut scope = config.scope(&config.root.dir);
        scope.set("var", Value::Map(variables.clone()));
        let id = match crate::module_eval::eval_expr(&scope, &import.id, &[], &mut diagnostics)
            .as_ref()
            .and_then(|v| v.as_str().map(str::to_string))
        {
            Some(id) => id,
            None => continue,
        };
        let Some((provider_name, provider)) = registry.for_resource(&address.kind, import.provider.as_deref()) else {
            diagnostics.push(
                Diagnostic::error("Invalid resource type", format!("No provider serves `{}`.", address.kind))
                    .at(import.span.clone()),
            );
            continue;
        };
        match block_on(provider.import(ImportRequest { kind: address.kind.clone(), id: id.clone() })) {
            Ok(response) => {
                let (attributes, sensitive) = to_state(&response.current);
                let state = ResourceState {
                    mode: Mode::Managed.as_str().into(),
                    kind: address.kind.clone(),
                    provider: provider_name,
                    schema_version: provider.schema().resources.get(&address.kind).map_or(0, |s| s.version),
                    attributes,
                    sensitive_attributes: sensitive,
                    dependencies: Vec::new(),
                    create_before_destroy: false,
                    private: crate::objects::private_text(provider.as_ref(), &address.kind, &response.current),
                    plugin: provider.plugin().map(str::to_string),
                };
                prior.insert(import.to.clone(), PriorInstance { state, value: response.current });
                imported.insert(import.to.clone(), id);
            }
            Err(errors) => diagnostics
                .extend(errors.into_iter().map(|d| d.for_address(import.to.clone()).or_at(import.span.clone()))),
        }
    }

    // 2. Refresh.
    // `-target`: what the targets need, decided before anything is read.
    let selection = if options.destroy || options.targets.is_empty() {
        Selection::everything()
    } else {
        crate::graph::select::select(&config.root, &options.targets, &crate::graph::walk::graphs(config))
    };
    if options.refresh || options.refresh_only {
        plan.drift = refresh(&mut prior, registry, &selection, options.parallelism, &mut diagnostics);
    }
    if options.refresh_only {
        return finish_counted(plan, registry, diagnostics);
    }

    // 3. Destroy: every managed instance, dependents first (the apply orders them).
    if options.destroy {
        // As Terraform: a configuration that cannot be evaluated is not planned, not even to
        // destroy (its errors are the user's to fix first; `state rm` forgets objects).
        let check = EvalOptions {
            plan_time: true,
            unknown_variables: true,
            workspace: options.workspace.clone(),
            ..EvalOptions::default()
        };
        let (_, evaluation) = crate::graph::walk::evaluate_root(config, variables, &check);
        if evaluation.has_errors() {
            diagnostics.extend(evaluation.into_iter().filter(Diagnostic::is_error));
            return (Plan::default(), diagnostics);
        }
        // Dependencies from state, and from the configuration where the object is still in it
        // (state may not know them: an imported object has none).
        let configured = crate::graph::walk::root_dependencies(config);
        for (address, instance) in &prior {
            if Mode::parse(&instance.state.mode) != Mode::Managed {
                continue;
            }
            let mut change = delete_change(address, instance, "because the whole configuration is being destroyed");
            let local = address.parse::<Address>().ok().filter(|a| a.module.is_empty()).map(|a| a.local_name());
            if let Some(configured) = local.as_ref().and_then(|name| configured.get(name)) {
                for dependency in configured {
                    let dependency = dependency.to_string();
                    if !change.dependencies.contains(&dependency) {
                        change.dependencies.push(dependency);
                    }
                }
            }
            plan.changes.push(change);
            if let Some(resource) =
                local.and_then(|name| config.root.resources.get(&name)).filter(|r| r.lifecycle.prevent_destroy)
            {
                diagnostics.push(
                    Diagnostic::error("Instance cannot be destroyed", format!("`{address}` has `lifecycle.prevent_destroy` set, so it cannot be destroyed. Remove `prevent_destroy` first."))
                        .at(resource.span.clone())
                        .for_address(address.clone()),
                );
            }
        }
        for (name, output) in snapshot.map(|s| s.outputs.clone()).unwrap_or_default() {
            plan.outputs.insert(name, removed_output(&output));
        }
        filter_targets(&mut plan, options);
        return finish_counted(plan, registry, diagnostics);
    }

    // 4. The walk. One change per prior object at least: grown once, not by doubling.
    let mut changes = forgotten;
    changes.reserve(prior.len());
    let planner = Planner {
        registry,
        prior: Mutex::new(prior),
        changes: Mutex::new(changes),
        declared: Mutex::new(BTreeSet::new()),
        replace: options.replace.clone(),
        moved_from: &moved_from,
        imported: &imported,
        permits: tokio::sync::Semaphore::new(options.parallelism.max(1)),
        phases: Phases::default(),
    };
    let eval_options = EvalOptions {
        plan_time: true,
        expansion_must_be_known: true,
        workspace: options.workspace.clone(),
        functions: Some(registry.functions()),
        ..EvalOptions::default()
    };
    let (values, walk_diagnostics) = walk(config, variables, &eval_options, &planner, &selection);
    diagnostics.extend(walk_diagnostics);
    plan.root_values = values.scope.roots.clone();
    plan.root_values.insert("output".into(), Value::Map(values.outputs.clone()));
    if selection.is_everything() {
        diagnostics.extend(crate::module_eval::run_checks(&config.root, &values.scope));
    }
    // The planner took the instances it planned out of `prior`; what is left is not in the
    // configuration.
    let Planner { changes, declared, prior, .. } = planner;
    let (mut changes, declared, prior) = (
        changes.into_inner().unwrap_or_else(|p| p.into_inner()),
        declared.into_inner().unwrap_or_else(|p| p.into_inner()),
        prior.into_inner().unwrap_or_else(|p| p.into_inner()),
    );

    // 5. Orphans: in state, not in configuration.
    for (address, instance) in &prior {
        let parsed = address.parse::<Address>().ok();
        if Mode::parse(&instance.state.mode) != Mode::Managed || parsed.as_ref().is_some_and(|a| !selection.covers(a)) {
            continue;
        }
        let base = parsed.as_ref().map(|a| a.resource().to_string()).unwrap_or_else(|| address.clone());
        let reason = if parsed.as_ref().is_some_and(|a| declared.contains(&a.resource())) {
            format!(
                "because `{address}` is not in the configuration: its key is no longer in the `count` or `for_each` of `{base}`"
            )
        } else {
            format!("because `{base}` is not in the configuration")
        };
        changes.push(delete_change(address, instance, &reason));
    }
    changes.sort_by_cached_key(ResourceChange::address);
    plan.changes = changes;

    // 6. Outputs.
    let prior_outputs = snapshot.map(|s| s.outputs.clone()).unwrap_or_default();
    for (name, value) in &values.outputs {
        let sensitive = config.root.outputs.get(name).is_some_and(|o| o.sensitive);
        let before = prior_outputs.get(name).map(|o| crate::types::output_value(o).mark_if(o.sensitive));
        let action = match &before {
            None => Action::Create,
            Some(before) if value.is_wholly_known() && values_equal(before, value) => Action::NoOp,
            Some(_) => Action::Update,
        };
        plan.outputs.insert(name.clone(), OutputChange { action, before, after: Some(value.clone()), sensitive });
    }
    for (name, output) in prior_outputs {
        if !values.outputs.contains_key(&name) && !config.root.outputs.contains_key(&name) {
            plan.outputs.insert(name, removed_output(&output));
        }
    }
    filter_targets(&mut plan, options);
    finish_counted(plan, registry, diagnostics)
}

/// The change of an output that goes away.
fn removed_output(output: &infra_state::OutputState) -> OutputChange {
    OutputChange {
        action: Action::Delete,
        before: Some(crate::types::output_value(output).mark_if(output.sensitive)),
        after: None,
        sensitive: output.sensitive,
    }
}

fn finish(mut plan: Plan, diagnostics: Diagnostics) -> (Plan, Diagnostics) {
    plan.errored = diagnostics.has_errors();
    (plan, diagnostics)
}

/// Records the providers' API call counts and finishes.
fn finish_counted(mut plan: Plan, registry: &Registry, diagnostics: Diagnostics) -> (Plan, Diagnostics) {
    plan.api_calls = registry.api_calls();
    for (provider, calls) in &plan.api_calls {
        tracing::debug!(target: "infra::plan", provider, calls, "provider API calls while planning");
    }
    finish(plan, diagnostics)
}

/// Whether the instance at `address` is (in) one of `dependencies` (recorded as text).
pub fn depends_on_any(address: &str, dependencies: &[String]) -> bool {
    let Ok(address) = address.parse::<Address>() else { return false };
    dependencies.iter().filter_map(|d| d.parse::<Target>().ok()).any(|d| d.contains(&address))
}

fn delete_change(address: &str, instance: &PriorInstance, reason: &str) -> ResourceChange {
    // A key that is not an address (a hand-edited state) is still shown and deleted by it.
    let addr = address.parse::<Address>().unwrap_or_else(|_| Address {
        module: Vec::new(),
        mode: Mode::parse(&instance.state.mode),
        kind: instance.state.kind.clone(),
        name: address.to_string(),
        key: None,
    });
    ResourceChange {
        addr,
        provider: instance.state.provider.clone(),
        change: Change { action: Action::Delete, before: Some(instance.value.clone()), after: None },
        requires_replace: Vec::new(),
        reason: Some(reason.to_string()),
        dependencies: instance.state.dependencies.clone(),
        import_id: None,
        prev_addr: None,
    }
}

/// Keeps only the targets and, for creates and updates, what they depend on; for a destroy,
/// what depends on them.
fn filter_targets(plan: &mut Plan, options: &PlanOptions) {
    if options.targets.is_empty() {
        return;
    }
    let parsed: Vec<Option<Address>> = plan.changes.iter().map(|c| c.address().parse::<Address>().ok()).collect();
    let dependencies: Vec<Vec<Target>> =
        plan.changes.iter().map(|c| c.dependencies.iter().filter_map(|d| d.parse::<Target>().ok()).collect()).collect();
    let mut wanted = vec![false; plan.changes.len()];
    let mut frontier: Vec<usize> = (0..plan.changes.len())
        .filter(|&i| parsed[i].as_ref().is_some_and(|a| options.targets.iter().any(|t| t.contains(a))))
        .collect();
    while let Some(index) = frontier.pop() {
        if std::mem::replace(&mut wanted[index], true) {
            continue;
        }
        for other in 0..plan.changes.len() {
            let Some(other_address) = &parsed[other] else { continue };
            let linked = if plan.destroy {
                // Destroying a target destroys what depends on it.
                parsed[index].as_ref().is_some_and(|a| dependencies[other].iter().any(|d| d.contains(a)))
            } else {
                dependencies[index].iter().any(|d| d.contains(other_address))
            };
            if linked && !wanted[other] {
                frontier.push(other);
            }
        }
    }
    let mut keep = wanted.into_iter();
    plan.changes.retain(|_| keep.next().unwrap_or(false));
    plan.outputs.clear();
}

/// Reads every selected instance through its provider: one `read_batch` per resource type
/// where the provider batches (one call in flight), else one `read` per instance; at most
/// `parallelism` calls at once.
fn refresh(
    prior: &mut BTreeMap<String, PriorInstance>,
    registry: &Registry,
    selection: &Selection,
    parallelism: usize,
    diagnostics: &mut Diagnostics,
) -> Vec<ResourceChange> {
    let permits = tokio::sync::Semaphore::new(parallelism.max(1));
    let permits = &permits;
    let mut by_type: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (address, instance) in prior.iter() {
        let selected = selection.is_everything() || address.parse::<Address>().is_ok_and(|a| selection.covers(&a));
        if Mode::parse(&instance.state.mode) == Mode::Managed && selected {
            let key = (instance.state.kind.clone(), instance.state.provider.clone());
            by_type.entry(key).or_default().push(address.clone());
        }
    }
    let reads = by_type.into_iter().filter_map(|((kind, provider_key), addresses)| {
        let Some((_, provider)) = registry.for_resource(&kind, Some(&provider_key)) else {
            diagnostics.push(Diagnostic::error(
                "Missing provider",
                format!("No provider configuration `{provider_key}` serves the resource type `{kind}` found in state."),
            ).with_hint("an aliased provider's `provider` block must stay in the configuration until its objects are destroyed"));
            return None;
        };
        let requests: Vec<ReadRequest> =
            addresses.iter().map(|a| ReadRequest { kind: kind.clone(), current: prior[a].value.clone() }).collect();
        Some(async move {
            let answers = if provider.batches_reads() {
                let _permit = permits.acquire().await;
                provider.read_batch(requests).await
            } else {
                futures::future::join_all(requests.into_iter().map(|request| {
                    let provider = provider.clone();
                    async move {
                        let _permit = permits.acquire().await;
                        provider.read(request).await
                    }
                }))
                .await
            };
            (kind, addresses, answers)
        })
    });
    let results = block_on(futures::future::join_all(reads));
    let mut drift = Vec::new();
    for (kind, addresses, responses) in results {
        let schema = registry.resource_schema(&kind);
        for (address, response) in addresses.into_iter().zip(responses) {
            let instance = prior.get_mut(&address).expect("address came from prior");
            match response {
                Ok(response) => match response.current {
                    None => {
                        let mut change = delete_change(&address, instance, "because it no longer exists outside infra");
                        change.reason = Some("has been deleted outside infra".into());
                        drift.push(change);
                        prior.remove(&address);
                    }
                    Some(current) => {
                        // What was sensitive when it was recorded stays sensitive when read back.
                        let current = copy_marks(&instance.value, current);
                        let current = match &schema {
                            Some(schema) => mark_schema_sensitive(current, &schema.block),
                            None => current,
                        };
                        if !values_equal(&current, &instance.value) {
                            drift.push(ResourceChange {
                                change: Change {
                                    action: Action::Update,
                                    before: Some(instance.value.clone()),
                                    after: Some(current.clone()),
                                },
                                reason: Some("has changed outside infra".into()),
                                ..delete_change(&address, instance, "")
                            });
                            let (attributes, sensitive) = to_state(&current);
                            instance.state.attributes = attributes;
                            instance.state.sensitive_attributes = sensitive;
                            instance.value = current;
                        }
                    }
                },
                Err(errors) => diagnostics.extend(errors.into_iter().map(|d| d.for_address(address.clone()))),
            }
        }
    }
    drift
}

/// The resource handler of the planning walk.
struct Planner<'a> {
    registry: &'a Registry,
    /// State instances not planned yet; each is moved out as it is planned.
    prior: Mutex<BTreeMap<String, PriorInstance>>,
    changes: Mutex<Vec<ResourceChange>>,
    /// Resource blocks seen in the walk (with module path), even with no instances.
    declared: Mutex<BTreeSet<Address>>,
    replace: Vec<Address>,
    moved_from: &'a BTreeMap<String, Address>,
    imported: &'a BTreeMap<String, String>,
    /// Provider calls in flight, at most `-parallelism`.
    permits: tokio::sync::Semaphore,
    phases: Phases,
}

/// One instance ready for its provider.
struct Job {
    position: usize,
    addr: Address,
    address: String,
    config: Value,
    prior: Option<Value>,
    /// For an object in state: the plugin that wrote it (`None`: a native provider did).
    written_by: Option<Option<String>>,
    /// The provider phase of its call; `None` when there is no call to make now (a data
    /// source whose configuration is known only after apply).
    phase: Option<u8>,
    /// `count.index` or `each` (postconditions are checked with it).
    binding: Option<(&'static str, Value)>,
}

/// Where an instance was written: its own place (a YAML document) or its block's header.
fn job_span(resource: &Resource, job: &Job) -> Option<infra_provider::Span> {
    match &job.addr.key {
        Some(crate::addr::InstanceKey::Str(key)) => {
            resource.instance_spans.get(key).cloned().or_else(|| resource.span.clone())
        }
        _ => resource.span.clone(),
    }
}

impl Planner<'_> {
    /// Whether a `replace_triggered_by` reference changes in this plan.
    fn triggered(&self, resource: &Resource, path: &[crate::addr::ModuleStep]) -> Option<String> {
        let targets: Vec<Target> = resource
            .lifecycle
            .replace_triggered_by
            .iter()
            .flat_map(|expr| crate::eval::references::references(&expr.ast))
            .filter_map(|reference| reference.target())
            .filter_map(|target| target.parse::<Target>().ok())
            .map(|target| crate::graph::dependencies::under(path, &target))
            .collect();
        if targets.is_empty() {
            return None;
        }
        let changes = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        changes
            .iter()
            .find(|c| {
                matches!(c.change.action, Action::Update | Action::Replace(_) | Action::Create)
                    && c.address().parse::<Address>().is_ok_and(|a| targets.iter().any(|t| t.contains(&a)))
            })
            .map(|c| c.address())
    }

    fn record(&self, change: ResourceChange) {
        self.changes.lock().unwrap_or_else(|p| p.into_inner()).push(change);
    }
}

impl ResourceHandler for Planner<'_> {
    fn resource<'s>(&'s self, item: ResourceItem<'s>, scope: &Scope, diagnostics: &mut Diagnostics) -> Work<'s> {
        let resource = item.resource;
        self.declared.lock().unwrap_or_else(|p| p.into_inner()).insert(item.path.resource(
            resource.mode,
            &resource.kind,
            &resource.name,
            None,
        ));
        let unknowns = || collect(&item.instances, vec![Value::Unknown; item.instances.len()]);
        let Some((provider_name, provider)) = self.registry.for_resource(&resource.kind, resource.provider.as_deref())
        else {
            if let Some(key) = resource.provider.as_deref().filter(|_| self.registry.for_type(&resource.kind).is_some())
            {
                diagnostics.push(
                    Diagnostic::error(
                        "Provider configuration not present",
                        format!(
                            "`{}` uses `provider = {key}`, but there is no `provider` block with that alias.",
                            resource.address()
                        ),
                    )
                    .at(resource.span.clone()),
                );
                return Work::Done(unknowns());
            }
            let mut diagnostic = Diagnostic::error(
                "Invalid resource type",
                format!("No provider serves the resource type `{}`.", resource.kind),
            )
            .at(resource.span.clone());
            let types = self.registry.resource_types();
            if let Some(suggestion) = crate::suggest::did_you_mean(&resource.kind, types.iter().map(String::as_str)) {
                diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
            }
            diagnostics.push(diagnostic);
            return Work::Done(unknowns());
        };
        let schemas =
            if resource.mode == Mode::Data { &provider.schema().data_sources } else { &provider.schema().resources };
        let Some(schema) = schemas.get(&resource.kind) else {
            if let Some(errors) = provider.unavailable() {
                diagnostics.extend(errors.into_iter().map(|d| d.or_at(resource.span.clone())));
                return Work::Done(unknowns());
            }
            let mut diagnostic = Diagnostic::error(
                "Invalid resource type",
                format!(
                    "The provider `{}` has no {} type `{}`.",
                    provider.name(),
                    if resource.mode == Mode::Data { "data source" } else { "resource" },
                    resource.kind
                ),
            )
            .at(resource.span.clone());
            // The native provider of that prefix lacks the type: its plugin serves them all.
            if provider.plugin().is_none() {
                diagnostic = diagnostic.with_hint(format!(
                    "infra's native `{}` provider does not have it; `infra init` installs the provider's plugin (from a plugin mirror or registry, see docs/providers/plugins.md), which serves every type it has",
                    provider.name()
                ));
            }
            diagnostics.push(diagnostic);
            return Work::Done(unknowns());
        };
        let mut jobs = Vec::new();
        for (position, instance) in item.instances.iter().enumerate() {
            let addr = item.address(instance);
            let address = addr.to_string();
            // Taken out of `prior` first, so an instance whose configuration fails is never
            // mistaken for one that left the configuration.
            let taken = self.prior.lock().unwrap_or_else(|p| p.into_inner()).remove(&address);
            let written_by = taken.as_ref().map(|p| p.state.plugin.clone());
            let prior = taken.map(|p| p.value);
            let bindings: Vec<(&str, Value)> = instance.binding.iter().cloned().collect();
            let Some(mut config) =
                config_object(&resource.body, &schema.block, scope, &bindings, &address, diagnostics)
            else {
                continue;
            };
            if !crate::module_eval::check_conditions(
                &resource.lifecycle.preconditions,
                scope,
                &bindings,
                "Resource precondition failed",
                &address,
                diagnostics,
            ) {
                continue;
            }
            if resource.mode == Mode::Managed
                && let (Some(Value::Map(prior)), Value::Map(object)) = (&prior, &mut config)
            {
                // ignore_changes: the prior value stands in for the configured one.
                let ignored: Vec<String> = if resource.lifecycle.ignore_all_changes {
                    object.keys().cloned().collect()
                } else {
                    resource
                        .lifecycle
                        .ignore_changes
                        .iter()
                        .map(|path| path.split(['.', '[']).next().unwrap_or(path).to_string())
                        .collect()
                };
                for name in ignored {
                    if let Some(before) = prior.get(&name) {
                        object.insert(name, before.clone());
                    }
                }
            }
            let phase = (resource.mode == Mode::Managed || config.is_wholly_known())
                .then(|| provider.phase(&resource.kind, &config));
            if let Some(phase) = phase {
                self.phases.enter(provider.name(), phase);
            }
            jobs.push(Job {
                position,
                addr,
                address,
                config,
                prior,
                written_by,
                phase,
                binding: instance.binding.clone(),
            });
        }
        if jobs.is_empty() {
            return Work::Done(unknowns());
        }
        let trigger = if resource.mode == Mode::Managed { self.triggered(resource, &item.path.0) } else { None };
        // Postconditions are checked against the planned object (`self`) when it is known.
        let post_scope = (!resource.lifecycle.postconditions.is_empty()).then(|| scope.clone());
        let files_within = scope.files.confine.clone();
        Work::Pending(Box::pin(async move {
            let mut diagnostics = Diagnostics::new();
            let mut values = vec![Value::Unknown; item.instances.len()];
            let provider = provider.as_ref();
            let schemas = if resource.mode == Mode::Data {
                &provider.schema().data_sources
            } else {
                &provider.schema().resources
            };
            let Some(schema) = schemas.get(&resource.kind) else {
                return (collect(&item.instances, values), diagnostics);
            };
            let calls = jobs.iter().map(|job| async {
                let phase = job.phase?;
                self.phases.wait(provider.name(), phase).await;
                let permit = self.permits.acquire().await;
                let answer = if resource.mode == Mode::Data {
                    provider
                        .read_data(ReadDataRequest {
                            kind: resource.kind.clone(),
                            config: job.config.clone(),
                            files_within: files_within.clone(),
                        })
                        .await
                        .map(|r| PlanResponse { planned: r.state, ..PlanResponse::default() })
                } else {
                    provider
                        .plan(PlanRequest {
                            kind: resource.kind.clone(),
                            prior: job.prior.clone(),
                            proposed: job.config.clone(),
                            config: job.config.clone(),
                        })
                        .await
                };
                drop(permit);
                self.phases.leave(provider.name(), phase);
                Some(answer)
            });
            let answers = futures::future::join_all(calls).await;
            for (job, answer) in jobs.into_iter().zip(answers) {
                let change = |action, before, after, reason: Option<String>| ResourceChange {
                    addr: job.addr.clone(),
                    provider: resource.provider.clone().unwrap_or_else(|| provider_name.clone()),
                    change: Change { action, before, after },
                    requires_replace: Vec::new(),
                    reason,
                    dependencies: item.dependencies.iter().map(ToString::to_string).collect(),
                    import_id: self.imported.get(&job.address).cloned(),
                    prev_addr: self.moved_from.get(&job.address).cloned(),
                };
                let response = match answer {
                    // A data source whose configuration is known only after apply.
                    None => {
                        self.record(change(
                            Action::Read,
                            None,
                            Some(job.config.clone()),
                            Some("because its configuration depends on values known only after apply".into()),
                        ));
                        continue;
                    }
                    Some(Ok(response)) => response,
                    Some(Err(errors)) => {
                        diagnostics.extend(
                            errors
                                .into_iter()
                                .map(|d| d.for_address(job.address.clone()).or_at(job_span(resource, &job))),
                        );
                        continue;
                    }
                };
                diagnostics.extend(
                    response
                        .warnings
                        .into_iter()
                        .map(|d| d.for_address(job.address.clone()).or_at(job_span(resource, &job))),
                );
                if resource.mode == Mode::Data {
                    let value = mark_schema_sensitive(copy_marks(&job.config, response.planned), &schema.block);
                    values[job.position] = value.clone();
                    // Kept in the plan so that apply evaluates against the very values this
                    // plan was made with.
                    self.record(ResourceChange {
                        import_id: None,
                        prev_addr: None,
                        ..change(Action::NoOp, None, Some(value), None)
                    });
                    continue;
                }
                if let Err(message) = check_planned(&job.config, &response.planned)
                    && !tolerated(provider, &resource.kind, &message)
                {
                    diagnostics.push(
                        Diagnostic::error(
                            "Provider produced invalid plan",
                            format!("The provider `{}` {message}. This is a bug in the provider.", provider.name()),
                        )
                        .for_address(job.address.clone())
                        .at(resource.span.clone()),
                    );
                    continue;
                }
                // The provider answers a fresh object: the configuration's marks go back on it.
                let planned = mark_schema_sensitive(copy_marks(&job.config, response.planned), &schema.block);
                if let Some(scope) = &post_scope {
                    let mut bindings: Vec<(&str, Value)> = job.binding.iter().cloned().collect();
                    bindings.push(("self", planned.clone()));
                    if !crate::module_eval::check_conditions(
                        &resource.lifecycle.postconditions,
                        scope,
                        &bindings,
                        "Resource postcondition failed",
                        &job.address,
                        &mut diagnostics,
                    ) {
                        continue;
                    }
                }
                let order = if resource.lifecycle.create_before_destroy {
                    ReplaceOrder::CreateBeforeDestroy
                } else {
                    ReplaceOrder::DestroyBeforeCreate
                };
                let mut reason = None;
                let action = match &job.prior {
                    None => Action::Create,
                    Some(prior) => {
                        let forced = !self.replace.is_empty()
                            && job.address.parse::<Address>().is_ok_and(|a| self.replace.contains(&a));
                        if forced {
                            reason = Some("because of `-replace`".to_string());
                            Action::Replace(order)
                        } else if !response.requires_replace.is_empty() {
                            reason = response.replace_reason.clone();
                            Action::Replace(order)
                        } else if let Some(trigger) = &trigger {
                            reason = Some(format!("because `{trigger}` changes (`replace_triggered_by`)"));
                            Action::Replace(order)
                        } else if values_equal(prior, &planned) && planned.is_wholly_known() {
                            Action::NoOp
                        } else {
                            Action::Update
                        }
                    }
                };
                if matches!(action, Action::Replace(_))
                    && reason.as_deref() != Some("because of `-replace`")
                    && let Some(written_by) = &job.written_by
                    && written_by.as_deref() != provider.plugin()
                {
                    diagnostics.push(
                        switch_refused(&job.address, written_by.as_deref(), provider, &response.requires_replace)
                            .at(resource.span.clone()),
                    );
                    continue;
                }
                if matches!(action, Action::Replace(_)) && resource.lifecycle.prevent_destroy {
                    diagnostics.push(
                        Diagnostic::error(
                            "Instance cannot be destroyed",
                            format!("`{}` has `lifecycle.prevent_destroy` set, but the plan calls for it to be replaced. Remove `prevent_destroy`, or change the plan so the object is not replaced.", job.address),
                        )
                        .at(resource.span.clone())
                        .for_address(job.address.clone()),
                    );
                }
                let after = match action {
                    Action::NoOp => job.prior.clone().unwrap_or(planned),
                    _ => planned,
                };
                if item.referenced {
                    values[job.position] = after.clone();
                }
                self.record(ResourceChange {
                    requires_replace: response.requires_replace,
                    ..change(action, job.prior.clone(), Some(after), reason)
                });
            }
            (collect(&item.instances, values), diagnostics)
        }))
    }
}

/// The diagnostic for a replacement that only a change of implementation causes (the native
/// provider wrote the object and a plugin serves it now, or the reverse): never silent.
fn switch_refused(
    address: &str,
    written_by: Option<&str>,
    provider: &dyn infra_provider::Provider,
    paths: &[infra_provider::AttrPath],
) -> Diagnostic {
    let describe = |plugin: Option<&str>| match plugin {
        Some(source) => format!("the plugin `{source}`"),
        None => format!("infra's native `{}` provider", provider.name()),
    };
    let because = if paths.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = paths.iter().map(|p| format!("`{}`", p.join("."))).collect();
        format!(" (because of {})", names.join(", "))
    };
    Diagnostic::error(
        "A change of provider implementation would replace an object",
        format!(
            "`{address}` was written by {}; served by {} now, the plan would replace it{because}. infra does not replace an object only because another implementation serves it: keep the implementation that wrote it (install or remove the plugin), or replace it deliberately with `-replace={address}`.",
            describe(written_by),
            describe(provider.plugin()),
        ),
    )
    .for_address(address.to_string())
}

/// Whether a contract violation is only logged: the provider's answers for `kind` come from the
/// legacy plugin SDK, whose type system cannot keep every configured value exactly (Terraform
/// logs these as warnings too).
pub(crate) fn tolerated(provider: &dyn infra_provider::Provider, kind: &str, message: &str) -> bool {
    let legacy = provider.legacy_type_system(kind);
    if legacy {
        tracing::warn!(provider = provider.name(), kind, message, "tolerated for a provider on the legacy type system");
    }
    legacy
}
