//! The boundary every provider and the engine share.
//!
//! `infra-provider` holds the types that cross the line between the engine (`infra`) and the
//! providers that talk to clouds, clusters and servers: [`Value`] with its `Unknown` and
//! sensitive marks, [`Number`] with Terraform's arbitrary precision, and [`Diagnostic`], the one
//! shape in which every user-facing problem travels.
//!
//! Start at [`Value`] and [`Provider`]. The crate is kept small so that every provider crate
//! builds against it quickly; [`contract`] is what every answer must satisfy (the engine checks
//! it on each run), [`testing`] the conformance kit every provider runs, [`resources`] the
//! skeleton resource types are written on.
//!
//! Design choice: the sensitive mark is a wrapper variant ([`Value::Sensitive`]) rather than a
//! flag on every node. Operations unmark their operands, compute, and re-mark the result (as
//! cty's marks do), which keeps every function simple at the cost of one `unmark` call each.
#![deny(missing_docs)]

pub mod contract;
mod diagnostic;
pub mod duration;
mod number;
mod provider;
pub mod resources;
mod schema;
pub mod testing;
mod value;

pub use diagnostic::{Diagnostic, DiagnosticData, Diagnostics, FileId, Severity, Span};
pub use number::{MAX_EXPONENT, Number, NumberError};
pub use provider::{
    ApplyRequest, ApplyResponse, AttrPath, ConfigureRequest, DEFAULT_READ_CONCURRENCY, FunctionSignature,
    ImportRequest, ImportResponse, PlanRequest, PlanResponse, Provider, ReadDataRequest, ReadDataResponse, ReadRequest,
    ReadResponse, UpgradeRequest, plan_by_schema, values_equal,
};
pub use schema::{AttrType, Attribute, BlockSchema, NestedBlock, Nesting, ProviderSchema, ResourceSchema};
pub use value::{Value, ValueKind};
