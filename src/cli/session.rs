//! What `plan`, `apply`, `destroy` and the state commands share: load the configuration and
//! variables, open the workspace's backend, take the lock (waiting up to `--lock-timeout`),
//! keep it alive by heartbeat, fold any journal left by a crashed run, and release the lock.

use super::Printer;
use super::vars::{VarArgs, collect_variables};
use crate::config::{LoadedConfig, load_module_tree};
use crate::lock::HeldLock;
use crate::registry::Registry;
use infra_provider::{Diagnostic, Diagnostics, Value};
use infra_state::{Lease, Snapshot, StateError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

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

/// An open workspace.
pub struct Session {
    /// The configuration.
    pub config: LoadedConfig,
    /// Variable values.
    pub variables: BTreeMap<String, Value>,
    /// Providers.
    pub registry: Registry,
    /// The state backend.
    pub backend: Arc<dyn infra_state::Backend>,
    /// The workspace name.
    pub workspace: String,
    /// How state and saved plans are sealed.
    pub codec: infra_state::Codec,
    lock: Option<HeldLock>,
    /// `-new-state`: a missing state may be begun afresh even though history exists.
    new_state: bool,
}

/// Opening failed: diagnostics to print against these sources.
pub struct OpenError {
    /// What went wrong.
    pub diagnostics: Diagnostics,
    /// The loaded sources (for rendering).
    pub config: LoadedConfig,
}

impl Session {
    /// Loads the configuration in the working directory and opens its state.
    pub fn open(vars: &VarArgs, lock: Option<(&LockArgs, &str)>, printer: &Printer) -> Result<Session, Box<OpenError>> {
        let mut config = load_module_tree(Path::new("."));
        let (variables, mut diagnostics) = collect_variables(vars, &config.root, &mut config.sources);
        diagnostics.extend(std::mem::take(&mut config.diagnostics));
        let workspace = crate::workspace::current(Path::new("."));
        let codec = match crate::workspace::codec(&config, &variables) {
            Ok(codec) => codec,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                infra_state::Codec::plain()
            }
        };
        let backend = match crate::workspace::open_backend(&config, &workspace, codec.clone()) {
            Ok(backend) => Some(backend),
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                None
            }
        };
        if diagnostics.has_errors() {
            return Err(Box::new(OpenError { diagnostics, config }));
        }
        let backend = backend.expect("no errors means a backend");
        printer.diagnostics(&diagnostics, &config.sources);
        let mut session = Session {
            config,
            variables,
            registry: Registry::with_builtins(),
            backend,
            workspace,
            codec,
            lock: None,
            new_state: lock.is_some_and(|(args, _)| args.new_state),
        };
        if let Some((args, operation)) = lock
            && args.lock
            && let Err(diagnostic) = session.take_lock(args, operation, printer)
        {
            let mut diagnostics = Diagnostics::new();
            diagnostics.push(diagnostic);
            let config = std::mem::take(&mut session.config);
            return Err(Box::new(OpenError { diagnostics, config }));
        }
        Ok(session)
    }

    fn take_lock(&mut self, args: &LockArgs, operation: &str, printer: &Printer) -> Result<(), Diagnostic> {
        let held = match HeldLock::acquire(self.backend.clone(), operation, args.lock_timeout) {
            Ok(held) => held,
            Err(StateError::Locked(holder)) => {
                return Err(Diagnostic::error(
                    "Error acquiring the state lock",
                    format!(
                        "The state is locked by {} for `{}` since {} (lock id {}). The lock expires at {}; after that it is taken over automatically.",
                        holder.holder, holder.operation, holder.created, holder.id, holder.expires
                    ),
                )
                .with_hint("wait with `-lock-timeout=2m`, or, if that run is gone and cannot come back, `infra force-unlock ID`"));
            }
            Err(error) => return Err(Diagnostic::error("Error acquiring the state lock", error.to_string())),
        };
        if let Some(previous) = held.lease().and_then(|l| l.took_over_from) {
            printer.status(&format!("warning: took over the expired state lock of {previous}"));
        }
        self.lock = Some(held);
        Ok(())
    }

    /// The current lease, if this session holds the lock.
    pub fn lease(&self) -> Option<Lease> {
        self.lock.as_ref().and_then(HeldLock::lease)
    }

    /// The state, with any journal of a crashed run folded in first.
    ///
    /// # Errors
    ///
    /// A diagnostic when the state cannot be read.
    /// A state that is missing while its history keeps earlier versions is an error (unless
    /// `-new-state`): planning from nothing would create everything again, and a new lineage
    /// would begin beside the lost one.
    pub fn snapshot(&self, printer: &Printer) -> Result<Option<Snapshot>, Diagnostic> {
        let lease = self.lease();
        let folded = if lease.is_some() { self.backend.read_folded(lease.as_ref()) } else { self.backend.read() };
        for warning in self.backend.warnings() {
            printer.status(&format!("warning: {warning}"));
        }
        let folded = folded.map_err(|error| Diagnostic::error("Failed to read state", error.to_string()))?;
        if folded.is_none()
            && !self.new_state
            && let Ok(history) = self.backend.history()
            && let Some(newest) = history.first()
        {
            return Err(Diagnostic::error(
                "State missing",
                format!(
                    "The state of workspace `{}` is missing, but its history keeps {} earlier version{} (the newest: serial {}, lineage {}, written {}). Going on would start from an empty state and create every resource again.",
                    self.workspace,
                    history.len(),
                    if history.len() == 1 { "" } else { "s" },
                    newest.serial,
                    if newest.lineage.is_empty() { "unknown" } else { &newest.lineage },
                    newest.written
                ),
            )
            .with_hint("restore it with `infra state rollback N` (see `infra state history`), or begin a new state on purpose with `-new-state`"));
        }
        Ok(folded)
    }

    /// The stored state without taking the lock or folding (read-only commands).
    ///
    /// # Errors
    ///
    /// The storage error, as a sentence.
    pub fn backend_snapshot(&self) -> Result<Option<Snapshot>, String> {
        let mut snapshot = self.backend.read().map_err(|e| e.to_string())?;
        // Show what a crashed run finished too, without writing.
        let journal = self.backend.journal_read().map_err(|e| e.to_string())?;
        let _ = self.backend.warnings();
        if !journal.is_empty() {
            let mut folded = snapshot.unwrap_or_default();
            folded.fold(&journal);
            snapshot = Some(folded);
        }
        Ok(snapshot)
    }

    /// Releases the lock.
    pub fn close(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if let Some(mut held) = self.lock.take() {
            held.release();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.release();
    }
}
