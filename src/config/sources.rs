//! Module source addresses, as Terraform reads them, and the manifest of installed modules.
//!
//! A `source` is a local path (`./network`), a module registry address
//! (`[HOST/]NAMESPACE/NAME/SYSTEM`, with a `version` constraint), or a remote package: git
//! (`git::URL`, the `github.com/ORG/REPO` and `git@HOST:PATH` shorthands) or an HTTP archive
//! (`.zip`, `.tar.gz`, `.tgz`, or `?archive=`). Any of them may name a subdirectory of the
//! package after `//`. `infra init` fetches remote packages into `.terraform/modules` and records
//! each module call's key (`vpc`, `vpc.subnets`), source, version and directory in
//! `.terraform/modules/modules.json` (Terraform's manifest); loading reads only the manifest, so
//! plans work offline.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The public module registry's host.
pub const DEFAULT_REGISTRY: &str = "registry.terraform.io";

/// A parsed module source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleSource {
    /// `./x` or `../x`, relative to the calling module.
    Local(String),
    /// A module registry address.
    Registry {
        /// The registry's host (`registry.terraform.io` when not written).
        host: String,
        /// Namespace.
        namespace: String,
        /// Module name.
        name: String,
        /// Target system (`aws`).
        system: String,
        /// A subdirectory of the package.
        subdir: Option<String>,
    },
    /// A git repository.
    Git {
        /// What `git clone` is given.
        url: String,
        /// `?ref=`: a branch, tag or commit.
        reference: Option<String>,
        /// `?depth=`: a shallow clone.
        depth: Option<u32>,
        /// A subdirectory of the repository.
        subdir: Option<String>,
    },
    /// An archive over HTTP(S).
    Http {
        /// Where (without the `archive` query argument).
        url: String,
        /// `zip` or `tar.gz`.
        archive: Archive,
        /// A subdirectory of the archive.
        subdir: Option<String>,
    },
}

/// An archive format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archive {
    /// `.zip`
    Zip,
    /// `.tar.gz` / `.tgz`
    TarGz,
}

impl ModuleSource {
    /// Whether `infra init` must fetch it.
    pub fn is_remote(&self) -> bool {
        !matches!(self, ModuleSource::Local(_))
    }

    /// The subdirectory of the package the module is in.
    pub fn subdir(&self) -> Option<&str> {
        match self {
            ModuleSource::Local(_) => None,
            ModuleSource::Registry { subdir, .. }
            | ModuleSource::Git { subdir, .. }
            | ModuleSource::Http { subdir, .. } => subdir.as_deref(),
        }
    }
}

fn is_registry_part(part: &str, max: usize) -> bool {
    !part.is_empty()
        && part.len() <= max
        && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && part.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && part.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Splits `//subdir` off a remote address: the first `//` after the scheme's `://`.
fn split_subdir(address: &str) -> (String, Option<String>) {
    let (head, query) = match address.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (address, None),
    };
    let skip = head.find("://").map_or(0, |at| at + 3);
    let (base, subdir) = match head[skip..].find("//") {
        Some(at) => (&head[..skip + at], Some(head[skip + at + 2..].trim_matches('/').to_string())),
        None => (head, None),
    };
    let base = match query {
        Some(query) => format!("{base}?{query}"),
        None => base.to_string(),
    };
    (base, subdir.filter(|s| !s.is_empty()))
}

/// Checks a subdirectory: relative, no `..`.
fn check_subdir(subdir: &Option<String>) -> Result<(), String> {
    match subdir {
        Some(dir) if dir.split('/').any(|part| part == "..") || dir.starts_with('/') => {
            Err(format!("the subdirectory `{dir}` must stay inside the package"))
        }
        _ => Ok(()),
    }
}

/// Parses a module `source`.
///
/// # Errors
///
/// Addresses infra cannot fetch (Mercurial, S3, GCS...), and malformed ones.
pub fn parse(source: &str) -> Result<ModuleSource, String> {
    if source.starts_with("./") || source.starts_with("../") || source == "." || source == ".." {
        return Ok(ModuleSource::Local(source.to_string()));
    }
    if source.is_empty() {
        return Err("the module source is empty".into());
    }
    if source.starts_with('/') {
        return Err(format!(
            "`{source}` is an absolute path; a local module source starts with `./` or `../` (or use `git::file://` for another repository)"
        ));
    }
    if source.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("`{}` contains spaces or control characters", source.escape_debug()));
    }
    if let Some((forced, rest)) = source.split_once("::") {
        let (base, subdir) = split_subdir(rest);
        check_subdir(&subdir)?;
        return match forced {
            "git" => git(&base, subdir),
            "http" | "https" => {
                let url = if rest.starts_with("http") { base } else { format!("{forced}://{base}") };
                http(&url, subdir, true)
            }
            other => Err(format!(
                "`{other}::` sources are not supported; infra fetches modules from registries, git and HTTP archives"
            )),
        };
    }
    let (base, subdir) = split_subdir(source);
    check_subdir(&subdir)?;
    // Registry: [HOST/]NAMESPACE/NAME/SYSTEM.
    let path = base.split('?').next().unwrap_or(&base);
    let parts: Vec<&str> = path.split('/').collect();
    let registry = match parts.as_slice() {
        [namespace, name, system] if !base.contains('?') => {
            Some((DEFAULT_REGISTRY.to_string(), *namespace, *name, *system))
        }
        [host, namespace, name, system] if !base.contains('?') && !matches!(*host, "github.com" | "bitbucket.org") => {
            Some((host.to_lowercase(), *namespace, *name, *system))
        }
        _ => None,
    };
    if let Some((host, namespace, name, system)) = registry
        && is_registry_part(namespace, 64)
        && is_registry_part(name, 64)
        && system.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && !system.is_empty()
        && (host == DEFAULT_REGISTRY || host.contains('.') || host.contains(':') || host == "localhost")
    {
        return Ok(ModuleSource::Registry {
            host,
            namespace: namespace.to_string(),
            name: name.to_string(),
            system: system.to_string(),
            subdir,
        });
    }
    if let Some(rest) = base.strip_prefix("github.com/") {
        let (repo, query) = rest.split_once('?').map_or((rest, None), |(r, q)| (r, Some(q)));
        let repo = repo.trim_end_matches(".git");
        let url = format!("https://github.com/{repo}.git{}", query.map(|q| format!("?{q}")).unwrap_or_default());
        return git(&url, subdir);
    }
    if let Some(rest) = base.strip_prefix("bitbucket.org/") {
        return git(&format!("https://bitbucket.org/{rest}"), subdir);
    }
    if base.starts_with("git@") {
        return git(&base, subdir);
    }
    if base.starts_with("https://") || base.starts_with("http://") {
        return http(&base, subdir, false);
    }
    Err(format!(
        "`{source}` is neither a local path (`./x`), a registry address (`NAMESPACE/NAME/SYSTEM`), a git source (`git::https://…`) nor an HTTP archive"
    ))
}

fn git(address: &str, subdir: Option<String>) -> Result<ModuleSource, String> {
    let (url, query) = match address.split_once('?') {
        Some((url, query)) => (url, query),
        None => (address, ""),
    };
    let (mut reference, mut depth) = (None, None);
    for (key, value) in query.split('&').filter(|p| !p.is_empty()).filter_map(|p| p.split_once('=')) {
        match key {
            "ref" => reference = Some(value.to_string()),
            "depth" => depth = Some(value.parse::<u32>().map_err(|_| format!("`depth={value}` is not a number"))?),
            "sshkey" => return Err("`sshkey=` is not supported; configure the key for ssh instead".into()),
            other => return Err(format!("the git source argument `{other}` is not supported (`ref`, `depth`)")),
        }
    }
    if reference.as_deref().is_some_and(|r| r.is_empty() || r.starts_with('-')) {
        return Err("`ref=` must name a branch, tag or commit".into());
    }
    if url.starts_with('-') || url.is_empty() {
        return Err(format!("`{url}` is not a git URL"));
    }
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("https" | "http" | "ssh" | "git" | "file") | None => {}
        Some(other) => return Err(format!("the git transport `{other}` is not supported")),
    }
    Ok(ModuleSource::Git { url: url.to_string(), reference, depth, subdir })
}

fn http(address: &str, subdir: Option<String>, forced: bool) -> Result<ModuleSource, String> {
    let (url, query) = match address.split_once('?') {
        Some((url, query)) => (url.to_string(), query.to_string()),
        None => (address.to_string(), String::new()),
    };
    let mut archive = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("archive", "zip")) => archive = Some(Archive::Zip),
            Some(("archive", "tar.gz" | "tgz")) => archive = Some(Archive::TarGz),
            Some(("archive", other)) => {
                return Err(format!("the archive format `{other}` is not supported (zip, tar.gz)"));
            }
            _ => kept.push(pair),
        }
    }
    let path = url.to_lowercase();
    let archive = archive.or(if path.ends_with(".zip") {
        Some(Archive::Zip)
    } else if path.ends_with(".tar.gz") || path.ends_with(".tgz") {
        Some(Archive::TarGz)
    } else {
        None
    });
    let Some(archive) = archive else {
        return Err(format!(
            "`{address}` is not an archive infra can fetch{}: name a `.zip` or `.tar.gz`, or add `?archive=zip`",
            if forced { "" } else { " (or is a git repository: write `git::` before it)" }
        ));
    };
    let url = if kept.is_empty() { url } else { format!("{url}?{}", kept.join("&")) };
    Ok(ModuleSource::Http { url, archive, subdir })
}

/// `text` with the credentials of any URL in it hidden (`https://user:token@host` →
/// `https://***@host`): sources like `git::https://oauth2:TOKEN@gitlab.com/…` are common, and
/// they are shown in messages.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '`' || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(userinfo) => {
                out.push_str("***");
                out.push_str(&tail[userinfo..end]);
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// One module in the manifest (Terraform's field names).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The module's key: call names from the root joined by `.` (the root is `""`).
    #[serde(rename = "Key")]
    pub key: String,
    /// The `source` as written.
    #[serde(rename = "Source")]
    pub source: String,
    /// The version chosen (registry modules).
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its directory, relative to the root module.
    #[serde(rename = "Dir")]
    pub dir: String,
}

/// `.terraform/modules/modules.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Every installed module.
    #[serde(rename = "Modules", default)]
    pub modules: Vec<ManifestEntry>,
}

impl Manifest {
    /// Where the manifest of the configuration rooted at `root` is.
    pub fn path(root: &Path) -> PathBuf {
        modules_dir(root).join("modules.json")
    }

    /// Reads it (empty when there is none; an unreadable one is an error).
    ///
    /// # Errors
    ///
    /// A manifest that is not JSON of the expected shape.
    pub fn read(root: &Path) -> Result<Manifest, String> {
        let path = Manifest::path(root);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is damaged ({e}); run `infra init` again", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes it.
    ///
    /// # Errors
    ///
    /// The filesystem's.
    pub fn write(&self, root: &Path) -> Result<(), String> {
        let path = Manifest::path(root);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The entry of a module key.
    pub fn get(&self, key: &str) -> Option<&ManifestEntry> {
        self.modules.iter().find(|entry| entry.key == key)
    }
}

/// Where `infra init` puts module packages.
pub fn modules_dir(root: &Path) -> PathBuf {
    root.join(".terraform").join("modules")
}

/// A module key: the parent's and the call's name.
pub fn child_key(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_string() } else { format!("{parent}.{name}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_terraform_reads_them() {
        assert_eq!(parse("./network"), Ok(ModuleSource::Local("./network".into())));
        assert_eq!(
            parse("terraform-aws-modules/vpc/aws"),
            Ok(ModuleSource::Registry {
                host: DEFAULT_REGISTRY.into(),
                namespace: "terraform-aws-modules".into(),
                name: "vpc".into(),
                system: "aws".into(),
                subdir: None
            })
        );
        assert_eq!(
            parse("app.terraform.io/acme/vpc/aws//modules/endpoints"),
            Ok(ModuleSource::Registry {
                host: "app.terraform.io".into(),
                namespace: "acme".into(),
                name: "vpc".into(),
                system: "aws".into(),
                subdir: Some("modules/endpoints".into())
            })
        );
        assert_eq!(
            parse("git::https://example.com/net.git//modules/vpc?ref=v1.2.0"),
            Ok(ModuleSource::Git {
                url: "https://example.com/net.git".into(),
                reference: Some("v1.2.0".into()),
                depth: None,
                subdir: Some("modules/vpc".into())
            })
        );
        assert_eq!(
            parse("github.com/hashicorp/example//sub?ref=main"),
            Ok(ModuleSource::Git {
                url: "https://github.com/hashicorp/example.git".into(),
                reference: Some("main".into()),
                depth: None,
                subdir: Some("sub".into())
            })
        );
        assert!(matches!(parse("git@github.com:org/repo.git?ref=v1"), Ok(ModuleSource::Git { .. })));
        assert!(matches!(
            parse("https://example.com/vpc-module.tar.gz//vpc"),
            Ok(ModuleSource::Http { archive: Archive::TarGz, .. })
        ));
        assert!(matches!(
            parse("https://example.com/get?archive=zip"),
            Ok(ModuleSource::Http { archive: Archive::Zip, .. })
        ));
        assert_eq!(
            redact("git clone git::https://oauth2:s3cr3t@gitlab.com/x.git//m?ref=v1: failed"),
            "git clone git::https://***@gitlab.com/x.git//m?ref=v1: failed"
        );
        assert_eq!(redact("ssh://git@host/x and https://plain/y"), "ssh://***@host/x and https://plain/y");
        for bad in [
            "",
            "/abs/path",
            "hg::https://example.com/repo",
            "s3::https://bucket/key.zip",
            "git::https://example.com/repo.git?ref=--upload-pack=x",
            "git::ext::sh -c touch% /tmp/x",
            "git::https://example.com/repo.git//../../etc",
            "https://example.com/page",
            "not a source",
        ] {
            assert!(parse(bad).is_err(), "{bad} is refused");
        }
    }
}
