//! `--var` and `--var-file`: the command line's variable sources, collected by [`crate::vars`]
//! when a [`crate::session`] loads the configuration.

use crate::config::LoadedConfig;
use crate::session::Opening;
use crate::vars::VarSource;
use infra_provider::{Diagnostics, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `--var` and `--var-file`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VarArgs {
    /// Set a variable: `--var region=eu-west-1` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variables from a `.tfvars` (HCL) or `.tfvars.json` file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_file: Vec<PathBuf>,
}

impl VarArgs {
    /// The sources in precedence order: files, then assignments (later wins).
    pub fn sources(&self) -> Vec<VarSource> {
        let files = self.var_file.iter().cloned().map(VarSource::File);
        files.chain(self.var.iter().cloned().map(VarSource::Assignment)).collect()
    }
}

/// The working directory's configuration and its variables from the environment, its files and
/// `args` (see [`crate::session::load`]).
pub fn load(args: &VarArgs) -> (LoadedConfig, BTreeMap<String, Value>, Diagnostics) {
    crate::session::load(&Opening { variables: args.sources(), ..Opening::new(".") })
}
