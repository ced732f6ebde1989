//! State of `infra`: the snapshot model and the backends that store it.
//!
//! A [`Snapshot`] is the documented JSON (docs/state-format.md): `serial` (+1 on every write),
//! `lineage` (one per state, forever), resources keyed by instance address, outputs. A
//! [`Backend`] stores snapshots with compare-and-swap on the serial, keeps history, holds a
//! *lease* lock (holder, operation, expiry; renewed by heartbeat; taken over only after it
//! expires; a fencing generation checked on every write), and an append-only *journal* of
//! finished changes, so an apply records each change cheaply and durably and folds them into one
//! snapshot at the end — or on the next run, after a crash.
//!
//! The crate stores bytes and knows no provider: attributes are JSON.
//!
//! Start at [`Backend`] and [`local::LocalBackend`], the embedded default. [`testing`] is the
//! conformance suite every backend runs.
#![deny(missing_docs)]

mod backend;
pub mod codec;
pub mod local;
pub mod pg;
pub mod s3;
mod snapshot;
pub mod testing;

pub use backend::{Backend, HistoryEntry, JournalEntry, Lease, LockRequest, Process, StateError};
pub use codec::Codec;
pub use snapshot::{FORMAT_VERSION, OutputState, ResourceState, Snapshot};
