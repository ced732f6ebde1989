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
}

/// `30s`, `2m`, `1h`, `500ms`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len()));
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration such as 30s or 2m"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("`{text}` is not a duration such as 30s or 2m")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

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
        let mut session =
            Session { config, variables, registry: Registry::with_builtins(), backend, workspace, codec, lock: None };
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
    pub fn snapshot(&self) -> Result<Option<Snapshot>, Diagnostic> {
        let lease = self.lease();
        let folded = if lease.is_some() { self.backend.read_folded(lease.as_ref()) } else { self.backend.read() };
        folded.map_err(|error| Diagnostic::error("Failed to read state", error.to_string()))
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
