//! Workspaces and where their state lives.
//!
//! A workspace is a named state of one configuration (`default` unless selected). The current
//! one is kept in `.infra/workspace` beside the configuration; `INFRA_WORKSPACE` (or
//! `TF_WORKSPACE`) overrides it for one run. State of workspace `NAME` with the embedded default
//! backend lives in `.infra/state/NAME.json`.

use crate::config::LoadedConfig;
use infra_provider::{Diagnostic, Value};
use infra_state::local::LocalBackend;
use infra_state::{Backend, Codec};
use std::collections::BTreeMap;
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

/// A backend as configured: its kind and constant arguments (what `infra init` records, to
/// notice a change of backend).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackendSpec {
    /// `local`, `pg`, `s3`.
    pub kind: String,
    /// Arguments, as strings.
    pub args: BTreeMap<String, String>,
}

impl BackendSpec {
    /// The embedded default.
    pub fn local() -> BackendSpec {
        BackendSpec { kind: "local".into(), args: BTreeMap::new() }
    }

    /// A one-line description without secrets (`pg (schema infra)`, `s3://bucket/key`).
    pub fn describe(&self) -> String {
        match self.kind.as_str() {
            "s3" => format!(
                "s3://{}/{}",
                self.args.get("bucket").map_or("", String::as_str),
                self.args.get("key").map_or("", String::as_str)
            ),
            "pg" => format!("pg (schema {})", self.args.get("schema_name").map_or("infra", String::as_str)),
            other => other.to_string(),
        }
    }
}

/// The `backend` block of a configuration, evaluated (backend arguments are constants, as in
/// Terraform: no variables).
///
/// # Errors
///
/// An argument that is not a constant string, number or bool.
pub fn backend_spec(config: &LoadedConfig) -> Result<BackendSpec, Diagnostic> {
    let Some(backend) = &config.root.settings.backend else { return Ok(BackendSpec::local()) };
    let scope = config.scope(&config.root.dir);
    let mut args = BTreeMap::new();
    for (name, attribute) in &backend.body.attributes {
        let mut diagnostics = infra_provider::Diagnostics::new();
        let value = crate::module_eval::eval_expr(&scope, &attribute.expr, &[], &mut diagnostics);
        let text = match value {
            Some(Value::String(text)) => text,
            Some(Value::Bool(flag)) => flag.to_string(),
            Some(Value::Number(number)) => number.to_string(),
            _ => {
                return Err(Diagnostic::error(
                    "Invalid backend argument",
                    format!("`{name}` of the `{}` backend must be a constant string, number or bool (backend arguments cannot use variables).", backend.kind),
                )
                .at(attribute.name_span.clone()));
            }
        };
        args.insert(name.clone(), text);
    }
    Ok(BackendSpec { kind: backend.kind.clone(), args })
}

/// The codec of a configuration: sealed with the `encryption` block's key when there is one.
///
/// # Errors
///
/// A key that is missing, not a string, or too weak.
pub fn codec(config: &LoadedConfig, variables: &BTreeMap<String, Value>) -> Result<Codec, Diagnostic> {
    let Some(encryption) = &config.root.settings.encryption else { return Ok(Codec::plain()) };
    let Some(key) = encryption.body.attributes.get("key") else {
        return Err(Diagnostic::error("Missing encryption key", "The `encryption` block needs `key = var.NAME`.")
            .at(encryption.span.clone()));
    };
    let mut scope = config.scope(&config.root.dir);
    let mut vars = BTreeMap::new();
    for (name, variable) in &config.root.variables {
        if let Some(value) = variables.get(name).or(variable.default.as_ref()) {
            vars.insert(name.clone(), value.clone());
        }
    }
    scope.set("var", Value::Map(vars));
    let mut diagnostics = infra_provider::Diagnostics::new();
    let value = crate::module_eval::eval_expr(&scope, &key.expr, &[], &mut diagnostics);
    let text = match value {
        Some(Value::String(text)) => text,
        Some(Value::Sensitive(inner)) => match *inner {
            Value::String(text) => text,
            _ => String::new(),
        },
        _ => String::new(),
    };
    if text.is_empty() {
        return Err(Diagnostic::error(
            "Missing encryption key",
            "The state is configured to be encrypted, but the key has no value: set the variable (for example TF_VAR_state_key) or `-var`.",
        )
        .at(key.name_span.clone()));
    }
    let codec = Codec::encrypted(&text)
        .map_err(|error| Diagnostic::error("Invalid encryption key", error.to_string()).at(key.name_span.clone()))?;
    // `allow_unencrypted = true`: reads a plain state while it is migrated to encryption.
    let allow_plain = encryption.body.attributes.get("allow_unencrypted").map(|attribute| {
        crate::module_eval::eval_expr(&scope, &attribute.expr, &[], &mut diagnostics)
            .map(|value| value.bare() == &Value::Bool(true))
            .unwrap_or(false)
    });
    Ok(if allow_plain == Some(true) { codec.allowing_plain() } else { codec })
}

/// Opens a backend for a workspace.
///
/// # Errors
///
/// A backend this build does not have, missing arguments, or a server that cannot be reached.
pub fn open_spec(
    spec: &BackendSpec,
    config_dir: &Path,
    workspace: &str,
    codec: Codec,
) -> Result<std::sync::Arc<dyn Backend>, Diagnostic> {
    if !valid_name(workspace) {
        return Err(Diagnostic::error(
            "Invalid workspace name",
            format!("`{workspace}` is not a valid workspace name: use letters, digits, `-`, `_` and `.`."),
        ));
    }
    let arg = |name: &str| spec.args.get(name).cloned();
    let flag = |name: &str| arg(name).is_some_and(|v| v == "true");
    let cannot_open = |error: infra_state::StateError, hint: &str| {
        Diagnostic::error("Cannot open the state backend", error.to_string()).with_hint(hint)
    };
    match spec.kind.as_str() {
        "local" => {
            let mut backend = LocalBackend::new(state_dir(config_dir), workspace).with_codec(codec);
            // Appends are written at once and fsynced once per wave (see `crate::apply`).
            backend.sync = false;
            Ok(std::sync::Arc::new(backend))
        }
        "pg" => {
            let conn_str = arg("conn_str")
                .or_else(|| std::env::var("INFRA_PG_CONN_STR").ok())
                .or_else(|| std::env::var("PG_CONN_STR").ok())
                .ok_or_else(|| {
                    Diagnostic::error(
                        "Missing PostgreSQL connection",
                        "The `pg` backend needs `conn_str`, or PG_CONN_STR / INFRA_PG_CONN_STR.",
                    )
                })?;
            let schema = arg("schema_name").unwrap_or_else(|| "infra".into());
            infra_state::pg::PgBackend::connect(&conn_str, &schema, workspace)
                .map(|b| std::sync::Arc::new(b.with_codec(codec)) as std::sync::Arc<dyn Backend>)
                .map_err(|e| {
                    cannot_open(e, "check `conn_str` (host, port, database, user) and that PostgreSQL is running")
                })
        }
        "s3" => {
            let config = infra_state::s3::S3Config {
                bucket: arg("bucket").unwrap_or_default(),
                key: arg("key").unwrap_or_default(),
                region: arg("region"),
                endpoint: arg("endpoint").or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok()),
                use_path_style: flag("use_path_style") || flag("force_path_style"),
                encrypt: flag("encrypt"),
                profile: arg("profile"),
                workspace_key_prefix: arg("workspace_key_prefix"),
            };
            infra_state::s3::S3Backend::connect(&config, workspace)
                .map(|b| std::sync::Arc::new(b.with_codec(codec)) as std::sync::Arc<dyn Backend>)
                .map_err(|e| cannot_open(e, "`bucket` and `key` name where the state object lives"))
        }
        other => Err(Diagnostic::error(
            "Unsupported backend",
            format!(
                "The backend `{other}` is not available in infra; `local` (the default), `pg` and `s3` are.{}",
                match other {
                    "remote" =>
                        " `remote` is HCP Terraform's: pull its state (`terraform state pull`) and convert it with `infra state import-tfstate`.",
                    "gcs" | "azurerm" | "consul" | "http" | "kubernetes" | "oss" | "cos" =>
                        " Move the state to `s3` (any S3-compatible store) or `pg`: pull it with Terraform and convert it with `infra state import-tfstate`.",
                    _ => "",
                }
            ),
        )),
    }
}

/// The backend of a configuration's workspace: the `backend` block, or the local default,
/// sealing with `codec` (see [`codec`]).
///
/// # Errors
///
/// As [`backend_spec`] and [`open_spec`]; a backend block changed since `infra init`.
pub fn open_backend(
    config: &LoadedConfig,
    workspace: &str,
    codec: Codec,
) -> Result<std::sync::Arc<dyn Backend>, Diagnostic> {
    let span = config.root.settings.backend.as_ref().and_then(|b| b.span.clone());
    let spec = backend_spec(config)?;
    // Before any `infra init`, state was wherever the embedded default kept it: a backend block
    // added over local state must not start from an empty state.
    let previous = recorded(&config.root.dir).or_else(|| {
        (spec.kind != "local"
            && list(&config.root.dir).iter().any(|w| state_dir(&config.root.dir).join(format!("{w}.json")).exists()))
        .then(BackendSpec::local)
    });
    if let Some(recorded) = previous
        && recorded != spec
    {
        return Err(Diagnostic::error(
            "Backend configuration changed",
            format!(
                "The backend changed from {} to {} since `infra init`.",
                recorded.describe(),
                spec.describe()
            ),
        )
        .at(span)
        .with_hint("run `infra init -migrate-state` to move the state to the new backend, or `infra init -reconfigure` to start there afresh"));
    }
    open_spec(&spec, &config.root.dir, workspace, codec).map_err(|d| if d.primary.is_none() { d.at(span) } else { d })
}

/// Where `infra init` records the backend in use.
fn record_path(config_dir: &Path) -> PathBuf {
    config_dir.join(".infra").join("backend.json")
}

/// The backend recorded by the last `infra init`, if any.
pub fn recorded(config_dir: &Path) -> Option<BackendSpec> {
    std::fs::read(record_path(config_dir)).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// Records the backend in use (owner-readable only: it may hold a connection string).
///
/// # Errors
///
/// I/O failure.
pub fn record(config_dir: &Path, spec: &BackendSpec) -> std::io::Result<()> {
    std::fs::create_dir_all(config_dir.join(".infra"))?;
    let bytes = serde_json::to_vec_pretty(spec).map_err(std::io::Error::other)?;
    let path = record_path(config_dir);
    crate::fsutil::write_private(&path, &bytes)
}
