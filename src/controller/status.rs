//! What the controller knows of each stack: the commit applied, the last result and error, the
//! last plan's summary, drift. Served as JSON at `/stacks`.

use serde::Serialize;

/// How a reconcile ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileResult {
    /// Changes were applied.
    Applied,
    /// The objects already matched the configuration.
    NoChanges,
    /// Fetch, load, plan or apply failed; nothing more was changed.
    Failed,
    /// Changes were planned and not applied (`auto_apply = false`, or all held back by policy).
    Planned,
}

impl ReconcileResult {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            ReconcileResult::Applied => "applied",
            ReconcileResult::NoChanges => "no_changes",
            ReconcileResult::Failed => "failed",
            ReconcileResult::Planned => "planned",
        }
    }
}

/// The counts of a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    /// Creates.
    pub add: usize,
    /// Updates.
    pub change: usize,
    /// Deletes.
    pub destroy: usize,
}

/// One stack's status.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StackStatus {
    /// The stack.
    pub name: String,
    /// The commit whose configuration is applied (the last good one).
    pub applied_commit: Option<String>,
    /// The tree of the stack's path in it.
    #[serde(skip)]
    pub applied_tree: Option<String>,
    /// The newest commit seen.
    pub last_commit: Option<String>,
    /// How the last reconcile ended (`None` before the first).
    pub last_result: Option<ReconcileResult>,
    /// Its error: diagnostics as text.
    pub last_error: Option<String>,
    /// The last plan's counts (after policy).
    pub last_plan: Option<PlanSummary>,
    /// Objects changed outside infra at the last check.
    pub drifted: Vec<String>,
    /// Drift held back by the `warn` policy.
    pub drift_warnings: Vec<String>,
    /// Deletes held back because `prune` is off.
    pub unpruned: Vec<String>,
    /// Resource instances in state.
    pub resources: usize,
    /// RFC 3339 of the last apply.
    pub last_applied_at: Option<String>,
    /// RFC 3339 of the last reconcile's end.
    pub last_reconciled_at: Option<String>,
    /// Reconciles finished.
    pub reconciles: u64,
    /// Failures in a row (drives the back-off).
    pub failures: u32,
    /// The most reconciles of this stack ever seen running at once (1: never overlapped).
    pub max_concurrent: u32,
}
