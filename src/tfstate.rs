//! Terraform v4 state files (`terraform.tfstate`) converted to infra's snapshot, for
//! `infra state import-tfstate`.
//!
//! Kept: lineage and serial (the state carries on), every managed instance of a resource type
//! infra has, under the same address, with its attributes, sensitive paths and dependencies,
//! and the root outputs. Terraform stores attributes of dynamic type (`terraform_data`'s
//! `input`, `output`, `triggers_replace`) as `{"value": …, "type": …}`; they are unwrapped.
//! Data sources are not kept (they are read again on the next plan). A resource type infra does
//! not have makes the conversion fail, naming every such type: a state with holes would plan
//! those objects again.

use crate::registry::Registry;
use infra_provider::AttrType;
use infra_state::{OutputState, ResourceState, Snapshot};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct TfState {
    version: u64,
    #[serde(default)]
    serial: u64,
    #[serde(default)]
    lineage: String,
    #[serde(default)]
    outputs: BTreeMap<String, TfOutput>,
    #[serde(default)]
    resources: Vec<TfResource>,
}

#[derive(Deserialize)]
struct TfOutput {
    value: serde_json::Value,
    #[serde(default)]
    sensitive: bool,
    #[serde(default, rename = "type")]
    value_type: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TfResource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    provider: String,
    #[serde(default)]
    instances: Vec<TfInstance>,
}

#[derive(Deserialize)]
struct TfInstance {
    #[serde(default)]
    index_key: Option<serde_json::Value>,
    #[serde(default)]
    schema_version: u64,
    #[serde(default)]
    attributes: serde_json::Value,
    #[serde(default)]
    sensitive_attributes: Vec<serde_json::Value>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    create_before_destroy: bool,
    #[serde(default)]
    private: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// The instance address: `module.a.type.name["key"]`.
fn address(resource: &TfResource, index: Option<&serde_json::Value>) -> String {
    let mut address = resource.module.as_ref().map(|m| format!("{m}.")).unwrap_or_default();
    address.push_str(&format!("{}.{}", resource.kind, resource.name));
    match index {
        Some(serde_json::Value::String(key)) => {
            address.push_str(&format!("[{}]", serde_json::Value::String(key.clone())));
        }
        Some(serde_json::Value::Number(n)) => address.push_str(&format!("[{n}]")),
        _ => {}
    }
    address
}

/// `provider["registry.terraform.io/hashicorp/aws"].west` → the alias (`west`), if any.
/// The source address in a Terraform provider reference (`provider["HOST/NS/TYPE"].alias`).
fn source_of(provider: &str) -> Option<String> {
    let start = provider.find("[\"")? + 2;
    let end = start + provider[start..].find("\"]")?;
    Some(provider[start..end].to_string())
}

fn alias(provider: &str) -> Option<&str> {
    provider.rsplit_once("].").map(|(_, alias)| alias).filter(|a| !a.is_empty())
}

/// A sensitive path of Terraform 1.x (`[{"type":"get_attr","value":"password"}]`), or of the
/// older flat form.
fn sensitive_path(path: &serde_json::Value) -> Option<Vec<String>> {
    let steps = path.as_array()?;
    steps
        .iter()
        .map(|step| {
            // `index` steps wrap their key: `{"value": "x", "type": "string"}`.
            let key = match &step["value"] {
                serde_json::Value::Object(wrapped) => wrapped.get("value")?,
                other => other,
            };
            match key {
                serde_json::Value::String(text) => Some(text.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        })
        .collect()
}

/// Converts a Terraform state file's text; `file` names it in errors.
///
/// # Errors
///
/// Not a Terraform v4 state, or resource types infra does not have.
pub fn convert(text: &[u8], file: &str, registry: &Registry) -> Result<Snapshot, String> {
    let state: TfState =
        serde_json::from_slice(text).map_err(|e| format!("`{file}` is not a Terraform state file: {e}"))?;
    if state.version != 4 {
        return Err(format!(
            "`{file}` is a version {} state; infra reads version 4 (Terraform 0.12 and later): upgrade it with `terraform apply` first",
            state.version
        ));
    }
    let mut snapshot = Snapshot::new();
    if !state.lineage.is_empty() {
        snapshot.lineage = state.lineage.clone();
    }
    snapshot.serial = state.serial.max(1);
    let mut unsupported = Vec::new();
    for resource in state.resources.iter().filter(|r| r.mode == "managed") {
        let (Some((provider, _)), Some(schema)) =
            (registry.for_type(&resource.kind), registry.resource_schema(&resource.kind))
        else {
            unsupported.push(resource.kind.clone());
            continue;
        };
        let provider = match alias(&resource.provider) {
            Some(alias) => format!("{provider}.{alias}"),
            None => provider,
        };
        for instance in &resource.instances {
            if instance.status.as_deref() == Some("tainted") {
                // A tainted object is replaced by the next apply, as Terraform would.
                continue;
            }
            let mut attributes = instance.attributes.clone();
            if let serde_json::Value::Object(fields) = &mut attributes {
                for (name, attribute) in &schema.block.attributes {
                    if attribute.kind == AttrType::Dynamic
                        && let Some(serde_json::Value::Object(wrapped)) = fields.get_mut(name)
                        && wrapped.contains_key("value")
                        && wrapped.contains_key("type")
                    {
                        let value = wrapped.remove("value").unwrap_or_default();
                        fields.insert(name.clone(), value);
                    }
                }
            }
            snapshot.resources.insert(
                address(resource, instance.index_key.as_ref()),
                ResourceState {
                    mode: "managed".into(),
                    kind: resource.kind.clone(),
                    provider: provider.clone(),
                    schema_version: instance.schema_version,
                    attributes,
                    sensitive_attributes: instance.sensitive_attributes.iter().filter_map(sensitive_path).collect(),
                    dependencies: instance.dependencies.clone(),
                    create_before_destroy: instance.create_before_destroy,
                    private: instance.private.clone(),
                    // Terraform runs every provider as a plugin.
                    plugin: source_of(&resource.provider),
                },
            );
        }
    }
    if !unsupported.is_empty() {
        unsupported.sort();
        unsupported.dedup();
        return Err(format!(
            "`{file}` holds resource types infra does not have: {}; nothing was imported",
            unsupported.join(", ")
        ));
    }
    snapshot.outputs = state
        .outputs
        .into_iter()
        .map(|(name, output)| {
            (name, OutputState { value: output.value, sensitive: output.sensitive, value_type: output.value_type })
        })
        .collect();
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_keep_modules_and_keys() {
        let resource = TfResource {
            module: Some("module.net[0]".into()),
            mode: "managed".into(),
            kind: "aws_subnet".into(),
            name: "a".into(),
            provider: "provider[\"registry.terraform.io/hashicorp/aws\"].west".into(),
            instances: Vec::new(),
        };
        assert_eq!(address(&resource, Some(&serde_json::json!("eu"))), "module.net[0].aws_subnet.a[\"eu\"]");
        assert_eq!(address(&resource, Some(&serde_json::json!(2))), "module.net[0].aws_subnet.a[2]");
        assert_eq!(alias(&resource.provider), Some("west"));
        assert_eq!(alias("provider[\"registry.terraform.io/hashicorp/aws\"]"), None);
    }

    #[test]
    fn unknown_types_and_old_versions_are_refused() {
        let registry = Registry::with_builtins();
        let state = br#"{"version":4,"serial":1,"lineage":"x","resources":[
            {"mode":"managed","type":"google_compute_instance","name":"a","provider":"provider[\"registry.terraform.io/hashicorp/google\"]","instances":[]}]}"#;
        let error = convert(state, "t.tfstate", &registry).expect_err("unknown type");
        assert!(error.contains("google_compute_instance"), "{error}");
        let error = convert(br#"{"version":3}"#, "t.tfstate", &registry).expect_err("v3");
        assert!(error.contains("version 3"), "{error}");
        let error = convert(b"{", "t.tfstate", &registry).expect_err("not json");
        assert!(error.contains("t.tfstate"), "{error}");
    }

    #[test]
    fn sensitive_paths_are_converted() {
        let path = serde_json::json!([{"type":"get_attr","value":"tags"},{"type":"index","value":{"value":"x","type":"string"}}]);
        assert_eq!(sensitive_path(&path), Some(vec!["tags".to_string(), "x".to_string()]));
        let path = serde_json::json!([{"type":"get_attr","value":"password"}]);
        assert_eq!(sensitive_path(&path), Some(vec!["password".to_string()]));
    }
}
