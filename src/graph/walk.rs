//! The instance walk: every module instance's objects, each started as soon as what it refers
//! to is done.
//!
//! The walk keeps a ready queue of (module instance, node). Locals, outputs and variables are
//! evaluated on the walk's thread as they come off the queue (cheap); a module call expands and
//! starts one run per instance; a resource block expands and hands its instances to the
//! [`ResourceHandler`], which evaluates their arguments and returns the provider work as a
//! future. Those futures run concurrently; each provider call inside takes a permit of the one
//! semaphore the handler was given (`-parallelism`), so refresh, plan and apply are bounded alike.
//! Nothing waits for unrelated work: sibling modules and independent chains overlap.
//!
//! A [`Selection`] (from `-target`) prunes the graph before anything is evaluated: nodes it
//! does not need are never visited.

use super::dependencies::{self, ModuleDependencies};
use super::select::{Need, Selection};
use super::{ModuleGraph, NodeKind};
use crate::addr::{Address, ModuleInstance, ModuleStep, Target};
use crate::config::{LoadedConfig, Mode, Module, Resource};
use crate::eval::Scope;
use crate::expand::{Expansion, Instance};
pub use crate::module_eval::EvalOptions;
use crate::module_eval::{
    collect, eval_body, eval_expr, eval_output, expansion, insert_nested, new_scope, unknown_binding,
    validate_variable, variable_value,
};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use infra_provider::{Diagnostic, Diagnostics, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

/// Module instances one configuration may expand to.
pub const MAX_MODULE_INSTANCES: usize = 10_000;

/// The values of the root module after a walk.
#[derive(Clone, Debug, Default)]
pub struct ModuleValues {
    /// The root module's scope at the end of the walk.
    pub scope: Scope,
    /// Output values (marked when sensitive).
    pub outputs: BTreeMap<String, Value>,
}

/// A resource block ready to be handled.
pub struct ResourceItem<'a> {
    /// The module instance it is in.
    pub path: ModuleInstance,
    /// The block.
    pub resource: &'a Resource,
    /// Its instances (expansion known; a `-target` may have left out some).
    pub instances: Vec<Instance>,
    /// The resources it depends on, through locals, module outputs and module inputs.
    pub dependencies: Vec<Target>,
    /// Whether anything refers to it. When nothing does, a handler may leave its value out
    /// of the scope (answer Unknown) and save a copy of every object.
    pub referenced: bool,
}

impl ResourceItem<'_> {
    /// The address of one of its instances.
    pub fn address(&self, instance: &Instance) -> Address {
        self.path.resource(self.resource.mode, &self.resource.kind, &self.resource.name, instance.key.clone())
    }
}

/// The provider work of one resource block: its value, with what went wrong.
pub type Pending<'a> = BoxFuture<'a, (Value, Diagnostics)>;

/// What a handler answers for a resource block.
pub enum Work<'a> {
    /// The value, now.
    Done(Value),
    /// Provider work to run; its value when it is done.
    Pending(Pending<'a>),
}

/// What happens at resources during a walk.
pub trait ResourceHandler: Sync {
    /// Evaluates a resource block's instances in `scope` and answers its value (an object, a
    /// list by count, a map by key), now or as provider work.
    fn resource<'a>(&'a self, item: ResourceItem<'a>, scope: &Scope, diagnostics: &mut Diagnostics) -> Work<'a>;

    /// Whether it uses [`ResourceItem::dependencies`] (what state records); a walk for a
    /// handler that does not skips the dependency analysis.
    fn records_dependencies(&self) -> bool {
        true
    }

    /// A resource block whose `count` / `for_each` is not known yet: its body is evaluated
    /// for errors with unknown `count` / `each` (`bindings`); its value is Unknown.
    fn unknown_expansion(
        &self,
        resource: &crate::config::Resource,
        scope: &Scope,
        bindings: &[(&str, Value)],
        diagnostics: &mut Diagnostics,
    ) {
        eval_body(&resource.body, scope, bindings, diagnostics);
    }
}

/// Validation and console: every argument is evaluated for errors; values are Unknown.
pub struct Unknowns;

impl ResourceHandler for Unknowns {
    fn records_dependencies(&self) -> bool {
        false
    }

    fn resource<'a>(&'a self, item: ResourceItem<'a>, scope: &Scope, diagnostics: &mut Diagnostics) -> Work<'a> {
        for instance in &item.instances {
            let bindings: Vec<(&str, Value)> = instance.binding.iter().cloned().collect();
            eval_body(&item.resource.body, scope, &bindings, diagnostics);
            for check in &item.resource.lifecycle.preconditions {
                eval_expr(scope, &check.condition, &bindings, diagnostics);
            }
        }
        Work::Done(collect(&item.instances, item.instances.iter().map(|_| Value::Unknown).collect()))
    }
}

/// Evaluates the root module of a loaded configuration; resources are Unknown.
pub fn evaluate_root(
    config: &LoadedConfig,
    variables: &BTreeMap<String, Value>,
    options: &EvalOptions,
) -> (ModuleValues, Diagnostics) {
    walk(config, variables, options, &Unknowns, &Selection::everything())
}

/// A module's graph and dependencies, or its cycles.
type Prepared = Result<(Arc<ModuleGraph>, Arc<ModuleDependencies>), Diagnostics>;

/// Builds the graph and dependencies of every module of the tree, children first.
fn prepare(module: &Module, out: &mut HashMap<*const Module, Prepared>, with_dependencies: bool) {
    if out.contains_key(&(module as *const Module)) {
        return;
    }
    for child in module.children.values() {
        prepare(child, out, with_dependencies);
    }
    let prepared = ModuleGraph::build(module).map(|graph| {
        let child = |name: &str| {
            let child = module.children.get(name)?;
            out.get(&(child as *const Module))?.as_ref().ok().cloned()
        };
        let deps = if with_dependencies {
            dependencies::of_module(module, &graph, &child)
        } else {
            ModuleDependencies { nodes: vec![Vec::new(); graph.names.len()] }
        };
        (Arc::new(graph), Arc::new(deps))
    });
    out.insert(module as *const Module, prepared);
}

/// Graphs of every module of a configuration, for [`super::select::select`].
pub fn graphs(config: &LoadedConfig) -> impl Fn(&Module) -> Option<Arc<ModuleGraph>> {
    let mut prepared = HashMap::new();
    prepare(&config.root, &mut prepared, false);
    let graphs: HashMap<usize, Arc<ModuleGraph>> =
        prepared.into_iter().filter_map(|(module, prepared)| Some((module as usize, prepared.ok()?.0))).collect();
    move |module: &Module| graphs.get(&(module as *const Module as usize)).cloned()
}

/// One instance of a module call being expanded.
struct CallRun {
    instances: Vec<Instance>,
    values: Vec<Value>,
    pending: usize,
    known: bool,
}

/// One module instance in the walk.
struct ModuleRun<'c> {
    path: Vec<ModuleStep>,
    module: &'c Module,
    prepared: Option<(Arc<ModuleGraph>, Arc<ModuleDependencies>)>,
    scope: Scope,
    outputs: BTreeMap<String, Value>,
    remaining: Vec<usize>,
    needed: Vec<Option<Need>>,
    open: usize,
    /// What everything in it depends on (the `depends_on` of the calls on its path).
    inherited: Vec<Target>,
    /// What each input variable was given from, resolved.
    variables: BTreeMap<String, Vec<Target>>,
    /// (run, call node, instance position) of the call that made it.
    parent: Option<(usize, usize, usize)>,
    calls: BTreeMap<usize, CallRun>,
}

/// A finished resource block: (run, node, value, diagnostics).
type Finished = (usize, usize, Value, Diagnostics);

struct Walker<'a> {
    options: &'a EvalOptions,
    handler: &'a dyn ResourceHandler,
    selection: &'a Selection,
    files: Arc<crate::eval::FileAccess>,
    root_dir: std::path::PathBuf,
    prepared: HashMap<*const Module, Prepared>,
    runs: Vec<ModuleRun<'a>>,
    ready: VecDeque<(usize, usize)>,
    diagnostics: Diagnostics,
    module_instances: usize,
}

/// Walks the configuration: the nodes `selection` needs, resources through `handler`.
pub fn walk(
    config: &LoadedConfig,
    variables: &BTreeMap<String, Value>,
    options: &EvalOptions,
    handler: &dyn ResourceHandler,
    selection: &Selection,
) -> (ModuleValues, Diagnostics) {
    let mut prepared = HashMap::new();
    prepare(&config.root, &mut prepared, handler.records_dependencies());
    let mut walker = Walker {
        options,
        handler,
        selection,
        files: config.files.clone(),
        root_dir: config.root.dir.clone(),
        prepared,
        runs: Vec::new(),
        ready: VecDeque::new(),
        diagnostics: Diagnostics::new(),
        module_instances: 0,
    };
    let inputs: BTreeMap<String, (Value, Option<infra_provider::Span>)> =
        variables.iter().map(|(name, value)| (name.clone(), (value.clone(), None))).collect();
    walker.start_run(&config.root, Vec::new(), &inputs, None, Vec::new(), BTreeMap::new());
    crate::runtime::block_on(walker.run());
    let root = walker.runs.swap_remove(0);
    let values = ModuleValues { scope: root.scope, outputs: root.outputs };
    (values, dedup(walker.diagnostics))
}

/// Drops repeated diagnostics (same summary, place and detail), keeping the first.
fn dedup(diagnostics: Diagnostics) -> Diagnostics {
    let mut seen = std::collections::HashSet::new();
    let mut out = Diagnostics::new();
    for diagnostic in diagnostics {
        let key = (diagnostic.summary.clone(), format!("{:?}", diagnostic.primary), diagnostic.detail.clone());
        if seen.insert(key) {
            out.push(diagnostic);
        }
    }
    out
}

impl<'a> Walker<'a> {
    async fn run(&mut self) {
        let mut running: FuturesUnordered<BoxFuture<'a, Finished>> = FuturesUnordered::new();
        loop {
            while let Some((run, node)) = self.ready.pop_front() {
                if let Some(work) = self.visit(run, node) {
                    running.push(work);
                }
            }
            let Some((run, node, value, diagnostics)) = running.next().await else { break };
            self.report(run, diagnostics);
            self.set_resource(run, node, value);
            self.complete(run, node);
        }
    }

    /// Adds diagnostics found in a run; those of a module instance name its call.
    fn report(&mut self, run: usize, diagnostics: Diagnostics) {
        let call = self.runs[run].path.last().map(|step| format!("module.{}", step.name));
        self.diagnostics.extend(diagnostics.into_iter().map(|d| match (&call, &d.address) {
            (Some(call), None) => d.for_address(call.clone()),
            _ => d,
        }));
    }

    #[allow(clippy::too_many_arguments)]
    fn start_run(
        &mut self,
        module: &'a Module,
        path: Vec<ModuleStep>,
        inputs: &BTreeMap<String, (Value, Option<infra_provider::Span>)>,
        parent: Option<(usize, usize, usize)>,
        inherited: Vec<Target>,
        variables: BTreeMap<String, Vec<Target>>,
    ) {
        let id = self.runs.len();
        let mut diagnostics = Diagnostics::new();
        let is_root = path.is_empty();
        let mut scope = new_scope(module, &self.root_dir, &self.files, self.options);
        for (name, variable) in &module.variables {
            let value = variable_value(variable, inputs.get(name), self.options, &mut diagnostics, is_root);
            insert_nested(&mut scope, &["var", name], value);
        }
        for (name, (_, span)) in inputs {
            if !module.variables.contains_key(name) && span.is_some() {
                let mut diagnostic = Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "An argument named `{name}` is not expected here: the module declares no variable `{name}`."
                    ),
                )
                .at(span.clone());
                if let Some(suggestion) =
                    crate::suggest::did_you_mean(name, module.variables.keys().map(String::as_str))
                {
                    diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
                }
                diagnostics.push(diagnostic);
            }
        }
        for variable in module.variables.values() {
            validate_variable(variable, &scope, &mut diagnostics);
        }
        // Validation: once their rules have judged the values the call passes, a module's
        // variables are unknown, so that the module is checked for every value (Terraform's
        // validate walk).
        if self.options.unknown_variables && !is_root {
            for (name, variable) in &module.variables {
                insert_nested(&mut scope, &["var", name], Value::Unknown.mark_if(variable.sensitive));
            }
        }
        let prepared = match self.prepared.get(&(module as *const Module)) {
            Some(Ok(prepared)) => Some(prepared.clone()),
            Some(Err(cycles)) => {
                diagnostics.extend(cycles.clone());
                None
            }
            None => None,
        };
        let (remaining, needed) = match &prepared {
            Some((graph, _)) => (
                graph.dependencies.iter().map(Vec::len).collect(),
                graph.names.iter().map(|name| self.selection.need(&path, name)).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let open = needed.iter().filter(|n: &&Option<Need>| n.is_some()).count();
        if let Some((graph, _)) = &prepared {
            for &node in &graph.order {
                if remaining[node] == 0 && needed[node].is_some() {
                    self.ready.push_back((id, node));
                }
            }
        }
        self.runs.push(ModuleRun {
            path,
            module,
            prepared,
            scope,
            outputs: BTreeMap::new(),
            remaining,
            needed,
            open,
            inherited,
            variables,
            parent,
            calls: BTreeMap::new(),
        });
        self.report(id, diagnostics);
        if open == 0 {
            self.finish_run(id);
        }
    }

    fn complete(&mut self, run: usize, node: usize) {
        let Some((graph, _)) = self.runs[run].prepared.clone() else { return };
        let state = &mut self.runs[run];
        state.open = state.open.saturating_sub(1);
        for &dependent in &graph.dependents[node] {
            state.remaining[dependent] = state.remaining[dependent].saturating_sub(1);
            if state.remaining[dependent] == 0 && state.needed[dependent].is_some() {
                self.ready.push_back((run, dependent));
            }
        }
        if self.runs[run].open == 0 {
            self.finish_run(run);
        }
    }

    /// A module instance is done: its outputs go to its call.
    fn finish_run(&mut self, run: usize) {
        let Some((parent, node, position)) = self.runs[run].parent else { return };
        let outputs = std::mem::take(&mut self.runs[run].outputs);
        // Its scope is no longer needed.
        self.runs[run].scope = Scope::default();
        let Some(call) = self.runs[parent].calls.get_mut(&node) else { return };
        call.values[position] = Value::Map(outputs);
        call.pending = call.pending.saturating_sub(1);
        if call.pending > 0 {
            return;
        }
        let Some(call) = self.runs[parent].calls.remove(&node) else { return };
        let value = if call.known { collect(&call.instances, call.values) } else { Value::Unknown };
        self.set_call(parent, node, value);
        self.complete(parent, node);
    }

    fn set_call(&mut self, run: usize, node: usize, value: Value) {
        let state = &mut self.runs[run];
        let Some((graph, _)) = &state.prepared else { return };
        let name = graph.names[node].trim_start_matches("module.").to_string();
        if let Some((kind, short)) = state.module.module_calls.get(&name).and_then(|c| c.platform.as_ref()) {
            insert_nested(&mut state.scope, &[kind, short], value.clone());
        }
        insert_nested(&mut state.scope, &["module", &name], value);
    }

    fn set_resource(&mut self, run: usize, node: usize, value: Value) {
        let state = &mut self.runs[run];
        let Some((graph, _)) = &state.prepared else { return };
        let Some(resource) = state.module.resources.get(&graph.names[node]) else { return };
        match resource.mode {
            Mode::Managed => insert_nested(&mut state.scope, &[&resource.kind, &resource.name], value),
            Mode::Data => insert_nested(&mut state.scope, &["data", &resource.kind, &resource.name], value),
        }
    }

    /// Works on one ready node; answers the provider work it started, if any.
    fn visit(&mut self, run: usize, node: usize) -> Option<BoxFuture<'a, Finished>> {
        let (graph, deps) = self.runs[run].prepared.clone()?;
        let module = self.runs[run].module;
        let name = graph.names[node].as_str();
        let mut diagnostics = Diagnostics::new();
        let mut work = None;
        match graph.kinds[node] {
            NodeKind::Local => {
                let local = &module.locals[&name["local.".len()..]];
                let state = &mut self.runs[run];
                let value = eval_expr(&state.scope, &local.expr, &[], &mut diagnostics).unwrap_or(Value::Unknown);
                insert_nested(&mut state.scope, &["local", &local.name], value);
            }
            NodeKind::Output => {
                let output = &module.outputs[&name["output.".len()..]];
                let state = &mut self.runs[run];
                // A failed output is unknown: its error is reported once, where it is, and a
                // reference to it is not a second "no attribute" error.
                let value = eval_output(output, &state.scope, &mut diagnostics).unwrap_or(Value::Unknown);
                state.outputs.insert(output.name.clone(), value);
            }
            NodeKind::Call => {
                let call_name = &name["module.".len()..];
                self.report(run, diagnostics);
                self.start_call(run, node, call_name, &graph, &deps);
                return None;
            }
            NodeKind::Resource => {
                let resource = &module.resources[name];
                let state = &self.runs[run];
                match expansion(
                    resource.count.as_ref(),
                    resource.for_each.as_ref(),
                    &state.scope,
                    self.options.expansion_must_be_known,
                    &mut diagnostics,
                ) {
                    Some(Expansion::Known(mut instances)) => {
                        let path = ModuleInstance(state.path.clone());
                        if let Some(Need::Some(targets)) = &state.needed[node] {
                            instances.retain(|instance| {
                                let address =
                                    path.resource(resource.mode, &resource.kind, &resource.name, instance.key.clone());
                                targets.iter().any(|t| t.contains(&address))
                            });
                        }
                        let mut dependencies = state.inherited.clone();
                        for target in dependencies::resolve(&deps.nodes[node], &state.path, &state.variables) {
                            if !dependencies.contains(&target) {
                                dependencies.push(target);
                            }
                        }
                        let item = ResourceItem {
                            path,
                            resource,
                            instances,
                            dependencies,
                            referenced: graph.referenced(node),
                        };
                        match self.handler.resource(item, &state.scope, &mut diagnostics) {
                            Work::Done(value) => {
                                self.report(run, diagnostics);
                                self.set_resource(run, node, value);
                                self.complete(run, node);
                            }
                            Work::Pending(future) => {
                                self.report(run, diagnostics);
                                work = Some(Box::pin(async move {
                                    let (value, diagnostics) = future.await;
                                    (run, node, value, diagnostics)
                                }) as BoxFuture<'a, Finished>);
                            }
                        }
                        return work;
                    }
                    Some(Expansion::Unknown { kind }) => {
                        let bindings = [unknown_binding(kind)];
                        self.handler.unknown_expansion(resource, &state.scope, &bindings, &mut diagnostics);
                    }
                    None => {}
                }
                self.report(run, diagnostics);
                self.set_resource(run, node, Value::Unknown);
                self.complete(run, node);
                return None;
            }
        }
        self.report(run, diagnostics);
        self.complete(run, node);
        work
    }

    /// A module call is ready: expand it and start a run per instance.
    fn start_call(
        &mut self,
        run: usize,
        node: usize,
        call_name: &str,
        graph: &Arc<ModuleGraph>,
        deps: &Arc<ModuleDependencies>,
    ) {
        let module = self.runs[run].module;
        let call = &module.module_calls[call_name];
        let mut diagnostics = Diagnostics::new();
        let Some(child) = module.children.get(call_name) else {
            self.set_call(run, node, Value::Unknown);
            self.complete(run, node);
            return;
        };
        let Some(expanded) = expansion(
            call.count.as_ref(),
            call.for_each.as_ref(),
            &self.runs[run].scope,
            self.options.expansion_must_be_known,
            &mut diagnostics,
        ) else {
            self.report(run, diagnostics);
            self.set_call(run, node, Value::Unknown);
            self.complete(run, node);
            return;
        };
        let (instances, known) = match expanded {
            Expansion::Known(instances) => (instances, true),
            Expansion::Unknown { kind } => (vec![Instance { key: None, binding: Some(unknown_binding(kind)) }], false),
        };
        self.module_instances += instances.len();
        if self.module_instances > MAX_MODULE_INSTANCES {
            diagnostics.push(
                Diagnostic::error(
                    "Too many module instances",
                    format!(
                        "The configuration expands to more than {MAX_MODULE_INSTANCES} module instances (`module.{}` adds {}); reduce `count` / `for_each`.",
                        call.name,
                        instances.len()
                    ),
                )
                .at(call.source_span.clone()),
            );
            self.report(run, diagnostics);
            self.set_call(run, node, Value::Unknown);
            self.complete(run, node);
            return;
        }
        // What everything inside depends on: the call's `depends_on`, and the calls' above.
        let state = &self.runs[run];
        let mut inherited = state.inherited.clone();
        let ordering = dependencies::ordering_deps(module, graph, &deps.nodes, &call.depends_on);
        for target in dependencies::resolve(&ordering, &state.path, &state.variables) {
            if !inherited.contains(&target) {
                inherited.push(target);
            }
        }
        let variables: BTreeMap<String, Vec<Target>> = call
            .inputs
            .iter()
            .map(|(name, input)| {
                let found = dependencies::expr_deps(module, graph, &deps.nodes, &input.expr, &|_| None);
                (name.clone(), dependencies::resolve(&found, &state.path, &state.variables))
            })
            .collect();
        let mut started = Vec::with_capacity(instances.len());
        for instance in &instances {
            let bindings: Vec<(&str, Value)> = instance.binding.iter().cloned().collect();
            let mut inputs = BTreeMap::new();
            for (name, attribute) in &call.inputs {
                let value = eval_expr(&self.runs[run].scope, &attribute.expr, &bindings, &mut diagnostics)
                    .unwrap_or(Value::Unknown);
                inputs.insert(name.clone(), (value, attribute.name_span.clone()));
            }
            let mut path = self.runs[run].path.clone();
            path.push(ModuleStep { name: call.name.clone(), key: instance.key.clone() });
            started.push((path, inputs));
        }
        self.report(run, diagnostics);
        let count = instances.len();
        self.runs[run]
            .calls
            .insert(node, CallRun { values: vec![Value::Null; count], pending: count, known, instances });
        if count == 0 {
            let value = if known { collect(&[], Vec::new()) } else { Value::Unknown };
            self.runs[run].calls.remove(&node);
            self.set_call(run, node, value);
            self.complete(run, node);
            return;
        }
        for (position, (path, inputs)) in started.into_iter().enumerate() {
            self.start_run(child, path, &inputs, Some((run, node, position)), inherited.clone(), variables.clone());
        }
    }
}

/// Provider phases across the walk: a provider's phase-0 calls (a Kubernetes namespace or CRD)
/// run before its later-phase calls (the objects in them) that are ready at the same time.
/// A later-phase call waits while any phase-0 call of its provider is started and unfinished.
#[derive(Default)]
pub struct Phases {
    first: std::sync::Mutex<HashMap<String, usize>>,
    changed: tokio::sync::Notify,
}

impl Phases {
    /// A call of `provider` in `phase` is about to be made (counted from when it is known,
    /// before it waits for anything).
    pub fn enter(&self, provider: &str, phase: u8) {
        if phase == 0 {
            *self.first.lock().unwrap_or_else(|p| p.into_inner()).entry(provider.to_string()).or_default() += 1;
        }
    }

    /// The call is done.
    pub fn leave(&self, provider: &str, phase: u8) {
        if phase != 0 {
            return;
        }
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = first.get_mut(provider) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.changed.notify_waiters();
            }
        }
    }

    /// Waits until no phase-0 call of `provider` is pending (at once for phase 0).
    pub async fn wait(&self, provider: &str, phase: u8) {
        if phase == 0 {
            return;
        }
        loop {
            let changed = self.changed.notified();
            let pending = self.first.lock().unwrap_or_else(|p| p.into_inner()).get(provider).copied().unwrap_or(0);
            if pending == 0 {
                return;
            }
            changed.await;
        }
    }
}

/// The resources each resource of the root module depends on (through locals and module
/// outputs), by its name in the module (`aws_subnet.a`).
pub fn root_dependencies(config: &LoadedConfig) -> BTreeMap<String, Vec<Target>> {
    let mut prepared = HashMap::new();
    prepare(&config.root, &mut prepared, true);
    let Some(Ok((graph, deps))) = prepared.get(&(&config.root as *const Module)) else { return BTreeMap::new() };
    graph
        .names
        .iter()
        .enumerate()
        .filter(|(node, _)| graph.kinds[*node] == NodeKind::Resource)
        .map(|(node, name)| (name.clone(), dependencies::resolve(&deps.nodes[node], &[], &BTreeMap::new())))
        .collect()
}
