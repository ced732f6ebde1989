//! The local backend, the embedded default: files under `.infra/state/` beside the
//! configuration.
//!
//! ```text
//! .infra/state/default.json              the snapshot (atomic: temp file + fsync + rename)
//! .infra/state/default.journal           finished changes of a running (or crashed) apply
//! .infra/state/default.lease             the lock: holder, operation, expiry, generation
//! .infra/state/default.mutex             guards lease and write critical sections (flock)
//! .infra/state/history/default.<LINEAGE>.<N>.json  earlier versions (hard links; the newest 50 kept)
//! .infra/state/history/default.log       one line per write: serial, lineage, when, who, operation
//! ```
//!
//! With encryption on, the snapshot, history versions and every journal line are sealed
//! records ([`crate::codec`]). Every file is created with mode 0600 (never readable by others,
//! not even for the moment between a create and a chmod). Journal lines carry a checksum: a torn
//! last line (a crash mid-write) is dropped with a warning, any other bad line stops the read
//! and nothing is deleted. History is keyed by lineage and serial, so a state begun afresh after
//! the file was lost never overwrites the old lineage's versions.
//!
//! Locking is a lease in a file, not a flock held for the whole run: a killed holder's lease
//! simply expires and the next run takes over, and the fencing generation keeps a paused
//! holder whose lease expired from writing. The flock on `.mutex` is held only for the few
//! microseconds of a lease check or a write.

use crate::backend::{Backend, HistoryEntry, JournalEntry, Lease, LockRequest, StateError, rfc3339};
use crate::codec::Codec;
use crate::snapshot::Snapshot;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// History versions kept.
const HISTORY_KEPT: usize = 50;

/// State in local files.
pub struct LocalBackend {
    dir: PathBuf,
    workspace: String,
    /// fsync every journal append. With `false`, appends are written at once (a killed process
    /// loses nothing) and made durable against power loss by `journal_flush`.
    pub sync: bool,
    journal: Mutex<Option<File>>,
    codec: Codec,
    who: String,
    warnings: Mutex<Vec<String>>,
}

/// One line of the history log.
#[derive(serde::Serialize, serde::Deserialize)]
struct Written {
    serial: u64,
    #[serde(default)]
    lineage: String,
    written: String,
    who: String,
    operation: String,
    resources: usize,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io { path: path.display().to_string(), source }
}

impl LocalBackend {
    /// The state of `workspace` under `dir` (usually `<config>/.infra/state`).
    pub fn new(dir: impl Into<PathBuf>, workspace: &str) -> LocalBackend {
        LocalBackend {
            dir: dir.into(),
            workspace: workspace.to_string(),
            sync: true,
            journal: Mutex::new(None),
            codec: Codec::plain(),
            who: crate::backend::who(),
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// Seals what it stores with `codec`.
    #[must_use]
    pub fn with_codec(mut self, codec: Codec) -> LocalBackend {
        self.codec = codec;
        self
    }

    /// The snapshot file.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join(format!("{}.json", self.workspace))
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join(format!("{}.journal", self.workspace))
    }

    fn lease_path(&self) -> PathBuf {
        self.dir.join(format!("{}.lease", self.workspace))
    }

    fn history_dir(&self) -> PathBuf {
        self.dir.join("history")
    }

    fn history_log(&self) -> PathBuf {
        self.history_dir().join(format!("{}.log", self.workspace))
    }

    fn kept_path(&self, lineage: &str, serial: u64) -> PathBuf {
        self.history_dir().join(format!("{}.{lineage}.{serial}.json", self.workspace))
    }

    /// A snapshot file, decoded; its place names the file and, if readable, the serial.
    fn read_snapshot(&self, path: &Path, advice: &str) -> Result<Option<Snapshot>, StateError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io(path)(error)),
        };
        let place = match head(&bytes) {
            Some((serial, _)) => format!("the local state `{}` (serial {serial})", path.display()),
            None => format!("the local state `{}`", path.display()),
        };
        if bytes.is_empty() {
            return Err(StateError::Corrupt { path: place, reason: format!("the file is empty{advice}") });
        }
        self.codec.decode(bytes, &place, advice).map(Some)
    }

    fn ensure_dir(&self) -> Result<(), StateError> {
        let history = self.history_dir();
        std::fs::create_dir_all(&history).map_err(io(&self.dir))?;
        // The directory holds secrets: private to its owner.
        for dir in [&self.dir, &history] {
            let _ = std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700));
        }
        Ok(())
    }

    /// Runs `f` holding the short-lived mutex (an exclusive flock on `.mutex`).
    fn critical<T>(&self, f: impl FnOnce() -> Result<T, StateError>) -> Result<T, StateError> {
        self.ensure_dir()?;
        let path = self.dir.join(format!("{}.mutex", self.workspace));
        let file =
            private(OpenOptions::new().create(true).truncate(false).write(true)).open(&path).map_err(io(&path))?;
        file.lock().map_err(io(&path))?;
        let result = f();
        let _ = file.unlock();
        result
    }

    fn read_lease(&self) -> Result<Option<Lease>, StateError> {
        read_json(&self.lease_path(), "")
    }

    fn write_lease(&self, lease: &Lease) -> Result<(), StateError> {
        let bytes = serde_json::to_vec_pretty(lease)
            .map_err(|e| StateError::Corrupt { path: "lease".into(), reason: e.to_string() })?;
        write_atomic(&self.lease_path(), &bytes)
    }

    /// Inside the mutex: refuses when `lease` is given and is no longer the current lock.
    fn fence(&self, lease: Option<&Lease>) -> Result<(), StateError> {
        if lease.is_none() {
            return Ok(());
        }
        crate::backend::fence(lease, self.read_lease()?.as_ref())
    }

    /// Serial and lineage of the stored snapshot: from the head of the file, else by decoding
    /// it whole. A snapshot that cannot be read at all has no lineage, and as serial the newest
    /// kept one (so that a recovery can still write over it, compare-and-swap included).
    fn current(&self) -> Result<Option<(u64, Option<String>)>, StateError> {
        let path = self.state_path();
        let mut bytes = Vec::with_capacity(512);
        match File::open(&path) {
            Ok(file) => {
                file.take(512).read_to_end(&mut bytes).map_err(io(&path))?;
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io(&path)(error)),
        }
        if let Some((serial, Some(lineage))) = head(&bytes) {
            return Ok(Some((serial, Some(lineage))));
        }
        match self.read() {
            Ok(snapshot) => Ok(snapshot.map(|s| (s.serial, Some(s.lineage)))),
            Err(StateError::Corrupt { .. }) => {
                let serial = head(&bytes)
                    .map(|(serial, _)| serial)
                    .or_else(|| self.kept_versions().first().map(|v| v.serial))
                    .unwrap_or(0);
                Ok(Some((serial, None)))
            }
            Err(error) => Err(error),
        }
    }
}

/// Serial and (when within the head) lineage near the start of a plain snapshot's JSON
/// (`None` when sealed or unusual).
fn head(bytes: &[u8]) -> Option<(u64, Option<String>)> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    let serial = head
        .split_once("\"serial\":")
        .and_then(|(_, rest)| rest.trim_start().split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())?;
    let lineage = head
        .split_once("\"lineage\":")
        .and_then(|(_, rest)| rest.trim_start().strip_prefix('"'))
        .and_then(|rest| rest.split_once('"'))
        .map(|(lineage, _)| lineage.to_string())
        .filter(|lineage| valid_lineage(lineage));
    Some((serial, lineage))
}

/// A lineage that can be part of a file name (UUIDs are).
fn valid_lineage(lineage: &str) -> bool {
    !lineage.is_empty() && lineage.len() <= 64 && lineage.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Open options that create files readable by their owner only (mode 0600 at creation).
fn private(options: &mut OpenOptions) -> &mut OpenOptions {
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600)
}

/// A JSON file, `None` when it does not exist; `advice` is appended to a corruption message.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, advice: &str) -> Result<Option<T>, StateError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StateError::Corrupt { path: format!("`{}`", path.display()), reason: format!("{e}{advice}") }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io(path)(error)),
    }
}

/// Writes a file atomically: temp file (mode 0600) beside it, fsync, rename, fsync of the
/// directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        uuid::Uuid::new_v4()
    ));
    let result = (|| {
        let mut file = private(OpenOptions::new().write(true).create_new(true)).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io(path))
}

/// A version kept in the history directory.
struct Kept {
    serial: u64,
    /// `None` for versions kept before history was keyed by lineage.
    lineage: Option<String>,
    path: PathBuf,
}

impl Backend for LocalBackend {
    fn read(&self) -> Result<Option<Snapshot>, StateError> {
        let advice =
            format!("; earlier versions are kept: `infra state history` (in `{}`)", self.history_dir().display());
        self.read_snapshot(&self.state_path(), &advice)
    }

    fn stored_serial(&self) -> Result<Option<u64>, StateError> {
        Ok(self.current()?.map(|(serial, _)| serial))
    }

    fn write(
        &self,
        snapshot: &Snapshot,
        expected_serial: Option<u64>,
        lease: Option<&Lease>,
    ) -> Result<(), StateError> {
        let bytes = self.codec.encode(snapshot)?;
        self.critical(|| {
            self.fence(lease)?;
            let current = self.current()?;
            let found = current.as_ref().map(|(serial, _)| *serial);
            if found != expected_serial {
                return Err(StateError::Conflict { expected: expected_serial.unwrap_or(0), found: found.unwrap_or(0) });
            }
            let path = self.state_path();
            if let Some((old, lineage)) = current {
                // The version being replaced is kept; one that cannot be read is kept aside
                // (never deleted), out of the history's way.
                let kept = match lineage {
                    Some(lineage) => self.kept_path(&lineage, old),
                    None => self.history_dir().join(format!(
                        "{}.unreadable-{}.json.bad",
                        self.workspace,
                        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
                    )),
                };
                let _ = std::fs::remove_file(&kept);
                std::fs::hard_link(&path, &kept).map_err(io(&kept))?;
            }
            write_atomic(&path, &bytes)?;
            self.log_write(snapshot, lease);
            self.prune_history();
            Ok(())
        })
    }

    fn lock(&self, request: &LockRequest) -> Result<Lease, StateError> {
        self.critical(|| {
            let current = self.read_lease()?;
            let lease = Lease::grant(request, current.as_ref(), current.as_ref().map_or(1, |l| l.generation + 1))?;
            self.write_lease(&lease)?;
            Ok(lease)
        })
    }

    fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease, StateError> {
        self.critical(|| {
            self.fence(Some(lease))?;
            let renewed = lease.renewed(ttl);
            self.write_lease(&renewed)?;
            Ok(renewed)
        })
    }

    fn unlock(&self, lease: &Lease) -> Result<(), StateError> {
        self.critical(|| {
            if matches!(self.read_lease()?, Some(current) if current.id == lease.id) {
                std::fs::remove_file(self.lease_path()).map_err(io(&self.lease_path()))?;
            }
            Ok(())
        })
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.critical(|| match self.read_lease()? {
            Some(current) if current.id == id => {
                std::fs::remove_file(self.lease_path()).map_err(io(&self.lease_path()))
            }
            _ => Err(StateError::NoSuchLock(id.to_string())),
        })
    }

    fn current_lock(&self) -> Result<Option<Lease>, StateError> {
        self.read_lease()
    }

    fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        let mut logged = std::collections::HashMap::new();
        if let Ok(log) = std::fs::read(self.history_log()) {
            for line in log.split(|b| *b == b'\n') {
                if let Ok(written) = serde_json::from_slice::<Written>(line) {
                    logged.insert((written.lineage.clone(), written.serial), written);
                }
            }
        }
        // The current version first, when it can be read (a corrupt one is left out: the
        // history is what recovers from it).
        let current = match self.current()? {
            Some((serial, Some(lineage))) => Some(Kept { serial, lineage: Some(lineage), path: self.state_path() }),
            _ => None,
        };
        let mut entries = Vec::new();
        for kept in current.into_iter().chain(self.kept_versions()) {
            let lineage = kept.lineage.clone().unwrap_or_default();
            let logged = logged.remove(&(lineage.clone(), kept.serial)).or_else(|| {
                // Lines logged before history was keyed by lineage.
                if lineage.is_empty() { None } else { logged.remove(&(String::new(), kept.serial)) }
            });
            let entry = match logged {
                Some(w) => HistoryEntry {
                    serial: kept.serial,
                    lineage,
                    written: w.written,
                    resources: w.resources,
                    who: w.who,
                    operation: w.operation,
                },
                None => {
                    let snapshot = self.read_snapshot(&kept.path, "").ok().flatten();
                    HistoryEntry {
                        serial: kept.serial,
                        lineage: snapshot.as_ref().map(|s| s.lineage.clone()).unwrap_or(lineage),
                        written: std::fs::metadata(&kept.path)
                            .and_then(|m| m.modified())
                            .map(|t| rfc3339(chrono::DateTime::<chrono::Utc>::from(t)))
                            .unwrap_or_default(),
                        resources: snapshot.map_or(0, |s| s.resources.len()),
                        who: String::new(),
                        operation: String::new(),
                    }
                }
            };
            entries.push(entry);
        }
        Ok(entries)
    }

    fn read_version(&self, serial: u64, lineage: Option<&str>) -> Result<Option<Snapshot>, StateError> {
        let current = self.current().ok().flatten();
        if let Some((current_serial, Some(current_lineage))) = &current
            && *current_serial == serial
            && lineage.is_none_or(|l| l == current_lineage)
        {
            return self.read();
        }
        // Of the kept versions with this serial: the asked lineage's, else the current
        // lineage's, else the one written last.
        let mut candidates: Vec<Kept> = self.kept_versions().into_iter().filter(|k| k.serial == serial).collect();
        let wanted = lineage.map(str::to_string).or_else(|| current.and_then(|(_, lineage)| lineage));
        if let Some(wanted) = &wanted
            && let Some(index) = candidates.iter().position(|k| k.lineage.as_deref() == Some(wanted))
        {
            return self.read_snapshot(&candidates.swap_remove(index).path, "");
        }
        if lineage.is_some() {
            // Versions kept before history was keyed by lineage.
            for kept in candidates.iter().filter(|k| k.lineage.is_none()) {
                if let Some(snapshot) = self.read_snapshot(&kept.path, "")?
                    && Some(&snapshot.lineage) == wanted.as_ref()
                {
                    return Ok(Some(snapshot));
                }
            }
            return Ok(None);
        }
        candidates.sort_by_key(|k| std::fs::metadata(&k.path).and_then(|m| m.modified()).ok());
        match candidates.pop() {
            Some(kept) => self.read_snapshot(&kept.path, ""),
            None => Ok(None),
        }
    }

    fn journal_append(&self, entries: &[JournalEntry], lease: Option<&Lease>) -> Result<(), StateError> {
        if entries.is_empty() {
            return Ok(());
        }
        let text = self.codec.encode_lines(entries)?;
        let path = self.journal_path();
        let append = || {
            let mut guard = self.journal.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if guard.is_none() {
                *guard = Some(private(OpenOptions::new().create(true).append(true)).open(&path).map_err(io(&path))?);
            }
            let file = guard.as_mut().expect("opened above");
            file.write_all(&text).map_err(io(&path))?;
            if self.sync {
                file.sync_data().map_err(io(&path))?;
            }
            Ok(())
        };
        // The write happens while the mutex under which the lease was checked is held, so a
        // takeover cannot slip in between the check and the write.
        if lease.is_some() {
            self.critical(|| {
                self.fence(lease)?;
                append()
            })
        } else {
            self.ensure_dir()?;
            append()
        }
    }

    fn journal_flush(&self) -> Result<(), StateError> {
        let guard = self.journal.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(file) = guard.as_ref() {
            file.sync_data().map_err(io(&self.journal_path()))?;
        }
        Ok(())
    }

    fn journal_read(&self) -> Result<Vec<JournalEntry>, StateError> {
        let path = self.journal_path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io(&path)(error)),
        };
        let complete = bytes.ends_with(b"\n");
        let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        if body.is_empty() {
            return Ok(Vec::new());
        }
        let lines: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
        let mut entries = Vec::with_capacity(lines.len());
        for (index, line) in lines.iter().enumerate() {
            let place = format!(
                "the local journal `{}` (workspace `{}`), record {} of {}",
                path.display(),
                self.workspace,
                index + 1,
                lines.len()
            );
            match self.codec.decode_record(line, &place) {
                Ok(entry) => entries.push(entry),
                // Only a last line that never got its newline is a write a crash cut short.
                Err(StateError::Corrupt { .. }) if index + 1 == lines.len() && !complete => {
                    self.warnings.lock().unwrap_or_else(|p| p.into_inner()).push(format!(
                        "the last record of {place} was cut short (a run was killed while writing it) and is ignored; the {} records before it are kept",
                        entries.len()
                    ));
                }
                Err(StateError::Corrupt { path, reason }) => {
                    return Err(StateError::Corrupt {
                        path,
                        reason: format!(
                            "{reason}. Nothing was applied from the journal and nothing was deleted: inspect the file, remove or repair that record, or restore an earlier version (`infra state history`)"
                        ),
                    });
                }
                Err(error) => return Err(error),
            }
        }
        Ok(entries)
    }

    fn journal_clear(&self, lease: Option<&Lease>) -> Result<(), StateError> {
        self.critical(|| {
            self.fence(lease)?;
            *self.journal.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
            match std::fs::remove_file(self.journal_path()) {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(error) => Err(io(&self.journal_path())(error)),
            }
        })
    }

    fn warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl LocalBackend {
    /// Kept versions by file name, newest serial first (no file is read):
    /// `WORKSPACE.LINEAGE.SERIAL.json`, and `WORKSPACE.SERIAL.json` from before lineages.
    fn kept_versions(&self) -> Vec<Kept> {
        let Ok(dir) = std::fs::read_dir(self.history_dir()) else { return Vec::new() };
        let prefix = format!("{}.", self.workspace);
        let mut versions: Vec<Kept> = dir
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let rest = name.strip_prefix(&prefix)?.strip_suffix(".json")?;
                let (lineage, serial) = match rest.rsplit_once('.') {
                    Some((lineage, serial)) if valid_lineage(lineage) => (Some(lineage.to_string()), serial),
                    Some(_) => return None,
                    None => (None, rest),
                };
                Some(Kept { serial: serial.parse().ok()?, lineage, path: entry.path() })
            })
            .collect();
        versions.sort_by_key(|version| std::cmp::Reverse(version.serial));
        versions
    }

    /// Records who wrote a serial (best effort: history metadata, not state).
    fn log_write(&self, snapshot: &Snapshot, lease: Option<&Lease>) {
        let line = Written {
            serial: snapshot.serial,
            lineage: snapshot.lineage.clone(),
            written: rfc3339(chrono::Utc::now()),
            who: self.who.clone(),
            operation: lease.map(|l| l.operation.clone()).unwrap_or_default(),
            resources: snapshot.resources.len(),
        };
        if let Ok(mut text) = serde_json::to_vec(&line)
            && let Ok(mut log) = private(OpenOptions::new().create(true).append(true)).open(self.history_log())
        {
            text.push(b'\n');
            let _ = log.write_all(&text);
        }
    }

    fn prune_history(&self) {
        for kept in self.kept_versions().into_iter().skip(HISTORY_KEPT) {
            let _ = std::fs::remove_file(kept.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Files(tempfile::TempDir);

    impl crate::testing::Harness for Files {
        fn open(&self, workspace: &str, codec: Codec) -> Box<dyn Backend> {
            Box::new(LocalBackend::new(self.0.path().join("state"), workspace).with_codec(codec))
        }
        fn raw(&self, workspace: &str) -> Vec<u8> {
            std::fs::read(self.0.path().join("state").join(format!("{workspace}.json"))).expect("state file")
        }
        fn corrupt(&self, workspace: &str, bytes: &[u8]) {
            // A new file, as an editor or another tool would write it (history versions are hard
            // links of earlier files and stay intact).
            let path = self.0.path().join("state").join(format!("{workspace}.json"));
            std::fs::remove_file(&path).expect("remove");
            std::fs::write(path, bytes).expect("corrupt");
        }
        fn corrupt_journal_record(&self, workspace: &str, index: usize) {
            let path = self.0.path().join("state").join(format!("{workspace}.journal"));
            let text = std::fs::read(&path).expect("journal");
            let mut lines: Vec<Vec<u8>> = text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            crate::testing::flip_a_byte(&mut lines[index]);
            std::fs::write(path, lines.join(&b'\n')).expect("corrupt journal");
        }
    }

    #[test]
    fn local_backend_passes_the_conformance_suite() {
        crate::testing::conformance(&Files(tempfile::tempdir().expect("temp dir")));
    }
}
