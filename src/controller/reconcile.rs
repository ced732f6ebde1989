//! One reconcile of one stack: fetch → export → load → plan → policy → apply (under the stack's
//! state lock) → status. Synchronous: the controller runs it on a blocking thread.
//!
//! Policy, applied to the plan before anything changes:
//! - `prune = false`: deletes of objects whose blocks left the configuration are held back
//!   (reported as `unpruned`);
//! - drift: when the stack's configuration is the one already applied, a change to an object
//!   that refresh found changed outside infra is drift; `correct` applies it, `warn` holds it
//!   back and reports it, `ignore` holds it back silently. A new configuration is applied whole.
//! - `auto_apply = false`: the plan is recorded (`planned`), nothing is applied.
//!
//! A commit that fails to load or plan changes nothing: the last good commit stays applied.

use super::config::{DriftPolicy, StackSpec};
use super::source::{self, Revision};
use super::status::{PlanSummary, ReconcileResult, StackStatus};
use crate::apply::{ApplyOptions, Progress};
use crate::plan::Action;
use crate::plan::planner::PlanOptions;
use crate::session::{LocalState, LockPlan, Opening, Session};
use crate::vars::VarSource;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Why a reconcile runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The polling interval elapsed.
    Poll,
    /// A webhook said the repository changed.
    Webhook,
    /// `infra controller reconcile STACK`.
    Manual,
    /// The first run after start.
    Start,
}

/// What a reconcile found and did.
#[derive(Debug)]
pub struct Report {
    /// How it ended; `None`: nothing to do (same configuration, drift check not due).
    pub result: Option<ReconcileResult>,
    /// The revision fetched (when the fetch worked).
    pub revision: Option<Revision>,
    /// The error, as text.
    pub error: Option<String>,
    /// Whether the failure was the fetch.
    pub fetch_failed: bool,
    /// The plan's counts after policy.
    pub summary: Option<PlanSummary>,
    /// Objects changed outside infra.
    pub drifted: Vec<String>,
    /// Drift held back by `warn`.
    pub drift_warnings: Vec<String>,
    /// Deletes held back by `prune = false`.
    pub unpruned: Vec<String>,
    /// Instances in state afterwards.
    pub resources: Option<usize>,
}

impl Report {
    fn failed(revision: Option<Revision>, error: String) -> Report {
        Report {
            result: Some(ReconcileResult::Failed),
            revision,
            error: Some(error),
            fetch_failed: false,
            summary: None,
            drifted: Vec::new(),
            drift_warnings: Vec::new(),
            unpruned: Vec::new(),
            resources: None,
        }
    }
}

/// Where a stack keeps its files under the controller's data directory.
pub struct StackDirs {
    /// The bare Git cache.
    pub cache: PathBuf,
    /// The exported tree of the commit being reconciled.
    pub checkout: PathBuf,
    /// Local state, for a configuration without a backend block.
    pub state: PathBuf,
}

impl StackDirs {
    /// The directories of `stack` under `data_dir`.
    pub fn new(data_dir: &std::path::Path, stack: &str) -> StackDirs {
        let base = data_dir.join("stacks").join(stack);
        StackDirs { cache: base.join("git"), checkout: base.join("checkout"), state: base.join("state") }
    }
}

/// Logs resource operations, one span per operation.
struct Traced<'a> {
    stack: &'a str,
}

impl Progress for Traced<'_> {
    fn started(&self, address: &str, action: Action) {
        tracing::info!(stack = self.stack, address, action = ?action, "resource operation started");
    }
    fn finished(&self, address: &str, action: Action, elapsed: Duration, id: Option<&str>) {
        let span = tracing::info_span!("resource", stack = self.stack, address, action = ?action);
        let _entered = span.enter();
        tracing::info!(elapsed_ms = elapsed.as_millis() as u64, id, "resource operation finished");
    }
}

/// The stack's `variables` as typed values (no round trip through `--var` text).
pub(crate) fn stack_variables(spec: &StackSpec) -> Vec<VarSource> {
    spec.variables
        .iter()
        .map(|(name, value)| VarSource::Value(name.clone(), infra_provider::Value::from_json(value)))
        .collect()
}

/// Runs one reconcile. `drift_due`: the drift interval elapsed (an unchanged stack is planned
/// only then, or when triggered by hand).
pub fn reconcile(
    spec: &StackSpec,
    dirs: &StackDirs,
    previous: &StackStatus,
    trigger: Trigger,
    drift_due: bool,
    parallelism: usize,
    interrupted: Arc<AtomicBool>,
) -> Report {
    let revision = match source::fetch(&spec.source, &dirs.cache) {
        Ok(revision) => revision,
        Err(error) => {
            let mut report = Report::failed(None, error);
            report.fetch_failed = true;
            return report;
        }
    };
    let same_config = previous.applied_tree.as_deref() == Some(revision.tree.as_str());
    let same_commit_failed = previous.last_commit.as_deref() == Some(revision.commit.as_str())
        && previous.last_result == Some(ReconcileResult::Failed);
    if same_config && !drift_due && trigger != Trigger::Manual && trigger != Trigger::Start && !same_commit_failed {
        return Report { result: None, ..Report::failed(Some(revision), String::new()) };
    }
    if let Err(error) = source::export(&dirs.cache, &revision.commit, &dirs.checkout) {
        return Report::failed(Some(revision), error);
    }
    let opening = Opening {
        lock: Some(LockPlan { operation: "controller reconcile".into(), timeout: Duration::from_secs(5) }),
        ..stack_opening(spec, dirs, &dirs.checkout)
    };
    let mut session = match Session::open(opening) {
        Ok(session) => session,
        Err(error) => return Report::failed(Some(revision), error.render()),
    };
    let render = |diagnostics: &infra_provider::Diagnostics, session: &Session| {
        crate::diagnostics::render_all(diagnostics, &session.config.sources, false)
    };
    let snapshot = session.snapshot();
    for warning in session.warnings.drain(..) {
        tracing::warn!(stack = spec.name, warning, "state");
    }
    let snapshot = match snapshot {
        Ok(snapshot) => snapshot,
        Err(diagnostic) => return Report::failed(Some(revision), render(&diagnostic.into(), &session)),
    };
    let options = PlanOptions { refresh: true, ..PlanOptions::default() };
    let (mut planned, diagnostics) = session.plan(snapshot.clone(), options);
    if diagnostics.has_errors() {
        return Report::failed(Some(revision), render(&diagnostics, &session));
    }
    let drifted: Vec<String> = planned.drift.iter().map(|d| d.address()).collect();
    let mut unpruned = Vec::new();
    let mut drift_warnings = Vec::new();
    planned.changes.retain(|change| {
        let action = change.change.action;
        if action == Action::Delete && !spec.prune && change.addr.mode == crate::addr::Mode::Managed {
            unpruned.push(change.address());
            return false;
        }
        if same_config && action != Action::NoOp && drifted.contains(&change.address()) {
            match spec.drift_policy(&change.address()) {
                DriftPolicy::Correct => {}
                DriftPolicy::Warn => {
                    drift_warnings.push(change.address());
                    return false;
                }
                DriftPolicy::Ignore => return false,
            }
        }
        true
    });
    let summary = planned.summary();
    let summary = PlanSummary { add: summary.add, change: summary.change, destroy: summary.destroy };
    let reported_drift: Vec<String> = drifted
        .iter()
        .filter(|address| !same_config || spec.drift_policy(address) != DriftPolicy::Ignore)
        .cloned()
        .collect();
    let mut report = Report {
        result: Some(ReconcileResult::NoChanges),
        revision: Some(revision.clone()),
        error: None,
        fetch_failed: false,
        summary: Some(summary),
        drifted: reported_drift,
        drift_warnings,
        unpruned,
        resources: snapshot.as_ref().map(|s| s.resources.len()),
    };
    if !planned.has_changes() {
        return report;
    }
    if !spec.auto_apply {
        report.result = Some(ReconcileResult::Planned);
        return report;
    }
    let progress = Traced { stack: &spec.name };
    let apply_options = ApplyOptions { parallelism, interrupted, progress: &progress, workspace: "default".into() };
    let started = Instant::now();
    let (outcome, diagnostics) = session.apply(&planned, snapshot, &apply_options);
    let failure = diagnostics.has_errors().then(|| render(&diagnostics, &session));
    session.close();
    tracing::info!(
        stack = spec.name,
        applied = outcome.applied,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "apply finished"
    );
    report.resources = outcome.snapshot.as_ref().map(|s| s.resources.len()).or(report.resources);
    if failure.is_some() || outcome.interrupted {
        let cause =
            if outcome.interrupted { "interrupted by shutdown".to_string() } else { failure.unwrap_or_default() };
        report.result = Some(ReconcileResult::Failed);
        report.error = Some(format!("{} change(s) applied before: {cause}", outcome.applied));
        return report;
    }
    report.result = Some(ReconcileResult::Applied);
    report
}

/// How a stack's commit exported to `checkout` is opened: its directory in the checkout, files
/// read only there (a commit must not read the controller's files), the stack's typed
/// variables, workspace `default`, and local state under the controller's data directory unless
/// replicas would not share it.
pub(crate) fn stack_opening(spec: &StackSpec, dirs: &StackDirs, checkout: &std::path::Path) -> Opening {
    Opening {
        confine_to: Some(checkout.to_path_buf()),
        // A fresh checkout has no `.terraform`: plugins are installed from the controller's
        // mirrors (the same schema cache serves every run), verified against the lock file.
        install_plugins: true,
        variables: stack_variables(spec),
        workspace: Some("default".into()),
        local_state: if spec.local_state {
            LocalState::At(dirs.state.clone())
        } else {
            LocalState::Refused("this stack has no backend block, and in a cluster each replica has its own data directory: give the configuration a shared backend (`backend \"pg\"` or `backend \"s3\"`), or set `shared_data_dir = true` when replicas share one volume".into())
        },
        ..Opening::new(checkout.join(spec.source.path.trim_matches('/')))
    }
}
