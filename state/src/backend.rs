//! The [`Backend`] trait: where snapshots, locks and journals live.

use crate::snapshot::{OutputState, ResourceState, Snapshot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// A state operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Someone else holds the lock.
    #[error("the state is locked by {} for `{}` since {} (lock id {}, expires {})", .0.holder, .0.operation, .0.created, .0.id, .0.expires)]
    Locked(Box<Lease>),
    /// Our lease expired and another run took the lock over: nothing may be written.
    #[error("the state lock was lost: it expired and was taken over by {holder}; nothing was written")]
    LostLock {
        /// Who holds it now.
        holder: String,
    },
    /// The state moved on since it was read (compare-and-swap failed).
    #[error("the state changed since it was read: expected serial {expected}, found {found}")]
    Conflict {
        /// The serial the writer read.
        expected: u64,
        /// The serial now stored.
        found: u64,
    },
    /// The stored state cannot be read.
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// Where.
        path: String,
        /// Why.
        reason: String,
    },
    /// Sealed data that cannot be opened: no key, or the wrong one.
    #[error("cannot read {path}: {reason}")]
    Encryption {
        /// What was read.
        path: String,
        /// Why.
        reason: String,
    },
    /// The backend's settings cannot work.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The backend block.
        what: String,
        /// Why.
        reason: String,
    },
    /// `force-unlock` with an id that is not the current lock.
    #[error("no lock with id {0} is held")]
    NoSuchLock(String),
    /// I/O.
    #[error("state storage failed at `{path}`: {source}")]
    Io {
        /// Where.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Asking for the lock.
#[derive(Clone, Debug)]
pub struct LockRequest {
    /// `user@host (pid N)`.
    pub holder: String,
    /// `apply`, `plan`, `destroy`...
    pub operation: String,
    /// How long the lease lasts without renewal.
    pub ttl: Duration,
    /// The requesting process, so that a later run on the same machine can tell that it died.
    pub process: Option<Process>,
}

/// A process on a machine, told apart from a later one that got the same pid: the boot, the
/// pid namespace and the start time (in clock ticks since boot) name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// The kernel's boot id.
    pub boot: String,
    /// The pid namespace (`pid:[4026531836]`): pids of two containers are not comparable.
    pub namespace: String,
    /// The pid.
    pub pid: u32,
    /// Start time of the process, in clock ticks since boot (`/proc/PID/stat` field 22).
    pub started: u64,
}

impl Process {
    /// This process, where `/proc` tells it (Linux).
    pub fn current() -> Option<Process> {
        let pid = std::process::id();
        Some(Process {
            boot: std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?.trim().to_string(),
            namespace: std::fs::read_link("/proc/self/ns/pid").ok()?.to_string_lossy().into_owned(),
            pid,
            started: start_time(pid)?,
        })
    }

    /// Whether this process, recorded on this machine, is certainly gone: same boot and pid
    /// namespace as the caller, and no process with its pid and start time. A process of
    /// another machine, boot or container is never judged gone (its lease expires instead).
    pub fn is_gone(&self) -> bool {
        let Some(here) = Process::current() else { return false };
        here.boot == self.boot && here.namespace == self.namespace && start_time(self.pid) != Some(self.started)
    }
}

/// Field 22 of `/proc/PID/stat` (after the parenthesised command, which may hold spaces).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// `user@host` of this process, for history rows.
pub(crate) fn who() -> String {
    let holder = LockRequest::for_this_process("", Duration::ZERO).holder;
    holder.split(" (pid").next().unwrap_or(&holder).to_string()
}

impl LockRequest {
    /// A request for this process: holder from `USER`, hostname and pid.
    pub fn for_this_process(operation: &str, ttl: Duration) -> LockRequest {
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "localhost".into());
        LockRequest {
            holder: format!("{user}@{host} (pid {})", std::process::id()),
            operation: operation.into(),
            ttl,
            process: Process::current(),
        }
    }
}

/// A held lock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Unique per acquisition.
    pub id: String,
    /// Who holds it.
    pub holder: String,
    /// What for.
    pub operation: String,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339; past this, the next run may take the lock over.
    pub expires: String,
    /// The fencing token: +1 on every acquisition; writes carry it.
    pub generation: u64,
    /// Set when this acquisition took over an expired lease: the previous holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_over_from: Option<String>,
    /// The holding process (when it could be told), so that a run on the same machine takes
    /// the lock over at once when that process is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
}

impl Lease {
    /// The lease `request` gets with fencing `generation`, over `current` (taken over when it
    /// has expired, naming its holder).
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] while `current` is valid.
    pub fn grant(request: &LockRequest, current: Option<&Lease>, generation: u64) -> Result<Lease, StateError> {
        let now = chrono::Utc::now();
        let took_over_from = match current {
            Some(lease) if lease.holder_is_gone() => {
                Some(format!("{} ({}; that process is gone)", lease.holder, lease.operation))
            }
            Some(lease) if !lease.expired_at(now) => return Err(StateError::Locked(Box::new(lease.clone()))),
            Some(lease) => Some(format!("{} ({}, expired {})", lease.holder, lease.operation, lease.expires)),
            None => None,
        };
        let ttl = chrono::Duration::from_std(request.ttl).unwrap_or(chrono::Duration::seconds(60));
        Ok(Lease {
            id: uuid::Uuid::new_v4().to_string(),
            holder: request.holder.clone(),
            operation: request.operation.clone(),
            created: rfc3339(now),
            expires: rfc3339(later(now, ttl)),
            generation,
            took_over_from,
            process: request.process.clone(),
        })
    }

    /// Whether the holder was a process on this machine that is gone (killed, crashed): its
    /// lease is taken over at once instead of after it expires.
    pub fn holder_is_gone(&self) -> bool {
        self.process.as_ref().is_some_and(Process::is_gone)
    }

    /// This lease extended by `ttl` from now.
    pub fn renewed(&self, ttl: Duration) -> Lease {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60));
        Lease { expires: rfc3339(later(chrono::Utc::now(), ttl)), took_over_from: None, ..self.clone() }
    }

    /// Whether the lease has expired at `now`.
    pub fn expired_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        chrono::DateTime::parse_from_rfc3339(&self.expires).map_or(true, |expires| expires < now)
    }
}

/// Refuses a write under `lease` (when given) unless it is still the `current` lock: the
/// fencing check every backend makes.
pub(crate) fn fence(lease: Option<&Lease>, current: Option<&Lease>) -> Result<(), StateError> {
    let Some(lease) = lease else { return Ok(()) };
    match current {
        Some(current) if current.id == lease.id && current.generation == lease.generation => Ok(()),
        Some(current) => Err(StateError::LostLock { holder: current.holder.clone() }),
        None => Err(StateError::LostLock { holder: "nobody (the lock was force-unlocked)".into() }),
    }
}

/// A corrupt journal record's error, saying that nothing was applied or deleted.
pub(crate) fn nothing_deleted(error: StateError) -> StateError {
    match error {
        StateError::Corrupt { path, reason } => StateError::Corrupt {
            path,
            reason: format!(
                "{reason}. Nothing was applied from the journal and nothing was deleted: inspect and repair or remove that record, or restore an earlier version (`infra state history`)"
            ),
        },
        other => other,
    }
}

/// `now + ttl`, saturating instead of overflowing for an absurd ttl.
fn later(now: chrono::DateTime<chrono::Utc>, ttl: chrono::Duration) -> chrono::DateTime<chrono::Utc> {
    now.checked_add_signed(ttl).unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

/// RFC 3339 with milliseconds, as leases and history record times.
pub(crate) fn rfc3339(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One version in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Its serial.
    pub serial: u64,
    /// The lineage it belongs to (empty when unknown: kept before history recorded it).
    #[serde(default)]
    pub lineage: String,
    /// When it was written (RFC 3339).
    pub written: String,
    /// How many resource instances it holds.
    pub resources: usize,
    /// Who wrote it (`user@host`), when known.
    #[serde(default)]
    pub who: String,
    /// The operation that wrote it (`apply`, `state rm`...), when known.
    #[serde(default)]
    pub operation: String,
}

/// A finished change, recorded durably before the next one is reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum JournalEntry {
    /// Created or updated.
    Set {
        /// The instance address.
        address: String,
        /// Its new state.
        resource: Box<ResourceState>,
    },
    /// Deleted.
    Remove {
        /// The instance address.
        address: String,
    },
    /// A create is about to be sent with this idempotency key. Folded into
    /// [`Snapshot::pending`](crate::Snapshot::pending) until the object's `Set` arrives, so a
    /// run that follows a crash retries the create with the same key and the provider finds the
    /// object instead of making a second one.
    Intent {
        /// The instance address.
        address: String,
        /// The key given to the provider.
        key: String,
    },
    /// The root module's outputs.
    Outputs {
        /// All of them.
        outputs: BTreeMap<String, OutputState>,
    },
}

/// Where a state lives.
///
/// # Guarantees
///
/// - `write` is atomic: readers see the old snapshot or the new one.
/// - `write` with `expected_serial` fails with [`StateError::Conflict`] if the stored serial
///   differs (compare-and-swap), and with [`StateError::LostLock`] if `lease` is no longer the
///   current lock (fencing).
/// - A lease is exclusive until it expires; `lock` takes over an expired lease.
/// - Journal entries appended are never lost once `journal_append` returns; `read_folded`
///   returns the snapshot with the journal applied.
pub trait Backend: Send + Sync {
    /// The stored snapshot, `None` when there is none yet.
    ///
    /// # Errors
    ///
    /// Storage failure or a corrupt state.
    fn read(&self) -> Result<Option<Snapshot>, StateError>;

    /// The serial of the stored snapshot, even when its content cannot be read (as well as the
    /// storage tells it), so that a recovery can write over a corrupt state with
    /// compare-and-swap; `None` when there is none.
    ///
    /// # Errors
    ///
    /// Storage failure.
    fn stored_serial(&self) -> Result<Option<u64>, StateError> {
        Ok(self.read()?.map(|snapshot| snapshot.serial))
    }

    /// The stored state's bytes as they are, for readers of another tool's format (Terraform's
    /// state kept where this backend keeps infra's); `None` when the backend has none or
    /// cannot tell.
    ///
    /// # Errors
    ///
    /// Storage failure.
    fn read_raw(&self) -> Result<Option<Vec<u8>>, StateError> {
        Ok(None)
    }

    /// Writes a snapshot (its `serial` must be one more than `expected_serial`).
    ///
    /// # Errors
    ///
    /// Conflict, lost lock, storage failure.
    fn write(&self, snapshot: &Snapshot, expected_serial: Option<u64>, lease: Option<&Lease>)
    -> Result<(), StateError>;

    /// Takes the lock, or reports who holds it.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] while someone else's lease is valid.
    fn lock(&self, request: &LockRequest) -> Result<Lease, StateError>;

    /// Extends a lease held by this run.
    ///
    /// # Errors
    ///
    /// [`StateError::LostLock`] when it was taken over.
    fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease, StateError>;

    /// Releases a lease held by this run (no error if it was already taken over).
    ///
    /// # Errors
    ///
    /// Storage failure.
    fn unlock(&self, lease: &Lease) -> Result<(), StateError>;

    /// Removes the lock with this id, whoever holds it (`infra force-unlock`).
    ///
    /// # Errors
    ///
    /// [`StateError::NoSuchLock`] when the id is not the current lock.
    fn force_unlock(&self, id: &str) -> Result<(), StateError>;

    /// The current lock, if any (expired or not).
    ///
    /// # Errors
    ///
    /// Storage failure.
    fn current_lock(&self) -> Result<Option<Lease>, StateError>;

    /// The kept versions, newest (the current one) first.
    ///
    /// # Errors
    ///
    /// Storage failure.
    fn history(&self) -> Result<Vec<HistoryEntry>, StateError>;

    /// A version from the history: of `lineage` when given; otherwise of the current state's
    /// lineage, or (when the state is gone or unreadable) the one written last.
    ///
    /// # Errors
    ///
    /// Storage failure; `Ok(None)` when that serial is not kept.
    fn read_version(&self, serial: u64, lineage: Option<&str>) -> Result<Option<Snapshot>, StateError>;

    /// Appends finished changes to the journal (durably).
    ///
    /// # Errors
    ///
    /// Lost lock, storage failure.
    fn journal_append(&self, entries: &[JournalEntry], lease: Option<&Lease>) -> Result<(), StateError>;

    /// Makes appended journal entries durable (fsync) when appends were not synced one by one.
    ///
    /// # Errors
    ///
    /// Storage failure.
    fn journal_flush(&self) -> Result<(), StateError> {
        Ok(())
    }

    /// The journal's entries, in order. Each record carries a checksum; only a torn last record
    /// (a crash mid-write, where the storage can tear one) is dropped, with a warning
    /// ([`Backend::warnings`]).
    ///
    /// # Errors
    ///
    /// Storage failure; [`StateError::Corrupt`] naming the backend, workspace and record for
    /// any other record that does not check out.
    fn journal_read(&self) -> Result<Vec<JournalEntry>, StateError>;

    /// Warnings gathered since the last call (a torn journal record dropped), for the caller
    /// to show.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// Empties the journal (after its entries were folded into a written snapshot).
    ///
    /// # Errors
    ///
    /// Storage failure.
    fn journal_clear(&self, lease: Option<&Lease>) -> Result<(), StateError>;

    /// The snapshot with any journal folded in and written (so a crashed apply's finished
    /// changes are kept); `None` when there is no state.
    ///
    /// # Errors
    ///
    /// As `read`, `write` and the journal calls.
    fn read_folded(&self, lease: Option<&Lease>) -> Result<Option<Snapshot>, StateError> {
        let snapshot = self.read()?;
        let entries = self.journal_read()?;
        if entries.is_empty() {
            return Ok(snapshot);
        }
        let mut folded = snapshot.clone().unwrap_or_default();
        folded.fold(&entries);
        folded.serial = snapshot.as_ref().map_or(1, |s| s.serial + 1);
        self.write(&folded, snapshot.as_ref().map(|s| s.serial), lease)?;
        self.journal_clear(lease)?;
        Ok(Some(folded))
    }
}
