//! The boundary every provider and the engine share.
//!
//! `infra-provider` holds the types that cross the line between the engine (`infra`) and the
//! providers that talk to clouds, clusters and servers: [`Value`] with its `Unknown` and
//! sensitive marks, [`Number`] with Terraform's arbitrary precision, and [`Diagnostic`], the one
//! shape in which every user-facing problem travels.
//!
//! Start at [`Value`]. The `Provider` trait itself arrives with the engine; this crate is kept
//! small so that every provider crate builds against it quickly.
//!
//! Design choice: the sensitive mark is a wrapper variant ([`Value::Sensitive`]) rather than a
//! flag on every node. Operations unmark their operands, compute, and re-mark the result (as
//! cty's marks do), which keeps every function simple at the cost of one `unmark` call each.
#![deny(missing_docs)]

mod diagnostic;
mod number;
mod value;

pub use diagnostic::{Diagnostic, DiagnosticData, Diagnostics, FileId, Severity, Span};
pub use number::{MAX_EXPONENT, Number, NumberError};
pub use value::{Value, ValueKind};
