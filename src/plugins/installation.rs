//! Where `infra init` gets provider packages, as Terraform's CLI configuration says
//! (`TF_CLI_CONFIG_FILE`, else `~/.terraformrc`):
//!
//! - `provider_installation { filesystem_mirror {…} network_mirror {…} direct {…} }`, each
//!   with `include` / `exclude` patterns (`registry.terraform.io/hashicorp/*`), tried in order;
//! - without that block, Terraform's implicit local mirrors, then `direct` for the providers
//!   they do not hold — except those infra serves natively (the zero-download default stays
//!   native; an explicit `direct {}` asks for their plugins);
//! - `plugin_cache_dir` (or `TF_PLUGIN_CACHE_DIR`): packages unpacked once, linked from there;
//! - `credentials "HOST" { token = … }` and `TF_TOKEN_<host>` for registries and mirrors.
//!
//! A filesystem mirror holds packages unpacked (`HOST/NS/TYPE/VERSION/OS_ARCH/`) or packed
//! (`HOST/NS/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip`); a network mirror answers
//! `HOST/NS/TYPE/index.json` and `VERSION.json`; `direct` speaks the provider registry protocol
//! (service discovery, `versions`, `download`). A download is checked against the checksum its
//! source gives before anything is unpacked, and at most [`MAX_PACKAGE`] bytes are read.

use super::{Source, Version, platform};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest package infra downloads or unpacks (the AWS provider is ~700 MB unpacked).
pub const MAX_PACKAGE: u64 = 2 << 30;

/// Local names infra serves natively: without an explicit `direct {}`, their plugins are not
/// downloaded.
pub const NATIVE: &[&str] = &[
    "terraform",
    "random",
    "local",
    "time",
    "null",
    "archive",
    "cloudinit",
    "http",
    "external",
    "tls",
    "aws",
    "kubernetes",
    "postgresql",
    "rabbitmq",
    "jetstream",
];

/// One installation method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A directory in Terraform's mirror layout.
    Filesystem(PathBuf),
    /// A network mirror's base URL (ending in `/`).
    Network(String),
    /// The provider's own registry.
    Direct,
}

/// A method with the providers it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// How.
    pub kind: Kind,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Method {
    fn new(kind: Kind) -> Method {
        Method { kind, include: Vec::new(), exclude: Vec::new() }
    }

    /// Whether the method applies to `source`.
    pub fn applies_to(&self, source: &Source) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| pattern_matches(p, source)))
            && !self.exclude.iter().any(|p| pattern_matches(p, source))
    }
}

/// `[HOST/]NAMESPACE/TYPE` with `*` for any part.
fn pattern_matches(pattern: &str, source: &Source) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    let (host, namespace, kind) = match parts.as_slice() {
        [namespace, kind] => ("registry.terraform.io", *namespace, *kind),
        [host, namespace, kind] => (*host, *namespace, *kind),
        _ => return false,
    };
    let part = |p: &str, v: &str| p == "*" || p.eq_ignore_ascii_case(v);
    part(host, &source.host) && part(namespace, &source.namespace) && part(kind, &source.kind)
}

/// The CLI configuration's part about providers.
#[derive(Clone, Debug, Default)]
pub struct CliConfig {
    /// The methods, in order.
    pub methods: Vec<Method>,
    /// Whether a `provider_installation` block said so (else the implicit methods).
    pub explicit: bool,
    /// Where unpacked packages are kept between configurations.
    pub cache_dir: Option<PathBuf>,
    /// API tokens by host.
    tokens: BTreeMap<String, String>,
}

/// The CLI configuration file: `TF_CLI_CONFIG_FILE`, else `~/.terraformrc`.
fn cli_config_file() -> Option<PathBuf> {
    std::env::var_os("TF_CLI_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".terraformrc")))
}

fn strings(body: &hcl::Body, name: &str) -> Vec<String> {
    body.attributes()
        .find(|a| a.key() == name)
        .map(|a| match a.expr() {
            hcl::Expression::Array(items) => items
                .iter()
                .filter_map(|item| match item {
                    hcl::Expression::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default()
}

fn string(body: &hcl::Body, name: &str) -> Option<String> {
    body.attributes().find(|a| a.key() == name).and_then(|a| match a.expr() {
        hcl::Expression::String(s) => Some(s.clone()),
        _ => None,
    })
}

/// Reads the CLI configuration (a missing file is an empty one).
///
/// # Errors
///
/// A file that does not parse.
pub fn cli_config(config_dir: &Path) -> Result<CliConfig, String> {
    let file = cli_config_file();
    let text = file.as_ref().and_then(|path| std::fs::read_to_string(path).ok()).unwrap_or_default();
    let body = hcl::parse(&text).map_err(|e| {
        format!("the CLI configuration {} does not parse: {e}", file.as_deref().unwrap_or(Path::new("")).display())
    })?;
    let mut config = CliConfig {
        cache_dir: std::env::var_os("TF_PLUGIN_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| string(&body, "plugin_cache_dir").map(PathBuf::from))
            .filter(|p| !p.as_os_str().is_empty()),
        ..CliConfig::default()
    };
    for block in body.blocks().filter(|b| b.identifier() == "credentials") {
        if let (Some(host), Some(token)) = (block.labels().first(), string(block.body(), "token")) {
            config.tokens.insert(host.as_str().to_lowercase(), token);
        }
    }
    if let Some(installation) = body.blocks().find(|b| b.identifier() == "provider_installation") {
        config.explicit = true;
        for block in installation.body().blocks() {
            let kind = match block.identifier() {
                "filesystem_mirror" => match string(block.body(), "path") {
                    Some(path) => Kind::Filesystem(PathBuf::from(path)),
                    None => return Err("a `filesystem_mirror` block needs `path`".into()),
                },
                "network_mirror" => match string(block.body(), "url") {
                    Some(url) if url.starts_with("https://") => {
                        Kind::Network(if url.ends_with('/') { url } else { format!("{url}/") })
                    }
                    _ => return Err("a `network_mirror` block needs an `https://` `url`".into()),
                },
                "direct" => Kind::Direct,
                other => return Err(format!("`{other}` is not a provider installation method")),
            };
            config.methods.push(Method {
                kind,
                include: strings(block.body(), "include"),
                exclude: strings(block.body(), "exclude"),
            });
        }
        return Ok(config);
    }
    let mut implicit = vec![config_dir.join("terraform.d").join("plugins")];
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        implicit.push(home.join(".terraform.d").join("plugins"));
        implicit.push(home.join(".local").join("share").join("terraform").join("plugins"));
    }
    implicit.push(PathBuf::from("/usr/local/share/terraform/plugins"));
    implicit.push(PathBuf::from("/usr/share/terraform/plugins"));
    config.methods = implicit.into_iter().filter(|p| p.is_dir()).map(|p| Method::new(Kind::Filesystem(p))).collect();
    config.methods.push(Method::new(Kind::Direct));
    Ok(config)
}

impl CliConfig {
    /// The methods that may install `source`, whose local name is `name`. Without an explicit
    /// configuration, `direct` neither serves what an implicit mirror holds (Terraform's rule)
    /// nor what infra serves natively.
    pub fn methods_for(&self, source: &Source, name: &str) -> Vec<&Method> {
        let mirrored =
            || self.methods.iter().any(|m| matches!(&m.kind, Kind::Filesystem(dir) if dir.join(source.dir()).is_dir()));
        self.methods
            .iter()
            .filter(|m| m.applies_to(source))
            .filter(|m| self.explicit || m.kind != Kind::Direct || !(NATIVE.contains(&name) || mirrored()))
            .collect()
    }

    /// The API token for `host` (`TF_TOKEN_…`, else a `credentials` block).
    pub(crate) fn token(&self, host: &str) -> Option<String> {
        let variable = format!("TF_TOKEN_{}", host.replace('.', "_").replace('-', "__"));
        std::env::var(variable).ok().or_else(|| self.tokens.get(&host.to_lowercase()).cloned())
    }
}

/// Where a version's package comes from.
#[derive(Clone, Debug)]
pub enum Package {
    /// An unpacked package directory in a filesystem mirror.
    Unpacked(PathBuf),
    /// A zip file in a filesystem mirror.
    ZipFile(PathBuf),
    /// A zip to download.
    Download {
        /// Where.
        url: String,
        /// What it must hash to (hex SHA-256), when the source says (a registry).
        sha256: Option<String>,
        /// The hashes a network mirror lists for it (`h1:`, `zh:`).
        hashes: Vec<String>,
        /// Every platform's `zh:` hash, from a registry's SHA256SUMS.
        zh: Vec<String>,
    },
}

/// What one method offers of `source` for this platform: versions, newest first.
///
/// # Errors
///
/// A mirror or registry that cannot be reached or answers nonsense.
pub fn versions(config: &CliConfig, method: &Method, source: &Source) -> Result<Vec<Version>, String> {
    let mut versions: Vec<Version> = match &method.kind {
        Kind::Filesystem(base) => {
            let dir = base.join(source.dir());
            let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(Vec::new()) };
            let packed = format!("terraform-provider-{}_", source.kind);
            let suffix = format!("_{}.zip", platform());
            entries
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if let Some(rest) = name.strip_prefix(&packed).and_then(|r| r.strip_suffix(&suffix)) {
                        return Version::parse(rest);
                    }
                    Version::parse(&name).filter(|_| entry.path().join(platform()).is_dir())
                })
                .collect()
        }
        Kind::Network(base) => {
            let url = format!("{base}{}/{}/{}/index.json", source.host, source.namespace, source.kind);
            let index = get_json(config, &url)?;
            index["versions"]
                .as_object()
                .ok_or_else(|| format!("{url}: no `versions`"))?
                .keys()
                .filter_map(|v| Version::parse(v))
                .collect()
        }
        Kind::Direct => {
            let url = format!("{}{}/{}/versions", registry_base(config, source)?, source.namespace, source.kind);
            let answer = get_json(config, &url)?;
            let (os, arch) = platform_parts();
            answer["versions"]
                .as_array()
                .ok_or_else(|| format!("{url}: no `versions`"))?
                .iter()
                .filter(|v| {
                    v["platforms"].as_array().is_some_and(|ps| ps.iter().any(|p| p["os"] == os && p["arch"] == arch))
                })
                .filter(|v| {
                    let protocols = v["protocols"].as_array();
                    protocols.is_none_or(|ps| ps.iter().any(|p| p.as_str().is_some_and(|p| p.starts_with(['5', '6']))))
                })
                .filter_map(|v| Version::parse(v["version"].as_str()?))
                .collect()
        }
    };
    versions.sort();
    versions.reverse();
    Ok(versions)
}

/// Where the package of `version` is, from `method`.
///
/// # Errors
///
/// As for [`versions`].
pub fn package(config: &CliConfig, method: &Method, source: &Source, version: &Version) -> Result<Package, String> {
    match &method.kind {
        Kind::Filesystem(base) => {
            let dir = base.join(source.dir());
            let unpacked = dir.join(version.to_string()).join(platform());
            if unpacked.is_dir() {
                return Ok(Package::Unpacked(unpacked));
            }
            Ok(Package::ZipFile(dir.join(format!("terraform-provider-{}_{version}_{}.zip", source.kind, platform()))))
        }
        Kind::Network(base) => {
            let url = format!("{base}{}/{}/{}/{version}.json", source.host, source.namespace, source.kind);
            let answer = get_json(config, &url)?;
            let archive = &answer["archives"][platform()];
            let relative = archive["url"].as_str().ok_or_else(|| format!("{url}: no archive for {}", platform()))?;
            let hashes = archive["hashes"]
                .as_array()
                .map(|h| h.iter().filter_map(|h| h.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            Ok(Package::Download { url: join(&url, relative)?, sha256: None, hashes, zh: Vec::new() })
        }
        Kind::Direct => {
            let (os, arch) = platform_parts();
            let url = format!(
                "{}{}/{}/{version}/download/{os}/{arch}",
                registry_base(config, source)?,
                source.namespace,
                source.kind
            );
            let answer = get_json(config, &url)?;
            let download = answer["download_url"].as_str().ok_or_else(|| format!("{url}: no `download_url`"))?;
            let sha256 = answer["shasum"].as_str().map(str::to_lowercase);
            let zh = match answer["shasums_url"].as_str() {
                Some(sums) => parse_sums(&get_text(config, &join(&url, sums)?)?),
                None => Vec::new(),
            };
            Ok(Package::Download { url: join(&url, download)?, sha256, hashes: Vec::new(), zh })
        }
    }
}

/// `zh:` hashes of the zips a SHA256SUMS document lists.
fn parse_sums(text: &str) -> Vec<String> {
    let mut hashes: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let (hash, file) = line.split_once(char::is_whitespace)?;
            (file.trim().ends_with(".zip") && hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| format!("zh:{}", hash.to_lowercase()))
        })
        .collect();
    hashes.sort();
    hashes.dedup();
    hashes
}

fn platform_parts() -> (String, String) {
    let platform = platform();
    let (os, arch) = platform.split_once('_').unwrap_or((platform.as_str(), ""));
    (os.to_string(), arch.to_string())
}

fn join(base: &str, relative: &str) -> Result<String, String> {
    reqwest::Url::parse(base).and_then(|b| b.join(relative)).map(String::from).map_err(|e| format!("{relative}: {e}"))
}

/// The registry's providers API (`https://HOST/v1/providers/`), by service discovery.
fn registry_base(config: &CliConfig, source: &Source) -> Result<String, String> {
    let discovery = format!("https://{}/.well-known/terraform.json", source.host);
    let services = get_json(config, &discovery)?;
    let providers = services["providers.v1"]
        .as_str()
        .ok_or_else(|| format!("{} is not a provider registry (no `providers.v1` service)", source.host))?;
    let base = join(&discovery, providers)?;
    Ok(if base.ends_with('/') { base } else { format!("{base}/") })
}

/// The HTTP client of installation (its user agent and time limits).
pub(crate) fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!("infra/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30))
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .map_err(|e| e.to_string())
}

/// GETs `url` (with the host's token, if any), at most `limit` bytes.
fn get(config: &CliConfig, url: &str, limit: u64) -> Result<Vec<u8>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let host = match parsed.port() {
        Some(port) => format!("{}:{port}", parsed.host_str().unwrap_or_default()),
        None => parsed.host_str().unwrap_or_default().to_string(),
    };
    let token = config.token(&host);
    let shown = format!("{}{}", parsed.origin().ascii_serialization(), parsed.path());
    crate::runtime::block_on(async {
        let mut request = client()?.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut response =
            request.send().await.map_err(|e| format!("{shown}: {}", infra_plugin::client::error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(format!("{shown}: {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| format!("{shown}: {}", infra_plugin::client::error_chain(&e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > limit {
                return Err(format!("{shown}: larger than {limit} bytes"));
            }
        }
        Ok(body)
    })
}

fn get_json(config: &CliConfig, url: &str) -> Result<serde_json::Value, String> {
    let body = get(config, url, 16 << 20)?;
    serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON ({e})"))
}

fn get_text(config: &CliConfig, url: &str) -> Result<String, String> {
    String::from_utf8(get(config, url, 16 << 20)?).map_err(|_| format!("{url}: not text"))
}

/// A zip package, read and checked: its bytes and their `zh:` hash.
///
/// # Errors
///
/// The zip cannot be read or fetched, or does not hash to what its source says.
pub fn zip_bytes(config: &CliConfig, package: &Package) -> Result<(Vec<u8>, String), String> {
    let (bytes, expected) = match package {
        Package::ZipFile(path) => {
            let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut bytes = Vec::new();
            file.take(MAX_PACKAGE + 1).read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            if bytes.len() as u64 > MAX_PACKAGE {
                return Err(format!("{}: larger than {MAX_PACKAGE} bytes", path.display()));
            }
            (bytes, None)
        }
        Package::Download { url, sha256, .. } => (get(config, url, MAX_PACKAGE)?, sha256.clone()),
        Package::Unpacked(dir) => return Err(format!("{} is not a zip", dir.display())),
    };
    let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    if let Some(expected) = expected
        && expected != digest
    {
        return Err(format!(
            "the downloaded package does not match the checksum its registry gave ({expected}, got {digest})"
        ));
    }
    Ok((bytes, format!("zh:{digest}")))
}

/// Unpacks a zip into `dir` (made fresh): regular files only, no path outside it, executables
/// kept executable, at most [`MAX_PACKAGE`] bytes in all.
///
/// # Errors
///
/// A zip that does not read, or an entry that would land outside `dir`.
pub fn unpack(bytes: &[u8], dir: &Path) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a zip: {e}"))?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| format!("zip entry {index}: {e}"))?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(format!("the zip entry `{}` would land outside the package", entry.name()));
        };
        let path = dir.join(&relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            continue;
        }
        if entry.is_symlink() {
            return Err(format!("the zip entry `{}` is a symbolic link", entry.name()));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let mut out = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let copied = std::io::copy(&mut (&mut entry).take(MAX_PACKAGE - total + 1), &mut out)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        total += copied;
        if total > MAX_PACKAGE {
            return Err(format!("the package unpacks to more than {MAX_PACKAGE} bytes"));
        }
        let mode = entry.unix_mode().unwrap_or(0o644) & 0o755;
        let mode = if mode & 0o111 != 0 || relative.to_string_lossy().contains("terraform-provider-") {
            0o755
        } else {
            mode | 0o644
        };
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_terraforms_include_and_exclude() {
        let aws = Source::parse("hashicorp/aws").unwrap();
        let own = Source::parse("example.com:8443/infra/thing").unwrap();
        assert!(pattern_matches("hashicorp/*", &aws));
        assert!(pattern_matches("registry.terraform.io/*/*", &aws));
        assert!(!pattern_matches("example.com/*/*", &aws));
        assert!(pattern_matches("example.com:8443/*/*", &own));
        assert!(!pattern_matches("*/*", &own), "a pattern without a host means the public registry");
        assert!(pattern_matches("*/*/*", &own));
        let method =
            Method { kind: Kind::Direct, include: vec!["hashicorp/*".into()], exclude: vec!["hashicorp/aws".into()] };
        assert!(!method.applies_to(&aws));
        assert!(method.applies_to(&Source::parse("hashicorp/random").unwrap()));
    }

    #[test]
    fn registry_checksum_lists_give_zh_hashes() {
        let sums = format!(
            "{a}  terraform-provider-x_1.0.0_linux_amd64.zip\n{b}  terraform-provider-x_1.0.0_darwin_arm64.zip\n{a}  terraform-provider-x_1.0.0_manifest.json\n",
            a = "A".repeat(64),
            b = "b".repeat(64)
        );
        assert_eq!(parse_sums(&sums), vec![format!("zh:{}", "a".repeat(64)), format!("zh:{}", "b".repeat(64))]);
    }

    #[test]
    fn a_zip_cannot_write_outside_its_package() {
        let mut bytes = Vec::new();
        {
            let mut writer = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
            writer.start_file("../escape", zip::write::SimpleFileOptions::default()).unwrap();
            std::io::Write::write_all(&mut writer, b"x").unwrap();
            writer.finish().unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let error = unpack(&bytes, &dir.path().join("pkg")).unwrap_err();
        assert!(error.contains("outside the package"), "{error}");
        assert!(!dir.path().join("escape").exists());
    }
}
