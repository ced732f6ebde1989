//! The snapshot model: what `infra` knows about the objects it manages.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the state file format this crate writes.
pub const FORMAT_VERSION: u32 = 1;

/// One state: every resource instance `infra` manages, and the root module's outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The format version ([`FORMAT_VERSION`]).
    pub version: u32,
    /// +1 on every write.
    pub serial: u64,
    /// A UUID given when the state is created; a state of another lineage is another state.
    pub lineage: String,
    /// The `infra` version that wrote it.
    #[serde(default)]
    pub infra_version: String,
    /// Resource instances by address (`aws_vpc.main`, `module.net[0].aws_subnet.a["eu"]`).
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceState>,
    /// Root module outputs.
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    /// Creates sent but not known to have finished: address → idempotency key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, String>,
}

impl Snapshot {
    /// A new, empty state with a fresh lineage.
    pub fn new() -> Snapshot {
        Snapshot {
            version: FORMAT_VERSION,
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            infra_version: env!("CARGO_PKG_VERSION").to_string(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }

    /// Applies journal entries (in order).
    pub fn fold(&mut self, entries: &[crate::JournalEntry]) {
        for entry in entries {
            match entry {
                crate::JournalEntry::Set { address, resource } => {
                    self.resources.insert(address.clone(), (**resource).clone());
                    self.pending.remove(address);
                }
                crate::JournalEntry::Remove { address } => {
                    self.resources.remove(address);
                }
                crate::JournalEntry::Intent { address, key } => {
                    self.pending.insert(address.clone(), key.clone());
                }
                crate::JournalEntry::Outputs { outputs } => self.outputs = outputs.clone(),
            }
        }
    }
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot::new()
    }
}

/// One resource instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// `managed` or `data`.
    #[serde(default = "managed")]
    pub mode: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Provider configuration key (`builtin`, `aws`, `aws.east`).
    pub provider: String,
    /// The provider's schema version for `attributes`.
    #[serde(default)]
    pub schema_version: u64,
    /// The object, as JSON (sensitive values included; see `sensitive_attributes`).
    pub attributes: serde_json::Value,
    /// Paths of sensitive attributes (`[["result"]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_attributes: Vec<Vec<String>>,
    /// Addresses of the resources it depended on when last applied (for delete ordering).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Replaced create-before-destroy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    /// The provider's private data for the object (base64), kept for its next call, as
    /// Terraform's `private` (plugins keep `timeouts` and their own bookkeeping there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
    /// The source address of the provider plugin that wrote the object
    /// (`registry.terraform.io/hashicorp/aws`); absent when infra's native provider did. A
    /// plan that would replace an object because the other implementation serves it now is
    /// refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
}

impl ResourceState {
    /// A copy without the (possibly large) attributes.
    pub fn clone_without_attributes(&self) -> ResourceState {
        ResourceState {
            mode: self.mode.clone(),
            kind: self.kind.clone(),
            provider: self.provider.clone(),
            schema_version: self.schema_version,
            attributes: serde_json::Value::Null,
            sensitive_attributes: Vec::new(),
            dependencies: self.dependencies.clone(),
            create_before_destroy: self.create_before_destroy,
            private: self.private.clone(),
            plugin: self.plugin.clone(),
        }
    }
}

fn managed() -> String {
    "managed".into()
}

/// One output value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    /// The value as JSON.
    pub value: serde_json::Value,
    /// Declared sensitive.
    #[serde(default)]
    pub sensitive: bool,
    /// The value's type in Terraform's JSON notation (`["set", "string"]`): what JSON alone
    /// cannot say (a set is stored as an array). Absent in older states.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub value_type: Option<serde_json::Value>,
}
