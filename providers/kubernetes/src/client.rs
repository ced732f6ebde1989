//! The `provider "kubernetes"` block and the client made from it, with discovery cached per
//! run (and refreshed when a kind is not found: a CRD of the same plan may have defined it).

use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostic, Value};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use tokio::sync::RwLock;

/// The provider block's schema.
pub fn schema() -> BlockSchema {
    let string = || Attribute::optional(AttrType::String);
    BlockSchema::new()
        .attribute("config_path", string().describe("A kubeconfig file; else KUBECONFIG, ~/.kube/config, in-cluster."))
        .attribute("config_context", string())
        .attribute("host", string())
        .attribute("token", string().sensitive())
        .attribute("cluster_ca_certificate", string())
        .attribute("insecure", Attribute::optional(AttrType::Bool))
}

fn text<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config.as_map().and_then(|m| m.get(name)).map(Value::bare).and_then(Value::as_str)
}

fn failed(message: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error("Kubernetes configuration", message.to_string())
        .with_hint("set `config_path` / `config_context`, or `host` and `token`, in the `provider \"kubernetes\"` block, or KUBECONFIG")
}

/// Builds the client configuration.
///
/// # Errors
///
/// A diagnostic naming what could not be read.
pub async fn config(config: &Value) -> Result<kube::Config, Diagnostic> {
    let options =
        KubeConfigOptions { context: text(config, "config_context").map(str::to_string), ..Default::default() };
    let mut result = if let Some(host) = text(config, "host") {
        let url = host.parse().map_err(|e| failed(format!("`host` is not a URL: {e}")))?;
        let mut kube_config = kube::Config::new(url);
        if let Some(token) = text(config, "token") {
            kube_config.auth_info.token = Some(token.to_string().into());
        }
        if let Some(pem) = text(config, "cluster_ca_certificate") {
            let certs: Vec<Vec<u8>> = pem
                .split("-----END CERTIFICATE-----")
                .filter_map(|block| block.split("-----BEGIN CERTIFICATE-----").nth(1))
                .filter_map(|body| base64_decode(&body.split_whitespace().collect::<String>()))
                .collect();
            kube_config.root_cert = Some(certs);
        }
        kube_config
    } else if let Some(path) = text(config, "config_path") {
        let file =
            Kubeconfig::read_from(path).map_err(|e| failed(format!("cannot read the kubeconfig `{path}`: {e}")))?;
        kube::Config::from_custom_kubeconfig(file, &options)
            .await
            .map_err(|e| failed(format!("kubeconfig `{path}`: {e}")))?
    } else if options.context.is_some() {
        kube::Config::from_kubeconfig(&options).await.map_err(failed)?
    } else {
        kube::Config::infer().await.map_err(|e| failed(format!("no cluster configured: {e}")))?
    };
    if config.as_map().and_then(|m| m.get("insecure")).and_then(|v| v.bare().as_bool()) == Some(true) {
        result.accept_invalid_certs = true;
    }
    Ok(result)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// Discovery, run once per provider instance and again when a kind is missing.
#[derive(Default)]
pub struct Kinds {
    discovery: RwLock<Option<Discovery>>,
}

impl Kinds {
    /// Resolves `apiVersion` + `kind` to its resource and scope.
    ///
    /// # Errors
    ///
    /// [`Unresolved::Missing`] when the cluster does not serve the kind, [`Unresolved::Failed`]
    /// when discovery itself failed (after retries).
    pub async fn resolve(
        &self,
        client: &kube::Client,
        api_version: &str,
        kind: &str,
    ) -> Result<(ApiResource, bool), Unresolved> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        for refresh in [false, true] {
            if refresh || self.discovery.read().await.is_none() {
                let discovery = crate::retrying(|| Discovery::new(client.clone()).run())
                    .await
                    .map_err(|error| Unresolved::Failed(format!("discovery failed: {error}")))?;
                *self.discovery.write().await = Some(discovery);
            }
            if let Some((resource, capabilities)) =
                self.discovery.read().await.as_ref().and_then(|d| d.resolve_gvk(&gvk))
            {
                return Ok((resource, namespaced(&capabilities)));
            }
        }
        Err(Unresolved::Missing(format!("the cluster has no kind `{kind}` in `{api_version}`")))
    }
}

/// Why a kind could not be resolved.
#[derive(Clone, Debug)]
pub enum Unresolved {
    /// The cluster does not serve it.
    Missing(String),
    /// Discovery failed.
    Failed(String),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Missing(message) | Unresolved::Failed(message) => f.write_str(message),
        }
    }
}

fn namespaced(capabilities: &ApiCapabilities) -> bool {
    matches!(capabilities.scope, Scope::Namespaced)
}
