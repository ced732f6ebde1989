//! Installing remote modules (`infra init`): every module call whose source is a registry
//! address, a git repository or an HTTP archive is fetched into `.terraform/modules/KEY` and
//! recorded in the manifest (`crate::config::sources::Manifest`), recursively through the
//! fetched modules' own calls. A call whose manifest entry still matches (same source, version
//! allowed by the constraint, directory present) is reused without the network unless
//! `-upgrade` is given, so a configuration plans offline after one `init`.
//!
//! git is the `git` program (as Terraform uses it: the user's credential helpers and ssh
//! configuration apply), never prompting (`GIT_TERMINAL_PROMPT=0`), with the `ext` transport
//! off. Registry calls follow Terraform's module registry protocol (service discovery,
//! `versions`, `download` answering with `X-Terraform-Get`) with the CLI configuration's tokens.
//! Archives are bounded ([`MAX_ARCHIVE`]), and entries outside the package or links are refused.

use crate::config::sources::{self, Archive, Manifest, ManifestEntry, ModuleSource};
use crate::plugins::Version;
use crate::plugins::installation::{self, CliConfig};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The largest module archive fetched: 512 MiB.
pub const MAX_ARCHIVE: u64 = 512 << 20;

/// Module calls installed at most (a module that calls itself).
const MAX_CALLS: usize = 1000;

/// What one `init` did for one module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    /// The module key.
    pub key: String,
    /// Its source.
    pub source: String,
    /// The registry version chosen.
    pub version: Option<String>,
    /// Fetched now (false: the installed copy was kept).
    pub fetched: bool,
}

struct Installer<'a> {
    root: &'a Path,
    previous: Manifest,
    manifest: Manifest,
    cli: Option<CliConfig>,
    upgrade: bool,
    /// Refuse sources on this machine (untrusted configurations).
    network_only: bool,
    report: Vec<Installed>,
    calls: usize,
}

/// Installs the remote modules of the configuration rooted at `root` and writes the manifest.
///
/// # Errors
///
/// The first module that cannot be fetched, named with its key and source.
pub fn install(root: &Path, upgrade: bool) -> Result<Vec<Installed>, String> {
    install_with(root, upgrade, false).map_err(|e| sources::redact(&e))
}

/// [`install`] for a configuration someone else wrote (a controller's checkout): only network
/// sources (registries, `https`/`ssh`/`git` repositories, HTTPS archives), never a path on this
/// machine (`git::file://…`).
///
/// # Errors
///
/// As for [`install`], and a source that names a local repository.
pub fn install_untrusted(root: &Path) -> Result<Vec<Installed>, String> {
    install_with(root, false, true).map_err(|e| sources::redact(&e))
}

fn install_with(root: &Path, upgrade: bool, network_only: bool) -> Result<Vec<Installed>, String> {
    let previous = Manifest::read(root).unwrap_or_default();
    let mut installer = Installer {
        root,
        previous,
        manifest: Manifest {
            modules: vec![ManifestEntry { key: String::new(), source: String::new(), version: None, dir: ".".into() }],
        },
        cli: None,
        upgrade,
        network_only,
        report: Vec::new(),
        calls: 0,
    };
    installer.walk(root, "", 0)?;
    let remote = installer.report.iter().any(|i| !i.source.is_empty());
    if remote || Manifest::path(root).exists() {
        installer.manifest.write(root)?;
    }
    Ok(installer.report)
}

impl Installer<'_> {
    fn cli(&mut self) -> Result<&CliConfig, String> {
        if self.cli.is_none() {
            self.cli = Some(installation::cli_config(self.root)?);
        }
        Ok(self.cli.as_ref().expect("just set"))
    }

    /// Installs the calls of the module in `dir` (key `key`) and, recursively, theirs.
    fn walk(&mut self, dir: &Path, key: &str, depth: usize) -> Result<(), String> {
        if depth > 32 {
            return Err(format!("modules are nested more than 32 levels deep at `{key}`"));
        }
        let mut scratch_sources = crate::source::SourceMap::new();
        let mut scratch = infra_provider::Diagnostics::new();
        let module = crate::config::load_module(dir, &mut scratch_sources, &mut scratch);
        for call in module.module_calls.values() {
            self.calls += 1;
            if self.calls > MAX_CALLS {
                return Err(format!("the configuration has more than {MAX_CALLS} module calls"));
            }
            if call.source.starts_with(crate::platform::SOURCE_PREFIX) {
                continue;
            }
            let child_key = sources::child_key(key, &call.name);
            let source = sources::parse(&call.source).map_err(|e| format!("module `{child_key}`: {e}"))?;
            let child_dir = match &source {
                ModuleSource::Local(path) => {
                    let child = dir.join(path);
                    if !child.is_dir() {
                        continue; // reported when the configuration is loaded
                    }
                    // Recorded as Terraform records local modules (a remote package's own ones).
                    let shown =
                        crate::fsutil::clean(&child.strip_prefix(self.root).unwrap_or(&child).to_string_lossy());
                    self.manifest.modules.push(ManifestEntry {
                        key: child_key.clone(),
                        source: call.source.clone(),
                        version: None,
                        dir: shown,
                    });
                    child
                }
                remote => {
                    let constraint = call
                        .version
                        .as_ref()
                        .map(|expr| crate::eval::constant(&expr.ast, expr.file))
                        .transpose()
                        .map_err(|d| format!("module `{child_key}`: `version`: {}", d.detail))?
                        .and_then(|v| v.bare().as_str().map(str::to_string));
                    self.remote(&child_key, &call.source, remote, constraint.as_deref())?
                }
            };
            self.walk(&child_dir, &child_key, depth + 1)?;
        }
        Ok(())
    }

    /// Installs one remote module (or keeps its installed copy); its directory.
    fn remote(
        &mut self,
        key: &str,
        written: &str,
        source: &ModuleSource,
        constraint: Option<&str>,
    ) -> Result<PathBuf, String> {
        let package = sources::modules_dir(self.root).join(key);
        let kept = self.previous.get(key).filter(|entry| {
            entry.source == written
                && self.root.join(&entry.dir).is_dir()
                && match (constraint, &entry.version) {
                    (Some(c), Some(v)) => Version::parse(v).is_some_and(|v| v.meets(c)),
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        });
        if let Some(entry) = kept.cloned()
            && !self.upgrade
        {
            self.report.push(Installed {
                key: key.into(),
                source: written.into(),
                version: entry.version.clone(),
                fetched: false,
            });
            let dir = self.root.join(&entry.dir);
            self.manifest.modules.push(entry);
            return Ok(dir);
        }
        if self.network_only
            && let ModuleSource::Git { url, .. } = source
            && !["https://", "ssh://", "git://", "git@"].iter().any(|scheme| url.starts_with(scheme))
        {
            return Err(format!(
                "module `{key}` (`{written}`): only network repositories are fetched for this configuration"
            ));
        }
        let _ = std::fs::remove_dir_all(&package);
        let version =
            self.fetch(source, constraint, &package).map_err(|e| format!("module `{key}` (`{written}`): {e}"))?;
        let mut dir = package.clone();
        if let Some(subdir) = source.subdir() {
            dir = dir.join(subdir);
        }
        if !dir.is_dir() {
            return Err(format!(
                "module `{key}` (`{written}`): the package has no directory `{}`",
                source.subdir().unwrap_or(".")
            ));
        }
        let relative = dir.strip_prefix(self.root).unwrap_or(&dir).to_string_lossy().into_owned();
        self.manifest.modules.push(ManifestEntry {
            key: key.into(),
            source: written.into(),
            version: version.clone(),
            dir: relative,
        });
        self.report.push(Installed { key: key.into(), source: written.into(), version, fetched: true });
        Ok(dir)
    }

    /// Fetches a package into `dest`; the registry version chosen.
    fn fetch(
        &mut self,
        source: &ModuleSource,
        constraint: Option<&str>,
        dest: &Path,
    ) -> Result<Option<String>, String> {
        match source {
            ModuleSource::Local(_) => Ok(None),
            ModuleSource::Git { url, reference, depth, .. } => {
                git_clone(url, reference.as_deref(), *depth, dest)?;
                Ok(None)
            }
            ModuleSource::Http { url, archive, .. } => {
                let bytes = self.download(url)?.0;
                unpack(&bytes, *archive, dest)?;
                Ok(None)
            }
            ModuleSource::Registry { host, namespace, name, system, .. } => {
                let base = self.registry_base(host)?;
                let listing = format!("{base}{namespace}/{name}/{system}/versions");
                let (body, _) = self.download(&listing)?;
                let answer: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| format!("{listing}: not JSON ({e})"))?;
                let mut versions: Vec<Version> = answer["modules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|m| m["versions"].as_array().into_iter().flatten())
                    .filter_map(|v| Version::parse(v["version"].as_str()?))
                    .filter(|v| constraint.is_none_or(|c| v.meets(c)))
                    .collect();
                versions.sort();
                let version = versions.pop().ok_or_else(|| {
                    format!(
                        "no version{} offered by {host}",
                        constraint.map(|c| format!(" matching `{c}`")).unwrap_or_default()
                    )
                })?;
                let download = format!("{base}{namespace}/{name}/{system}/{version}/download");
                let (body, location) = self.download(&download)?;
                let location = match location {
                    Some(location) => location,
                    None => serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["location"].as_str().map(str::to_string))
                        .ok_or_else(|| format!("{download}: no `X-Terraform-Get` location"))?,
                };
                // The location is itself a source: git, an archive, or a URL relative to the
                // download address.
                let location =
                    if location.contains("::") || location.starts_with("github.com/") || location.starts_with("git@") {
                        location
                    } else {
                        reqwest::Url::parse(&download)
                            .and_then(|b| b.join(&location))
                            .map(String::from)
                            .map_err(|e| format!("{location}: {e}"))?
                    };
                let package = sources::parse(&location).map_err(|e| format!("the registry's location: {e}"))?;
                if matches!(package, ModuleSource::Registry { .. } | ModuleSource::Local(_)) {
                    return Err(format!("the registry's location `{location}` is not a package"));
                }
                let fetched_into = dest.join(".package");
                self.fetch(&package, None, &fetched_into)?;
                let inner = match package.subdir() {
                    Some(subdir) => fetched_into.join(subdir),
                    None => fetched_into.clone(),
                };
                move_contents(&inner, dest)?;
                let _ = std::fs::remove_dir_all(&fetched_into);
                Ok(Some(version.to_string()))
            }
        }
    }

    /// A registry's modules API base (`https://HOST/v1/modules/`), by service discovery.
    fn registry_base(&mut self, host: &str) -> Result<String, String> {
        let discovery = format!("https://{host}/.well-known/terraform.json");
        let (body, _) = self.download(&discovery)?;
        let services: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("{discovery}: not JSON ({e})"))?;
        let modules = services["modules.v1"]
            .as_str()
            .ok_or_else(|| format!("{host} is not a module registry (no `modules.v1` service)"))?;
        let base = reqwest::Url::parse(&discovery)
            .and_then(|b| b.join(modules))
            .map(String::from)
            .map_err(|e| format!("{modules}: {e}"))?;
        Ok(if base.ends_with('/') { base } else { format!("{base}/") })
    }

    /// GETs `url` with the host's token: the body (bounded) and any `X-Terraform-Get`.
    fn download(&mut self, url: &str) -> Result<(Vec<u8>, Option<String>), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let host = match parsed.port() {
            Some(port) => format!("{}:{port}", parsed.host_str().unwrap_or_default()),
            None => parsed.host_str().unwrap_or_default().to_string(),
        };
        let token = self.cli()?.token(&host);
        let shown = format!("{}{}", parsed.origin().ascii_serialization(), parsed.path());
        crate::runtime::block_on(async {
            let mut request = installation::client()?.get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let mut response =
                request.send().await.map_err(|e| format!("{shown}: {}", infra_plugin::client::error_chain(&e)))?;
            if !response.status().is_success() {
                return Err(format!("{shown}: {}", response.status()));
            }
            let location = response.headers().get("X-Terraform-Get").and_then(|v| v.to_str().ok()).map(str::to_string);
            let mut body = Vec::new();
            while let Some(chunk) =
                response.chunk().await.map_err(|e| format!("{shown}: {}", infra_plugin::client::error_chain(&e)))?
            {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > MAX_ARCHIVE {
                    return Err(format!("{shown}: larger than {MAX_ARCHIVE} bytes"));
                }
            }
            Ok((body, location))
        })
    }
}

/// `git clone` (then `checkout REF`) into `dest`, never prompting.
fn git_clone(url: &str, reference: Option<&str>, depth: Option<u32>, dest: &Path) -> Result<(), String> {
    let git = |args: &[&str], dir: Option<&Path>| -> Result<(), String> {
        let mut command = Command::new("git");
        command
            .args(["-c", "protocol.ext.allow=never"])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .stdin(std::process::Stdio::null());
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let output = command.output().map_err(|e| format!("cannot run git: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("git failed").trim().to_string();
        Err(sources::redact(&reason))
    };
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let dest_text = dest.to_string_lossy().into_owned();
    let mut args: Vec<String> = vec!["clone".into(), "--quiet".into()];
    if let Some(depth) = depth {
        args.push(format!("--depth={depth}"));
        if let Some(reference) = reference {
            args.push(format!("--branch={reference}"));
        }
    }
    args.extend(["--".to_string(), url.to_string(), dest_text]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    git(&args, None).map_err(|e| format!("git clone {url}: {e}"))?;
    if let Some(reference) = reference
        && depth.is_none()
    {
        git(&["checkout", "--quiet", reference, "--"], Some(dest))
            .map_err(|e| format!("git checkout {reference}: {e}"))?;
    }
    Ok(())
}

/// Moves the entries of `from` into `to` (made if missing).
fn move_contents(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?.flatten() {
        let target = to.join(entry.file_name());
        if target == from || from.starts_with(&target) {
            continue;
        }
        std::fs::rename(entry.path(), &target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

/// Unpacks an archive into `dest` (made fresh).
///
/// # Errors
///
/// An archive that does not read, is too large, or has an entry outside `dest` or a link.
pub fn unpack(bytes: &[u8], archive: Archive, dest: &Path) -> Result<(), String> {
    match archive {
        Archive::Zip => installation::unpack(bytes, dest),
        Archive::TarGz => {
            use std::io::Read;
            let _ = std::fs::remove_dir_all(dest);
            std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
            let decoder = flate2::read::GzDecoder::new(bytes).take(MAX_ARCHIVE + 1);
            let mut tar = tar::Archive::new(decoder);
            let mut total = 0u64;
            for entry in tar.entries().map_err(|e| format!("not a tar.gz: {e}"))? {
                let mut entry = entry.map_err(|e| format!("not a tar.gz: {e}"))?;
                let path = entry.path().map_err(|e| format!("a tar entry: {e}"))?.into_owned();
                if path.is_absolute() || path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                    return Err(format!("the archive entry `{}` would land outside the package", path.display()));
                }
                let kind = entry.header().entry_type();
                let target = dest.join(&path);
                if kind.is_dir() {
                    std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
                } else if kind.is_file() {
                    total += entry.header().size().unwrap_or(0);
                    if total > MAX_ARCHIVE {
                        return Err(format!("the archive unpacks to more than {MAX_ARCHIVE} bytes"));
                    }
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
                    }
                    let mut file = std::fs::File::create(&target).map_err(|e| format!("{}: {e}", target.display()))?;
                    std::io::copy(&mut (&mut entry).take(MAX_ARCHIVE), &mut file)
                        .map_err(|e| format!("{}: {e}", target.display()))?;
                } else if kind.is_symlink() || kind.is_hard_link() {
                    return Err(format!("the archive entry `{}` is a link", path.display()));
                }
                // Other entries (pax headers, directories' metadata) carry no files.
            }
            Ok(())
        }
    }
}
