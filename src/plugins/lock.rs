//! `.terraform.lock.hcl`, read and written exactly as Terraform does, so a repository's lock file
//! works unchanged and Terraform accepts the one infra writes: per provider, the selected
//! version, the constraints it was selected under, and package hashes — `h1:` (Go's dirhash
//! "h1" of the unpacked package directory) and `zh:` (SHA-256 of a registry zip, kept as read).

use super::{Source, Version};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The lock file's name in a configuration directory.
pub const FILE: &str = ".terraform.lock.hcl";

/// One provider's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locked {
    /// The selected version.
    pub version: String,
    /// The constraints it was selected under, normalised as Terraform writes them.
    pub constraints: Option<String>,
    /// Package hashes (`h1:…`, `zh:…`), sorted.
    pub hashes: Vec<String>,
}

/// A lock file: entries by source address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockFile {
    /// The entries.
    pub providers: BTreeMap<String, Locked>,
}

impl LockFile {
    /// Reads the lock file of `dir` (empty when there is none).
    ///
    /// # Errors
    ///
    /// A file that does not parse, or whose entries are not lock entries.
    pub fn read(dir: &Path) -> Result<LockFile, String> {
        let path = dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(LockFile::default()),
            Err(error) => return Err(format!("{}: {error}", path.display())),
        };
        let body = hcl::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut providers = BTreeMap::new();
        for block in body.blocks().filter(|b| b.identifier() == "provider") {
            let Some(address) = block.labels().first().map(|l| l.as_str().to_string()) else {
                return Err(format!("{}: a provider block without its address", path.display()));
            };
            let text_of = |name: &str| {
                block.body().attributes().find(|a| a.key() == name).and_then(|a| match a.expr() {
                    hcl::Expression::String(s) => Some(s.clone()),
                    _ => None,
                })
            };
            let version =
                text_of("version").ok_or_else(|| format!("{}: `{address}` has no version", path.display()))?;
            let hashes = block
                .body()
                .attributes()
                .find(|a| a.key() == "hashes")
                .and_then(|a| match a.expr() {
                    hcl::Expression::Array(items) => Some(
                        items
                            .iter()
                            .filter_map(|i| match i {
                                hcl::Expression::String(s) => Some(s.clone()),
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                })
                .unwrap_or_default();
            providers.insert(address, Locked { version, constraints: text_of("constraints"), hashes });
        }
        Ok(LockFile { providers })
    }

    /// The file's text, as `terraform init` writes it.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# This file is maintained automatically by \"terraform init\".\n# Manual edits may be lost in future updates.\n",
        );
        for (address, locked) in &self.providers {
            out.push_str(&format!("\nprovider {} {{\n", quote(address)));
            match &locked.constraints {
                Some(constraints) => {
                    out.push_str(&format!("  version     = {}\n", quote(&locked.version)));
                    out.push_str(&format!("  constraints = {}\n", quote(constraints)));
                }
                None => out.push_str(&format!("  version = {}\n", quote(&locked.version))),
            }
            out.push_str("  hashes = [\n");
            for hash in &locked.hashes {
                out.push_str(&format!("    {},\n", quote(hash)));
            }
            out.push_str("  ]\n}\n");
        }
        out
    }

    /// Writes the file into `dir`.
    ///
    /// # Errors
    ///
    /// I/O failure.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(FILE);
        std::fs::write(&path, self.render()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The entry of `source`.
    pub fn get(&self, source: &Source) -> Option<&Locked> {
        self.providers.get(&source.to_string())
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Constraints as Terraform writes them in the lock file: each version in full (`>= 5.0` →
/// `>= 5.0.0`) except after `~>`, whose precision is its meaning.
pub fn normalize_constraints(constraints: &str) -> String {
    constraints
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|constraint| {
            let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
                .iter()
                .find_map(|op| constraint.strip_prefix(op).map(|rest| (*op, rest.trim())))
                .unwrap_or(("", constraint));
            let version = if op == "~>" {
                rest.to_string()
            } else {
                Version::parse(rest).map_or(rest.to_string(), |v| v.to_string())
            };
            if op.is_empty() { version } else { format!("{op} {version}") }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `h1:` hash of an unpacked package directory (Go's `dirhash.Hash1`: the SHA-256 of the
/// lines `"{sha256 hex}  {relative path}\n"` of every file, sorted by path, in base64).
///
/// # Errors
///
/// A file that cannot be read, or a path with a newline.
pub fn package_hash(dir: &Path) -> Result<String, String> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut summary = Sha256::new();
    for name in files {
        if name.contains('\n') {
            return Err(format!("a file name with a newline in {}", dir.display()));
        }
        let digest = file_digest(&dir.join(&name))?;
        summary.update(format!("{digest}  {name}\n").as_bytes());
    }
    Ok(format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(summary.finalize())))
}

/// What identifies a file's content without reading it: device, inode, size, and the
/// modification and change times (the change time cannot be set back by a user).
type Identity = (u64, u64, u64, i64, i64, i64, i64);

/// The SHA-256 (hex) of a file, remembered for the life of the process while the file's
/// identity is unchanged: the controller checks the same ~700 MB plugin on every reconcile.
fn file_digest(path: &Path) -> Result<String, String> {
    use std::os::unix::fs::MetadataExt;
    static DIGESTS: std::sync::OnceLock<std::sync::Mutex<BTreeMap<std::path::PathBuf, (Identity, String)>>> =
        std::sync::OnceLock::new();
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let meta = file.metadata().map_err(|e| format!("{}: {e}", path.display()))?;
    let identity =
        (meta.dev(), meta.ino(), meta.len(), meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec());
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let digests = DIGESTS.get_or_init(Default::default);
    if let Some((known, digest)) = digests.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
        && *known == identity
    {
        return Ok(digest.clone());
    }
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).map_err(|e| format!("{}: {e}", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    digests.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (identity, digest.clone()));
    Ok(digest)
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        // Symbolic links are followed, as Terraform hashes the package it would run.
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            collect(base, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(base) {
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_are_written_as_terraform_writes_them() {
        assert_eq!(normalize_constraints(">= 5.0"), ">= 5.0.0");
        assert_eq!(normalize_constraints("~> 5.0"), "~> 5.0");
        assert_eq!(normalize_constraints(">=4.0,<6"), ">= 4.0.0, < 6.0.0");
        assert_eq!(normalize_constraints("5.1"), "5.1.0");
    }

    #[test]
    fn a_lock_file_reads_back_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = LockFile::default();
        lock.providers.insert(
            "registry.terraform.io/hashicorp/aws".into(),
            Locked {
                version: "5.100.0".into(),
                constraints: Some(">= 5.0.0".into()),
                hashes: vec!["h1:abc=".into(), "zh:00".into()],
            },
        );
        lock.write(dir.path()).unwrap();
        assert_eq!(LockFile::read(dir.path()).unwrap(), lock);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(
            text.contains(
                "  version     = \"5.100.0\"\n  constraints = \">= 5.0.0\"\n  hashes = [\n    \"h1:abc=\",\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_package_hash_is_dirhash_h1() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b"), "world\n").unwrap();
        std::fs::write(dir.path().join("a"), "hello\n").unwrap();
        // sha256("hello\n") and sha256("world\n"), then the summary's sha256 (checked by hand
        // with `sha256sum a b | sha256sum`-style arithmetic in Go's format).
        let lines = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  a\ne258d248fda94c63753607f7c4494ee0fcbe92f1a76bfdac795c9d84101eb317  b\n";
        let expected =
            format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(lines.as_bytes())));
        assert_eq!(package_hash(dir.path()).unwrap(), expected);
    }

    #[test]
    fn a_file_changed_after_it_was_hashed_is_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("terraform-provider-x");
        std::fs::write(&file, "original").unwrap();
        let before = package_hash(dir.path()).unwrap();
        assert_eq!(package_hash(dir.path()).unwrap(), before, "remembered while unchanged");
        // Same size, and the modification time put back: the change time still tells.
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::write(&file, "tampered").unwrap();
        std::fs::File::options().write(true).open(&file).unwrap().set_modified(modified).unwrap();
        assert_ne!(package_hash(dir.path()).unwrap(), before);
    }
}
