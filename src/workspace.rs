//! Workspaces and where their state lives.
//!
//! A workspace is a named state of one configuration (`default` unless selected). The current
//! one is kept in `.infra/workspace` beside the configuration; `INFRA_WORKSPACE` (or
//! `TF_WORKSPACE`) overrides it for one run. State of workspace `NAME` with the embedded default
//! backend lives in `.infra/state/NAME.json`.

use crate::config::LoadedConfig;
use infra_provider::Diagnostic;
use infra_state::Backend;
use infra_state::local::LocalBackend;
use std::path::{Path, PathBuf};

/// The state directory of a configuration directory.
pub fn state_dir(config_dir: &Path) -> PathBuf {
    config_dir.join(".infra").join("state")
}

/// The selected workspace.
pub fn current(config_dir: &Path) -> String {
    for variable in ["INFRA_WORKSPACE", "TF_WORKSPACE"] {
        if let Ok(name) = std::env::var(variable)
            && !name.is_empty()
        {
            return name;
        }
    }
    std::fs::read_to_string(config_dir.join(".infra").join("workspace"))
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// Whether `name` is a valid workspace name (letters, digits, `-`, `_`, `.`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 90
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Selects a workspace.
///
/// # Errors
///
/// I/O failure.
pub fn select(config_dir: &Path, name: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(config_dir.join(".infra"))?;
    crate::fsutil::write_atomic(&config_dir.join(".infra").join("workspace"), format!("{name}\n").as_bytes())
}

/// Every workspace that has state (and `default`).
pub fn list(config_dir: &Path) -> Vec<String> {
    let mut names = vec!["default".to_string()];
    if let Ok(entries) = std::fs::read_dir(state_dir(config_dir)) {
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(workspace) = name.strip_suffix(".json") {
                names.push(workspace.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The backend of a configuration's workspace: the `backend` block, or the local default.
///
/// # Errors
///
/// A backend this build does not have, or an invalid workspace name.
pub fn open_backend(config: &LoadedConfig, workspace: &str) -> Result<std::sync::Arc<dyn Backend>, Diagnostic> {
    if !valid_name(workspace) {
        return Err(Diagnostic::error(
            "Invalid workspace name",
            format!("`{workspace}` is not a valid workspace name: use letters, digits, `-`, `_` and `.`."),
        ));
    }
    let local = || {
        let mut backend = LocalBackend::new(state_dir(&config.root.dir), workspace);
        // Appends are written at once and fsynced once per wave (see `crate::apply`).
        backend.sync = false;
        std::sync::Arc::new(backend) as std::sync::Arc<dyn Backend>
    };
    let Some(backend) = &config.root.settings.backend else { return Ok(local()) };
    match backend.kind.as_str() {
        "local" => Ok(local()),
        "pg" => {
            // Backend arguments are constants, as in Terraform: no variables.
            let scope = crate::eval::Scope::new(&config.root.dir);
            let argument = |name: &str| {
                backend.body.attributes.get(name).and_then(|a| {
                    crate::module_eval::eval_expr(&scope, &a.expr, &[], &mut infra_provider::Diagnostics::new())
                        .and_then(|v| v.as_str().map(str::to_string))
                })
            };
            let conn_str = argument("conn_str")
                .or_else(|| std::env::var("INFRA_PG_CONN_STR").ok())
                .or_else(|| std::env::var("PG_CONN_STR").ok())
                .ok_or_else(|| {
                    Diagnostic::error(
                        "Missing PostgreSQL connection",
                        "The `pg` backend needs `conn_str`, or PG_CONN_STR / INFRA_PG_CONN_STR.",
                    )
                    .at(backend.span.clone())
                })?;
            let schema = argument("schema_name").unwrap_or_else(|| "infra".into());
            infra_state::pg::PgBackend::connect(&conn_str, &schema, workspace)
                .map(|b| std::sync::Arc::new(b) as std::sync::Arc<dyn Backend>)
                .map_err(|error| {
                    Diagnostic::error("Cannot open the state backend", error.to_string())
                        .at(backend.span.clone())
                        .with_hint("check `conn_str` (host, port, database, user) and that PostgreSQL is running")
                })
        }
        other => Err(Diagnostic::error(
            "Unsupported backend",
            format!(
                "The backend `{other}` is not available in this build of infra; `local` (the default) and `pg` are."
            ),
        )
        .at(backend.span.clone())),
    }
}
