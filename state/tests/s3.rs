//! The S3 backend against moto's S3 (`tests/support/moto_server.rs`), in a versioned bucket of
//! its own per test, so tests run in parallel.

use infra_state::s3::{S3Backend, S3Config};
use infra_state::{Backend, Codec, LockRequest, Snapshot, StateError};
use std::time::Duration;

#[path = "../../tests/support/moto_server.rs"]
mod moto_server;

use moto_server::{block_on as block, bucket, s3_client as client};

fn config(bucket: &str) -> S3Config {
    S3Config {
        bucket: bucket.into(),
        key: "team/infra.state".into(),
        region: Some("us-east-1".into()),
        endpoint: Some(moto_server::moto().endpoint.clone()),
        use_path_style: true,
        ..S3Config::default()
    }
}

fn set_credentials() {
    // SAFETY: set before any backend reads them; every test sets the same values.
    unsafe {
        for (name, value) in moto_server::aws_env(&moto_server::moto().endpoint) {
            std::env::set_var(name, value);
        }
    }
}

struct Bucket(String);

impl Bucket {
    fn key(workspace: &str) -> String {
        format!("env:/{workspace}/team/infra.state")
    }
}

impl infra_state::testing::Harness for Bucket {
    fn open(&self, workspace: &str, codec: Codec) -> Box<dyn Backend> {
        Box::new(S3Backend::connect(&config(&self.0), workspace).expect("connect").with_codec(codec))
    }
    fn raw(&self, workspace: &str) -> Vec<u8> {
        block(async {
            let object = client().get_object().bucket(&self.0).key(Bucket::key(workspace)).send().await.expect("get");
            object.body.collect().await.expect("body").into_bytes().to_vec()
        })
    }
    fn corrupt(&self, workspace: &str, bytes: &[u8]) {
        block(async {
            let s3 = client();
            let head = s3.head_object().bucket(&self.0).key(Bucket::key(workspace)).send().await.expect("head");
            s3.put_object()
                .bucket(&self.0)
                .key(Bucket::key(workspace))
                .set_metadata(head.metadata().cloned())
                .body(bytes.to_vec().into())
                .send()
                .await
                .expect("corrupt");
        });
    }
    fn corrupt_journal_record(&self, workspace: &str, index: usize) {
        block(async {
            let s3 = client();
            let prefix = format!("{}.infra-journal/", Bucket::key(workspace));
            let listed = s3.list_objects_v2().bucket(&self.0).prefix(&prefix).send().await.expect("list journal");
            let mut keys: Vec<String> = listed.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
            keys.sort();
            let key = &keys[index];
            let object = s3.get_object().bucket(&self.0).key(key).send().await.expect("get record");
            let mut bytes = object.body.collect().await.expect("body").into_bytes().to_vec();
            let end = bytes.len() - 1;
            infra_state::testing::flip_a_byte(&mut bytes[..end]);
            s3.put_object().bucket(&self.0).key(key).body(bytes.into()).send().await.expect("corrupt journal");
        });
    }
}

#[test]
fn s3_backend_passes_the_conformance_suite() {
    set_credentials();
    infra_state::testing::conformance(&Bucket(bucket("conformance", true)));
}

#[test]
fn racing_writers_of_one_serial_cannot_both_win() {
    set_credentials();
    let bucket = bucket("race", false);
    let backend = S3Backend::connect(&config(&bucket), "default").expect("connect");
    let mut snapshot = Snapshot::new();
    snapshot.serial = 1;
    backend.write(&snapshot, None, None).expect("first");
    let results: Vec<Result<(), StateError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|n| {
                let bucket = &bucket;
                let mut next = snapshot.clone();
                scope.spawn(move || {
                    next.serial = 2;
                    next.outputs.insert(
                        format!("o{n}"),
                        infra_state::OutputState { value: serde_json::json!(n), sensitive: false, value_type: None },
                    );
                    S3Backend::connect(&config(bucket), "default").expect("connect").write(&next, Some(1), None)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "exactly one conditional write wins: {results:?}");
    assert!(results.iter().all(|r| r.is_ok() || matches!(r, Err(StateError::Conflict { .. }))), "{results:?}");
}

#[test]
fn racing_lockers_get_one_lease() {
    set_credentials();
    let bucket = bucket("locks", false);
    let leases: Vec<Result<infra_state::Lease, StateError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|n| {
                let bucket = &bucket;
                scope.spawn(move || {
                    let request = LockRequest {
                        holder: format!("runner{n}@ci (pid {n})"),
                        operation: "apply".into(),
                        ttl: Duration::from_secs(60),
                        process: None,
                    };
                    S3Backend::connect(&config(bucket), "default").expect("connect").lock(&request)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(leases.iter().filter(|l| l.is_ok()).count(), 1, "one holder: {leases:?}");
    assert!(leases.iter().all(|l| l.is_ok() || matches!(l, Err(StateError::Locked(_)))), "{leases:?}");
}

#[test]
fn an_unversioned_bucket_keeps_only_the_current_version() {
    set_credentials();
    let bucket = bucket("plain", false);
    let backend = S3Backend::connect(&config(&bucket), "default").expect("connect");
    let mut snapshot = Snapshot::new();
    snapshot.serial = 1;
    backend.write(&snapshot, None, None).expect("1");
    snapshot.serial = 2;
    backend.write(&snapshot, Some(1), None).expect("2");
    let history = backend.history().expect("history");
    assert_eq!(history.iter().map(|h| h.serial).collect::<Vec<_>>(), [2]);
    assert!(backend.read_version(1, None).expect("read").is_none());
}

#[test]
fn a_missing_bucket_is_a_clear_error() {
    set_credentials();
    let backend = S3Backend::connect(&config("no-such-bucket-here"), "default").expect("connect");
    let error = backend.read().expect_err("no bucket");
    assert!(error.to_string().contains("no-such-bucket-here"), "{error}");
    assert!(error.to_string().contains("does not exist"), "{error}");
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error() {
    set_credentials();
    let mut config = config("any");
    config.endpoint = Some(format!("http://127.0.0.1:{}", moto_server::free_port()));
    let backend = S3Backend::connect(&config, "default").expect("connect");
    let error = backend.read().expect_err("unreachable");
    assert!(error.to_string().contains("cannot be reached"), "{error}");
}
