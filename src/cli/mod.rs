//! The command line: one file per command; this module parses arguments and dispatches.
//!
//! Terraform users type single-dash long flags (`-chdir=DIR`, `-json`); [`normalize_args`]
//! accepts those spellings by rewriting them to clap's `--flag` form before parsing.

mod apply;
mod console;
mod controller;
mod fmt;
mod init;
mod output;
mod plan;
mod platform;
mod providers;
pub mod session;
mod show;
mod state;
mod test;
mod validate;
pub mod vars;
mod workspace;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub use output::Printer;

const EXAMPLES: &str = "\
Examples:
  infra validate                      check the configuration in this directory
  infra -chdir=examples/quickstart validate
  infra fmt -check -recursive         list files whose layout is not canonical
  echo 'upper(\"hi\")' | infra console -json

Exit codes: 0 success, 1 error (diagnostics on stderr), 3 `fmt -check` found unformatted files.";

/// `infra`: infrastructure as code and GitOps on one engine.
#[derive(Debug, Parser)]
#[command(name = "infra", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// Switch to DIR before doing anything else.
    #[arg(short = 'C', long = "chdir", global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Plain output without colour (also when NO_COLOR is set).
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    /// Terraform's `-input=false` (CI scripts pass it): accepted; infra never prompts for
    /// variable values (a missing one is an error), only for apply's confirmation.
    #[arg(long = "input", global = true, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub input: Option<bool>,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prepare the working directory: record the state backend, or move the state to a new one.
    Init(init::Args),
    /// Check that the configuration is valid, without contacting any provider.
    Validate(validate::Args),
    /// Run the configuration's tests (`*.tftest.hcl`) as `terraform test` does.
    Test(test::Args),
    /// Rewrite .hcl and .tf files to the canonical layout.
    Fmt(fmt::Args),
    /// Evaluate expressions read from stdin, one per line.
    Console(console::Args),
    /// Show what an apply would change.
    Plan(plan::Args),
    /// Make the changes (after confirmation), or apply a saved plan exactly.
    Apply(apply::Args),
    /// Destroy every object in state.
    Destroy(apply::DestroyArgs),
    /// Show the state, or a saved plan.
    Show(show::ShowArgs),
    /// Show output values from the state.
    Output(show::OutputArgs),
    /// Inspect and change the state.
    State(state::Args),
    /// Remove a state lock by its id (for a holder that is gone for good).
    #[command(name = "force-unlock")]
    ForceUnlock(state::ForceUnlockArgs),
    /// Adopt an existing object into state.
    Import(state::ImportArgs),
    /// The dependency graph of the configuration, in DOT.
    Graph(show::GraphArgs),
    /// Manage workspaces (named states of one configuration).
    Workspace(workspace::Args),
    /// Reconcile stacks from Git continuously (GitOps).
    Controller(controller::Args),
    /// The platform blocks (cluster, service, queue, database) and their modules.
    Platform(platform::Args),
    /// The providers the configuration requires and what serves each (plugin or native).
    Providers(providers::Args),
}

/// Rewrites Terraform-style single-dash long flags (`-chdir=DIR`, `-json`) to `--chdir=DIR`,
/// `--json`. Single letters (`-C`) and everything after `--` are left alone.
pub fn normalize_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = false;
    for arg in args {
        if rest || arg == "--" {
            rest = true;
            out.push(arg);
            continue;
        }
        let name = arg.strip_prefix('-').filter(|tail| !tail.starts_with('-'));
        match name {
            Some(tail)
                if tail.split('=').next().is_some_and(|flag| {
                    flag.len() > 1 && flag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                }) =>
            {
                out.push(format!("-{arg}"));
            }
            _ => out.push(arg),
        }
    }
    out
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let args = normalize_args(std::env::args());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(1),
            };
        }
    };
    let printer = Printer::new(cli.no_color);
    if let Some(dir) = &cli.chdir
        && let Err(error) = std::env::set_current_dir(dir)
    {
        printer.error(&format!("cannot switch to `{}`: {error}", dir.display()));
        return ExitCode::from(1);
    }
    crate::logging::init();
    // One TLS crypto provider for every client (AWS SDK, Kubernetes, forges).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            printer.error(&format!("cannot start the runtime: {error}"));
            return ExitCode::from(1);
        }
    };
    // Commands are synchronous code that calls providers through the runtime.
    runtime.block_on(async move {
        match cli.command {
            Command::Init(args) => init::run(args, &printer),
            Command::Validate(args) => validate::run(args, &printer),
            Command::Fmt(args) => fmt::run(args, &printer),
            Command::Console(args) => console::run(args, &printer),
            Command::Plan(args) => plan::run(args, &printer),
            Command::Apply(args) => apply::run(args, &printer),
            Command::Destroy(args) => apply::run_destroy(args, &printer),
            Command::Show(args) => show::run_show(args, &printer),
            Command::Output(args) => show::run_output(args, &printer),
            Command::State(args) => state::run(args, &printer),
            Command::ForceUnlock(args) => state::run_force_unlock(args, &printer),
            Command::Import(args) => state::run_import(args, &printer),
            Command::Graph(args) => show::run_graph(args, &printer),
            Command::Workspace(args) => workspace::run(args, &printer),
            Command::Controller(args) => controller::run(args, &printer).await,
            Command::Platform(args) => platform::run(args, &printer),
            Command::Providers(args) => providers::run(args, &printer),
            Command::Test(args) => test::run(args, &printer),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_dash_long_flags_are_accepted() {
        let args =
            normalize_args(["infra", "-chdir=x", "-C", "y", "validate", "-json", "--", "-keep"].map(String::from));
        assert_eq!(args, ["infra", "--chdir=x", "-C", "y", "validate", "--json", "--", "-keep"]);
    }
}
