//! `infra`: infrastructure as code and a GitOps reconciler on one engine.
//!
//! The pipeline (see `docs/architecture.md`): [`config`] loads `*.hcl` / `*.tf` / `*.yaml`
//! files into one model with spans; [`eval`] gives expressions values (with Unknown and
//! sensitive marks); [`graph`] orders the module's objects and finds cycles; [`validate`]
//! checks a configuration without touching any provider; [`fmt`] rewrites files canonically.
//! Problems travel as [`infra_provider::Diagnostic`]s and are printed by [`diagnostics`].
//!
//! The binary's `main` is thin: it parses arguments ([`cli`]) and maps results to exit codes.
#![deny(missing_docs)]

pub mod addr;
pub mod apply;
pub mod cli;
pub mod config;
pub mod controller;
pub mod diagnostics;
pub mod eval;
pub mod expand;
pub mod fmt;
pub mod forge;
pub mod fsutil;
pub mod graph;
pub mod logging;
pub mod module_eval;
pub mod module_install;
pub mod objects;
pub mod plan;
pub mod platform;
pub mod plugins;
pub mod registry;
pub mod remote_state;
pub mod render;
pub mod runtime;
pub mod session;
pub mod source;
pub mod suggest;
pub mod syntax;
pub mod tfstate;
pub mod tftest;
pub mod types;
pub mod validate;
pub mod vars;
pub mod workspace;
pub mod yaml;
