//! `infra validate`: is this configuration well-formed, before any provider is asked?
//!
//! Evaluates every expression of a loaded module tree with unset variables as Unknown, so
//! syntax errors, duplicate blocks, unknown references (with "did you mean"), wrong types, bad
//! function arguments, failed validations and cycles are all reported in one run.

use crate::config::LoadedConfig;
use crate::graph::walk::{EvalOptions, evaluate_root};
use infra_provider::{Diagnostics, Value};
use std::collections::BTreeMap;

/// Every problem of a loaded configuration: the loader's, then the evaluation's (skipped when
/// a file does not parse, since the model is then incomplete).
pub fn check(config: &LoadedConfig, variables: &BTreeMap<String, Value>) -> Diagnostics {
    let mut diagnostics = config.diagnostics.clone();
    let syntax_broken = diagnostics.iter().any(|d| {
        matches!(d.summary.as_str(), "Invalid syntax" | "Invalid YAML" | "Cannot read configuration directory")
    });
    if !syntax_broken {
        let options = EvalOptions {
            unknown_variables: true,
            plan_time: true,
            workspace: "default".into(),
            ..EvalOptions::default()
        };
        let (_, evaluation) = evaluate_root(config, variables, &options);
        diagnostics.extend(evaluation);
    }
    diagnostics
}
