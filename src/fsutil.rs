//! Small filesystem helpers with the durability rules the project relies on, and Go's lexical
//! path cleaning.

use std::io::Write;
use std::path::Path;

/// Writes a file atomically: a temporary file beside it, fsync, rename over the target.
/// Readers see the old content or the new, never a mix; a crash leaves one of the two.
///
/// # Errors
///
/// Any I/O failure; the target is then unchanged.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, false)
}

/// As [`write_atomic`], for a file that may hold secrets (saved plans, backend settings): created
/// with mode 0600, never readable by others, not even between a create and a chmod.
///
/// # Errors
///
/// Any I/O failure; the target is then unchanged.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, true)
}

fn write(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        if private {
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        if !private && let Ok(metadata) = std::fs::metadata(path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Go's `filepath.Clean` on a `/`-separated path: lexical, no filesystem access (`a/../b` →
/// `b`, `./x` → `x`, `` → `.`; `..` above a relative start is kept).
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}
