//! The platform vocabulary: `cluster`, `service`, `queue`, `database` and `function` blocks, written as
//! ordinary modules in infra's own language and shipped inside the binary
//! (`src/platform/modules/*.tf`; `infra platform show service` prints one).
//!
//! Nothing in the engine is special: the configuration loader reads `service "api" { … }` as
//! `module "service_api" { source = "infra:platform/service", name = "api", … }`, the module's
//! files are written to a cache directory and loaded like any local module, and
//! `service.api.url` (or `database.orders`) is a reference to that module call's outputs.
//! Forking one is copying its file into `./modules/` and calling it with `module`.

use std::path::PathBuf;

/// The block types, and their modules' text.
pub const KINDS: &[(&str, &str)] = &[
    // The cluster's nodes, then its observability stack (one module, two files here).
    ("cluster", concat!(include_str!("modules/cluster.tf"), include_str!("modules/observability.tf"))),
    ("database", include_str!("modules/database.tf")),
    ("queue", include_str!("modules/queue.tf")),
    ("function", include_str!("modules/function.tf")),
    ("service", include_str!("modules/service.tf")),
];

/// Engines of a block type that have a module of their own: (kind, engine, module). The
/// engine must be written as a literal (`engine = "sqs"`).
pub const ENGINE_MODULES: &[(&str, &str, &str)] = &[("queue", "sqs", "queue-sqs")];

/// Every embedded module by name: the block types' and the engines'.
const MODULES: &[(&str, &str)] = &[("queue-sqs", include_str!("modules/queue_sqs.tf"))];

/// The module a `kind` block with this `engine` is lowered to.
pub fn module_of<'a>(kind: &'a str, engine: Option<&str>) -> &'a str {
    ENGINE_MODULES.iter().find(|(k, e, _)| *k == kind && Some(*e) == engine).map_or(kind, |(_, _, module)| module)
}

/// The prefix of an embedded module's source.
pub const SOURCE_PREFIX: &str = "infra:platform/";

/// Whether `kind` is a platform block type.
pub fn is_kind(kind: &str) -> bool {
    KINDS.iter().any(|(k, _)| *k == kind)
}

/// The module text of a kind (or of an engine's module, `queue-sqs`).
pub fn module_text(kind: &str) -> Option<&'static str> {
    KINDS.iter().chain(MODULES).find(|(k, _)| *k == kind).map(|(_, text)| *text)
}

/// The module call a `KIND "NAME"` block becomes.
pub fn call_name(kind: &str, name: &str) -> String {
    format!("{kind}_{name}")
}

/// The directory an embedded module is loaded from: written once per infra version (and
/// rewritten if its content differs), so diagnostics point at a real file.
///
/// # Errors
///
/// The cache directory cannot be written.
pub fn materialize(kind: &str) -> Result<PathBuf, String> {
    let text = module_text(kind).ok_or_else(|| format!("there is no platform block `{kind}`"))?;
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("infra").join(format!("platform-{}", env!("CARGO_PKG_VERSION"))).join(kind);
    let file = dir.join("main.tf");
    if std::fs::read_to_string(&file).ok().as_deref() != Some(text) {
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        crate::fsutil::write_atomic(&file, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    Ok(dir)
}
