//! The `terraform_remote_state` data source: another configuration's root outputs, read from
//! its state.
//!
//! `backend` names where that state lives, `config` its arguments, as Terraform's:
//!
//! - `local`: `path` (default `terraform.tfstate`, relative to the root module): a Terraform
//!   state file, an infra state file (`.infra/state/NAME.json`), or an infra configuration
//!   directory (its workspace's state); other workspaces of a Terraform state live in
//!   `workspace_dir` (default `terraform.tfstate.d`) as Terraform keeps them.
//! - `s3`: `bucket`, `key`, `region`, `endpoint`…: infra's state object there, or Terraform's.
//! - `pg`: `conn_str`, `schema_name`: infra's state in PostgreSQL.
//!
//! `outputs` is an object of the root outputs (sensitive ones stay sensitive), over `defaults`.
//! In controller runs, where the configuration comes from a pull request, a local path must
//! stay inside the checkout.

use infra_provider::{
    AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, ReadDataRequest, ResourceSchema, Value,
};
use infra_state::{Backend, Codec, OutputState};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The data source's schema (Terraform's).
pub fn schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("backend", Attribute::required(AttrType::String).describe("`local`, `s3` or `pg`."))
            .attribute("config", Attribute::optional(AttrType::Dynamic).describe("The backend's arguments."))
            .attribute("defaults", Attribute::optional(AttrType::Dynamic).describe("Outputs used when absent."))
            .attribute("workspace", Attribute::optional(AttrType::String).describe("Default: `default`."))
            .attribute("outputs", Attribute::computed(AttrType::Dynamic).describe("The root outputs."))
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

fn not_found() -> Diagnostics {
    Diagnostic::error(
        "Unable to find remote state",
        "No stored state was found for the given workspace in the given backend.",
    )
    .into()
}

fn failed(detail: impl Into<String>) -> Diagnostics {
    Diagnostic::error("Unable to read the remote state", detail).into()
}

/// Reads the outputs (called on a blocking thread).
///
/// # Errors
///
/// An unsupported backend, missing arguments, a state that cannot be read, or a local path
/// outside the checkout in a controller run.
pub fn read(request: &ReadDataRequest) -> Result<Value, Diagnostics> {
    let config = request.config.clone().deep_unmark();
    let object = config.as_map().cloned().unwrap_or_default();
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_string);
    let backend = text(object.get("backend")).unwrap_or_default();
    let workspace = text(object.get("workspace")).unwrap_or_else(|| "default".into());
    if !crate::workspace::valid_name(&workspace) {
        return Err(failed(format!("`{workspace}` is not a valid workspace name.")));
    }
    let args: BTreeMap<String, String> = match object.get("config") {
        Some(Value::Map(entries)) => entries
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                Value::Bool(b) => Some((k.clone(), b.to_string())),
                Value::Number(n) => Some((k.clone(), n.to_string())),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    let outputs = match backend.as_str() {
        "local" => local(&args, &workspace, request.files_within.as_deref())?,
        "s3" | "pg" => {
            let spec = crate::workspace::BackendSpec { kind: backend.clone(), args };
            let opened = crate::workspace::open_spec(&spec, Path::new("."), &workspace, Codec::plain())
                .map_err(Diagnostics::from)?;
            stored(opened.as_ref(), &backend)?
        }
        other => {
            return Err(failed(format!(
                "The backend `{other}` is not available to terraform_remote_state in infra: `local`, `s3` and `pg` are."
            )));
        }
    };
    let mut values: BTreeMap<String, Value> = match object.get("defaults") {
        Some(Value::Map(defaults)) => defaults.clone(),
        _ => BTreeMap::new(),
    };
    for (name, output) in outputs {
        values.insert(name, crate::types::output_value(&output).mark_if(output.sensitive));
    }
    let mut result = object;
    result.insert("outputs".into(), Value::Map(values));
    result.insert("workspace".into(), Value::String(workspace));
    result.insert("id".into(), Value::from(format!("{backend}-remote-state")));
    Ok(Value::Map(result))
}

/// What `terraform_remote_state` needs of a state file: its outputs (Terraform's and infra's
/// states both keep them as `{value, type, sensitive}`).
#[derive(serde::Deserialize)]
struct Outputs {
    #[serde(default)]
    outputs: BTreeMap<String, OutputState>,
}

/// A Terraform state file's outputs; `None` when the bytes are not Terraform's state.
fn terraform_outputs(bytes: &[u8]) -> Option<Result<BTreeMap<String, OutputState>, String>> {
    let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    json.get("terraform_version")?;
    Some(serde_json::from_value::<Outputs>(json).map(|o| o.outputs).map_err(|e| e.to_string()))
}

/// The outputs an infra backend holds (or Terraform's state in the same place, for `s3`).
fn stored(backend: &dyn Backend, kind: &str) -> Result<BTreeMap<String, OutputState>, Diagnostics> {
    match backend.read() {
        Ok(Some(snapshot)) => Ok(snapshot.outputs),
        Ok(None) => Err(not_found()),
        Err(error) => {
            if let Some(raw) = backend.read_raw().ok().flatten()
                && let Some(outputs) = terraform_outputs(&raw)
            {
                return outputs.map_err(|e| failed(format!("The Terraform state in the `{kind}` backend: {e}.")));
            }
            Err(failed(format!("The `{kind}` backend: {error}.")))
        }
    }
}

/// The `local` backend: a file or an infra configuration directory.
fn local(
    args: &BTreeMap<String, String>,
    workspace: &str,
    within: Option<&Path>,
) -> Result<BTreeMap<String, OutputState>, Diagnostics> {
    let mut path = PathBuf::from(args.get("path").map_or("terraform.tfstate", String::as_str));
    if let Some(within) = within {
        let resolved = within.join(&path).canonicalize().unwrap_or_else(|_| within.join("missing"));
        if !resolved.starts_with(within) {
            return Err(failed(format!(
                "`{}` is outside the checkout: in controller runs terraform_remote_state reads local state only from the repository.",
                path.display()
            )));
        }
        path = resolved;
    }
    if path.is_dir() {
        let backend = infra_state::local::LocalBackend::new(crate::workspace::state_dir(&path), workspace);
        return stored(&backend, "local");
    }
    if workspace != "default" {
        let dir = args.get("workspace_dir").map_or("terraform.tfstate.d", String::as_str);
        let name = path.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("terraform.tfstate"));
        path = Path::new(dir).join(workspace).join(name);
    }
    let bytes = match read_bounded(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(error) => return Err(failed(format!("Cannot read `{}`: {error}.", path.display()))),
    };
    if let Some(outputs) = terraform_outputs(&bytes) {
        return outputs.map_err(|e| failed(format!("`{}` is not a readable Terraform state: {e}.", path.display())));
    }
    // An infra state file: `DIR/NAME.json` is workspace NAME of the local backend in DIR.
    let (Some(dir), Some(stem)) = (path.parent(), path.file_stem().and_then(|s| s.to_str())) else {
        return Err(failed(format!("`{}` is not a state file.", path.display())));
    };
    if !crate::workspace::valid_name(stem) {
        return Err(failed(format!("`{}` is not a state file.", path.display())));
    }
    stored(&infra_state::local::LocalBackend::new(dir, stem), "local")
}

/// A state file, refused past 512 MiB.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    const LIMIT: u64 = 512 << 20;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(LIMIT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > LIMIT {
        return Err(std::io::Error::other("larger than 512 MiB"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, within: &Path) -> ReadDataRequest {
        let config = Value::Map(BTreeMap::from([("path".to_string(), Value::from(path))]));
        ReadDataRequest {
            kind: "terraform_remote_state".into(),
            config: Value::Map(BTreeMap::from([
                ("backend".to_string(), Value::from("local")),
                ("config".to_string(), config),
            ])),
            files_within: Some(within.to_path_buf()),
        }
    }

    #[test]
    fn a_pull_request_reads_local_state_only_inside_its_checkout() {
        let outside = tempfile::tempdir().expect("temp dir");
        let state = outside.path().join("terraform.tfstate");
        std::fs::write(
            &state,
            r#"{"version":4,"terraform_version":"1.11.4","outputs":{"a":{"value":"x","type":"string"}}}"#,
        )
        .expect("state");
        let checkout = tempfile::tempdir().expect("temp dir");
        let checkout = checkout.path().canonicalize().expect("canonical");
        let refused = read(&request(&state.to_string_lossy(), &checkout)).expect_err("outside");
        assert!(refused.iter().any(|d| d.detail.contains("outside the checkout")), "{refused:?}");
        std::fs::copy(&state, checkout.join("terraform.tfstate")).expect("copy");
        let read = read(&request("terraform.tfstate", &checkout)).expect("inside");
        let outputs = read.as_map().and_then(|m| m.get("outputs")).cloned();
        assert_eq!(outputs, Some(Value::Map(BTreeMap::from([("a".to_string(), Value::from("x"))]))));
    }
}
