//! The local backend, the embedded default: files under `.infra/state/` beside the
//! configuration.
//!
//! ```text
//! .infra/state/default.json              the snapshot (atomic: temp file + fsync + rename)
//! .infra/state/default.journal           finished changes of a running (or crashed) apply
//! .infra/state/default.lease             the lock: holder, operation, expiry, generation
//! .infra/state/default.mutex             guards lease and write critical sections (flock)
//! .infra/state/history/default.<N>.json  earlier versions (hard links; the newest 50 kept)
//! .infra/state/history/default.log       one line per write: serial, when, who, operation
//! ```
//!
//! With encryption on, the snapshot, history versions and every journal line are sealed
//! records ([`crate::codec`]).
//!
//! Locking is a lease in a file, not a flock held for the whole run: a killed holder's lease
//! simply expires and the next run takes over, and the fencing generation keeps a paused
//! holder whose lease expired from writing. The flock on `.mutex` is held only for the few
//! microseconds of a lease check or a write.

use crate::backend::{Backend, HistoryEntry, JournalEntry, Lease, LockRequest, StateError, rfc3339};
use crate::codec::Codec;
use crate::snapshot::Snapshot;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
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
}

/// One line of the history log.
#[derive(serde::Serialize, serde::Deserialize)]
struct Written {
    serial: u64,
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

    /// A snapshot file, decoded; its place names the file and, if readable, the serial.
    fn read_snapshot(&self, path: &Path, advice: &str) -> Result<Option<Snapshot>, StateError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io(path)(error)),
        };
        let place = match head_serial(&bytes) {
            Some(serial) => format!("the local state `{}` (serial {serial})", path.display()),
            None => format!("the local state `{}`", path.display()),
        };
        if bytes.is_empty() {
            return Err(StateError::Corrupt { path: place, reason: format!("the file is empty{advice}") });
        }
        self.codec.decode(bytes, &place, advice).map(Some)
    }

    fn ensure_dir(&self) -> Result<(), StateError> {
        std::fs::create_dir_all(self.history_dir()).map_err(io(&self.dir))
    }

    /// Runs `f` holding the short-lived mutex (an exclusive flock on `.mutex`).
    fn critical<T>(&self, f: impl FnOnce() -> Result<T, StateError>) -> Result<T, StateError> {
        self.ensure_dir()?;
        let path = self.dir.join(format!("{}.mutex", self.workspace));
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io(&path))?;
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

    /// The serial of the stored snapshot, read from the head of the file.
    fn stored_serial(&self) -> Result<Option<u64>, StateError> {
        let path = self.state_path();
        let mut head = Vec::with_capacity(512);
        match File::open(&path) {
            Ok(file) => {
                file.take(512).read_to_end(&mut head).map_err(io(&path))?;
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io(&path)(error)),
        }
        match head_serial(&head) {
            Some(serial) => Ok(Some(serial)),
            // Not written by us in the usual layout: parse it whole.
            None => Ok(self.read()?.map(|s| s.serial)),
        }
    }
}

/// The serial near the start of a plain snapshot's JSON (`None` when sealed or unusual).
fn head_serial(bytes: &[u8]) -> Option<u64> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    head.split_once("\"serial\":")
        .and_then(|(_, rest)| rest.trim_start().split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
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

/// Writes a file atomically: temp file beside it, fsync, rename, fsync of the directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        uuid::Uuid::new_v4()
    ));
    let result = (|| {
        let mut file = File::create(&temp)?;
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

impl Backend for LocalBackend {
    fn read(&self) -> Result<Option<Snapshot>, StateError> {
        let advice =
            format!("; earlier versions are kept: `infra state history` (in `{}`)", self.history_dir().display());
        self.read_snapshot(&self.state_path(), &advice)
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
            let found = self.stored_serial()?;
            if found != expected_serial {
                return Err(StateError::Conflict { expected: expected_serial.unwrap_or(0), found: found.unwrap_or(0) });
            }
            let path = self.state_path();
            if let Some(old) = found {
                let kept = self.history_dir().join(format!("{}.{old}.json", self.workspace));
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
                    logged.insert(written.serial, written);
                }
            }
        }
        let current = self.stored_serial()?.map(|serial| (serial, self.state_path()));
        let mut entries = Vec::new();
        for (serial, path) in current.into_iter().chain(self.kept_versions()) {
            let entry = match logged.remove(&serial) {
                Some(w) => HistoryEntry {
                    serial,
                    written: w.written,
                    resources: w.resources,
                    who: w.who,
                    operation: w.operation,
                },
                None => HistoryEntry {
                    serial,
                    written: std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .map(|t| rfc3339(chrono::DateTime::<chrono::Utc>::from(t)))
                        .unwrap_or_default(),
                    resources: self.read_snapshot(&path, "")?.map_or(0, |s| s.resources.len()),
                    who: String::new(),
                    operation: String::new(),
                },
            };
            entries.push(entry);
        }
        Ok(entries)
    }

    fn read_version(&self, serial: u64) -> Result<Option<Snapshot>, StateError> {
        if let Ok(Some(current)) = self.stored_serial()
            && current == serial
        {
            return self.read();
        }
        self.read_snapshot(&self.history_dir().join(format!("{}.{serial}.json", self.workspace)), "")
    }

    fn journal_append(&self, entries: &[JournalEntry], lease: Option<&Lease>) -> Result<(), StateError> {
        if entries.is_empty() {
            return Ok(());
        }
        let text = self.codec.encode_lines(entries)?;
        if lease.is_some() {
            self.critical(|| self.fence(lease))?;
        } else {
            self.ensure_dir()?;
        }
        let path = self.journal_path();
        let mut guard = self.journal.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            *guard = Some(OpenOptions::new().create(true).append(true).open(&path).map_err(io(&path))?);
        }
        let file = guard.as_mut().expect("opened above");
        file.write_all(&text).map_err(io(&path))?;
        if self.sync {
            file.sync_data().map_err(io(&path))?;
        }
        Ok(())
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
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io(&path)(error)),
        };
        let mut entries = Vec::new();
        for line in BufReader::new(file).split(b'\n') {
            let line = line.map_err(io(&path))?;
            // A torn last line (killed mid-write) is not a finished change; a line that the key
            // cannot open is an error.
            match self.codec.decode(line, &format!("the journal `{}`", path.display()), "") {
                Ok(entry) => entries.push(entry),
                Err(error @ StateError::Encryption { .. }) => return Err(error),
                Err(_) => break,
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
}

impl LocalBackend {
    /// Kept versions by file name, newest first (no file is read).
    fn kept_versions(&self) -> Vec<(u64, PathBuf)> {
        let Ok(dir) = std::fs::read_dir(self.history_dir()) else { return Vec::new() };
        let prefix = format!("{}.", self.workspace);
        let mut versions: Vec<(u64, PathBuf)> = dir
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let serial = name.strip_prefix(&prefix)?.strip_suffix(".json")?.parse().ok()?;
                Some((serial, entry.path()))
            })
            .collect();
        versions.sort_by_key(|version| std::cmp::Reverse(version.0));
        versions
    }

    /// Records who wrote a serial (best effort: history metadata, not state).
    fn log_write(&self, snapshot: &Snapshot, lease: Option<&Lease>) {
        let line = Written {
            serial: snapshot.serial,
            written: rfc3339(chrono::Utc::now()),
            who: self.who.clone(),
            operation: lease.map(|l| l.operation.clone()).unwrap_or_default(),
            resources: snapshot.resources.len(),
        };
        if let Ok(mut text) = serde_json::to_vec(&line)
            && let Ok(mut log) = OpenOptions::new().create(true).append(true).open(self.history_log())
        {
            text.push(b'\n');
            let _ = log.write_all(&text);
        }
    }

    fn prune_history(&self) {
        for (_, path) in self.kept_versions().into_iter().skip(HISTORY_KEPT) {
            let _ = std::fs::remove_file(path);
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
    }

    #[test]
    fn local_backend_passes_the_conformance_suite() {
        crate::testing::conformance(&Files(tempfile::tempdir().expect("temp dir")));
    }
}
