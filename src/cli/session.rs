//! What `plan`, `apply`, `destroy` and the state commands share: load the configuration and
//! variables, open the workspace's backend, take the lock (waiting up to `--lock-timeout`),
//! keep it alive by heartbeat, fold any journal left by a crashed run, and release the lock.

use super::Printer;
use super::vars::{VarArgs, collect_variables};
use crate::config::{LoadedConfig, load_module_tree};
use crate::registry::Registry;
use infra_provider::{Diagnostic, Diagnostics, Value};
use infra_state::{Lease, LockRequest, Snapshot, StateError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// The lease length: `INFRA_LOCK_TTL` seconds, or 60.
fn lock_ttl() -> Duration {
    std::env::var("INFRA_LOCK_TTL")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(60))
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
    lease: Arc<Mutex<Option<Lease>>>,
    stop: Arc<AtomicBool>,
    heartbeat: Option<std::thread::JoinHandle<()>>,
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
            lease: Arc::new(Mutex::new(None)),
            stop: Arc::new(AtomicBool::new(false)),
            heartbeat: None,
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
        let ttl = lock_ttl();
        let request = LockRequest::for_this_process(operation, ttl);
        let deadline = Instant::now() + args.lock_timeout;
        let lease = loop {
            match self.backend.lock(&request) {
                Ok(lease) => break lease,
                Err(StateError::Locked(holder)) if Instant::now() < deadline => {
                    let _ = holder;
                    std::thread::sleep(Duration::from_millis(200));
                }
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
            }
        };
        if let Some(previous) = &lease.took_over_from {
            printer.status(&format!("warning: took over the expired state lock of {previous}"));
        }
        *self.lease.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
        // Heartbeat: renew at a third of the lease so it never expires while we run.
        let backend = self.backend.clone();
        let lease = self.lease.clone();
        let stop = self.stop.clone();
        self.heartbeat = Some(std::thread::spawn(move || {
            let interval = ttl / 3;
            let mut waited = Duration::ZERO;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
                waited += Duration::from_millis(50);
                if waited < interval {
                    continue;
                }
                waited = Duration::ZERO;
                let current = lease.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Some(current) = current {
                    match backend.renew(&current, ttl) {
                        Ok(renewed) => *lease.lock().unwrap_or_else(|p| p.into_inner()) = Some(renewed),
                        Err(error) => {
                            eprintln!("error: {error}");
                            break;
                        }
                    }
                }
            }
        }));
        Ok(())
    }

    /// The current lease, if this session holds the lock.
    pub fn lease(&self) -> Option<Lease> {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).clone()
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
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.heartbeat.take() {
            let _ = handle.join();
        }
        if let Some(lease) = self.lease.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = self.backend.unlock(&lease);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.release();
    }
}
