//! Provider plugins a configuration requires, where they are installed, and how `infra init`
//! installs them — Terraform's layout, so a directory Terraform initialised works unchanged:
//!
//! - `required_providers { aws = { source = "hashicorp/aws", version = "~> 5.0" } }` names a
//!   provider by source address (`registry.terraform.io/hashicorp/aws` when the host is left out,
//!   `hashicorp/NAME` when the source is);
//! - installed plugins live in `.terraform/providers/HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/`;
//! - `infra init` gets them as the CLI configuration says ([`installation`]: filesystem and
//!   network mirrors, the registry, the plugin cache) and records them in the lock file
//!   ([`lock`]).
//!
//! A provider with an installed plugin is served by it for all of its types; the others by
//! infra's native providers.

pub mod installation;
pub mod lock;

use crate::config::LoadedConfig;
use infra_provider::{Diagnostic, Diagnostics, Value};
use std::path::{Path, PathBuf};

/// The platform directory name of this machine (`linux_amd64`).
pub fn platform() -> String {
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}_{arch}")
}

/// A provider's source address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    /// `registry.terraform.io`
    pub host: String,
    /// `hashicorp`
    pub namespace: String,
    /// `aws`
    pub kind: String,
}

impl Source {
    /// Parses `[HOST/]NAMESPACE/TYPE`.
    ///
    /// # Errors
    ///
    /// Another shape, or a part that is not a plain name.
    pub fn parse(text: &str) -> Result<Source, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let (host, namespace, kind) = match parts.as_slice() {
            [namespace, kind] => ("registry.terraform.io", *namespace, *kind),
            [host, namespace, kind] => (*host, *namespace, *kind),
            _ => {
                return Err(format!(
                    "`{text}` is not a provider source address (NAMESPACE/TYPE or HOST/NAMESPACE/TYPE)"
                ));
            }
        };
        let plain = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        // A host may carry a port (`example.com:8443`).
        let host_ok = match host.split_once(':') {
            Some((name, port)) => plain(name) && !port.is_empty() && port.parse::<u16>().is_ok(),
            None => plain(host),
        };
        if !host_ok || ![namespace, kind].iter().all(|part| plain(part)) {
            return Err(format!("`{text}` is not a provider source address"));
        }
        Ok(Source { host: host.to_lowercase(), namespace: namespace.to_lowercase(), kind: kind.to_lowercase() })
    }

    /// The path below a provider directory.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(&self.host).join(&self.namespace).join(&self.kind)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.host, self.namespace, self.kind)
    }
}

/// One entry of `required_providers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The local name (`aws`): the prefix of its types and the label of its `provider` blocks.
    pub name: String,
    /// Where it comes from.
    pub source: Source,
    /// Version constraints, as written (`~> 5.0`).
    pub version: Option<String>,
}

/// The `required_providers` of the configuration: the root module's, then those of its
/// modules (a platform block's included) that the root does not name — a module that needs
/// `hashicorp/aws` makes `infra init` install it, as in Terraform.
///
/// # Errors
///
/// Entries that are not constant objects or strings with a valid source.
pub fn requirements(config: &LoadedConfig) -> Result<Vec<Requirement>, Diagnostics> {
    let mut out: Vec<Requirement> = Vec::new();
    let mut diagnostics = Diagnostics::new();
    let mut modules = vec![&config.root];
    let mut entries = Vec::new();
    while let Some(module) = modules.pop() {
        entries.extend(module.settings.required_providers.iter());
        modules.extend(module.children.values().rev());
    }
    let mut seen = std::collections::BTreeSet::new();
    for (name, expr) in entries.into_iter().filter(|(name, _)| seen.insert(name.as_str())) {
        let value = match crate::eval::constant(&expr.ast, expr.file) {
            Ok(value) => value,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        let (source, version) = match value.bare() {
            // The pre-0.13 shorthand: a version constraint string.
            Value::String(version) => (None, Some(version.clone())),
            Value::Map(fields) => (
                fields.get("source").and_then(|v| v.bare().as_str()).map(str::to_string),
                fields.get("version").and_then(|v| v.bare().as_str()).map(str::to_string),
            ),
            _ => (None, None),
        };
        let source = source.unwrap_or_else(|| format!("hashicorp/{name}"));
        match Source::parse(&source) {
            Ok(source) => out.push(Requirement { name: name.clone(), source, version }),
            Err(error) => diagnostics.push(Diagnostic::error("Invalid provider source", error).at(expr.span())),
        }
    }
    if diagnostics.has_errors() { Err(diagnostics) } else { Ok(out) }
}

/// A version as Terraform's providers number them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    parts: [u64; 3],
    pre: Option<String>,
}

impl Version {
    /// Parses `5.100.0` (or `5.1`, `v5.1.0`, `1.0.0-beta1`).
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v');
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre.to_string())),
            None => (text, None),
        };
        let mut parts = [0u64; 3];
        let numbers: Vec<&str> = core.split('.').collect();
        if numbers.is_empty() || numbers.len() > 3 {
            return None;
        }
        for (slot, number) in parts.iter_mut().zip(&numbers) {
            *slot = number.parse().ok()?;
        }
        Some(Version { parts, pre })
    }

    /// Whether it meets every constraint of a `version` argument (`>= 5.0, < 6.0`, `~> 5.1`).
    /// Pre-releases match only an exact constraint, as in Terraform.
    pub fn meets(&self, constraints: &str) -> bool {
        let mut exact = false;
        let all = constraints.split(',').map(str::trim).filter(|c| !c.is_empty()).all(|constraint| {
            let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
                .iter()
                .find_map(|op| constraint.strip_prefix(op).map(|rest| (*op, rest)))
                .unwrap_or(("=", constraint));
            let Some(wanted) = Version::parse(rest) else { return false };
            let written = rest.trim().trim_start_matches('v').split('-').next().unwrap_or("").split('.').count();
            exact |= op == "=";
            match op {
                "=" => self == &wanted,
                "!=" => self != &wanted,
                ">" => self > &wanted,
                ">=" => self >= &wanted,
                "<" => self < &wanted,
                "<=" => self <= &wanted,
                _ => {
                    // ~> 5.1 allows 5.x from 5.1; ~> 5.1.2 allows 5.1.x from 5.1.2.
                    let mut upper = wanted.parts;
                    let bump = written.saturating_sub(2).min(1);
                    if written == 1 {
                        upper = [upper[0] + 1, 0, 0];
                    } else {
                        upper[bump] += 1;
                        for part in upper.iter_mut().skip(bump + 1) {
                            *part = 0;
                        }
                    }
                    self >= &wanted && self.parts < upper
                }
            }
        });
        all && (self.pre.is_none() || exact)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.parts[0], self.parts[1], self.parts[2])?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

/// An installed (or installable) plugin package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Its source.
    pub source: Source,
    /// Its version.
    pub version: Version,
    /// The package directory (`…/VERSION/OS_ARCH`).
    pub dir: PathBuf,
    /// The executable in it.
    pub binary: PathBuf,
}

/// The newest version of `source` in a provider directory of Terraform's unpacked layout
/// (`.terraform/providers` or a filesystem mirror) that meets `constraints`.
pub fn find(base: &Path, source: &Source, constraints: Option<&str>) -> Option<Package> {
    let dir = base.join(source.dir());
    let mut versions: Vec<(Version, PathBuf)> = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .filter_map(|entry| Some((Version::parse(&entry.file_name().to_string_lossy())?, entry.path())))
        .filter(|(version, _)| constraints.is_none_or(|c| version.meets(c)))
        .collect();
    versions.sort();
    versions.into_iter().rev().find_map(|(version, path)| {
        let dir = path.join(platform());
        let binary = std::fs::read_dir(&dir).ok()?.flatten().map(|e| e.path()).find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("terraform-provider-{}", source.kind)))
        })?;
        Some(Package { source: source.clone(), version, dir, binary })
    })
}

/// Where `infra init` installs plugins in a configuration directory.
pub fn install_dir(config_dir: &Path) -> PathBuf {
    config_dir.join(".terraform").join("providers")
}

/// The plugins installed for a configuration: one per requirement that has one.
pub fn installed(config_dir: &Path, requirements: &[Requirement]) -> Vec<(Requirement, Package)> {
    let base = install_dir(config_dir);
    requirements.iter().filter_map(|r| Some((r.clone(), find(&base, &r.source, r.version.as_deref())?))).collect()
}

/// Whether `infra init` may change the lock file (`-lockfile=readonly`: it may not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// Record new selections.
    Update,
    /// Refuse anything the lock file does not already say.
    Readonly,
}

/// Installs each required provider into `.terraform/providers`, from the first method of the
/// CLI configuration ([`installation`]) that offers the version chosen — the one the lock file
/// selected while it meets the constraints, else the newest that does across all methods: an
/// unpacked mirror's directory is linked (as Terraform does); a zip (a packed mirror, a network
/// mirror, a registry) is checked against its source's checksum and unpacked (into the plugin
/// cache when there is one, linked from there). The package must match the lock file's hashes
/// (`h1:` of the unpacked directory or `zh:` of the zip); new selections are recorded with the
/// package's `h1:` and, from a registry, every platform's `zh:`. Returns what was installed;
/// requirements no method offers are left to the native providers.
///
/// # Errors
///
/// A source that cannot be reached (for a provider infra cannot serve natively), a package
/// whose checksum or hash does not match, a link or directory that cannot be made; with
/// `Readonly`, a selection the lock file does not hold.
pub fn install(config_dir: &Path, requirements: &[Requirement], mode: LockMode) -> Result<Vec<Package>, String> {
    let cli = installation::cli_config(config_dir)?;
    let mut lock = lock::LockFile::read(config_dir)?;
    let before = lock.clone();
    let mut out = Vec::new();
    for requirement in requirements {
        let source = &requirement.source;
        let constraints = requirement.version.as_deref();
        let locked = lock
            .get(source)
            .cloned()
            .filter(|l| Version::parse(&l.version).is_some_and(|v| constraints.is_none_or(|c| v.meets(c))));
        // Every method's offer; the version chosen across them; the first method offering it.
        let mut offers = Vec::new();
        let mut failures = Vec::new();
        for method in cli.methods_for(source, &requirement.name) {
            match installation::versions(&cli, method, source) {
                Ok(versions) => offers.push((method, versions)),
                Err(error) => failures.push(error),
            }
        }
        let acceptable = |v: &Version| match &locked {
            Some(locked) => v.to_string() == locked.version,
            None => constraints.is_none_or(|c| v.meets(c)),
        };
        let chosen = offers.iter().flat_map(|(_, versions)| versions.iter()).filter(|v| acceptable(v)).max().cloned();
        let Some(version) = chosen else {
            if let Some(locked) = &locked {
                return Err(format!(
                    "the lock file selects {source} v{}, which no installation method offers{}",
                    locked.version,
                    failures.iter().map(|f| format!("\n  {f}")).collect::<String>()
                ));
            }
            if !failures.is_empty() && !installation::NATIVE.contains(&requirement.name.as_str()) {
                return Err(format!("cannot install {source}:\n  {}", failures.join("\n  ")));
            }
            continue;
        };
        let Some((method, _)) = offers.iter().find(|(_, versions)| versions.contains(&version)) else { continue };
        let target = install_dir(config_dir).join(source.dir()).join(version.to_string()).join(platform());
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let package = installation::package(&cli, method, source, &version)?;
        let cached = cli.cache_dir.as_ref().map(|c| c.join(source.dir()).join(version.to_string()).join(platform()));
        let locked_hashes = locked.as_ref().map(|l| l.hashes.clone()).unwrap_or_default();
        let dir = match &package {
            installation::Package::Unpacked(dir) => std::fs::canonicalize(dir).unwrap_or(dir.clone()),
            // A cached package is used when the lock file accepts it (or selects nothing yet).
            _ if cached.as_ref().is_some_and(|c| {
                c.is_dir()
                    && lock::package_hash(c).is_ok_and(|h| {
                        locked_hashes.is_empty() || locked_hashes.iter().any(|l| l.starts_with("h1:") && *l == h)
                    })
            }) =>
            {
                cached.clone().unwrap_or_default()
            }
            _ => {
                let (bytes, zh) = installation::zip_bytes(&cli, &package)?;
                if !locked_hashes.is_empty()
                    && locked_hashes.iter().any(|h| h.starts_with("zh:"))
                    && !locked_hashes.iter().any(|h| h.starts_with("h1:"))
                    && !locked_hashes.contains(&zh)
                {
                    return Err(mismatch(source, &version, &zh));
                }
                let into = cached.clone().unwrap_or_else(|| target.clone());
                if into == target {
                    let _ = std::fs::remove_file(&target);
                }
                installation::unpack(&bytes, &into)?;
                into
            }
        };
        let hash = lock::package_hash(&dir)?;
        let mut hashes = vec![hash.clone()];
        if let installation::Package::Download { hashes: listed, zh, .. } = &package {
            hashes.extend(zh.iter().cloned());
            // A network mirror's own hashes must agree with what was unpacked.
            if listed.iter().any(|h| h.starts_with("h1:")) && !listed.contains(&hash) {
                return Err(format!("the package of {source} v{version} does not match the hashes its mirror lists"));
            }
        }
        // The zip's own `zh:` is not recorded (Terraform records only a registry's list).
        hashes.sort();
        hashes.dedup();
        match &locked {
            Some(locked)
                if !hashes.iter().any(|h| locked.hashes.contains(h))
                    && locked.hashes.iter().any(|h| h.starts_with("h1:")) =>
            {
                return Err(mismatch(source, &version, &hash));
            }
            Some(locked) if !locked.hashes.contains(&hash) => {
                let mut all = locked.hashes.clone();
                all.push(hash);
                all.sort();
                lock.providers.insert(source.to_string(), lock::Locked { hashes: all, ..locked.clone() });
            }
            Some(_) => {}
            None => {
                lock.providers.insert(
                    source.to_string(),
                    lock::Locked {
                        version: version.to_string(),
                        constraints: constraints.map(lock::normalize_constraints),
                        hashes,
                    },
                );
            }
        }
        if dir != target {
            let _ = std::fs::remove_file(&target);
            let _ = std::fs::remove_dir_all(&target);
            std::os::unix::fs::symlink(&dir, &target).map_err(|e| format!("{}: {e}", target.display()))?;
        }
        let Some(found) = find(&install_dir(config_dir), source, Some(&format!("= {version}"))) else {
            return Err(format!(
                "the package of {source} v{version} holds no `terraform-provider-{}` executable",
                source.kind
            ));
        };
        out.push(found);
    }
    if lock != before {
        if mode == LockMode::Readonly {
            return Err(format!("{} would change, but it is read-only here (-lockfile=readonly)", lock::FILE));
        }
        lock.write(config_dir)?;
    }
    Ok(out)
}

fn mismatch(source: &Source, version: &Version, hash: &str) -> String {
    format!(
        "the package of {source} v{version} does not match any of the checksums recorded in {} ({hash}); someone may have changed it",
        lock::FILE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_default_their_host_and_refuse_paths() {
        let aws = Source::parse("hashicorp/aws").unwrap();
        assert_eq!(aws.to_string(), "registry.terraform.io/hashicorp/aws");
        assert_eq!(Source::parse("example.com/Acme/Thing").unwrap().to_string(), "example.com/acme/thing");
        for bad in ["aws", "a/b/c/d", "../x/y", "hashicorp/a b"] {
            assert!(Source::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_constraints_read_as_terraform_reads_them() {
        let v = |t: &str| Version::parse(t).unwrap();
        assert!(v("5.100.0").meets("~> 5.0"));
        assert!(!v("6.0.0").meets("~> 5.0"));
        assert!(v("5.1.9").meets("~> 5.1.2"));
        assert!(!v("5.2.0").meets("~> 5.1.2"));
        assert!(v("5.100.0").meets(">= 4.0, < 6.0"));
        assert!(!v("5.100.0").meets("!= 5.100.0"));
        assert!(v("5.100.0").meets("5.100.0"));
        // `~> 5` is `>= 5, < 6`: checked against `terraform init` (`~> 4` refuses 5.100.0).
        assert!(v("5.9.0").meets("~> 5"));
        assert!(!v("6.0.0").meets("~> 5"));
        assert!(!v("6.0.0-beta1").meets(">= 5.0"));
        assert!(v("6.0.0-beta1").meets("= 6.0.0-beta1"));
        assert!(v("1.10.0") > v("1.9.0"));
    }
}
