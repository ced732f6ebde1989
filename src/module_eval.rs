//! Evaluating a whole module tree: input variables, locals, module calls, outputs, and the
//! arguments of every resource, in dependency order.
//!
//! This is what `infra validate` and `infra console` run, and what the planner builds on.
//! Without state or providers, resources evaluate to Unknown ("known after apply"); their
//! arguments are still evaluated instance by instance, so that every wrong reference, type or
//! function argument in them is reported.
//!
//! What happens at a resource is the caller's: a [`ResourceHandler`] gets every resource block
//! of a *wave* (blocks whose dependencies are all done) at once, with its expanded instances, and
//! returns their values — Unknown for validation, planned values for plan, applied values for
//! apply. Handlers may work on the blocks of a wave in parallel.
//!
//! Trade-off: the scope is one set of nested maps updated in place as the walk goes on, so
//! each object is evaluated once and lookups are map lookups; locals and outputs are evaluated
//! between waves on one thread, which costs nothing next to provider calls.

use crate::addr::{InstanceKey, ModuleStep};
use crate::config::{Expr, LoadedConfig, Mode, Module, NestedBlock, Variable};
use crate::eval::{Evaluator, Scope, convert};
use crate::expand::{self, Expansion, Instance};
use crate::graph::ModuleGraph;
use infra_provider::{Diagnostic, Diagnostics, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// How to evaluate.
#[derive(Clone, Debug, Default)]
pub struct EvalOptions {
    /// Variables without a value are Unknown (validate) instead of an error (console, plan).
    pub unknown_variables: bool,
    /// `timestamp()` and `uuid()` are Unknown.
    pub plan_time: bool,
    /// `count` / `for_each` must be known (plan).
    pub expansion_must_be_known: bool,
    /// `terraform.workspace`.
    pub workspace: String,
}

/// The values of a module after evaluation.
#[derive(Clone, Debug, Default)]
pub struct ModuleValues {
    /// The scope at the end of the walk: every name an expression in the module can see.
    pub scope: Scope,
    /// Output values (marked when sensitive).
    pub outputs: BTreeMap<String, Value>,
}

/// A resource block ready to be handled: its module instance, its instances, what it depends on.
pub struct ResourceItem<'a> {
    /// The module instance path (empty for the root module).
    pub path: Vec<ModuleStep>,
    /// The block.
    pub resource: &'a crate::config::Resource,
    /// Its instances (expansion known).
    pub instances: Vec<Instance>,
    /// Resource-level addresses (with module prefix) it depends on, directly or through the
    /// module call it is in: `aws_vpc.main`, `module.net[0].aws_subnet.a`, `module.db`.
    pub dependencies: Vec<String>,
    /// Whether any expression of the module refers to it. When nothing does, a handler may
    /// leave its value out of the scope (return Unknown) and save a copy of every object.
    pub referenced: bool,
}

impl ResourceItem<'_> {
    /// `module.net[0].` or empty.
    pub fn prefix(&self) -> String {
        module_prefix(&self.path)
    }
}

/// `module.a[0].module.b.` for a module path.
pub fn module_prefix(path: &[ModuleStep]) -> String {
    let mut out = String::new();
    for step in path {
        out.push_str("module.");
        out.push_str(&step.name);
        if let Some(key) = &step.key {
            out.push_str(&key.to_string());
        }
        out.push('.');
    }
    out
}

/// What happens at resources during a walk.
pub trait ResourceHandler {
    /// Handles the resource blocks of one wave; returns one value per item, in order (the
    /// value the scope holds for the block: an object, a list by count, a map by key).
    fn resources(&mut self, items: Vec<ResourceItem<'_>>, scope: &Scope, diagnostics: &mut Diagnostics) -> Vec<Value>;
}

/// Validation and console: every argument is evaluated for errors; values are Unknown.
pub struct Unknowns;

impl ResourceHandler for Unknowns {
    fn resources(&mut self, items: Vec<ResourceItem<'_>>, scope: &Scope, diagnostics: &mut Diagnostics) -> Vec<Value> {
        items
            .into_iter()
            .map(|item| {
                for instance in &item.instances {
                    let bindings: Vec<(&str, Value)> = instance.binding.iter().cloned().collect();
                    eval_body(&item.resource.body, scope, &bindings, diagnostics);
                    for check in &item.resource.lifecycle.preconditions {
                        eval_expr(scope, &check.condition, &bindings, diagnostics);
                    }
                }
                collect(&item.instances, item.instances.iter().map(|_| Value::Unknown).collect())
            })
            .collect()
    }
}

/// Evaluates the root module of a loaded configuration with the given variable values;
/// resources are Unknown.
pub fn evaluate_root(
    config: &LoadedConfig,
    variables: &BTreeMap<String, Value>,
    options: &EvalOptions,
) -> (ModuleValues, Diagnostics) {
    evaluate_root_with(config, variables, options, &mut Unknowns)
}

/// Evaluates the root module, handing resources to `handler`.
pub fn evaluate_root_with(
    config: &LoadedConfig,
    variables: &BTreeMap<String, Value>,
    options: &EvalOptions,
    handler: &mut dyn ResourceHandler,
) -> (ModuleValues, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    let inputs: BTreeMap<String, (Value, Option<infra_provider::Span>)> =
        variables.iter().map(|(name, value)| (name.clone(), (value.clone(), None))).collect();
    let mut walk =
        Walk { root_dir: config.root.dir.clone(), files: config.files.clone(), options, handler, module_instances: 0 };
    let values = walk.module(&config.root, &inputs, &[], &[], &mut diagnostics);
    (values, dedup(diagnostics))
}

/// Module instances one configuration may expand to.
pub const MAX_MODULE_INSTANCES: usize = 10_000;

struct Walk<'h> {
    /// Module instances expanded so far (at most [`MAX_MODULE_INSTANCES`]).
    module_instances: usize,
    root_dir: std::path::PathBuf,
    files: std::sync::Arc<crate::eval::FileAccess>,
    options: &'h EvalOptions,
    handler: &'h mut dyn ResourceHandler,
}

/// Drops repeated diagnostics (same summary at the same place), keeping the first.
fn dedup(diagnostics: Diagnostics) -> Diagnostics {
    let mut seen = Vec::new();
    let mut out = Diagnostics::new();
    for diagnostic in diagnostics {
        let key = (diagnostic.summary.clone(), diagnostic.primary.clone(), diagnostic.detail.clone());
        if !seen.contains(&key) {
            seen.push(key);
            out.push(diagnostic);
        }
    }
    out
}

fn insert_nested(scope: &mut Scope, path: &[&str], value: Value) {
    let mut current = scope.roots.entry(path[0].to_string()).or_insert_with(|| Value::Map(BTreeMap::new()));
    for key in &path[1..] {
        if !matches!(current, Value::Map(_)) {
            *current = Value::Map(BTreeMap::new());
        }
        let Value::Map(entries) = current else { unreachable!("just made a map") };
        current = entries.entry((*key).to_string()).or_insert(Value::Null);
    }
    *current = value;
}

impl Walk<'_> {
    fn module(
        &mut self,
        module: &Module,
        inputs: &BTreeMap<String, (Value, Option<infra_provider::Span>)>,
        path: &[ModuleStep],
        inherited: &[String],
        diagnostics: &mut Diagnostics,
    ) -> ModuleValues {
        let options = self.options;
        let is_root = path.is_empty();
        let mut scope = Scope::new(&module.dir);
        scope.plan_time = options.plan_time;
        scope.files = self.files.clone();
        let path_value = |path: &Path| Value::String(path.to_string_lossy().into_owned());
        // The configuration's root is the working directory of its expressions (the process's
        // in the terminal, which `-chdir` sets; the checkout's in the controller).
        let cwd = if self.files.base.as_os_str().is_empty() {
            std::env::current_dir().unwrap_or_default()
        } else {
            self.files.base.clone()
        };
        scope.set(
            "path",
            Value::Map(BTreeMap::from([
                ("module".to_string(), path_value(&relative_to(&module.dir, &cwd))),
                ("root".to_string(), path_value(&relative_to(&self.root_dir, &cwd))),
                ("cwd".to_string(), path_value(&cwd)),
            ])),
        );
        scope.set(
            "terraform",
            Value::Map(BTreeMap::from([("workspace".to_string(), Value::from(options.workspace.as_str()))])),
        );
        for key in ["var", "local", "module", "data"] {
            scope.set(key, Value::Map(BTreeMap::new()));
        }
        // Every declared name exists from the start (as Unknown until its turn in the walk), so a
        // misspelled reference gets a "did you mean" whatever the evaluation order.
        for name in module.locals.keys() {
            insert_nested(&mut scope, &["local", name], Value::Unknown);
        }
        for (kind, _) in crate::platform::KINDS {
            scope.set(kind, Value::Map(BTreeMap::new()));
        }
        for (name, call) in &module.module_calls {
            insert_nested(&mut scope, &["module", name], Value::Unknown);
            if let Some((kind, short)) = &call.platform {
                insert_nested(&mut scope, &[kind, short], Value::Unknown);
            }
        }
        for resource in module.resources.values() {
            match resource.mode {
                Mode::Managed => insert_nested(&mut scope, &[&resource.kind, &resource.name], Value::Unknown),
                Mode::Data => insert_nested(&mut scope, &["data", &resource.kind, &resource.name], Value::Unknown),
            }
        }

        // 1. Input variables, then their validations (which may refer to each other).
        for (name, variable) in &module.variables {
            let value = variable_value(variable, inputs.get(name), options, diagnostics, is_root);
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
            validate_variable(variable, &scope, diagnostics);
        }

        // 2. Everything else, wave by wave in dependency order.
        let graph = match ModuleGraph::build(module) {
            Ok(graph) => graph,
            Err(cycles) => {
                diagnostics.extend(cycles);
                return ModuleValues { scope, outputs: BTreeMap::new() };
            }
        };
        let prefix = module_prefix(path);
        let mut outputs = BTreeMap::new();
        for wave in graph.waves() {
            let mut items = Vec::new();
            for node in wave {
                if let Some(name) = node.strip_prefix("local.") {
                    let local = &module.locals[name];
                    let value = eval_expr(&scope, &local.expr, &[], diagnostics).unwrap_or(Value::Unknown);
                    insert_nested(&mut scope, &["local", name], value);
                } else if let Some(name) = node.strip_prefix("output.") {
                    let output = &module.outputs[name];
                    if let Some(value) = eval_output(output, &scope, diagnostics) {
                        outputs.insert(name.to_string(), value);
                    }
                } else if let Some(name) = node.strip_prefix("module.") {
                    let call = &module.module_calls[name];
                    let mut dependencies = inherited.to_vec();
                    dependencies.extend(graph.dependencies[&node].iter().map(|d| format!("{prefix}{d}")));
                    let value = match module.children.get(name) {
                        Some(child) => self.module_call(call, child, &scope, path, &dependencies, diagnostics),
                        None => Value::Unknown,
                    };
                    if let Some((kind, short)) = &call.platform {
                        insert_nested(&mut scope, &[kind, short], value.clone());
                    }
                    insert_nested(&mut scope, &["module", name], value);
                } else if let Some(resource) = module.resources.get(&node) {
                    let mut dependencies = inherited.to_vec();
                    dependencies.extend(graph.dependencies[&node].iter().map(|d| format!("{prefix}{d}")));
                    match expansion(
                        resource.count.as_ref(),
                        resource.for_each.as_ref(),
                        &scope,
                        options.expansion_must_be_known,
                        diagnostics,
                    ) {
                        Some(Expansion::Known(instances)) => {
                            let referenced = graph.referenced(&node);
                            items.push(ResourceItem {
                                path: path.to_vec(),
                                resource,
                                instances,
                                dependencies,
                                referenced,
                            });
                        }
                        Some(Expansion::Unknown { kind }) => {
                            let bindings = [unknown_binding(kind)];
                            eval_body(&resource.body, &scope, &bindings, diagnostics);
                        }
                        None => {}
                    }
                }
            }
            if items.is_empty() {
                continue;
            }
            let handled: Vec<&crate::config::Resource> = items.iter().map(|item| item.resource).collect();
            let values = self.handler.resources(items, &scope, diagnostics);
            for (resource, value) in handled.into_iter().zip(values) {
                match resource.mode {
                    Mode::Managed => insert_nested(&mut scope, &[&resource.kind, &resource.name], value),
                    Mode::Data => insert_nested(&mut scope, &["data", &resource.kind, &resource.name], value),
                }
            }
        }
        ModuleValues { scope, outputs }
    }

    fn module_call(
        &mut self,
        call: &crate::config::ModuleCall,
        child: &Module,
        scope: &Scope,
        path: &[ModuleStep],
        dependencies: &[String],
        diagnostics: &mut Diagnostics,
    ) -> Value {
        let Some(expansion) = expansion(
            call.count.as_ref(),
            call.for_each.as_ref(),
            scope,
            self.options.expansion_must_be_known,
            diagnostics,
        ) else {
            return Value::Unknown;
        };
        let (instances, known) = match expansion {
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
            return Value::Unknown;
        }
        let mut values = Vec::with_capacity(instances.len());
        // Diagnostics from the child are the same for every instance; report them once.
        let mut reported = false;
        for instance in &instances {
            let bindings: Vec<(&str, Value)> = instance.binding.iter().cloned().collect();
            let mut inputs = BTreeMap::new();
            for (name, attribute) in &call.inputs {
                let value = eval_expr(scope, &attribute.expr, &bindings, diagnostics).unwrap_or(Value::Unknown);
                inputs.insert(name.clone(), (value, attribute.name_span.clone()));
            }
            let mut child_path = path.to_vec();
            child_path.push(ModuleStep { name: call.name.clone(), key: instance.key.clone() });
            let mut child_diagnostics = Diagnostics::new();
            let result = self.module(child, &inputs, &child_path, dependencies, &mut child_diagnostics);
            if !reported {
                diagnostics.extend(
                    child_diagnostics
                        .into_iter()
                        .map(|d| if d.address.is_none() { d.for_address(format!("module.{}", call.name)) } else { d }),
                );
                reported = true;
            }
            values.push(Value::Map(result.outputs));
        }
        if !known {
            return Value::Unknown;
        }
        collect(&instances, values)
    }
}

fn relative_to(path: &Path, base: &Path) -> std::path::PathBuf {
    let absolute = if path.is_absolute() { path.to_path_buf() } else { base.join(path) };
    match absolute.strip_prefix(base) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".into(),
        Ok(relative) => relative.to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}

fn variable_value(
    variable: &Variable,
    given: Option<&(Value, Option<infra_provider::Span>)>,
    options: &EvalOptions,
    diagnostics: &mut Diagnostics,
    is_root: bool,
) -> Value {
    let (raw, span) = match given {
        Some((value, span)) => (value.clone(), span.clone()),
        None => match &variable.default {
            Some(default) => (default.clone(), variable.default_span.clone()),
            None if options.unknown_variables && is_root => return Value::Unknown.mark_if(variable.sensitive),
            None => {
                let detail = if is_root {
                    format!(
                        "The root module input variable `{}` is not set and has no default value. Use `--var {}=...`, a `--var-file`, or the environment variable `INFRA_VAR_{}` to provide it.",
                        variable.name, variable.name, variable.name
                    )
                } else {
                    format!("The module input variable `{}` is required: set it in the module block.", variable.name)
                };
                diagnostics.push(Diagnostic::error("No value for required variable", detail).at(variable.span.clone()));
                return Value::Unknown;
            }
        },
    };
    // A null for a non-nullable variable takes its default; without one it is an error.
    let raw = if raw.is_null() && !variable.nullable { variable.default.clone().unwrap_or(Value::Null) } else { raw };
    if raw.is_null() && !variable.nullable {
        diagnostics.push(
            Diagnostic::error(
                "Invalid value for input variable",
                format!("The variable `{}` is not nullable, and null was given.", variable.name),
            )
            .at(span.or(variable.span.clone())),
        );
        return Value::Unknown;
    }
    match convert::convert(raw.mark_if(variable.sensitive), &variable.type_constraint) {
        Ok(value) => value,
        Err(message) => {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid value for input variable",
                    format!(
                        "The given value is not suitable for `var.{}`, which is of type {}: {message}.",
                        variable.name, variable.type_constraint
                    ),
                )
                .at(span.or(variable.span.clone())),
            );
            Value::Unknown
        }
    }
}

fn validate_variable(variable: &Variable, scope: &Scope, diagnostics: &mut Diagnostics) {
    for check in &variable.validations {
        let Some(passed) = eval_expr(scope, &check.condition, &[], diagnostics) else { continue };
        let (passed, _) = passed.unmark();
        if !passed.is_known() {
            continue;
        }
        match convert::to_bool(&passed) {
            Ok(true) => {}
            Ok(false) => {
                let message = message_text(scope, &check.error_message, diagnostics);
                diagnostics.push(
                    Diagnostic::error("Invalid value for variable", message)
                        .at(check.condition.span())
                        .for_address(format!("var.{}", variable.name)),
                );
            }
            Err(message) => diagnostics.push(
                Diagnostic::error("Invalid validation condition", format!("The condition must be a bool: {message}."))
                    .at(check.condition.span()),
            ),
        }
    }
}

fn message_text(scope: &Scope, expr: &Expr, diagnostics: &mut Diagnostics) -> String {
    match eval_expr(scope, expr, &[], diagnostics) {
        Some(value) if value.is_marked() => "(sensitive value)".to_string(),
        Some(value) => {
            value.as_str().map(str::to_string).unwrap_or_else(|| "(the error message is not a string)".into())
        }
        None => "(the error message could not be evaluated)".into(),
    }
}

/// Evaluates an expression with extra bindings (`count`, `each`, a dynamic iterator).
pub fn eval_expr(
    scope: &Scope,
    expr: &Expr,
    bindings: &[(&str, Value)],
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let mut evaluator = Evaluator::new(scope, expr.file);
    for (name, value) in bindings {
        evaluator.bind(name, value.clone());
    }
    match evaluator.eval(&expr.ast) {
        Ok(value) => Some(value),
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            None
        }
    }
}

fn eval_output(output: &crate::config::Output, scope: &Scope, diagnostics: &mut Diagnostics) -> Option<Value> {
    let value = eval_expr(scope, &output.value, &[], diagnostics)?;
    for check in &output.preconditions {
        if let Some(passed) = eval_expr(scope, &check.condition, &[], diagnostics)
            && passed.bare() == &Value::Bool(false)
        {
            let message = message_text(scope, &check.error_message, diagnostics);
            diagnostics.push(
                Diagnostic::error("Module output value precondition failed", message)
                    .at(check.condition.span())
                    .for_address(format!("output.{}", output.name)),
            );
        }
    }
    if value.contains_sensitive() && !output.sensitive {
        diagnostics.push(
            Diagnostic::error(
                "Output refers to sensitive values",
                format!("The output `{}` refers to sensitive values. Declare it sensitive to confirm that you intend to export them; its value is then hidden in plans and logs.", output.name),
            )
            .at(output.value.span())
            .with_hint("add `sensitive = true` to the output block"),
        );
    }
    Some(value.mark_if(output.sensitive))
}

fn expansion(
    count: Option<&Expr>,
    for_each: Option<&Expr>,
    scope: &Scope,
    must_know: bool,
    diagnostics: &mut Diagnostics,
) -> Option<Expansion> {
    let result = match (count, for_each) {
        (Some(expr), _) => expand::count(eval_expr(scope, expr, &[], diagnostics)?, expr, must_know),
        (None, Some(expr)) => expand::for_each(eval_expr(scope, expr, &[], diagnostics)?, expr, must_know),
        (None, None) => Ok(expand::single()),
    };
    result.map_err(|diagnostic| diagnostics.push(diagnostic)).ok()
}

/// The value of an expanded object from its instances' values.
pub fn collect(instances: &[Instance], values: Vec<Value>) -> Value {
    match instances.first().and_then(|i| i.key.as_ref()) {
        None if instances.len() == 1 => values.into_iter().next().unwrap_or(Value::Unknown),
        Some(InstanceKey::Str(_)) => Value::Map(
            instances
                .iter()
                .zip(values)
                .filter_map(|(instance, value)| match &instance.key {
                    Some(InstanceKey::Str(key)) => Some((key.clone(), value)),
                    _ => None,
                })
                .collect(),
        ),
        _ => Value::List(values),
    }
}

fn unknown_binding(kind: &'static str) -> (&'static str, Value) {
    let keys: &[&str] = if kind == "count" { &["index"] } else { &["key", "value"] };
    (kind, Value::Map(keys.iter().map(|k| (k.to_string(), Value::Unknown)).collect()))
}

/// Evaluates every argument of a body (and of its nested and dynamic blocks) for errors.
pub fn eval_body(body: &crate::config::Body, scope: &Scope, bindings: &[(&str, Value)], diagnostics: &mut Diagnostics) {
    for attribute in body.attributes.values() {
        eval_expr(scope, &attribute.expr, bindings, diagnostics);
    }
    for block in &body.blocks {
        eval_nested(block, scope, bindings, diagnostics);
    }
}

fn eval_nested(block: &NestedBlock, scope: &Scope, bindings: &[(&str, Value)], diagnostics: &mut Diagnostics) {
    let Some(dynamic) = &block.dynamic else {
        eval_body(&block.body, scope, bindings, diagnostics);
        return;
    };
    let Some(collection) = eval_expr(scope, &dynamic.for_each, bindings, diagnostics) else { return };
    let pairs: Vec<(Value, Value)> = match collection.bare() {
        Value::List(items) => items.iter().enumerate().map(|(i, v)| (Value::int(i as i64), v.clone())).collect(),
        Value::Set(items) => items.iter().map(|v| (v.clone(), v.clone())).collect(),
        Value::Map(entries) => entries.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect(),
        Value::Unknown => vec![(Value::Unknown, Value::Unknown)],
        Value::Null => {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid dynamic for_each value",
                    "Cannot use a null value in `for_each` of a dynamic block.",
                )
                .at(dynamic.for_each.span()),
            );
            return;
        }
        other => {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid dynamic for_each value",
                    format!(
                        "Cannot use {} in `for_each` of a dynamic block: a collection is required.",
                        convert::describe(other)
                    ),
                )
                .at(dynamic.for_each.span()),
            );
            return;
        }
    };
    for (key, value) in pairs {
        let mut inner: Vec<(&str, Value)> = bindings.to_vec();
        inner.push((
            dynamic.iterator.as_str(),
            Value::Map(BTreeMap::from([("key".to_string(), key), ("value".to_string(), value)])),
        ));
        eval_body(&block.body, scope, &inner, diagnostics);
    }
}
