//! The conformance suite every [`Backend`] runs: compare-and-swap, leases, expiry takeover,
//! fencing, journal folding, history, encryption round-trip, corrupted and truncated state.

use crate::backend::{Backend, JournalEntry, LockRequest, Process, StateError};
use crate::codec::Codec;
use crate::snapshot::{ResourceState, Snapshot};
use std::time::Duration;

fn resource(value: &str) -> ResourceState {
    ResourceState {
        plugin: None,
        mode: "managed".into(),
        kind: "terraform_data".into(),
        provider: "builtin".into(),
        schema_version: 0,
        attributes: serde_json::json!({ "input": value }),
        sensitive_attributes: Vec::new(),
        dependencies: Vec::new(),
        create_before_destroy: false,
        private: None,
    }
}

fn request(holder: &str, ttl: Duration) -> LockRequest {
    LockRequest { holder: holder.into(), operation: "apply".into(), ttl, process: None }
}

/// What the suite needs of a backend under test.
pub trait Harness {
    /// A backend for a fresh `workspace` (each check uses its own), sealing with `codec`.
    fn open(&self, workspace: &str, codec: Codec) -> Box<dyn Backend>;
    /// The stored bytes of the workspace's current snapshot, as the storage holds them.
    fn raw(&self, workspace: &str) -> Vec<u8>;
    /// Replaces the current snapshot's stored bytes (keeping whatever records its serial), as a
    /// torn or hand-edited write would.
    fn corrupt(&self, workspace: &str, bytes: &[u8]);
    /// Flips one byte inside the `index`th journal record (0-based, in append order), as a
    /// disk or a hand edit would.
    fn corrupt_journal_record(&self, workspace: &str, index: usize);
}

/// Flips a byte near the middle of `record` (which stays one line).
pub fn flip_a_byte(record: &mut [u8]) {
    let middle = record.len() / 2;
    record[middle] = if record[middle] == b'7' { b'8' } else { b'7' };
}

/// Runs every check against `harness`; panics with the failing check's name.
pub fn conformance(harness: &impl Harness) {
    let make = |workspace: &str| harness.open(workspace, Codec::plain());
    // Compare-and-swap on the serial.
    let backend = make("cas");
    assert!(backend.read().expect("read").is_none(), "a new backend holds no state");
    let mut snapshot = Snapshot::new();
    snapshot.serial = 1;
    snapshot.resources.insert("terraform_data.a".into(), resource("a"));
    backend.write(&snapshot, None, None).expect("first write");
    assert_eq!(backend.read().expect("read").as_ref(), Some(&snapshot), "reads what was written");
    let mut next = snapshot.clone();
    next.serial = 2;
    assert!(
        matches!(backend.write(&next, None, None), Err(StateError::Conflict { .. })),
        "a write expecting no state conflicts"
    );
    assert!(
        matches!(backend.write(&next, Some(7), None), Err(StateError::Conflict { .. })),
        "a stale serial conflicts"
    );
    backend.write(&next, Some(1), None).expect("write with the right serial");
    // History keeps the previous version.
    let history = backend.history().expect("history");
    assert_eq!(history.iter().map(|h| h.serial).collect::<Vec<_>>(), [2, 1], "history holds serials 2 and 1");
    assert_eq!(backend.read_version(1, None).expect("read version").map(|s| s.serial), Some(1));

    // Leases: exclusive, with the holder in the error.
    let backend = make("lease");
    let lease = backend.lock(&request("ann@laptop (pid 1)", Duration::from_secs(60))).expect("lock");
    match backend.lock(&request("bob@laptop (pid 2)", Duration::from_secs(60))) {
        Err(StateError::Locked(holder)) => {
            assert_eq!(holder.holder, "ann@laptop (pid 1)");
            assert_eq!(holder.operation, "apply");
        }
        other => panic!("a held lock must refuse a second holder, got {other:?}"),
    }
    let renewed = backend.renew(&lease, Duration::from_secs(60)).expect("renew");
    assert_eq!(renewed.generation, lease.generation);
    assert!(matches!(backend.force_unlock("not-the-id"), Err(StateError::NoSuchLock(_))));
    backend.force_unlock(&lease.id).expect("force-unlock by id");
    assert!(backend.current_lock().expect("current").is_none());

    // A holder on this machine whose process is gone: taken over at once, long before its
    // lease expires (issue 15); a live one is not.
    let backend = make("dead-holder");
    let mut alive = Process::current().expect("this process, from /proc");
    let live = LockRequest { process: Some(alive.clone()), ..request("ann@here (pid 1)", Duration::from_secs(3600)) };
    backend.lock(&live).expect("lock");
    assert!(
        matches!(backend.lock(&request("bob@here (pid 2)", Duration::from_secs(60))), Err(StateError::Locked(_))),
        "a live holder keeps its lock"
    );
    let lease = backend.current_lock().expect("current").expect("held");
    backend.force_unlock(&lease.id).expect("unlock");
    alive.started += 1; // the same pid, started at another time: another process, so this one is gone
    let dead = LockRequest { process: Some(alive), ..request("ann@here (pid 1)", Duration::from_secs(3600)) };
    let old = backend.lock(&dead).expect("lock");
    let new =
        backend.lock(&request("bob@here (pid 2)", Duration::from_secs(60))).expect("a dead holder's lock is taken");
    assert!(new.generation > old.generation, "a takeover fences the dead holder");
    assert!(new.took_over_from.as_deref().is_some_and(|from| from.contains("gone")), "{:?}", new.took_over_from);
    backend.unlock(&new).expect("unlock");

    // Expiry: taken over without force-unlock; the old holder is fenced off.
    let backend = make("expiry");
    let old = backend.lock(&request("ann@laptop (pid 1)", Duration::from_millis(1))).expect("lock");
    std::thread::sleep(Duration::from_millis(20));
    let new =
        backend.lock(&request("bob@laptop (pid 2)", Duration::from_secs(60))).expect("an expired lease is taken over");
    assert!(new.generation > old.generation, "the fencing generation grows");
    assert!(
        new.took_over_from.as_deref().is_some_and(|from| from.contains("ann@laptop")),
        "the takeover names the old holder"
    );
    let mut snapshot = Snapshot::new();
    snapshot.serial = 1;
    assert!(
        matches!(backend.write(&snapshot, None, Some(&old)), Err(StateError::LostLock { .. })),
        "an expired holder cannot write"
    );
    assert!(matches!(backend.renew(&old, Duration::from_secs(1)), Err(StateError::LostLock { .. })));
    backend.write(&snapshot, None, Some(&new)).expect("the new holder writes");
    backend.unlock(&old).expect("unlocking a lost lease is harmless");
    assert_eq!(backend.current_lock().expect("current").map(|l| l.id), Some(new.id.clone()));
    backend.unlock(&new).expect("unlock");

    // Journal: appended changes fold into the next snapshot.
    let backend = make("journal");
    let mut snapshot = Snapshot::new();
    snapshot.serial = 3;
    snapshot.resources.insert("terraform_data.gone".into(), resource("x"));
    backend.write(&snapshot, None, None).expect("write");
    backend
        .journal_append(
            &[
                JournalEntry::Set { address: "terraform_data.a".into(), resource: Box::new(resource("a")) },
                JournalEntry::Remove { address: "terraform_data.gone".into() },
            ],
            None,
        )
        .expect("append");
    backend
        .journal_append(
            &[JournalEntry::Set { address: "terraform_data.b".into(), resource: Box::new(resource("b")) }],
            None,
        )
        .expect("append");
    assert_eq!(backend.journal_read().expect("journal").len(), 3);
    let folded = backend.read_folded(None).expect("fold").expect("state");
    assert_eq!(folded.serial, 4, "folding writes a new serial");
    assert_eq!(folded.resources.keys().collect::<Vec<_>>(), ["terraform_data.a", "terraform_data.b"]);
    assert!(backend.journal_read().expect("journal").is_empty(), "the journal is cleared after folding");
    assert_eq!(backend.read().expect("read").map(|s| s.serial), Some(4));

    // History: the current version first, with who wrote it.
    let backend = make("history");
    let mut snapshot = Snapshot::new();
    for serial in 1..=3 {
        snapshot.serial = serial;
        snapshot.resources.insert(format!("terraform_data.r{serial}"), resource("x"));
        backend.write(&snapshot, (serial > 1).then(|| serial - 1), None).expect("write");
    }
    let history = backend.history().expect("history");
    assert_eq!(history.iter().map(|h| h.serial).collect::<Vec<_>>(), [3, 2, 1], "history, newest first");
    assert_eq!(history.iter().map(|h| h.resources).collect::<Vec<_>>(), [3, 2, 1], "resource counts");
    assert!(history.iter().all(|h| h.who.contains('@') && !h.written.is_empty()), "who and when: {history:?}");
    assert_eq!(backend.read_version(2, None).expect("version 2").map(|s| s.resources.len()), Some(2));
    assert!(backend.read_version(9, None).expect("version 9").is_none(), "an unknown serial is None");

    // Corruption: a clear error naming the backend and serial, never a silent empty state.
    let backend = make("corrupt");
    let mut snapshot = Snapshot::new();
    snapshot.serial = 4;
    backend.write(&snapshot, None, None).expect("write 4");
    snapshot.serial = 5;
    snapshot.resources.insert("terraform_data.a".into(), resource("a"));
    backend.write(&snapshot, Some(4), None).expect("write 5");
    let whole = harness.raw("corrupt");
    harness.corrupt("corrupt", &whole[..whole.len() / 2]);
    match backend.read() {
        Err(error @ StateError::Corrupt { .. }) => {
            let text = error.to_string();
            assert!(text.contains("serial 5"), "the error names the serial: {text}");
            assert!(text.contains("history"), "the error says where earlier versions are: {text}");
        }
        other => panic!("a truncated state must be an error, got {other:?}"),
    }
    harness.corrupt("corrupt", b"");
    assert!(matches!(backend.read(), Err(StateError::Corrupt { .. })), "an empty state is an error, not no state");
    assert_eq!(backend.read_version(4, None).expect("an earlier version survives").map(|s| s.serial), Some(4));
    // Recovery works on the corrupt state (issue 15): history lists the kept versions, and an
    // earlier version is written over it with compare-and-swap.
    let history = backend.history().expect("history of a corrupt state");
    assert!(history.iter().any(|h| h.serial == 4 && h.lineage == snapshot.lineage), "{history:?}");
    let stored = backend.stored_serial().expect("the serial of a corrupt state").expect("a state is stored");
    let mut earlier = backend.read_version(4, None).expect("read 4").expect("version 4");
    earlier.serial = stored + 1;
    backend.write(&earlier, Some(stored), None).expect("an earlier version written over the corrupt one");
    assert_eq!(backend.read().expect("readable again").map(|s| s.serial), Some(stored + 1));

    // A journal record that does not check out is an error naming it, never a truncation;
    // nothing is folded and nothing is deleted (issue 15).
    let backend = make("journal-corrupt");
    let mut snapshot = Snapshot::new();
    snapshot.serial = 1;
    backend.write(&snapshot, None, None).expect("write");
    for name in ["a", "b", "c"] {
        let entry = JournalEntry::Set { address: format!("terraform_data.{name}"), resource: Box::new(resource(name)) };
        backend.journal_append(&[entry], None).expect("append");
    }
    harness.corrupt_journal_record("journal-corrupt", 1);
    for attempt in ["read", "read again"] {
        match backend.journal_read() {
            Err(error @ StateError::Corrupt { .. }) => {
                let text = error.to_string();
                assert!(text.contains("record"), "{attempt}: the error names the record: {text}");
                assert!(text.contains("journal-corrupt") || text.contains("journal"), "{text}");
            }
            other => panic!("{attempt}: a corrupt middle record must be an error, got {other:?}"),
        }
    }
    assert!(backend.read_folded(None).is_err(), "folding stops at a corrupt record");
    assert_eq!(backend.read().expect("read").map(|s| s.serial), Some(1), "nothing was written");
    assert!(backend.journal_read().is_err(), "the journal is still there");

    // With a key, a plain record is refused: whoever wrote it had no key (issue 15).
    let plain = make("plain-then-key");
    let mut snapshot = Snapshot::new();
    snapshot.serial = 1;
    plain.write(&snapshot, None, None).expect("plain write");
    let keyed = harness.open("plain-then-key", Codec::encrypted("correct horse battery staple").expect("key"));
    assert!(matches!(keyed.read(), Err(StateError::Encryption { .. })), "a plain state is refused with a key");
    let migrating =
        harness.open("plain-then-key", Codec::encrypted("correct horse battery staple").expect("key").allowing_plain());
    assert_eq!(migrating.read().expect("read while migrating").map(|s| s.serial), Some(1));

    // Encryption: sealed at rest, read back with the key, refused without it or with another.
    let key = "correct horse battery staple";
    let backend = harness.open("sealed", Codec::encrypted(key).expect("key"));
    let mut snapshot = Snapshot::new();
    snapshot.serial = 1;
    snapshot.resources.insert("random_password.db".into(), resource("hunter2-secret"));
    backend.write(&snapshot, None, None).expect("sealed write");
    assert_eq!(backend.read().expect("sealed read").as_ref(), Some(&snapshot), "round trip");
    let stored = String::from_utf8_lossy(&harness.raw("sealed")).into_owned();
    assert!(
        !stored.contains("hunter2-secret") && !stored.contains("random_password"),
        "nothing in the clear: {stored}"
    );
    backend
        .journal_append(
            &[JournalEntry::Set {
                address: "terraform_data.j".into(),
                resource: Box::new(resource("hunter2-journal")),
            }],
            None,
        )
        .expect("sealed append");
    assert_eq!(backend.journal_read().expect("sealed journal").len(), 1);
    let wrong = harness.open("sealed", Codec::encrypted("incorrect horse battery staple").expect("key"));
    match wrong.read() {
        Err(error @ StateError::Encryption { .. }) => assert!(error.to_string().contains("wrong key"), "{error}"),
        other => panic!("a wrong key must be an error, got {other:?}"),
    }
    assert!(matches!(wrong.journal_read(), Err(StateError::Encryption { .. })), "the journal needs the key too");
    assert!(matches!(make("sealed").read(), Err(StateError::Encryption { .. })), "no key is an error");
    let folded = backend.read_folded(None).expect("fold sealed").expect("state");
    assert_eq!(folded.serial, 2);
    assert!(!String::from_utf8_lossy(&harness.raw("sealed")).contains("hunter2"), "folded state sealed too");
}
