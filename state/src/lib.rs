//! State of `infra`: the snapshot model and the backends that store it.
//!
//! The snapshot model, the `Backend` trait and the local backend arrive with the engine
//! (issue 3); this crate already exists so that the workspace has its final shape and the
//! dependency direction (providers and the engine above, state below, no provider knowledge
//! here) is fixed from the start.
#![deny(missing_docs)]

/// The version of the state file format this crate writes.
pub const FORMAT_VERSION: u32 = 1;
