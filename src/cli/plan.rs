//! `infra plan`: what an apply would do.

use super::Printer;
use super::session::{LockArgs, Session};
use super::vars::VarArgs;
use crate::addr::Address;
use crate::plan::Plan;
use crate::plan::planner::{PlanOptions, plan};
use std::path::PathBuf;
use std::process::ExitCode;

/// Planning flags shared by `plan`, `apply` and `destroy`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// Plan only this resource (and what it depends on); repeatable.
    #[arg(long = "target", value_name = "ADDRESS", value_parser = parse_address)]
    pub target: Vec<Address>,
    /// Replace this resource instance even if nothing changed; repeatable.
    #[arg(long = "replace", value_name = "ADDRESS", value_parser = parse_address)]
    pub replace: Vec<Address>,
    /// Read every object before planning (`-refresh=false` skips it).
    #[arg(long = "refresh", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Only update state to match the objects; change nothing.
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
    /// How many resource operations run at once.
    #[arg(long = "parallelism", default_value_t = 10)]
    pub parallelism: usize,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

fn parse_address(text: &str) -> Result<Address, String> {
    text.parse().map_err(|e: crate::addr::AddressError| e.to_string())
}

/// Arguments of `infra plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Plan to destroy every object in state.
    #[arg(long)]
    pub destroy: bool,
    /// Print the plan as one line of JSON (docs/plan-json.md).
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Save the plan to FILE, for `infra apply FILE`.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Makes a plan in an open session; `None` when errors were printed.
pub fn make_plan(session: &Session, args: &PlanArgs, destroy: bool, printer: &Printer) -> Option<Plan> {
    let snapshot = match session.snapshot() {
        Ok(snapshot) => snapshot,
        Err(diagnostic) => {
            printer.diagnostics(&diagnostic.into(), &session.config.sources);
            return None;
        }
    };
    let options = PlanOptions {
        destroy,
        refresh: args.refresh,
        refresh_only: args.refresh_only,
        targets: args.target.clone(),
        replace: args.replace.clone(),
        workspace: session.workspace.clone(),
    };
    let (plan, diagnostics) = plan(&session.config, &session.variables, snapshot, &session.registry, &options);
    printer.diagnostics(&diagnostics, &session.config.sources);
    if diagnostics.has_errors() {
        printer.status("The plan could not be made; nothing was changed.");
        return None;
    }
    Some(plan)
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    let session = match Session::open(&args.plan.vars, Some((&args.plan.lock, "plan")), printer) {
        Ok(session) => session,
        Err(error) => {
            printer.diagnostics(&error.diagnostics, &error.config.sources);
            return ExitCode::from(1);
        }
    };
    let Some(plan) = make_plan(&session, &args.plan, args.destroy, printer) else { return ExitCode::from(1) };
    if args.json {
        printer.data(&crate::render::json::render(&plan));
    } else {
        print!("{}", crate::render::human::render(&plan, printer.color()));
    }
    if let Some(path) = &args.out {
        let sealed = session.codec.seal(crate::plan::file::encode(&plan));
        if let Err(error) =
            sealed.map_err(|e| std::io::Error::other(e.to_string())).and_then(|bytes| write_private(path, &bytes))
        {
            printer.error(&format!("cannot write the plan to `{}`: {error}", path.display()));
            return ExitCode::from(1);
        }
        if !args.json {
            println!(
                "\nSaved the plan to: {}\n\nTo perform exactly these actions, run:\n    infra apply \"{}\"",
                path.display(),
                path.display()
            );
        }
    }
    session.close();
    if args.detailed_exitcode && plan.has_changes() { ExitCode::from(2) } else { ExitCode::SUCCESS }
}

/// Writes a file readable only by its owner (saved plans hold secrets).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::fsutil::write_atomic(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
