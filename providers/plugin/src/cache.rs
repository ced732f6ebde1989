//! Plugin schemas kept between runs: the AWS provider's schema is ~5 MB and asking for it
//! costs a second, so a plugin that says its schema is optional
//! (`get_provider_schema_optional`) is asked once per binary. The key is the binary's path,
//! size and modification time; the file is the protobuf answer in protocol 6's shapes (a
//! protocol-5 answer is converted first), under
//! `$XDG_CACHE_HOME/infra/plugin-schemas` (else `~/.cache/…`). A cache file that does not decode
//! is ignored and replaced.

use crate::tfplugin6::GetProviderSchemaResponse as GetSchemaResponse;
use prost::Message;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where the schema of `binary` is kept, when a cache directory is known.
pub fn path(binary: &Path) -> Option<PathBuf> {
    let meta = std::fs::metadata(binary).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    let canonical = std::fs::canonicalize(binary).ok()?;
    let mut hasher = Sha256::new();
    hasher.update(canonical.to_string_lossy().as_bytes());
    hasher.update(meta.len().to_le_bytes());
    hasher.update(modified.to_le_bytes());
    let key: String = hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("infra").join("plugin-schemas").join(format!("{key}.v6.pb")))
}

/// The cached answer, if there is a usable one.
pub fn read(path: &Path) -> Option<GetSchemaResponse> {
    let bytes = std::fs::read(path).ok()?;
    let answer = GetSchemaResponse::decode(bytes.as_slice()).ok()?;
    answer.server_capabilities.as_ref().is_some_and(|c| c.get_provider_schema_optional).then_some(answer)
}

/// Keeps an answer (best effort: a cache that cannot be written only costs time).
pub fn write(path: &Path, answer: &GetSchemaResponse) {
    if !answer.server_capabilities.as_ref().is_some_and(|c| c.get_provider_schema_optional) {
        return;
    }
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let temporary = dir.join(format!(
        ".{}.{}",
        std::process::id(),
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    ));
    if std::fs::write(&temporary, answer.encode_to_vec()).is_ok() && std::fs::rename(&temporary, path).is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}
