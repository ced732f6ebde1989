//! Plans: what an apply will do, computed once and rendered many ways.
//!
//! A [`Plan`] records the state it was made against (serial and lineage), the
//! [`ResourceChange`]s, the drift found by refresh ("changed outside infra"), and the output
//! changes. [`planner`] computes it; [`objects`] turns configuration and state into provider
//! values; [`file`] saves and loads it (`infra plan -out FILE`).

pub mod file;
pub mod planner;

use crate::addr::Address;
use infra_provider::{AttrPath, Value};
use std::collections::BTreeMap;

/// The order of a replacement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReplaceOrder {
    /// Destroy the old object, then create the new one (the default).
    DestroyBeforeCreate,
    /// Create the new object, then destroy the old one (`create_before_destroy`).
    CreateBeforeDestroy,
}

/// What happens to one resource instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Nothing.
    NoOp,
    /// Create.
    Create,
    /// Read a data source at apply time.
    Read,
    /// Update in place.
    Update,
    /// Destroy and create again.
    Replace(ReplaceOrder),
    /// Destroy.
    Delete,
    /// Drop from state, leave the object alone (a `removed` block with `destroy = false`).
    Forget,
}

impl Action {
    /// The symbol Terraform users know: `+ ~ -/+ +/- - <=`.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::Replace(ReplaceOrder::DestroyBeforeCreate) => "-/+",
            Action::Replace(ReplaceOrder::CreateBeforeDestroy) => "+/-",
            Action::Delete => "-",
            Action::Forget => ".",
        }
    }

    /// Terraform's JSON action list.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Read => &["read"],
            Action::Update => &["update"],
            Action::Replace(ReplaceOrder::DestroyBeforeCreate) => &["delete", "create"],
            Action::Replace(ReplaceOrder::CreateBeforeDestroy) => &["create", "delete"],
            Action::Delete => &["delete"],
            Action::Forget => &["forget"],
        }
    }
}

/// Before and after.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// What happens.
    pub action: Action,
    /// The object before (`None` on create).
    pub before: Option<Value>,
    /// The object after (`None` on delete); may hold Unknown.
    pub after: Option<Value>,
}

/// One resource instance's change.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceChange {
    /// Its address, typed: module path, mode, type, name and key (shown and stored as text).
    pub addr: Address,
    /// Provider key (`builtin`, `aws.east`).
    pub provider: String,
    /// Before, after, action.
    pub change: Change,
    /// Attributes that force the replacement.
    pub requires_replace: Vec<AttrPath>,
    /// Why, in words, when it is not obvious (deletes, forced replacements).
    pub reason: Option<String>,
    /// Resource-level addresses this instance depends on, as state records them.
    pub dependencies: Vec<String>,
    /// Imported from this id before planning.
    pub import_id: Option<String>,
    /// Moved from this address (a `moved` block).
    pub prev_addr: Option<Address>,
}

impl ResourceChange {
    /// The address as text (`module.net.aws_subnet.private["a"]`).
    pub fn address(&self) -> String {
        self.addr.to_string()
    }
}

/// An output's change.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputChange {
    /// What happens.
    pub action: Action,
    /// Value before.
    pub before: Option<Value>,
    /// Value after (may be Unknown).
    pub after: Option<Value>,
    /// Declared sensitive.
    pub sensitive: bool,
}

/// A plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The serial of the state it was made against (`None`: no state yet).
    pub prior_serial: Option<u64>,
    /// The lineage of that state.
    pub prior_lineage: Option<String>,
    /// Resource changes in address order (no-ops included; renderers skip them).
    pub changes: Vec<ResourceChange>,
    /// Changes found by refresh: objects changed or deleted outside infra.
    pub drift: Vec<ResourceChange>,
    /// Output changes.
    pub outputs: BTreeMap<String, OutputChange>,
    /// Variable values the plan was made with (a saved plan applies with them).
    pub variables: BTreeMap<String, Value>,
    /// A destroy plan.
    pub destroy: bool,
    /// A refresh-only plan: it only updates state to match the objects.
    pub refresh_only: bool,
    /// The plan could not be completed (errors were reported).
    pub errored: bool,
    /// API calls each provider configuration made while planning (for those that count).
    pub api_calls: BTreeMap<String, u64>,
    /// The root module's names as planned (`var`, `local`, resources with planned values,
    /// `output`...): what `infra test` asserts on. Not saved with the plan.
    pub root_values: BTreeMap<String, Value>,
}

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Creates (replacements count here too).
    pub add: usize,
    /// Updates.
    pub change: usize,
    /// Deletes (replacements count here too).
    pub destroy: usize,
    /// Imports.
    pub import: usize,
    /// Objects dropped from state and left alone.
    pub forget: usize,
}

impl Plan {
    /// Counts as Terraform's `Plan: X to add, Y to change, Z to destroy.`
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.change.action {
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Replace(_) => {
                    summary.add += 1;
                    summary.destroy += 1;
                }
                Action::Delete => summary.destroy += 1,
                Action::Forget => summary.forget += 1,
                Action::NoOp | Action::Read => {}
            }
            if change.import_id.is_some() {
                summary.import += 1;
            }
        }
        summary
    }

    /// Whether applying would change anything (resources, outputs, or, refresh-only, state).
    pub fn has_changes(&self) -> bool {
        if self.refresh_only {
            return !self.drift.is_empty();
        }
        self.changes.iter().any(|c| c.change.action != Action::NoOp || c.import_id.is_some() || c.prev_addr.is_some())
            || self.outputs.values().any(|o| o.action != Action::NoOp)
    }
}
