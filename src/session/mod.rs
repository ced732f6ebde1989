//! One run against one workspace, the same for both front-ends: load the configuration (confined
//! to a checkout for the controller), collect the variables from their typed sources, open the
//! backend (the configuration's `backend` block, or local state where the front-end keeps it),
//! take the state lock and keep it alive ([`lock`]), read the state with a crashed run's journal
//! folded in, then plan and apply. `infra plan`/`apply`/`destroy`/`state`/`import` and the
//! controller's reconciles and pull-request plans all open a [`Session`]; neither front-end
//! repeats these steps.

pub mod lock;

use crate::apply::{ApplyOptions, Outcome};
use crate::config::LoadedConfig;
use crate::plan::Plan;
use crate::plan::planner::PlanOptions;
use crate::registry::Registry;
use crate::vars::VarSource;
use infra_provider::{Diagnostic, Diagnostics, Value};
use infra_state::{Backend, Lease, Snapshot, StateError};
use lock::HeldLock;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the state of a configuration without a `backend` block lives.
#[derive(Clone, Debug)]
pub enum LocalState {
    /// Beside the configuration, per workspace (the terminal's default).
    Workspace,
    /// In this directory (the controller's data directory for the stack).
    At(PathBuf),
    /// Nowhere: a `backend` block is required, for this reason.
    Refused(String),
    /// In this directory whatever backend the configuration names (`infra test`: runs never
    /// touch the real state).
    Scratch(PathBuf),
}

/// The state lock a session takes.
#[derive(Clone, Debug)]
pub struct LockPlan {
    /// What the lock is for, shown to whoever finds it held (`apply`, `controller reconcile`).
    pub operation: String,
    /// How long to wait for a lock held by someone else.
    pub timeout: Duration,
}

/// What to open.
#[derive(Clone, Debug)]
pub struct Opening {
    /// The configuration's directory.
    pub dir: PathBuf,
    /// Modules and file functions may read only below this directory (a checkout the
    /// controller fetched); `None`: anything readable, as Terraform.
    pub confine_to: Option<PathBuf>,
    /// Variable values after the environment and automatic files, later ones winning.
    pub variables: Vec<VarSource>,
    /// Mark every variable value sensitive (plans of untrusted pull requests, whose
    /// configuration may drop `sensitive = true` to have a supplied secret printed).
    pub all_variables_sensitive: bool,
    /// The workspace; `None`: the one selected in `dir`.
    pub workspace: Option<String>,
    /// Where state lives without a `backend` block.
    pub local_state: LocalState,
    /// The lock to take; `None`: read-only (no lock, the journal folded in memory only).
    pub lock: Option<LockPlan>,
    /// A missing state may be begun afresh although history keeps earlier versions
    /// (`-new-state`).
    pub new_state: bool,
    /// Install the required provider plugins first, as `infra init` would (the controller's
    /// fresh checkouts; the terminal leaves that to `infra init`).
    pub install_plugins: bool,
}

impl Opening {
    /// Opens `dir` read-only, with the terminal's defaults.
    pub fn new(dir: impl Into<PathBuf>) -> Opening {
        Opening {
            dir: dir.into(),
            confine_to: None,
            variables: Vec::new(),
            all_variables_sensitive: false,
            workspace: None,
            local_state: LocalState::Workspace,
            lock: None,
            new_state: false,
            install_plugins: false,
        }
    }
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
    pub backend: Arc<dyn Backend>,
    /// The workspace name.
    pub workspace: String,
    /// How state and saved plans are sealed.
    pub codec: infra_state::Codec,
    /// Warnings found while opening (configuration warnings are in `opened_with`).
    pub warnings: Vec<String>,
    /// The configuration's warnings (no errors: those fail the opening).
    pub opened_with: Diagnostics,
    lock: Option<HeldLock>,
    new_state: bool,
}

/// Opening failed: diagnostics to show against these sources.
pub struct OpenError {
    /// What went wrong.
    pub diagnostics: Diagnostics,
    /// The loaded sources (for rendering).
    pub config: LoadedConfig,
}

impl OpenError {
    /// The diagnostics as plain text (the controller's reports).
    pub fn render(&self) -> String {
        crate::diagnostics::render_all(&self.diagnostics, &self.config.sources, false)
    }
}

impl Session {
    /// Loads the configuration, its variables and its backend, and takes the lock if asked.
    ///
    /// # Errors
    ///
    /// Every problem of the configuration, the variables, the backend or the lock.
    pub fn open(opening: Opening) -> Result<Session, Box<OpenError>> {
        // A fresh checkout has no `.terraform/modules` either: remote modules are fetched first
        // (network sources only: the configuration is someone else's).
        let modules =
            if opening.install_plugins { crate::module_install::install_untrusted(&opening.dir).err() } else { None };
        let (mut config, variables, mut diagnostics) = load(&opening);
        if let Some(error) = modules {
            diagnostics.push(Diagnostic::error("Cannot install modules", error));
        }
        diagnostics.extend(std::mem::take(&mut config.diagnostics));
        if opening.install_plugins
            && let Ok(requirements) = crate::plugins::requirements(&config)
            && let Err(error) =
                crate::plugins::install(&config.root.dir, &requirements, crate::plugins::LockMode::Update)
        {
            diagnostics.push(Diagnostic::error("Cannot install provider plugins", error));
        }
        let (registry, problems) = Registry::for_config(&config);
        diagnostics.extend(problems);
        let workspace = opening.workspace.clone().unwrap_or_else(|| crate::workspace::current(&opening.dir));
        let codec = match crate::workspace::codec(&config, &variables) {
            Ok(codec) => codec,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                infra_state::Codec::plain()
            }
        };
        let backend = match open_backend(&config, &workspace, codec.clone(), &opening.local_state) {
            Ok(backend) => Some(backend),
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                None
            }
        };
        let Some(backend) = backend.filter(|_| !diagnostics.has_errors()) else {
            return Err(Box::new(OpenError { diagnostics, config }));
        };
        let mut session = Session {
            config,
            variables,
            registry,
            backend,
            workspace,
            codec,
            warnings: Vec::new(),
            opened_with: diagnostics,
            lock: None,
            new_state: opening.new_state,
        };
        if let Some(plan) = &opening.lock
            && let Err(diagnostic) = session.take_lock(plan)
        {
            let config = std::mem::take(&mut session.config);
            return Err(Box::new(OpenError { diagnostics: diagnostic.into(), config }));
        }
        Ok(session)
    }

    fn take_lock(&mut self, plan: &LockPlan) -> Result<(), Diagnostic> {
        let held = match HeldLock::acquire(self.backend.clone(), &plan.operation, plan.timeout) {
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
            self.warnings.push(format!("took over the expired state lock of {previous}"));
        }
        self.lock = Some(held);
        Ok(())
    }

    /// The current lease, if this session holds the lock.
    pub fn lease(&self) -> Option<Lease> {
        self.lock.as_ref().and_then(HeldLock::lease)
    }

    /// The state. Holding the lock, a crashed run's journal is folded into the stored state;
    /// without it (read-only), it is folded in memory only, so what that run finished shows.
    /// The backend's warnings (a torn journal line dropped) go to `warnings`.
    ///
    /// # Errors
    ///
    /// A diagnostic when the state cannot be read. A state that is missing while its history
    /// keeps earlier versions is an error (unless `-new-state`): planning from nothing would
    /// create every resource again, and a new lineage would begin beside the lost one.
    pub fn snapshot(&mut self) -> Result<Option<Snapshot>, Diagnostic> {
        let lease = self.lease();
        let folded = match &lease {
            Some(lease) => self.backend.read_folded(Some(lease)),
            None => self.read_unlocked(),
        };
        self.warnings.extend(self.backend.warnings());
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

    /// The stored state with the journal folded in memory, without the lock and without the
    /// missing-state check (`show`, `state list`).
    ///
    /// # Errors
    ///
    /// The storage error.
    pub fn read_unlocked(&self) -> Result<Option<Snapshot>, StateError> {
        let mut snapshot = self.backend.read()?;
        let journal = self.backend.journal_read()?;
        if !journal.is_empty() {
            let mut folded = snapshot.unwrap_or_default();
            folded.fold(&journal);
            snapshot = Some(folded);
        }
        Ok(snapshot)
    }

    /// Plans against `snapshot` (from [`Session::snapshot`]) with this session's
    /// configuration, variables and providers; the workspace is the session's.
    pub fn plan(&self, snapshot: Option<Snapshot>, options: PlanOptions) -> (Plan, Diagnostics) {
        let options = PlanOptions { workspace: self.workspace.clone(), ..options };
        crate::plan::planner::plan(&self.config, &self.variables, snapshot, &self.registry, &options)
    }

    /// Applies `plan`, made against `snapshot`, under this session's lock.
    pub fn apply(&self, plan: &Plan, snapshot: Option<Snapshot>, options: &ApplyOptions<'_>) -> (Outcome, Diagnostics) {
        let lease = self.lease();
        let options = ApplyOptions {
            parallelism: options.parallelism,
            interrupted: options.interrupted.clone(),
            progress: options.progress,
            workspace: self.workspace.clone(),
        };
        // An interrupt asks every provider to stop what it is doing (Terraform's `Stop`): a
        // call hung on a cloud API ends, and the apply can finish and save what it did.
        let finished = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                use std::sync::atomic::Ordering;
                while !finished.load(Ordering::SeqCst) {
                    if options.interrupted.load(Ordering::SeqCst) {
                        self.registry.stop_all();
                        break;
                    }
                    // A poll of the interrupt flag (set from a signal handler).
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            });
            let result = crate::apply::apply(
                &self.config,
                plan,
                snapshot,
                &self.registry,
                self.backend.as_ref(),
                lease.as_ref(),
                &options,
            );
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
            result
        })
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

/// The configuration and its variables, without the backend (`validate`, `console`, `init`,
/// `graph`, and the first step of [`Session::open`]). The configuration's own problems stay in
/// `config.diagnostics`; the variables' are returned.
pub fn load(opening: &Opening) -> (LoadedConfig, BTreeMap<String, Value>, Diagnostics) {
    let mut config = match &opening.confine_to {
        Some(root) => crate::config::load_module_tree_within(&opening.dir, root),
        None => crate::config::load_module_tree(&opening.dir),
    };
    let (mut variables, diagnostics) =
        crate::vars::collect_variables(&opening.variables, &config.root, &mut config.sources);
    if opening.all_variables_sensitive {
        for value in variables.values_mut() {
            *value = std::mem::take(value).mark_sensitive();
        }
    }
    (config, variables, diagnostics)
}

/// The configuration's backend, or local state where `local` says.
fn open_backend(
    config: &LoadedConfig,
    workspace: &str,
    codec: infra_state::Codec,
    local: &LocalState,
) -> Result<Arc<dyn Backend>, Diagnostic> {
    if let LocalState::Scratch(dir) = local {
        return Ok(Arc::new(infra_state::local::LocalBackend::new(dir, workspace).with_codec(codec)));
    }
    if config.root.settings.backend.is_some() {
        return crate::workspace::open_backend(config, workspace, codec);
    }
    match local {
        LocalState::Workspace => crate::workspace::open_backend(config, workspace, codec),
        LocalState::At(dir) | LocalState::Scratch(dir) => {
            Ok(Arc::new(infra_state::local::LocalBackend::new(dir, workspace).with_codec(codec)))
        }
        LocalState::Refused(reason) => Err(Diagnostic::error("No state backend", reason.clone())),
    }
}
