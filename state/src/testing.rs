//! The conformance suite every [`Backend`] runs: compare-and-swap, leases, expiry takeover,
//! fencing, journal folding, history.

use crate::backend::{Backend, JournalEntry, LockRequest, StateError};
use crate::snapshot::{ResourceState, Snapshot};
use std::time::Duration;

fn resource(value: &str) -> ResourceState {
    ResourceState {
        mode: "managed".into(),
        kind: "terraform_data".into(),
        provider: "builtin".into(),
        schema_version: 0,
        attributes: serde_json::json!({ "input": value }),
        sensitive_attributes: Vec::new(),
        dependencies: Vec::new(),
        create_before_destroy: false,
    }
}

fn request(holder: &str, ttl: Duration) -> LockRequest {
    LockRequest { holder: holder.into(), operation: "apply".into(), ttl }
}

/// Runs every check against fresh backends made by `make(workspace)`; panics with the failing
/// check's name.
pub fn conformance(make: impl Fn(&str) -> Box<dyn Backend>) {
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
    assert_eq!(history.first().map(|h| h.serial), Some(1), "history holds serial 1");
    assert_eq!(backend.read_version(1).expect("read version").map(|s| s.serial), Some(1));

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
}
