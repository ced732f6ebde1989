//! `infra validate`: is this configuration well-formed, before any provider is asked to do
//! anything?
//!
//! Evaluates every expression of a loaded module tree with root variables unknown (unless
//! given), so syntax errors, duplicate blocks, unknown references (with "did you mean"), wrong
//! types, bad function arguments, failed validations and cycles are all reported in one run.
//! Resource and data blocks are checked against their providers' schemas (types, arguments,
//! blocks, required arguments: what `terraform validate` checks), and module calls against
//! their modules' variables even when they have no instances (`count = 0`).

use crate::config::{LoadedConfig, Module};
use crate::graph::walk::{EvalOptions, ResourceHandler, ResourceItem, Work, walk};
use crate::registry::Registry;
use infra_provider::{Diagnostic, Diagnostics, Value};
use std::collections::BTreeMap;

/// Checks resource bodies against the provider schemas; values stay Unknown.
struct Schemas<'a> {
    registry: &'a Registry,
}

impl Schemas<'_> {
    /// Checks a resource or data block against the schema of its type, from the provider
    /// serving it (borrowed, not copied: plugin schemas are large); `false` when no provider
    /// serves the type.
    fn check_against_schema(
        &self,
        resource: &crate::config::Resource,
        scope: &crate::eval::Scope,
        bindings: &[(&str, Value)],
        address: &str,
        diagnostics: &mut Diagnostics,
    ) -> bool {
        let Some((_, provider)) = self.registry.for_resource(&resource.kind, resource.provider.as_deref()) else {
            return false;
        };
        let schemas = if resource.mode == crate::config::Mode::Data {
            &provider.schema().data_sources
        } else {
            &provider.schema().resources
        };
        let Some(schema) = schemas.get(&resource.kind) else { return false };
        crate::objects::config_object(&resource.body, &schema.block, scope, bindings, address, diagnostics);
        // Preconditions are evaluated for their errors (postconditions need `self`).
        for check in &resource.lifecycle.preconditions {
            crate::module_eval::eval_expr(scope, &check.condition, bindings, diagnostics);
        }
        true
    }

    /// "Invalid resource type", with a likely fix.
    fn invalid_type(&self, resource: &crate::config::Resource) -> Diagnostic {
        let what = if resource.mode == crate::config::Mode::Data { "data source" } else { "resource type" };
        let diagnostic =
            Diagnostic::error("Invalid resource type", format!("No provider serves the {what} `{}`.", resource.kind))
                .at(resource.span.clone());
        let types = self.registry.resource_types();
        if let Some(suggestion) = crate::suggest::did_you_mean(&resource.kind, types.iter().map(String::as_str)) {
            return diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
        }
        match self.registry.for_resource(&resource.kind, resource.provider.as_deref()) {
            // The native provider of that prefix lacks the type: its plugin serves them all.
            Some((_, provider)) if provider.plugin().is_none() => diagnostic.with_hint(format!(
                "infra's native `{}` provider does not have it; install the provider's plugin (`infra init` with a plugin mirror or registry, see docs/providers/plugins.md) to serve every type it has",
                provider.name()
            )),
            _ => diagnostic,
        }
    }
}

impl ResourceHandler for Schemas<'_> {
    fn records_dependencies(&self) -> bool {
        false
    }

    fn resource<'s>(
        &'s self,
        item: ResourceItem<'s>,
        scope: &crate::eval::Scope,
        diagnostics: &mut Diagnostics,
    ) -> Work<'s> {
        let resource = item.resource;
        let unknowns = || crate::module_eval::collect(&item.instances, vec![Value::Unknown; item.instances.len()]);
        // One instance is enough: every instance has the same body. With none (`count = 0`),
        // the body is checked all the same, as Terraform validates it.
        let bindings: Vec<(&str, Value)> = match item.instances.first() {
            Some(instance) => instance.binding.iter().cloned().collect(),
            None if resource.count.is_some() => vec![crate::module_eval::unknown_binding("count")],
            None if resource.for_each.is_some() => vec![crate::module_eval::unknown_binding("for_each")],
            None => Vec::new(),
        };
        let address = item.path.resource(resource.mode, &resource.kind, &resource.name, None).to_string();
        if !self.check_against_schema(resource, scope, &bindings, &address, diagnostics) {
            diagnostics.push(self.invalid_type(resource));
        }
        Work::Done(unknowns())
    }

    fn unknown_expansion(
        &self,
        resource: &crate::config::Resource,
        scope: &crate::eval::Scope,
        bindings: &[(&str, Value)],
        diagnostics: &mut Diagnostics,
    ) {
        let address = format!("{}.{}", resource.kind, resource.name);
        if !self.check_against_schema(resource, scope, bindings, &address, diagnostics) {
            diagnostics.push(self.invalid_type(resource));
            crate::module_eval::eval_body(&resource.body, scope, bindings, diagnostics);
        }
    }
}

/// Module calls checked against their modules' variables, whatever their instance count.
fn module_calls(module: &Module, diagnostics: &mut Diagnostics) {
    for call in module.module_calls.values() {
        let Some(child) = module.children.get(&call.name) else { continue };
        if call.count.is_some() || call.for_each.is_some() {
            for (name, input) in &call.inputs {
                if !child.variables.contains_key(name) {
                    diagnostics.push(
                        Diagnostic::error(
                            "Unsupported argument",
                            format!("An argument named `{name}` is not expected here: the module declares no variable `{name}`."),
                        )
                        .at(input.name_span.clone())
                        .for_address(format!("module.{}", call.name)),
                    );
                }
            }
            for (name, variable) in &child.variables {
                if variable.default.is_none() && !call.inputs.contains_key(name) {
                    diagnostics.push(
                        Diagnostic::error("Missing required argument", crate::module_eval::required_argument(name))
                            .at(variable.span.clone())
                            .for_address(format!("module.{}", call.name)),
                    );
                }
            }
        }
        module_calls(child, diagnostics);
    }
}

/// Every problem of a loaded configuration: the loader's, then the evaluation's (skipped when
/// a file does not parse, since the model is then incomplete), checked against `registry`'s
/// schemas.
pub fn check_with(config: &LoadedConfig, variables: &BTreeMap<String, Value>, registry: &Registry) -> Diagnostics {
    let mut diagnostics = config.diagnostics.clone();
    let syntax_broken = diagnostics.iter().any(|d| {
        matches!(
            d.summary.as_str(),
            "Invalid syntax" | "Invalid YAML" | "Invalid JSON" | "Cannot read configuration directory"
        )
    });
    if !syntax_broken {
        let options = EvalOptions {
            unknown_variables: true,
            plan_time: true,
            workspace: "default".into(),
            ..EvalOptions::default()
        };
        let (_, evaluation) =
            walk(config, variables, &options, &Schemas { registry }, &crate::graph::select::Selection::everything());
        let mut calls = Diagnostics::new();
        module_calls(&config.root, &mut calls);
        // A call with instances was checked by the walk already.
        let seen = |d: &Diagnostic| {
            evaluation.iter().any(|e| e.summary == d.summary && e.primary == d.primary && e.detail == d.detail)
        };
        let calls: Vec<Diagnostic> = calls.into_iter().filter(|d| !seen(d)).collect();
        diagnostics.extend(evaluation);
        diagnostics.extend(calls);
    }
    diagnostics
}

/// [`check_with`] the providers the configuration would use (compiled in, or installed
/// plugins).
pub fn check(config: &LoadedConfig, variables: &BTreeMap<String, Value>) -> Diagnostics {
    let (registry, problems) = Registry::for_config(config);
    let mut diagnostics = check_with(config, variables, &registry);
    diagnostics.extend(problems);
    diagnostics
}
