//! The controller's configuration file (`infra controller --config controller.hcl`): where it
//! listens, where it keeps its data, and the stacks it reconciles.
//!
//! ```hcl
//! controller {
//!   listen         = "127.0.0.1:9100"
//!   data_dir       = ".infra-controller"
//!   webhook_secret = "…"                # or webhook_secret_file, or INFRA_WEBHOOK_SECRET
//!   api_token      = "…"                # or api_token_file, or INFRA_API_TOKEN: the bearer
//!                                       # token of /stacks, saved plans and reconcile requests
//!   metrics_require_token = false       # true: /metrics needs the token too
//! }
//! stack "prod" {
//!   source {
//!     url    = "git://127.0.0.1:9418/platform.git"
//!     branch = "main"                   # or tag, or commit
//!     path   = "envs/prod"
//!   }
//!   interval       = "30s"              # how often Git is polled
//!   drift_interval = "5m"               # how often an unchanged stack is checked for drift
//!   auto_apply     = true               # false: plan only
//!   prune          = true               # destroy what left the configuration
//!   drift          = { default = "correct", "aws_instance.bastion" = "warn" }
//!   variables      = { environment = "prod" }
//! }
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to do with an object changed outside infra while its configuration did not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftPolicy {
    /// Put it back as configured.
    Correct,
    /// Report it (`/stacks`, metrics, logs) and leave it.
    Warn,
    /// Leave it, say nothing.
    Ignore,
}

/// Where a stack's configuration comes from (also a `Stack` object's `spec.source`, whose
/// camelCase names are accepted).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// `file://`, `git://`, `https://` (and `ssh://` where built with SSH).
    pub url: String,
    /// A branch to follow (default `main` unless `tag` or `commit` is set).
    #[serde(default)]
    pub branch: Option<String>,
    /// A tag to pin.
    #[serde(default)]
    pub tag: Option<String>,
    /// A commit to pin.
    #[serde(default)]
    pub commit: Option<String>,
    /// The directory inside the repository.
    #[serde(default)]
    pub path: String,
    /// The environment variable holding an HTTPS token.
    #[serde(default, alias = "tokenEnv")]
    pub token_env: Option<String>,
    /// A private key file for SSH.
    #[serde(default, alias = "sshKey")]
    pub ssh_key: Option<PathBuf>,
    /// A file holding an HTTPS token (instead of credentials in the URL, which are redacted
    /// everywhere but never needed).
    #[serde(default, alias = "tokenFile")]
    pub token_file: Option<PathBuf>,
}

impl SourceSpec {
    /// The URL as it may be shown: any `user:password@` replaced by `***@`.
    pub fn display_url(&self) -> String {
        redact_userinfo(&self.url)
    }
}

/// `scheme://user:token@host/path` → `scheme://***@host/path`; other text unchanged.
pub fn redact_userinfo(url: &str) -> String {
    replace_userinfo(url, "***@")
}

/// `scheme://user:token@host/path` → `scheme://{with}host/path`; other text unchanged.
pub fn replace_userinfo(url: &str, with: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{with}{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// The user and password in a URL's userinfo, percent-decoded, when there are any.
pub fn userinfo(url: &str) -> Option<(String, String)> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let (info, _) = authority.rsplit_once('@')?;
    let (user, password) = info.split_once(':').unwrap_or((info, ""));
    let decode = |text: &str| percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
    Some((decode(user), decode(password)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StackBlock {
    source: SourceSpec,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default, alias = "driftInterval")]
    drift_interval: Option<String>,
    #[serde(default, alias = "autoApply")]
    auto_apply: Option<bool>,
    #[serde(default)]
    prune: Option<bool>,
    #[serde(default)]
    drift: BTreeMap<String, DriftPolicy>,
    #[serde(default)]
    variables: BTreeMap<String, serde_json::Value>,
    #[serde(default, alias = "pullRequests")]
    pull_requests: Option<PullRequestPolicy>,
}

/// Which pull requests a stack plans (`pull_requests { from_forks = false, authors = [...] }`).
/// A pull request's head is written by its author: by default only requests from branches of
/// the repository itself, by authors with write access, are planned.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PullRequestPolicy {
    /// Plan requests whose head is in a fork.
    #[serde(default, alias = "fromForks")]
    pub from_forks: bool,
    /// The author associations planned (GitHub's `author_association`: `OWNER`, `MEMBER`,
    /// `COLLABORATOR`, `CONTRIBUTOR`, `FIRST_TIME_CONTRIBUTOR`, `NONE`…), or `"*"` for anyone.
    #[serde(default = "write_access")]
    pub authors: Vec<String>,
}

fn write_access() -> Vec<String> {
    ["OWNER", "MEMBER", "COLLABORATOR"].map(String::from).to_vec()
}

impl Default for PullRequestPolicy {
    fn default() -> Self {
        PullRequestPolicy { from_forks: false, authors: write_access() }
    }
}

impl PullRequestPolicy {
    /// Why a request is not planned, or `None` when it is.
    pub fn refuses(&self, from_fork: bool, association: Option<&str>) -> Option<String> {
        if from_fork && !self.from_forks {
            return Some("its head is in a fork (`pull_requests { from_forks = true }` allows it)".into());
        }
        // Without an association (GitLab sends none), a request from the repository itself was
        // pushed by someone with write access.
        let association = association?;
        let allowed = self.authors.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(association));
        (!allowed).then(|| {
            format!(
                "its author's association is `{association}`, not one of {} (`pull_requests {{ authors = [...] }}`)",
                self.authors.join(", ")
            )
        })
    }
}

impl StackBlock {
    /// Drops settings that name files on the controller's disk (for specs from the cluster).
    pub(crate) fn strip_local_paths(&mut self) {
        self.source.ssh_key = None;
        self.source.token_file = None;
    }

    /// The stack this block (of the file, or a `Stack` object's spec) declares.
    ///
    /// # Errors
    ///
    /// A source that pins more than one revision or leaves the repository, or a bad duration.
    pub(crate) fn into_spec(self, name: String, local_state: bool) -> Result<StackSpec, String> {
        let source = &self.source;
        if [&source.branch, &source.tag, &source.commit].iter().filter(|p| p.is_some()).count() > 1 {
            return Err("set one of `branch`, `tag` and `commit`".into());
        }
        if source.path.split('/').any(|part| part == "..") {
            return Err("`path` must stay inside the repository".into());
        }
        let interval = duration(self.interval.as_deref(), Duration::from_secs(60), "interval")?;
        let drift_interval = duration(self.drift_interval.as_deref(), Duration::from_secs(300), "drift_interval")?;
        Ok(StackSpec {
            name,
            source: self.source,
            interval: interval.max(Duration::from_millis(100)),
            drift_interval,
            auto_apply: self.auto_apply.unwrap_or(true),
            prune: self.prune.unwrap_or(false),
            drift: self.drift,
            variables: self.variables,
            pull_requests: self.pull_requests.unwrap_or_default(),
            local_state,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ControllerBlock {
    #[serde(default)]
    listen: Option<String>,
    #[serde(default)]
    data_dir: Option<PathBuf>,
    #[serde(default)]
    webhook_secret: Option<String>,
    #[serde(default)]
    webhook_secret_file: Option<PathBuf>,
    #[serde(default)]
    api_token: Option<String>,
    #[serde(default)]
    api_token_file: Option<PathBuf>,
    #[serde(default)]
    metrics_require_token: bool,
    #[serde(default)]
    parallelism: Option<usize>,
    #[serde(default)]
    kubernetes: Option<KubernetesBlock>,
    #[serde(default)]
    public_url: Option<String>,
    #[serde(default)]
    github: Option<ForgeBlock>,
    #[serde(default)]
    gitlab: Option<ForgeBlock>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct ForgeBlock {
    #[serde(default)]
    api_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KubernetesBlock {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    stack_namespace: Option<String>,
    #[serde(default)]
    lease_duration: Option<String>,
    #[serde(default)]
    sync_interval: Option<String>,
    #[serde(default)]
    shared_data_dir: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    controller: Option<ControllerBlock>,
    #[serde(default)]
    stack: BTreeMap<String, StackBlock>,
}

/// One stack.
#[derive(Clone, Debug)]
pub struct StackSpec {
    /// Its name (`prod`).
    pub name: String,
    /// Its Git source.
    pub source: SourceSpec,
    /// Git polling interval.
    pub interval: Duration,
    /// Drift check interval for an unchanged stack.
    pub drift_interval: Duration,
    /// Apply (true) or only plan.
    pub auto_apply: bool,
    /// Destroy objects whose blocks were removed.
    pub prune: bool,
    /// Drift policies: `default`, resource types (`aws_instance`) and addresses.
    pub drift: BTreeMap<String, DriftPolicy>,
    /// Input variables, as `-var` would give them.
    pub variables: BTreeMap<String, serde_json::Value>,
    /// Which pull requests are planned.
    pub pull_requests: PullRequestPolicy,
    /// Whether a configuration without a backend block may keep its state under the data
    /// directory (false for cluster stacks unless the data directory is shared by replicas).
    pub local_state: bool,
}

impl StackSpec {
    /// The drift policy of an instance address: by address, by resource (without index), by
    /// type, else `default` (else `correct`).
    pub fn drift_policy(&self, address: &str) -> DriftPolicy {
        let resource = address.split('[').next().unwrap_or(address);
        let kind = resource.rsplit('.').nth(1).unwrap_or("");
        [address, resource, kind, "default"]
            .iter()
            .find_map(|key| self.drift.get(*key).copied())
            .unwrap_or(DriftPolicy::Correct)
    }
}

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// `host:port` of the HTTP server.
    pub listen: String,
    /// Git caches, checkouts and local states.
    pub data_dir: PathBuf,
    /// The secret webhooks are signed with; `None` refuses every webhook.
    pub webhook_secret: Option<String>,
    /// The bearer token of the API (`/stacks`, saved plans, `POST …/reconcile`); `None` closes
    /// it.
    pub api_token: Option<String>,
    /// Whether `/metrics` needs the token too.
    pub metrics_require_token: bool,
    /// Resource operations at once per apply.
    pub parallelism: usize,
    /// The stacks of the file, by name.
    pub stacks: Vec<StackSpec>,
    /// Stacks from `Stack` objects too, with Lease leader election (`kubernetes { … }`).
    pub kubernetes: Option<ClusterOptions>,
    /// The URL people reach the controller at (for links to full plans in PR comments).
    pub public_url: Option<String>,
    /// GitHub's API URL (`github { api_url }`, else `GITHUB_API_URL`, else api.github.com).
    pub github_api: Option<String>,
    /// GitLab's API URL (`gitlab { api_url }`, else `CI_API_V4_URL`, else gitlab.com).
    pub gitlab_api: Option<String>,
}

fn duration(text: Option<&str>, default: Duration, what: &str) -> Result<Duration, String> {
    match text {
        None => Ok(default),
        Some(text) => infra_provider::duration::parse(text).map_err(|e| format!("{what}: {e}")),
    }
}

/// A secret given as a value, a file (relative to the configuration file; its content trimmed)
/// or an environment variable, in that order; `None` when none is set or it is empty.
fn secret(
    value: Option<String>,
    file: Option<&Path>,
    variable: &str,
    base: &Path,
    what: &str,
) -> Result<Option<String>, String> {
    let text = match (value, file) {
        (Some(value), _) => Some(value),
        (None, Some(file)) => {
            let path = base.join(file);
            Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("{what}: cannot read `{}`: {e}", path.display()))?
                    .trim()
                    .to_string(),
            )
        }
        (None, None) => std::env::var(variable).ok(),
    };
    Ok(text.filter(|text| !text.is_empty()))
}

/// Whether a stack name can name directories and metric labels.
fn valid_stack_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with(['-', '.'])
        && !name.contains("..")
}

/// Parses a configuration file's text; `file` is its path (relative `data_dir`s are taken from
/// its directory).
///
/// # Errors
///
/// A message with the file and, where known, the line and column.
pub fn parse(text: &str, file: &Path) -> Result<ControllerConfig, String> {
    let parsed: File = hcl::from_str(text).map_err(|e| format!("{}: {e}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let controller = parsed.controller.unwrap_or_default();
    let data_dir = controller.data_dir.unwrap_or_else(|| PathBuf::from(".infra-controller"));
    let data_dir = if data_dir.is_absolute() { data_dir } else { base.join(data_dir) };
    let mut stacks = Vec::new();
    for (name, block) in parsed.stack {
        let at = |reason: String| format!("{}: stack \"{name}\": {reason}", file.display());
        if !valid_stack_name(&name) {
            return Err(at("a stack name is letters, digits, `-` and `_` (at most 63)".into()));
        }
        stacks.push(block.into_spec(name.clone(), true).map_err(at)?);
    }
    let kubernetes = match controller.kubernetes {
        None => None,
        Some(block) => {
            let at = |reason: String| format!("{}: controller.kubernetes: {reason}", file.display());
            let lease =
                duration(block.lease_duration.as_deref(), Duration::from_secs(15), "lease_duration").map_err(at)?;
            let sync = duration(block.sync_interval.as_deref(), Duration::from_secs(5), "sync_interval").map_err(at)?;
            let namespace = block
                .namespace
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .unwrap_or_else(|| "infra-system".into());
            let mut options = ClusterOptions::from_env(namespace, block.stack_namespace, lease, sync);
            options.shared_data_dir = block.shared_data_dir;
            Some(options)
        }
    };
    if stacks.is_empty() && kubernetes.is_none() {
        return Err(format!("{}: no `stack` block: nothing to reconcile", file.display()));
    }
    Ok(ControllerConfig {
        listen: controller.listen.unwrap_or_else(|| "127.0.0.1:9100".into()),
        data_dir,
        webhook_secret: secret(
            controller.webhook_secret,
            controller.webhook_secret_file.as_deref(),
            "INFRA_WEBHOOK_SECRET",
            base,
            "webhook_secret_file",
        )?,
        api_token: secret(
            controller.api_token,
            controller.api_token_file.as_deref(),
            "INFRA_API_TOKEN",
            base,
            "api_token_file",
        )?,
        metrics_require_token: controller.metrics_require_token,
        parallelism: controller.parallelism.unwrap_or(10).max(1),
        stacks,
        kubernetes,
        public_url: controller.public_url.map(|u| u.trim_end_matches('/').to_string()),
        github_api: controller.github.and_then(|g| g.api_url),
        gitlab_api: controller.gitlab.and_then(|g| g.api_url),
    })
}

/// The `controller { kubernetes { … } }` settings.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Where the Leases live (the controller's namespace).
    pub namespace: String,
    /// Where `Stack` objects are watched (`None`: every namespace).
    pub stack_namespace: Option<String>,
    /// How long a Lease lasts without renewal.
    pub lease_duration: Duration,
    /// How often `Stack` objects are listed.
    pub sync_interval: Duration,
    /// This replica's identity (`POD_NAME`).
    pub identity: String,
    /// How many replicas share the stacks.
    pub replicas: u64,
    /// This replica's ordinal (from `INFRA_REPLICA_ORDINAL`, or a StatefulSet pod name `…-N`).
    pub ordinal: u64,
    /// Whether every replica sees the same data directory (a ReadWriteMany volume): only then
    /// may a stack without a backend block keep local state there.
    pub shared_data_dir: bool,
}

impl ClusterOptions {
    /// Identity, replicas and ordinal from the environment a Deployment or StatefulSet sets.
    pub fn from_env(
        namespace: String,
        stack_namespace: Option<String>,
        lease: Duration,
        sync: Duration,
    ) -> ClusterOptions {
        let identity = ["INFRA_CONTROLLER_IDENTITY", "POD_NAME", "HOSTNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| format!("infra-controller-{}", std::process::id()));
        let replicas = std::env::var("INFRA_REPLICAS").ok().and_then(|v| v.parse().ok()).unwrap_or(1u64).max(1);
        let ordinal = std::env::var("INFRA_REPLICA_ORDINAL")
            .ok()
            .and_then(|v| v.parse().ok())
            .or_else(|| identity.rsplit('-').next().and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        ClusterOptions {
            namespace,
            stack_namespace,
            lease_duration: lease,
            sync_interval: sync,
            identity,
            replicas,
            ordinal: ordinal % replicas,
            shared_data_dir: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
controller {
  listen   = "127.0.0.1:9100"
  data_dir = "/var/lib/infra"
}
stack "prod" {
  source {
    url    = "git://127.0.0.1:9418/platform.git"
    branch = "main"
    path   = "envs/prod"
  }
  interval   = "30s"
  auto_apply = true
  prune      = true
  drift      = { default = "correct", "aws_instance.bastion" = "warn", "local_file" = "ignore" }
}
"#;

    #[test]
    fn the_documented_example_parses() {
        let config = parse(EXAMPLE, Path::new("controller.hcl")).expect("parses");
        let stack = &config.stacks[0];
        assert_eq!((stack.name.as_str(), stack.interval), ("prod", Duration::from_secs(30)));
        assert!(stack.prune && stack.auto_apply);
        assert_eq!(stack.drift_policy("aws_instance.bastion"), DriftPolicy::Warn);
        assert_eq!(stack.drift_policy("local_file.x[\"a\"]"), DriftPolicy::Ignore);
        assert_eq!(stack.drift_policy("aws_vpc.main"), DriftPolicy::Correct);
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/infra"));
    }

    #[test]
    fn the_gitops_example_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gitops/controller.hcl");
        let text = std::fs::read_to_string(&path).expect("the example");
        let config = parse(&text, &path).expect("parses");
        assert_eq!(config.stacks.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["prod", "staging"]);
        assert_eq!(config.stacks[0].drift_policy("local_file.inventory"), DriftPolicy::Warn);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        for (text, expected) in [
            ("stack \"a b\" {\n  source {\n    url = \"x\"\n  }\n}\n", "stack name"),
            ("stack \"a\" {\n  source {\n    url = \"x\"\n    path = \"../etc\"\n  }\n}\n", "inside the repository"),
            ("stack \"a\" {\n  source {\n    url = \"x\"\n    branch = \"m\"\n    tag = \"t\"\n  }\n}\n", "one of"),
            ("stack \"a\" {\n  source {\n    url = \"x\"\n  }\n  interval = \"soon\"\n}\n", "interval"),
            ("stack \"a\" {\n  source {\n    url = \"x\"\n  }\n  drift = { default = \"fix\" }\n}\n", "controller.hcl"),
            ("controller {}", "no `stack` block"),
            ("stack \"a\" {", "controller.hcl"),
        ] {
            let error = parse(text, Path::new("controller.hcl")).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
