//! Workspaces and where their state lives.
//!
//! A workspace is a named state of one configuration (`default` unless selected). The current
//! one is kept in `.infra/workspace` beside the configuration; `INFRA_WORKSPACE` (or
//! `TF_WORKSPACE`) overrides it for one run. State of workspace `NAME` with the embedded default
//! backend lives in `.infra/state/NAME.json`.

use crate::config::LoadedConfig;
use infra_provider::Diagnostic;
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
pub fn open_backend(config: &LoadedConfig, workspace: &str) -> Result<LocalBackend, Diagnostic> {
    if !valid_name(workspace) {
        return Err(Diagnostic::error(
            "Invalid workspace name",
            format!("`{workspace}` is not a valid workspace name: use letters, digits, `-`, `_` and `.`."),
        ));
    }
    if let Some(backend) = &config.root.settings.backend
        && backend.kind != "local"
    {
        return Err(Diagnostic::error(
            "Unsupported backend",
            format!(
                "The backend `{}` is not available in this build of infra; the `local` backend (the default) is.",
                backend.kind
            ),
        )
        .at(backend.span.clone()));
    }
    Ok(LocalBackend::new(state_dir(&config.root.dir), workspace))
}
