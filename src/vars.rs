//! Input variable values from their sources, in Terraform's order of precedence (later wins):
//! `INFRA_VAR_name` / `TF_VAR_name`, `terraform.tfvars`, `*.auto.tfvars` (and their `.json`
//! forms), then the given sources in order — `--var-file` and `--var` on the command line, a
//! stack's typed values in the controller.
//!
//! Text (an environment variable, a `--var`) for a variable with a primitive type (or none) is
//! taken literally as a string and converted later; for collection types it is parsed as an
//! HCL expression (`["a", "b"]`). Typed values (a stack's `variables`) are taken as they are.

use crate::config::Module;
use crate::source::SourceMap;
use crate::types::TypeConstraint;
use hcl_edit::structure::Structure;
use infra_provider::{Diagnostic, Diagnostics, Span, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One source of variable values given explicitly, in precedence order.
#[derive(Debug, Clone, PartialEq)]
pub enum VarSource {
    /// `NAME=VALUE` text, as `--var` gives it.
    Assignment(String),
    /// A `.tfvars` (HCL) or `.tfvars.json` file.
    File(PathBuf),
    /// A typed value for one variable (a stack's `variables`).
    Value(String, Value),
}

fn parse_raw(name: &str, text: &str, module: &Module) -> Result<Value, String> {
    let literal = module.variables.get(name).is_none_or(|v| {
        matches!(
            v.type_constraint,
            TypeConstraint::Any | TypeConstraint::String | TypeConstraint::Number | TypeConstraint::Bool
        )
    });
    if literal {
        return Ok(Value::String(text.to_string()));
    }
    let expr = hcl_edit::parser::parse_expr(text)
        .map_err(|error| format!("the value is not a valid expression: {}", error.message()))?;
    crate::eval::constant(&expr, infra_provider::FileId(u32::MAX)).map_err(|d| d.detail.clone())
}

fn load_file(
    path: &Path,
    sources: &mut SourceMap,
    values: &mut BTreeMap<String, (Value, Option<Span>)>,
    diagnostics: &mut Diagnostics,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                "Cannot read variables file",
                format!("Reading `{}` failed: {error}.", path.display()),
            ));
            return;
        }
    };
    let file = sources.add(path, text.clone());
    if path.extension().is_some_and(|ext| ext == "json") {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(entries)) => {
                for (name, value) in entries {
                    values.insert(name, (Value::from_json(&value), None));
                }
            }
            Ok(_) => diagnostics.push(Diagnostic::error(
                "Invalid variables file",
                format!("`{}` must hold a JSON object of variable values.", path.display()),
            )),
            Err(error) => diagnostics.push(Diagnostic::error(
                "Invalid variables file",
                format!("`{}` is not valid JSON: {error}.", path.display()),
            )),
        }
        return;
    }
    let body = match hcl_edit::parser::parse_body(&text) {
        Ok(body) => body,
        Err(error) => {
            diagnostics.push(crate::config::parse_error(&error, file, &text));
            return;
        }
    };
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                let span = hcl_edit::Span::span(&attribute.key).map(|r| Span::new(file, r));
                match crate::eval::constant(&attribute.value, file) {
                    Ok(value) => {
                        values.insert(attribute.key.value().as_str().to_string(), (value, span));
                    }
                    Err(diagnostic) => diagnostics.push(diagnostic),
                }
            }
            Structure::Block(block) => diagnostics.push(
                Diagnostic::error("Unexpected block", "A variables file holds only `name = value` assignments.")
                    .at(hcl_edit::Span::span(&block.ident).map(|r| Span::new(file, r))),
            ),
        }
    }
}

/// Collects variable values for the root module: the environment and the module's automatic
/// files, then `given` in order.
pub fn collect_variables(
    given: &[VarSource],
    module: &Module,
    sources: &mut SourceMap,
) -> (BTreeMap<String, Value>, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    let mut values: BTreeMap<String, (Value, Option<Span>)> = BTreeMap::new();
    for prefix in ["TF_VAR_", "INFRA_VAR_"] {
        for (key, text) in std::env::vars() {
            if let Some(name) = key.strip_prefix(prefix)
                && module.variables.contains_key(name)
            {
                match parse_raw(name, &text, module) {
                    Ok(value) => {
                        values.insert(name.to_string(), (value, None));
                    }
                    Err(message) => diagnostics.push(Diagnostic::error(
                        "Invalid value for variable",
                        format!("The environment variable `{key}` is invalid: {message}."),
                    )),
                }
            }
        }
    }
    let mut auto: Vec<PathBuf> = ["terraform.tfvars", "terraform.tfvars.json", "infra.tfvars", "infra.tfvars.json"]
        .iter()
        .map(|name| module.dir.join(name))
        .filter(|path| path.is_file())
        .collect();
    if let Ok(entries) = std::fs::read_dir(&module.dir) {
        let mut extra: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json"))
            })
            .collect();
        extra.sort();
        auto.extend(extra);
    }
    for path in &auto {
        load_file(path, sources, &mut values, &mut diagnostics);
    }
    for source in given {
        let (name, text) = match source {
            VarSource::File(path) => {
                load_file(path, sources, &mut values, &mut diagnostics);
                continue;
            }
            VarSource::Value(name, value) => {
                if declared(name, module, "in the stack's `variables`", &mut diagnostics) {
                    values.insert(name.clone(), (value.clone(), None));
                }
                continue;
            }
            VarSource::Assignment(assignment) => match assignment.split_once('=') {
                Some(pair) => pair,
                None => {
                    diagnostics.push(Diagnostic::error(
                        "Invalid --var option",
                        format!("The option `--var {assignment}` is not of the form NAME=VALUE."),
                    ));
                    continue;
                }
            },
        };
        if !declared(name, module, "on the command line", &mut diagnostics) {
            continue;
        }
        match parse_raw(name, text, module) {
            Ok(value) => {
                values.insert(name.to_string(), (value, None));
            }
            Err(message) => diagnostics.push(Diagnostic::error(
                "Invalid value for variable",
                format!("The value given for `{name}` is invalid: {message}."),
            )),
        }
    }
    for (name, (_, span)) in &values {
        if !module.variables.contains_key(name) && span.is_some() {
            diagnostics.push(
                Diagnostic::warning(
                    "Value for undeclared variable",
                    format!("The root module does not declare a variable named `{name}`; this assignment is ignored."),
                )
                .at(span.clone()),
            );
        }
    }
    let values = values
        .into_iter()
        .filter(|(name, _)| module.variables.contains_key(name))
        .map(|(name, (value, _))| (name, value))
        .collect();
    (values, diagnostics)
}

/// Whether the root module declares `name`; a diagnostic (with "did you mean") when not.
fn declared(name: &str, module: &Module, place: &str, diagnostics: &mut Diagnostics) -> bool {
    if module.variables.contains_key(name) {
        return true;
    }
    let mut diagnostic = Diagnostic::error(
        "Value for undeclared variable",
        format!(
            "A variable named `{name}` was assigned {place}, but the root module does not declare a variable of that name."
        ),
    );
    if let Some(suggestion) = crate::suggest::did_you_mean(name, module.variables.keys().map(String::as_str)) {
        diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
    }
    diagnostics.push(diagnostic);
    false
}
