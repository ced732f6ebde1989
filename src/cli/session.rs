//! The terminal's way into [`crate::session`]: its flags (`--var`, `--var-file`, `-lock`,
//! `-lock-timeout`, `-new-state`) made into an [`Opening`] of the working directory, and the
//! session's warnings printed.

use super::Printer;
use super::vars::VarArgs;
use crate::session::{LockPlan, OpenError, Opening};
use std::time::Duration;

pub use crate::session::Session;

/// Locking flags.
#[derive(Debug, Clone, clap::Args)]
pub struct LockArgs {
    /// Don't take the state lock (dangerous when others may run at the same time).
    #[arg(long = "lock", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub lock: bool,
    /// How long to wait for a lock held by someone else (`30s`, `2m`).
    #[arg(long = "lock-timeout", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
    /// Begin a new state although the history keeps earlier versions of this workspace's state
    /// (the state itself was lost). Without it, a missing state with history is an error that
    /// points at `infra state history` and `infra state rollback`.
    #[arg(long = "new-state")]
    pub new_state: bool,
}

/// `30s`, `2m`, `1h`, `500ms`, or plain seconds: the one bounded duration parser.
pub use infra_provider::duration::parse as parse_duration;

/// Opens the working directory's workspace with the command line's variables, taking the lock
/// for `operation` unless `-lock=false`; prints the configuration's warnings.
pub fn open(vars: &VarArgs, lock: Option<(&LockArgs, &str)>, printer: &Printer) -> Result<Session, Box<OpenError>> {
    let opening = Opening {
        variables: vars.sources(),
        lock: lock
            .filter(|(args, _)| args.lock)
            .map(|(args, operation)| LockPlan { operation: operation.to_string(), timeout: args.lock_timeout }),
        new_state: lock.is_some_and(|(args, _)| args.new_state),
        ..Opening::new(".")
    };
    let mut session = Session::open(opening)?;
    printer.diagnostics(&session.opened_with, &session.config.sources);
    warnings(&mut session, printer);
    Ok(session)
}

/// Prints (and clears) the session's warnings.
pub fn warnings(session: &mut Session, printer: &Printer) {
    for warning in session.warnings.drain(..) {
        printer.status(&format!("warning: {warning}"));
    }
}

/// The state (see [`Session::snapshot`]), its warnings printed.
pub fn snapshot(
    session: &mut Session,
    printer: &Printer,
) -> Result<Option<infra_state::Snapshot>, infra_provider::Diagnostic> {
    let snapshot = session.snapshot();
    warnings(session, printer);
    snapshot
}
