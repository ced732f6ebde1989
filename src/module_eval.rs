//! Evaluating the objects of a module instance: its scope, input variables and their
//! validations, locals, outputs and their preconditions, `count` / `for_each`, and every
//! argument of a body (for errors).
//!
//! The order in which objects are evaluated is the walk's ([`crate::graph::walk`]); this module
//! knows how to evaluate one object in a scope. The scope is one set of nested maps updated in
//! place as the walk goes on, so each object is evaluated once and lookups are map lookups.

use crate::addr::InstanceKey;
use crate::config::{Expr, Mode, Module, NestedBlock, Variable};
use crate::eval::{Evaluator, Scope, convert};
use crate::expand::{self, Expansion, Instance};
use infra_provider::{Diagnostic, Diagnostics, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// How to evaluate.
#[derive(Clone, Debug, Default)]
pub struct EvalOptions {
    /// Root variables without a value are Unknown, defaults or not (validate), instead of their
    /// default or an error (console, plan).
    pub unknown_variables: bool,
    /// `timestamp()` and `uuid()` are Unknown.
    pub plan_time: bool,
    /// `count` / `for_each` must be known (plan).
    pub expansion_must_be_known: bool,
    /// `terraform.workspace`.
    pub workspace: String,
    /// Provider-defined functions (the walk's providers).
    pub functions: Option<crate::eval::ProviderFunctions>,
}

/// Sets a nested name (`local.a`) in the scope, making maps on the way.
pub fn insert_nested(scope: &mut Scope, path: &[&str], value: Value) {
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

/// A fresh scope for a module instance: `path`, `terraform`, and every declared name present
/// (as Unknown until its turn in the walk), so a misspelled reference gets a "did you mean"
/// whatever the evaluation order.
pub fn new_scope(
    module: &Module,
    root_dir: &Path,
    files: &std::sync::Arc<crate::eval::FileAccess>,
    options: &EvalOptions,
) -> Scope {
    let mut scope = Scope::new(&module.dir);
    scope.plan_time = options.plan_time;
    scope.files = files.clone();
    scope.provider_functions = options.functions.clone();
    let path_value = |path: &Path| Value::String(path.to_string_lossy().into_owned());
    // The configuration's root is the working directory of its expressions (the process's
    // in the terminal, which `-chdir` sets; the checkout's in the controller).
    let cwd = if files.base.as_os_str().is_empty() {
        std::env::current_dir().unwrap_or_default()
    } else {
        files.base.clone()
    };
    scope.set(
        "path",
        Value::Map(BTreeMap::from([
            ("module".to_string(), path_value(&relative_to(&module.dir, &cwd))),
            ("root".to_string(), path_value(&relative_to(root_dir, &cwd))),
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
    scope
}

fn relative_to(path: &Path, base: &Path) -> std::path::PathBuf {
    let absolute = if path.is_absolute() { path.to_path_buf() } else { base.join(path) };
    match absolute.strip_prefix(base) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".into(),
        Ok(relative) => relative.to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}

/// The value of an input variable: given, default, or a diagnostic; converted to its type.
pub fn variable_value(
    variable: &Variable,
    given: Option<&(Value, Option<infra_provider::Span>)>,
    options: &EvalOptions,
    diagnostics: &mut Diagnostics,
    is_root: bool,
) -> Value {
    // Validation: a root variable not given is unknown, its default too (as Terraform
    // validates: for every value the variable could have); a module's, after their validation
    // rules (see `graph::walk`).
    if given.is_none() && options.unknown_variables && is_root {
        return Value::Unknown.mark_if(variable.sensitive);
    }
    let (raw, span) = match given {
        Some((value, span)) => (value.clone(), span.clone()),
        None => match &variable.default {
            Some(default) => (default.clone(), variable.default_span.clone()),
            None => {
                let (summary, detail) = if is_root {
                    (
                        "No value for required variable",
                        format!(
                            "The root module input variable `{}` is not set and has no default value. Use `--var {}=...`, a `--var-file`, or the environment variable `INFRA_VAR_{}` to provide it.",
                            variable.name, variable.name, variable.name
                        ),
                    )
                } else {
                    ("Missing required argument", required_argument(&variable.name))
                };
                diagnostics.push(Diagnostic::error(summary, detail).at(variable.span.clone()));
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

/// Runs a variable's `validation` blocks.
pub fn validate_variable(variable: &Variable, scope: &Scope, diagnostics: &mut Diagnostics) {
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

/// Checks a resource's `precondition` or `postcondition` blocks with the instance's bindings
/// (`count`, `each`, `self`): an error naming the instance for each condition that is false;
/// one not known yet passes for now. Whether all passed.
pub fn check_conditions(
    checks: &[crate::config::Check],
    scope: &Scope,
    bindings: &[(&str, Value)],
    summary: &str,
    address: &str,
    diagnostics: &mut Diagnostics,
) -> bool {
    let mut passed = true;
    for check in checks {
        if let Some(result) = eval_expr(scope, &check.condition, bindings, diagnostics)
            && result.bare() == &Value::Bool(false)
        {
            passed = false;
            let message = match eval_expr(scope, &check.error_message, bindings, diagnostics) {
                Some(value) if value.is_marked() => "(sensitive value)".to_string(),
                Some(value) => {
                    value.as_str().map(str::to_string).unwrap_or_else(|| "(the error message is not a string)".into())
                }
                None => "(the error message could not be evaluated)".into(),
            };
            diagnostics
                .push(Diagnostic::error(summary, message).at(check.condition.span()).for_address(address.to_string()));
        }
    }
    passed
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

/// What a module call without a required variable is told (plan and validate).
pub fn required_argument(name: &str) -> String {
    format!(
        "The argument `{name}` is required (a variable of the module without a default), but no definition was found."
    )
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

/// Evaluates an output and its preconditions.
pub fn eval_output(output: &crate::config::Output, scope: &Scope, diagnostics: &mut Diagnostics) -> Option<Value> {
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

/// Expands `count` / `for_each` (`None` after a diagnostic).
pub fn expansion(
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

/// The `count` / `each` object of an expansion not known yet.
pub fn unknown_binding(kind: &'static str) -> (&'static str, Value) {
    let (name, keys): (&str, &[&str]) =
        if kind == "count" { ("count", &["index"]) } else { ("each", &["key", "value"]) };
    (name, Value::Map(keys.iter().map(|k| (k.to_string(), Value::Unknown)).collect()))
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

/// Runs the `check` blocks of a module against its final scope: a failed assertion, or one that
/// cannot be evaluated, is a warning (as in Terraform); one not known yet is skipped.
pub fn run_checks(module: &Module, scope: &Scope) -> Diagnostics {
    let mut out = Diagnostics::new();
    for check in &module.checks {
        for assertion in &check.asserts {
            let mut found = Diagnostics::new();
            let passed = eval_expr(scope, &assertion.condition, &[], &mut found);
            for mut diagnostic in found {
                diagnostic.severity = infra_provider::Severity::Warning;
                out.push(diagnostic.for_address(format!("check.{}", check.name)));
            }
            let Some(passed) = passed else { continue };
            if passed.bare() == &Value::Bool(false) {
                let message = message_text(scope, &assertion.error_message, &mut Diagnostics::new());
                out.push(
                    Diagnostic::warning("Check block assertion failed", message)
                        .at(assertion.condition.span())
                        .for_address(format!("check.{}", check.name)),
                );
            }
        }
    }
    out
}
