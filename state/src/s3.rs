//! State in S3: `backend "s3" { bucket, key, region, endpoint, use_path_style, encrypt }`.
//!
//! ```text
//! KEY                          the snapshot; metadata: serial, lineage, generation, who, operation
//! KEY.infra-lock               the lease and its fencing generation (JSON)
//! KEY.infra-journal/<seq>      finished changes of a running (or crashed) apply, one object per append
//! ```
//!
//! Workspaces other than `default` live under `env:/NAME/KEY`, as with Terraform.
//!
//! Compare-and-swap is S3's conditional write: the snapshot is put with `If-Match` on the ETag
//! that was read (`If-None-Match: *` for the first one), and so is the lock object, so two runs
//! racing for an expired lease cannot both win. Fencing: a write under a lease checks that the
//! lease is still the current lock, and every snapshot carries the generation of the lease that
//! wrote it; a writer whose generation is older than the stored one is refused. In a versioned
//! bucket, object versions are the history (`infra state history`, `state pull -serial N`).
//!
//! The `Backend` trait is synchronous: calls run on the backend's own small runtime, on a
//! scoped thread, so they work from inside infra's runtime too.

use crate::backend::{
    Backend, HistoryEntry, JournalEntry, Lease, LockRequest, StateError, fence, nothing_deleted, rfc3339,
};
use crate::codec::Codec;
use crate::snapshot::Snapshot;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Versions looked at for history.
const HISTORY_KEPT: usize = 100;
/// Attempts at a contended lock object before reporting it held.
const LOCK_ATTEMPTS: usize = 20;

/// The `backend "s3"` arguments.
#[derive(Clone, Debug, Default)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// The snapshot's object key (`prod/infra.state`).
    pub key: String,
    /// The region (else `AWS_REGION` / the profile's).
    pub region: Option<String>,
    /// A custom endpoint (MinIO, moto, a VPC endpoint); else `AWS_ENDPOINT_URL_S3` /
    /// `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), for most S3-compatible servers.
    pub use_path_style: bool,
    /// Server-side encryption (`AES256`) of every object written.
    pub encrypt: bool,
    /// A named profile from the shared AWS config.
    pub profile: Option<String>,
    /// The prefix of non-default workspaces (`env:`).
    pub workspace_key_prefix: Option<String>,
}

/// The S3 backend.
pub struct S3Backend {
    client: Client,
    runtime: Option<tokio::runtime::Runtime>,
    bucket: String,
    state_key: String,
    lock_key: String,
    journal_prefix: String,
    encrypt: bool,
    codec: Codec,
    who: String,
    last_seq: AtomicU64,
}

/// The lock object.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct LockObject {
    lease: Option<Lease>,
    generation: u64,
}

/// An object read.
struct Object {
    bytes: Vec<u8>,
    etag: String,
    metadata: HashMap<String, String>,
}

/// One version of the snapshot object.
#[derive(Clone)]
struct Version {
    /// `None` or `"null"` in an unversioned bucket.
    id: Option<String>,
    metadata: HashMap<String, String>,
    /// RFC 3339.
    written: String,
}

/// What is known of the stored snapshot without reading it.
struct Head {
    etag: String,
    serial: Option<u64>,
    generation: u64,
}

/// Runs `work` on a thread of its own (see the module docs).
fn blocking<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

fn status<E, R: HttpStatus>(error: &SdkError<E, R>) -> Option<u16> {
    error.raw_response().map(HttpStatus::code)
}

/// The HTTP status of a raw response.
trait HttpStatus {
    fn code(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Whether a conditional write lost (412 Precondition Failed, or 409 for a concurrent one).
fn lost_race<E, R: HttpStatus>(error: &SdkError<E, R>) -> bool {
    matches!(status(error), Some(412 | 409))
}

fn ascii(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
}

impl S3Backend {
    /// Builds the client (credentials from the environment, profile or instance role, as the
    /// AWS CLI finds them). Nothing is called yet: a wrong bucket shows on first use.
    ///
    /// # Errors
    ///
    /// Missing bucket or key.
    pub fn connect(config: &S3Config, workspace: &str) -> Result<S3Backend, StateError> {
        let invalid = |reason: &str| StateError::Invalid { what: "backend \"s3\"".into(), reason: reason.into() };
        if config.bucket.is_empty() {
            return Err(invalid("`bucket` is required"));
        }
        if config.key.is_empty() || config.key.ends_with('/') {
            return Err(invalid("`key` is required and must name an object (`prod/infra.state`), not a folder"));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| StateError::Io { path: "s3 backend runtime".into(), source })?;
        let client = blocking(|| {
            runtime.block_on(async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(region) = &config.region {
                    loader = loader.region(aws_config::Region::new(region.clone()));
                }
                if let Some(profile) = &config.profile {
                    loader = loader.profile_name(profile);
                }
                let shared = loader.load().await;
                let mut builder = aws_sdk_s3::config::Builder::from(&shared).force_path_style(config.use_path_style);
                if shared.region().is_none() {
                    builder = builder.region(aws_config::Region::new("us-east-1"));
                }
                if let Some(endpoint) = &config.endpoint {
                    builder = builder.endpoint_url(endpoint);
                }
                Client::from_conf(builder.build())
            })
        });
        let state_key = if workspace == "default" {
            config.key.clone()
        } else {
            format!("{}/{workspace}/{}", config.workspace_key_prefix.as_deref().unwrap_or("env:"), config.key)
        };
        Ok(S3Backend {
            client,
            runtime: Some(runtime),
            bucket: config.bucket.clone(),
            lock_key: format!("{state_key}.infra-lock"),
            journal_prefix: format!("{state_key}.infra-journal/"),
            state_key,
            encrypt: config.encrypt,
            codec: Codec::plain(),
            who: ascii(&crate::backend::who()),
            last_seq: AtomicU64::new(0),
        })
    }

    /// Seals what it stores with `codec`.
    #[must_use]
    pub fn with_codec(mut self, codec: Codec) -> S3Backend {
        self.codec = codec;
        self
    }

    /// Runs S3 calls to completion.
    fn run<T: Send>(&self, work: impl std::future::Future<Output = T> + Send) -> T {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        blocking(|| runtime.block_on(work))
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn failed<E: std::error::Error + 'static, R: std::fmt::Debug + HttpStatus>(
        &self,
        key: &str,
        what: &str,
        error: SdkError<E, R>,
    ) -> StateError
    where
        SdkError<E, R>: ProvideErrorMetadata,
    {
        let hint = match (error.code(), status(&error)) {
            (Some("NoSuchBucket"), _) => format!("the bucket `{}` does not exist", self.bucket),
            (Some("AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch"), _) | (_, Some(403)) => {
                "access denied: check the credentials and the bucket policy".to_string()
            }
            (Some(code), _) => format!("{code}: {}", error.message().unwrap_or("")),
            (None, _) if matches!(error, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => {
                "the S3 endpoint cannot be reached".to_string()
            }
            _ => DisplayErrorContext(&error).to_string(),
        };
        StateError::Io { path: self.url(key), source: std::io::Error::other(format!("{what}: {hint}")) }
    }

    /// An object's bytes and ETag, `None` when it does not exist.
    fn get(&self, key: &str, version: Option<&str>) -> Result<Option<Object>, StateError> {
        self.run(async {
            let response = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .set_version_id(version.map(str::to_string))
                .send()
                .await;
            match response {
                Ok(output) => {
                    let etag = output.e_tag().unwrap_or_default().to_string();
                    let metadata = output.metadata().cloned().unwrap_or_default();
                    let bytes = output.body.collect().await.map_err(|e| StateError::Io {
                        path: self.url(key),
                        source: std::io::Error::other(format!("reading the object: {e}")),
                    })?;
                    Ok(Some(Object { bytes: bytes.into_bytes().to_vec(), etag, metadata }))
                }
                Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
                Err(error) if status(&error) == Some(404) && error.code() != Some("NoSuchBucket") => Ok(None),
                Err(error) => Err(self.failed(key, "GetObject", error)),
            }
        })
    }

    /// The stored snapshot's ETag, serial and writer generation (HEAD).
    fn head(&self) -> Result<Option<Head>, StateError> {
        let head = self.run(async { self.client.head_object().bucket(&self.bucket).key(&self.state_key).send().await });
        match head {
            Ok(output) => {
                let metadata = output.metadata().cloned().unwrap_or_default();
                let etag = output.e_tag().unwrap_or_default().to_string();
                let serial = metadata.get("serial").and_then(|s| s.parse().ok());
                let generation = metadata.get("generation").and_then(|s| s.parse().ok()).unwrap_or(0);
                let serial = match serial {
                    Some(serial) => Some(serial),
                    None => self.read()?.map(|s| s.serial),
                };
                Ok(Some(Head { etag, serial, generation }))
            }
            Err(error) if status(&error) == Some(404) => Ok(None),
            Err(error) => Err(self.failed(&self.state_key, "HeadObject", error)),
        }
    }

    fn place(&self, serial: Option<&String>) -> String {
        match serial {
            Some(serial) => format!("the s3 state {} (serial {serial})", self.url(&self.state_key)),
            None => format!("the s3 state {}", self.url(&self.state_key)),
        }
    }

    fn parse(&self, bytes: Vec<u8>, metadata: &HashMap<String, String>) -> Result<Snapshot, StateError> {
        let place = self.place(metadata.get("serial"));
        if bytes.is_empty() {
            return Err(StateError::Corrupt { path: place, reason: "the object is empty".into() });
        }
        self.codec.decode(bytes, &place, "; earlier versions are kept in a versioned bucket: `infra state history`")
    }

    /// The lock object and its ETag.
    fn read_lock(&self) -> Result<(LockObject, Option<String>), StateError> {
        match self.get(&self.lock_key, None)? {
            None => Ok((LockObject::default(), None)),
            Some(Object { bytes, etag, .. }) => {
                let lock = serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
                    path: format!("the s3 lock {}", self.url(&self.lock_key)),
                    reason: e.to_string(),
                })?;
                Ok((lock, Some(etag)))
            }
        }
    }

    /// Writes the lock object if it is still the version read; `Ok(false)` when it changed.
    fn put_lock(&self, lock: &LockObject, etag: Option<&str>) -> Result<bool, StateError> {
        let body =
            serde_json::to_vec(lock).map_err(|e| StateError::Corrupt { path: "lock".into(), reason: e.to_string() })?;
        let result = self.run(async {
            let mut put =
                self.client.put_object().bucket(&self.bucket).key(&self.lock_key).body(ByteStream::from(body));
            put = match etag {
                Some(etag) => put.if_match(etag),
                None => put.if_none_match("*"),
            };
            if self.encrypt {
                put = put.server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256);
            }
            put.send().await
        });
        match result {
            Ok(_) => Ok(true),
            Err(error) if lost_race(&error) => Ok(false),
            Err(error) => Err(self.failed(&self.lock_key, "PutObject", error)),
        }
    }

    /// Changes the lock object with `change` until the conditional write wins.
    fn update_lock<T>(
        &self,
        mut change: impl FnMut(&mut LockObject) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        for attempt in 0..LOCK_ATTEMPTS {
            let (mut lock, etag) = self.read_lock()?;
            let value = change(&mut lock)?;
            if self.put_lock(&lock, etag.as_deref())? {
                return Ok(value);
            }
            std::thread::sleep(Duration::from_millis(20 * (attempt as u64 + 1)));
        }
        let (lock, _) = self.read_lock()?;
        match lock.lease {
            Some(lease) => Err(StateError::Locked(Box::new(lease))),
            None => Err(StateError::Io {
                path: self.url(&self.lock_key),
                source: std::io::Error::other("the lock object keeps changing; try again"),
            }),
        }
    }

    fn check_lease(&self, lease: Option<&Lease>) -> Result<(), StateError> {
        if lease.is_none() {
            return Ok(());
        }
        let (lock, _) = self.read_lock()?;
        fence(lease, lock.lease.as_ref())
    }

    fn journal_keys(&self) -> Result<Vec<String>, StateError> {
        self.run(async {
            let mut keys = Vec::new();
            let mut pages =
                self.client.list_objects_v2().bucket(&self.bucket).prefix(&self.journal_prefix).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.failed(&self.journal_prefix, "ListObjectsV2", e))?;
                keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            }
            keys.sort();
            Ok(keys)
        })
    }

    /// Versions of the snapshot object, newest first: (version id, metadata).
    fn versions(&self) -> Result<Vec<Version>, StateError> {
        self.run(async {
            let listed = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(&self.state_key)
                .max_keys(HISTORY_KEPT as i32 + 10)
                .send()
                .await
                .map_err(|e| self.failed(&self.state_key, "ListObjectVersions", e))?;
            let mut versions = Vec::new();
            for version in
                listed.versions().iter().filter(|v| v.key() == Some(self.state_key.as_str())).take(HISTORY_KEPT)
            {
                let id = version.version_id().map(str::to_string);
                let head = self
                    .client
                    .head_object()
                    .bucket(&self.bucket)
                    .key(&self.state_key)
                    .set_version_id(id.clone().filter(|id| id != "null"))
                    .send()
                    .await
                    .map_err(|e| self.failed(&self.state_key, "HeadObject", e))?;
                let written =
                    version.last_modified().and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
                versions.push(Version {
                    id,
                    metadata: head.metadata().cloned().unwrap_or_default(),
                    written: written.map(rfc3339).unwrap_or_default(),
                });
            }
            Ok(versions)
        })
    }
}

impl Drop for S3Backend {
    fn drop(&mut self) {
        // A runtime may not be dropped on a thread inside another runtime.
        let runtime = self.runtime.take();
        blocking(move || drop(runtime));
    }
}

impl Backend for S3Backend {
    fn read(&self) -> Result<Option<Snapshot>, StateError> {
        match self.get(&self.state_key, None)? {
            None => Ok(None),
            Some(object) => self.parse(object.bytes, &object.metadata).map(Some),
        }
    }

    fn read_raw(&self) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.get(&self.state_key, None)?.map(|object| object.bytes))
    }

    fn write(
        &self,
        snapshot: &Snapshot,
        expected_serial: Option<u64>,
        lease: Option<&Lease>,
    ) -> Result<(), StateError> {
        let body = self.codec.encode(snapshot)?;
        self.check_lease(lease)?;
        let head = self.head()?;
        if let (Some(lease), Some(head)) = (lease, &head)
            && head.generation > lease.generation
        {
            return Err(StateError::LostLock {
                holder: format!("a newer lock holder (generation {})", head.generation),
            });
        }
        let found = head.as_ref().and_then(|h| h.serial);
        if found != expected_serial {
            return Err(StateError::Conflict { expected: expected_serial.unwrap_or(0), found: found.unwrap_or(0) });
        }
        let generation = lease.map_or_else(|| head.as_ref().map_or(0, |h| h.generation), |l| l.generation);
        let result = self.run(async {
            let mut put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.state_key)
                .content_type("application/json")
                .metadata("serial", snapshot.serial.to_string())
                .metadata("lineage", ascii(&snapshot.lineage))
                .metadata("generation", generation.to_string())
                .metadata("who", self.who.clone())
                .metadata("operation", ascii(&lease.map(|l| l.operation.clone()).unwrap_or_default()))
                .metadata("resources", snapshot.resources.len().to_string())
                .body(ByteStream::from(body));
            put = match &head {
                Some(head) => put.if_match(&head.etag),
                None => put.if_none_match("*"),
            };
            if self.encrypt {
                put = put.server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256);
            }
            put.send().await
        });
        match result {
            Ok(_) => Ok(()),
            Err(error) if lost_race(&error) => {
                let found = self.head()?.and_then(|h| h.serial).unwrap_or(0);
                Err(StateError::Conflict { expected: expected_serial.unwrap_or(0), found })
            }
            Err(error) => Err(self.failed(&self.state_key, "PutObject", error)),
        }
    }

    fn lock(&self, request: &LockRequest) -> Result<Lease, StateError> {
        self.update_lock(|lock| {
            let lease = Lease::grant(request, lock.lease.as_ref(), lock.generation + 1)?;
            lock.generation = lease.generation;
            lock.lease = Some(lease.clone());
            Ok(lease)
        })
    }

    fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease, StateError> {
        self.update_lock(|lock| {
            fence(Some(lease), lock.lease.as_ref())?;
            let renewed = lease.renewed(ttl);
            lock.lease = Some(renewed.clone());
            Ok(renewed)
        })
    }

    fn unlock(&self, lease: &Lease) -> Result<(), StateError> {
        self.update_lock(|lock| {
            if lock.lease.as_ref().is_some_and(|current| current.id == lease.id) {
                lock.lease = None;
            }
            Ok(())
        })
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.update_lock(|lock| match &lock.lease {
            Some(current) if current.id == id => {
                lock.lease = None;
                Ok(())
            }
            _ => Err(StateError::NoSuchLock(id.to_string())),
        })
    }

    fn current_lock(&self) -> Result<Option<Lease>, StateError> {
        Ok(self.read_lock()?.0.lease)
    }

    fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        Ok(self
            .versions()?
            .into_iter()
            .filter_map(|Version { metadata, written, .. }| {
                Some(HistoryEntry {
                    serial: metadata.get("serial")?.parse().ok()?,
                    lineage: metadata.get("lineage").cloned().unwrap_or_default(),
                    written,
                    resources: metadata.get("resources").and_then(|r| r.parse().ok()).unwrap_or(0),
                    who: metadata.get("who").cloned().unwrap_or_default(),
                    operation: metadata.get("operation").cloned().unwrap_or_default(),
                })
            })
            .collect())
    }

    fn stored_serial(&self) -> Result<Option<u64>, StateError> {
        Ok(self.head()?.and_then(|head| head.serial))
    }

    fn read_version(&self, serial: u64, lineage: Option<&str>) -> Result<Option<Snapshot>, StateError> {
        let wanted = serial.to_string();
        // Versions come newest first: of the asked lineage, else the current (newest) one's.
        let versions = self.versions()?;
        let lineage =
            lineage.map(str::to_string).or_else(|| versions.first().and_then(|v| v.metadata.get("lineage").cloned()));
        let matching = |v: &&Version| v.metadata.get("serial") == Some(&wanted);
        let Some(version) = versions
            .iter()
            .filter(matching)
            .find(|v| lineage.is_none() || v.metadata.get("lineage") == lineage.as_ref())
            .or_else(|| versions.iter().find(matching))
            .cloned()
        else {
            return Ok(None);
        };
        let id = version.id.filter(|id| id != "null");
        match self.get(&self.state_key, id.as_deref())? {
            None => Ok(None),
            Some(object) => self.parse(object.bytes, &object.metadata).map(Some),
        }
    }

    fn journal_append(&self, entries: &[JournalEntry], lease: Option<&Lease>) -> Result<(), StateError> {
        if entries.is_empty() {
            return Ok(());
        }
        let body = self.codec.encode_lines(entries)?;
        self.check_lease(lease)?;
        // Keys sort in append order: a microsecond clock, strictly increasing in this process.
        let clock = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(0);
        let mut last = self.last_seq.load(Ordering::SeqCst);
        let seq = loop {
            let next = clock.max(last + 1);
            match self.last_seq.compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => break next,
                Err(seen) => last = seen,
            }
        };
        let generation = lease.map_or(0, |l| l.generation);
        let key = format!("{}{generation:012}-{seq:020}", self.journal_prefix);
        let result = self.run(async {
            let mut put = self.client.put_object().bucket(&self.bucket).key(&key).body(ByteStream::from(body));
            if self.encrypt {
                put = put.server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256);
            }
            put.send().await
        });
        result.map(|_| ()).map_err(|error| self.failed(&key, "PutObject", error))
    }

    fn journal_read(&self) -> Result<Vec<JournalEntry>, StateError> {
        let mut entries = Vec::new();
        for key in self.journal_keys()? {
            let Some(object) = self.get(&key, None)? else { continue };
            // An object is written whole or not at all: no record in it may be torn.
            let lines: Vec<&[u8]> = object.bytes.split(|b| *b == b'\n').filter(|line| !line.is_empty()).collect();
            for (index, line) in lines.iter().enumerate() {
                let place = format!("the s3 journal {}, record {} of {}", self.url(&key), index + 1, lines.len());
                entries.push(self.codec.decode_record(line, &place).map_err(nothing_deleted)?);
            }
        }
        Ok(entries)
    }

    fn journal_clear(&self, lease: Option<&Lease>) -> Result<(), StateError> {
        self.check_lease(lease)?;
        for key in self.journal_keys()? {
            self.run(async { self.client.delete_object().bucket(&self.bucket).key(&key).send().await })
                .map_err(|error| self.failed(&key, "DeleteObject", error))?;
        }
        Ok(())
    }
}
