//! Loading configurations: `*.hcl`, `*.tf` and `*.yaml` files of a directory into one
//! [`Module`].
//!
//! HCL files are parsed with `hcl-edit`, so every block, attribute and expression keeps its
//! byte span. YAML files are either Kubernetes manifests (`apiVersion` + `kind`), kept as
//! objects for the kubernetes provider, or the same blocks as HCL (`resource:`, `variable:`...),
//! the way Terraform's JSON syntax mirrors its native syntax; those are translated to HCL text
//! whose spans map back to the YAML lines ([`yaml`]).
//!
//! Start at [`load_module`]. The model keeps expressions unevaluated ([`Expr`]); the evaluator
//! (`crate::eval`) gives them values.

mod decode;
mod load;
pub use load::{parse_error, parse_hcl};
mod model;
pub(crate) mod parse;
pub mod sources;
pub mod types;
mod yaml;

pub use load::{LoadedConfig, load_module, load_module_tree, load_module_tree_within};
pub use model::*;

pub(crate) use decode::is_identifier;
