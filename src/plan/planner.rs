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

use super::objects::{config_object, copy_marks, from_state, mark_schema_sensitive, to_state};
use super::{Action, Change, OutputChange, Plan, ReplaceOrder, ResourceChange};
use crate::addr::Address;
use crate::config::{LoadedConfig, Mode, Resource};
use crate::eval::Scope;
use crate::module_eval::{EvalOptions, ResourceHandler, ResourceItem, collect, evaluate_root_with};
use crate::registry::Registry;
use infra_provider::testing::check_planned;
use infra_provider::{
    Diagnostic, Diagnostics, ImportRequest, PlanRequest, PlanResponse, ReadDataRequest, ReadRequest, Value,
    values_equal,
};
use infra_state::{ResourceState, Snapshot};
use std::collections::{BTreeMap, BTreeSet};

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
pub fn prior_instances(snapshot: Option<&Snapshot>, registry: &Registry) -> BTreeMap<String, PriorInstance> {
    let Some(snapshot) = snapshot else { return BTreeMap::new() };
    let mut schemas: BTreeMap<&str, Option<infra_provider::BlockSchema>> = BTreeMap::new();
    snapshot
        .resources
        .iter()
        .map(|(address, state)| {
            let mut value = from_state(&state.attributes, &state.sensitive_attributes);
            let schema = schemas
                .entry(state.kind.as_str())
                .or_insert_with(|| registry.resource_schema(&state.kind).map(|s| s.block));
            if let Some(schema) = schema {
                value = mark_schema_sensitive(value, schema);
            }
            let record = state.clone_without_attributes();
            (address.clone(), PriorInstance { state: record, value })
        })
        .collect()
}

/// Runs a future to completion from synchronous code inside the runtime.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
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
    let mut prior = prior_instances(snapshot.as_ref(), registry);
    let snapshot = snapshot.map(|mut s| {
        s.resources.clear();
        s
    });
    let snapshot = snapshot.as_ref();

    // 1. `moved` and `import` blocks.
    let mut moved_from = BTreeMap::new();
    for moved in &config.root.moved {
        let moves: Vec<String> = prior
            .keys()
            .filter(|address| {
                *address == &moved.from
                    || address.strip_prefix(moved.from.as_str()).is_some_and(|rest| rest.starts_with('['))
            })
            .cloned()
            .collect();
        for old in moves {
            let new = format!("{}{}", moved.to, &old[moved.from.len()..]);
            if prior.contains_key(&new) {
                diagnostics.push(
                    Diagnostic::warning("Moved object still exists", format!("`{old}` cannot move to `{new}`: an object is already at the new address; the `moved` block is ignored for it."))
                        .at(moved.span.clone()),
                );
                continue;
            }
            if let Some(instance) = prior.remove(&old) {
                moved_from.insert(new.clone(), old);
                prior.insert(new, instance);
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
                    mode: "managed".into(),
                    kind: address.kind.clone(),
                    provider: provider_name,
                    schema_version: 0,
                    attributes,
                    sensitive_attributes: sensitive,
                    dependencies: Vec::new(),
                    create_before_destroy: false,
                };
                prior.insert(import.to.clone(), PriorInstance { state, value: response.current });
                imported.insert(import.to.clone(), id);
            }
            Err(errors) => diagnostics
                .extend(errors.into_iter().map(|d| d.for_address(import.to.clone()).or_at(import.span.clone()))),
        }
    }

    // 2. Refresh.
    if options.refresh || options.refresh_only {
        plan.drift = refresh(&mut prior, registry, &mut diagnostics);
    }
    if options.refresh_only {
        return finish_counted(plan, registry, diagnostics);
    }

    // 3. Destroy: every managed instance, dependents first (the apply orders them).
    if options.destroy {
        // Dependencies from state, and from the configuration where the object is still in it
        // (state may not know them: an imported object has none).
        let graph = crate::graph::ModuleGraph::build(&config.root).ok();
        for (address, instance) in &prior {
            if instance.state.mode != "managed" {
                continue;
            }
            let mut change = delete_change(address, instance, "because the whole configuration is being destroyed");
            if let Some(configured) = graph.as_ref().and_then(|g| g.dependencies.get(&base_address(address))) {
                for dependency in configured {
                    if !change.dependencies.contains(dependency) {
                        change.dependencies.push(dependency.clone());
                    }
                }
            }
            plan.changes.push(change);
            if let Some(resource) =
                config.root.resources.get(&base_address(address)).filter(|r| r.lifecycle.prevent_destroy)
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

    // 4. The walk.
    let mut planner = Planner {
        registry,
        prior,
        changes: Vec::new(),
        declared: BTreeSet::new(),
        replace: options.replace.iter().map(|a| a.to_string()).collect(),
        moved_from: &moved_from,
        imported: &imported,
    };
    let eval_options = EvalOptions {
        plan_time: true,
        expansion_must_be_known: true,
        workspace: options.workspace.clone(),
        ..EvalOptions::default()
    };
    let (values, walk_diagnostics) = evaluate_root_with(config, variables, &eval_options, &mut planner);
    diagnostics.extend(walk_diagnostics);
    // The planner took the instances it planned out of `prior`; what is left is not in the
    // configuration.
    let Planner { mut changes, declared, prior, .. } = planner;

    // 5. Orphans: in state, not in configuration.
    for (address, instance) in &prior {
        if instance.state.mode != "managed" {
            continue;
        }
        let base = base_address(address);
        let reason = if declared.contains(&base) {
            format!(
                "because `{address}` is not in the configuration: its key is no longer in the `count` or `for_each` of `{base}`"
            )
        } else {
            format!("because `{base}` is not in the configuration")
        };
        changes.push(delete_change(address, instance, &reason));
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    plan.changes = changes;

    // 6. Outputs.
    let prior_outputs = snapshot.map(|s| s.outputs.clone()).unwrap_or_default();
    for (name, value) in &values.outputs {
        let sensitive = config.root.outputs.get(name).is_some_and(|o| o.sensitive);
        let before = prior_outputs.get(name).map(|o| Value::from_json(&o.value).mark_if(o.sensitive));
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
        before: Some(Value::from_json(&output.value).mark_if(output.sensitive)),
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

/// `aws_subnet.a` for `aws_subnet.a["x"]`, `module.m[0].aws_vpc.v` for `module.m[0].aws_vpc.v[1]`.
pub fn base_address(address: &str) -> String {
    match address.parse::<Address>() {
        Ok(mut parsed) => {
            parsed.key = None;
            parsed.to_string()
        }
        Err(_) => address.to_string(),
    }
}

/// Whether `address` is `dependency` or inside it (an instance of it, a resource of a module).
pub fn depends_on(address: &str, dependency: &str) -> bool {
    address
        .strip_prefix(dependency)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'))
}

fn delete_change(address: &str, instance: &PriorInstance, reason: &str) -> ResourceChange {
    let parsed = address.parse::<Address>().ok();
    ResourceChange {
        address: address.to_string(),
        mode: instance.state.mode.clone(),
        kind: instance.state.kind.clone(),
        name: parsed.map(|a| a.name).unwrap_or_default(),
        provider: instance.state.provider.clone(),
        change: Change { action: Action::Delete, before: Some(instance.value.clone()), after: None },
        requires_replace: Vec::new(),
        reason: Some(reason.to_string()),
        dependencies: instance.state.dependencies.clone(),
        import_id: None,
        moved_from: None,
    }
}

/// Keeps only the targets and, for creates and updates, what they depend on.
fn filter_targets(plan: &mut Plan, options: &PlanOptions) {
    if options.targets.is_empty() {
        return;
    }
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    let targets: Vec<String> = options.targets.iter().map(|t| t.to_string()).collect();
    let mut frontier: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| targets.iter().any(|t| depends_on(&c.address, t)))
        .map(|c| c.address.clone())
        .collect();
    while let Some(address) = frontier.pop() {
        if !wanted.insert(address.clone()) {
            continue;
        }
        let Some(change) = plan.changes.iter().find(|c| c.address == address) else { continue };
        if plan.destroy {
            // Destroying a target destroys what depends on it.
            for other in &plan.changes {
                if other.dependencies.iter().any(|d| depends_on(&address, d)) {
                    frontier.push(other.address.clone());
                }
            }
        } else {
            for other in &plan.changes {
                if change.dependencies.iter().any(|d| depends_on(&other.address, d)) {
                    frontier.push(other.address.clone());
                }
            }
        }
    }
    plan.changes.retain(|c| wanted.contains(&c.address));
    plan.outputs.clear();
}

/// Reads every instance through its provider, one `read_batch` per resource type.
fn refresh(
    prior: &mut BTreeMap<String, PriorInstance>,
    registry: &Registry,
    diagnostics: &mut Diagnostics,
) -> Vec<ResourceChange> {
    let mut by_type: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (address, instance) in prior.iter() {
        if instance.state.mode == "managed" {
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
        Some(async move { (kind, addresses, provider.read_batch(requests).await) })
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
    prior: BTreeMap<String, PriorInstance>,
    changes: Vec<ResourceChange>,
    /// Resource blocks seen in the walk (with module prefix), even with no instances.
    declared: BTreeSet<String>,
    replace: BTreeSet<String>,
    moved_from: &'a BTreeMap<String, String>,
    imported: &'a BTreeMap<String, String>,
}

/// One instance ready for its provider.
struct Job {
    item: usize,
    position: usize,
    address: String,
    config: Value,
    prior: Option<Value>,
}

impl Planner<'_> {
    /// Whether a `replace_triggered_by` reference changes in this plan.
    fn triggered(&self, resource: &Resource, prefix: &str) -> Option<String> {
        let targets = resource
            .lifecycle
            .replace_triggered_by
            .iter()
            .flat_map(|expr| crate::eval::references::references(&expr.ast))
            .filter_map(|reference| reference.target());
        for target in targets {
            let target = format!("{prefix}{target}");
            if let Some(change) = self.changes.iter().find(|c| {
                depends_on(&c.address, &target)
                    && matches!(c.change.action, Action::Update | Action::Replace(_) | Action::Create)
            }) {
                return Some(change.address.clone());
            }
        }
        None
    }
}

impl ResourceHandler for Planner<'_> {
    fn resources(&mut self, items: Vec<ResourceItem<'_>>, scope: &Scope, diagnostics: &mut Diagnostics) -> Vec<Value> {
        // Evaluate every instance's configuration (sync), then plan them all at once.
        let mut values: Vec<Vec<Value>> = items.iter().map(|item| vec![Value::Unknown; item.instances.len()]).collect();
        let mut jobs = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let resource = item.resource;
            let prefix = item.prefix();
            self.declared.insert(format!("{prefix}{}", resource.address()));
            let Some((_, provider)) = self.registry.for_resource(&resource.kind, resource.provider.as_deref()) else {
                if let Some(key) =
                    resource.provider.as_deref().filter(|_| self.registry.for_type(&resource.kind).is_some())
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
                    continue;
                }
                let mut diagnostic = Diagnostic::error(
                    "Invalid resource type",
                    format!("No provider serves the resource type `{}`.", resource.kind),
                )
                .at(resource.span.clone());
                let types = self.registry.resource_types();
                if let Some(suggestion) = crate::suggest::did_you_mean(&resource.kind, types.iter().map(String::as_str))
                {
                    diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
                }
                diagnostics.push(diagnostic);
                continue;
            };
            let schemas = if resource.mode == Mode::Data {
                &provider.schema().data_sources
            } else {
                &provider.schema().resources
            };
            let Some(schema) = schemas.get(&resource.kind) else {
                diagnostics.push(
                    Diagnostic::error(
                        "Invalid resource type",
                        format!(
                            "The provider `{}` has no {} type `{}`.",
                            provider.name(),
                            if resource.mode == Mode::Data { "data source" } else { "resource" },
                            resource.kind
                        ),
                    )
                    .at(resource.span.clone()),
                );
                continue;
            };
            for (position, instance) in item.instances.iter().enumerate() {
                let key = instance.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
                let address = format!("{prefix}{}{key}", resource.address());
                // Taken out of `prior` first, so an instance whose configuration fails is never
                // mistaken for one that left the configuration.
                let prior = self.prior.remove(&address).map(|p| p.value);
                let bindings: Vec<(&str, Value)> = instance.binding.iter().cloned().collect();
                let Some(mut config) =
                    config_object(&resource.body, &schema.block, scope, &bindings, &address, diagnostics)
                else {
                    continue;
                };
                if resource.mode == Mode::Data {
                    if config.is_wholly_known() {
                        match block_on(
                            provider.read_data(ReadDataRequest { kind: resource.kind.clone(), config: config.clone() }),
                        ) {
                            Ok(response) => {
                                let value = mark_schema_sensitive(copy_marks(&config, response.state), &schema.block);
                                values[index][position] = value.clone();
                                // Kept in the plan so that apply evaluates against the very
                                // values this plan was made with.
                                self.changes.push(ResourceChange {
                                    address: address.clone(),
                                    mode: "data".into(),
                                    kind: resource.kind.clone(),
                                    name: resource.name.clone(),
                                    provider: provider.name().to_string(),
                                    change: Change { action: Action::NoOp, before: None, after: Some(value) },
                                    requires_replace: Vec::new(),
                                    reason: None,
                                    dependencies: item.dependencies.clone(),
                                    import_id: None,
                                    moved_from: None,
                                });
                            }
                            Err(errors) => {
                                diagnostics.extend(errors.into_iter().map(|d| d.for_address(address.clone())))
                            }
                        }
                    } else {
                        self.changes.push(ResourceChange {
                            address: address.clone(),
                            mode: "data".into(),
                            kind: resource.kind.clone(),
                            name: resource.name.clone(),
                            provider: provider.name().to_string(),
                            change: Change { action: Action::Read, before: None, after: Some(config) },
                            requires_replace: Vec::new(),
                            reason: Some("because its configuration depends on values known only after apply".into()),
                            dependencies: item.dependencies.clone(),
                            import_id: None,
                            moved_from: None,
                        });
                    }
                    continue;
                }
                // ignore_changes: the prior value stands in for the configured one.
                if let (Some(Value::Map(prior)), Value::Map(object)) = (&prior, &mut config) {
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
                jobs.push(Job { item: index, position, address, config, prior });
            }
        }
        // Plan every instance of the wave concurrently, phase by phase (a CRD before the
        // custom resources of its kind, as apply orders them).
        let registry = self.registry;
        let provider_of = |job: &Job| {
            let resource = items[job.item].resource;
            registry.for_resource(&resource.kind, resource.provider.as_deref()).map(|(_, p)| p)
        };
        let phases: Vec<u8> = jobs
            .iter()
            .map(|job| provider_of(job).map_or(0, |p| p.phase(&items[job.item].resource.kind, &job.config)))
            .collect();
        let mut order: Vec<u8> = phases.clone();
        order.sort_unstable();
        order.dedup();
        let mut responses: Vec<Option<Result<PlanResponse, Diagnostics>>> = jobs.iter().map(|_| None).collect();
        for phase in order {
            let indexes: Vec<usize> = (0..jobs.len()).filter(|&i| phases[i] == phase).collect();
            let requests = indexes.iter().map(|&index| {
                let job = &jobs[index];
                let provider = provider_of(job);
                let request = PlanRequest {
                    kind: items[job.item].resource.kind.clone(),
                    prior: job.prior.clone(),
                    proposed: job.config.clone(),
                    config: job.config.clone(),
                };
                async move {
                    match provider {
                        Some(provider) => provider.plan(request).await,
                        None => {
                            Err(Diagnostic::error("Invalid resource type", "No provider serves this resource type.")
                                .into())
                        }
                    }
                }
            });
            for (index, response) in indexes.iter().zip(block_on(futures::future::join_all(requests))) {
                responses[*index] = Some(response);
            }
        }
        let responses: Vec<Result<PlanResponse, Diagnostics>> =
            responses.into_iter().map(|r| r.unwrap_or_else(|| Err(Diagnostics::new()))).collect();
        for (job, response) in jobs.into_iter().zip(responses) {
            let item = &items[job.item];
            let resource = item.resource;
            let Some((provider_name, provider)) =
                self.registry.for_resource(&resource.kind, resource.provider.as_deref())
            else {
                continue;
            };
            let response = match response {
                Ok(response) => response,
                Err(errors) => {
                    diagnostics.extend(
                        errors.into_iter().map(|d| d.for_address(job.address.clone()).or_at(resource.span.clone())),
                    );
                    continue;
                }
            };
            if let Err(message) = check_planned(&job.config, &response.planned) {
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
            let planned = copy_marks(&job.config, response.planned);
            let planned = match provider.schema().resources.get(&resource.kind) {
                Some(schema) => mark_schema_sensitive(planned, &schema.block),
                None => planned,
            };
            let order = if resource.lifecycle.create_before_destroy {
                ReplaceOrder::CreateBeforeDestroy
            } else {
                ReplaceOrder::DestroyBeforeCreate
            };
            let mut reason = None;
            let action = match &job.prior {
                None => Action::Create,
                Some(prior) => {
                    if self.replace.contains(&job.address) {
                        reason = Some("because of `-replace`".to_string());
                        Action::Replace(order)
                    } else if !response.requires_replace.is_empty() {
                        Action::Replace(order)
                    } else if let Some(trigger) = self.triggered(resource, &item.prefix()) {
                        reason = Some(format!("because `{trigger}` changes (`replace_triggered_by`)"));
                        Action::Replace(order)
                    } else if values_equal(prior, &planned) && planned.is_wholly_known() {
                        Action::NoOp
                    } else {
                        Action::Update
                    }
                }
            };
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
                values[job.item][job.position] = after.clone();
            }
            self.changes.push(ResourceChange {
                address: job.address.clone(),
                mode: "managed".into(),
                kind: resource.kind.clone(),
                name: resource.name.clone(),
                provider: resource.provider.clone().unwrap_or(provider_name),
                change: Change { action, before: job.prior.clone(), after: Some(after) },
                requires_replace: response.requires_replace,
                reason,
                dependencies: item.dependencies.clone(),
                import_id: self.imported.get(&job.address).cloned(),
                moved_from: self.moved_from.get(&job.address).cloned(),
            });
        }
        items.iter().zip(values).map(|(item, values)| collect(&item.instances, values)).collect()
    }
}
