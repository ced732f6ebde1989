//! State in PostgreSQL: `backend "pg" { conn_str = "postgres://…", schema_name = "infra" }`.
//!
//! Tables (created on first use, in `schema_name`): `states` keeps every written version as a
//! row (workspace, serial, lineage, checksum, who, when, operation, content) — reads take the
//! newest, history is the older rows; `locks` holds one lease row per workspace with its fencing
//! generation; `journal` holds the entries of an apply in progress, so a killed apply on one
//! laptop is folded in by a teammate's next run. Every write is one transaction that locks the
//! workspace's lease row, checks the fence and the expected serial, and inserts the new version
//! (the primary key makes a concurrent writer of the same serial fail: compare-and-swap).
//!
//! Calls are synchronous (the `Backend` trait is): the `postgres` client runs its own small
//! runtime, and calls made from inside infra's runtime step out of it with `block_in_place`.

use crate::backend::{
    Backend, HistoryEntry, JournalEntry, Lease, LockRequest, StateError, fence, nothing_deleted, rfc3339,
};
use crate::codec::Codec;
use crate::snapshot::Snapshot;
use postgres::{Client, NoTls};
use std::sync::Mutex;
use std::time::Duration;

/// Versions kept for history.
const HISTORY_KEPT: i64 = 100;

/// The PostgreSQL backend.
pub struct PgBackend {
    client: Mutex<Option<Client>>,
    schema: String,
    workspace: String,
    /// Who writes (for history rows): `user@host`.
    who: String,
    codec: Codec,
}

fn failed(what: &str) -> impl FnOnce(postgres::Error) -> StateError + '_ {
    move |error| StateError::Io {
        path: format!("postgres: {what}"),
        source: std::io::Error::other(
            error.as_db_error().map_or_else(|| error.to_string(), |db| db.message().to_string()),
        ),
    }
}

/// Runs database work on a thread of its own: the `postgres` client drives a small runtime of
/// its own, which may not be started from a thread that is inside infra's runtime.
/// The SHA-256 of a row's content in hex, as the `checksum` column holds it.
fn sha256_hex(content: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(content.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn blocking<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

fn quote_ident(name: &str) -> Result<String, StateError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StateError::Invalid {
            what: "backend \"pg\"".into(),
            reason: format!("`schema_name` must be letters, digits and underscores, not `{name}`"),
        });
    }
    Ok(format!("\"{name}\""))
}

impl PgBackend {
    /// Connects and creates the tables when missing.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached or refuses the credentials (the message never
    /// contains the connection string's password).
    pub fn connect(conn_str: &str, schema: &str, workspace: &str) -> Result<PgBackend, StateError> {
        let schema = quote_ident(schema)?;
        let client = blocking(|| Client::connect(conn_str, NoTls)).map_err(failed("connect"))?;
        let backend = PgBackend {
            client: Mutex::new(Some(client)),
            schema,
            workspace: workspace.to_string(),
            who: crate::backend::who(),
            codec: Codec::plain(),
        };
        let s = &backend.schema;
        backend.with(|client| {
            client
                .batch_execute(&format!(
                    "BEGIN;
                 SELECT pg_advisory_xact_lock(7312010);  -- concurrent first runs create the tables once
                 CREATE SCHEMA IF NOT EXISTS {s};
                 CREATE TABLE IF NOT EXISTS {s}.states (
                     workspace text NOT NULL, serial bigint NOT NULL, lineage text NOT NULL,
                     checksum text NOT NULL, who text NOT NULL, written timestamptz NOT NULL DEFAULT now(),
                     operation text NOT NULL DEFAULT '', resources integer NOT NULL, content text NOT NULL,
                     PRIMARY KEY (workspace, serial));
                 CREATE TABLE IF NOT EXISTS {s}.locks (
                     workspace text PRIMARY KEY, lease text, generation bigint NOT NULL DEFAULT 0);
                 CREATE TABLE IF NOT EXISTS {s}.journal (
                     workspace text NOT NULL, seq bigserial, entry text NOT NULL, PRIMARY KEY (workspace, seq));
                 COMMIT;"
                ))
                .map_err(failed("create tables"))
        })?;
        Ok(backend)
    }

    /// Seals what it stores with `codec`.
    #[must_use]
    pub fn with_codec(mut self, codec: Codec) -> PgBackend {
        self.codec = codec;
        self
    }

    fn with<T: Send>(&self, work: impl FnOnce(&mut Client) -> Result<T, StateError> + Send) -> Result<T, StateError> {
        let mut guard = self.client.lock().unwrap_or_else(|p| p.into_inner());
        let Some(client) = guard.as_mut() else {
            return Err(StateError::Io {
                path: "postgres".into(),
                source: std::io::Error::other("the connection is closed"),
            });
        };
        blocking(|| work(client))
    }

    /// A stored row's content, checked against the checksum written beside it.
    fn parse(&self, serial: i64, content: &str, checksum: &str) -> Result<Snapshot, StateError> {
        let place = format!("the pg state {}.states (workspace `{}`, serial {serial})", self.schema, self.workspace);
        if content.is_empty() {
            return Err(StateError::Corrupt { path: place, reason: "the content is empty".into() });
        }
        if checksum != sha256_hex(content) {
            return Err(StateError::Corrupt {
                path: place,
                reason: "its content does not match the checksum written with it (it was altered outside infra); earlier versions are kept: `infra state history`".into(),
            });
        }
        self.codec.decode(content.as_bytes().to_vec(), &place, "; earlier versions are kept: `infra state history`")
    }

    /// The lease row, locked for this transaction.
    fn lease_in(&self, tx: &mut postgres::Transaction<'_>) -> Result<(Option<Lease>, i64), StateError> {
        let s = &self.schema;
        tx.execute(
            &format!("INSERT INTO {s}.locks (workspace) VALUES ($1) ON CONFLICT DO NOTHING"),
            &[&self.workspace],
        )
        .map_err(failed("lock row"))?;
        let row = tx
            .query_one(
                &format!("SELECT lease, generation FROM {s}.locks WHERE workspace = $1 FOR UPDATE"),
                &[&self.workspace],
            )
            .map_err(failed("read lock"))?;
        let lease: Option<String> = row.get(0);
        let lease = match lease {
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
                path: format!("postgres {s}.locks (workspace `{}`)", self.workspace),
                reason: e.to_string(),
            })?),
            None => None,
        };
        Ok((lease, row.get(1)))
    }

    fn set_lease(
        &self,
        tx: &mut postgres::Transaction<'_>,
        lease: Option<&Lease>,
        generation: i64,
    ) -> Result<(), StateError> {
        let text = lease.map(|l| serde_json::to_string(l).unwrap_or_default());
        tx.execute(
            &format!("UPDATE {}.locks SET lease = $2, generation = $3 WHERE workspace = $1", self.schema),
            &[&self.workspace, &text, &generation],
        )
        .map_err(failed("write lock"))?;
        Ok(())
    }
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        // Closing the connection runs the client's runtime too: off infra's threads.
        let client = self.client.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        blocking(move || drop(client));
    }
}

impl Backend for PgBackend {
    fn read(&self) -> Result<Option<Snapshot>, StateError> {
        let row = self.with(|c| {
            c.query_opt(
                &format!(
                    "SELECT serial, content, checksum FROM {}.states WHERE workspace = $1 ORDER BY serial DESC LIMIT 1",
                    self.schema
                ),
                &[&self.workspace],
            )
            .map_err(failed("read state"))
        })?;
        row.map(|row| self.parse(row.get(0), row.get(1), row.get(2))).transpose()
    }

    fn stored_serial(&self) -> Result<Option<u64>, StateError> {
        let found: Option<i64> = self.with(|c| {
            c.query_one(
                &format!("SELECT max(serial) FROM {}.states WHERE workspace = $1", self.schema),
                &[&self.workspace],
            )
            .map_err(failed("read serial"))
            .map(|row| row.get(0))
        })?;
        Ok(found.map(|serial| serial as u64))
    }

    fn write(
        &self,
        snapshot: &Snapshot,
        expected_serial: Option<u64>,
        lease: Option<&Lease>,
    ) -> Result<(), StateError> {
        let content = String::from_utf8(self.codec.encode(snapshot)?)
            .map_err(|e| StateError::Corrupt { path: "snapshot".into(), reason: e.to_string() })?;
        let checksum = sha256_hex(&content);
        let s = self.schema.clone();
        self.with(|client| {
            let mut tx = client.transaction().map_err(failed("begin"))?;
            let (current, _) = self.lease_in(&mut tx)?;
            fence(lease, current.as_ref())?;
            let found: Option<i64> = tx
                .query_one(&format!("SELECT max(serial) FROM {s}.states WHERE workspace = $1"), &[&self.workspace])
                .map_err(failed("read serial"))?
                .get(0);
            let found = found.map(|f| f as u64);
            if found != expected_serial {
                return Err(StateError::Conflict { expected: expected_serial.unwrap_or(0), found: found.unwrap_or(0) });
            }
            let operation = lease.map(|l| l.operation.clone()).unwrap_or_default();
            let inserted = tx.execute(
                &format!(
                    "INSERT INTO {s}.states (workspace, serial, lineage, checksum, who, operation, resources, content)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ),
                &[
                    &self.workspace,
                    &(snapshot.serial as i64),
                    &snapshot.lineage,
                    &checksum,
                    &self.who,
                    &operation,
                    &(snapshot.resources.len() as i32),
                    &content,
                ],
            );
            if let Err(error) = inserted {
                if error.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
                    return Err(StateError::Conflict { expected: expected_serial.unwrap_or(0), found: snapshot.serial });
                }
                return Err(failed("write state")(error));
            }
            tx.execute(
                &format!(
                    "DELETE FROM {s}.states WHERE workspace = $1 AND serial <= (SELECT max(serial) FROM {s}.states WHERE workspace = $1) - $2"
                ),
                &[&self.workspace, &HISTORY_KEPT],
            )
            .map_err(failed("prune history"))?;
            tx.commit().map_err(failed("commit"))
        })
    }

    fn lock(&self, request: &LockRequest) -> Result<Lease, StateError> {
        self.with(|client| {
            let mut tx = client.transaction().map_err(failed("begin"))?;
            let (current, generation) = self.lease_in(&mut tx)?;
            let generation = generation + 1;
            let lease = Lease::grant(request, current.as_ref(), generation as u64)?;
            self.set_lease(&mut tx, Some(&lease), generation)?;
            tx.commit().map_err(failed("commit"))?;
            Ok(lease)
        })
    }

    fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease, StateError> {
        self.with(|client| {
            let mut tx = client.transaction().map_err(failed("begin"))?;
            let (current, generation) = self.lease_in(&mut tx)?;
            fence(Some(lease), current.as_ref())?;
            let renewed = lease.renewed(ttl);
            self.set_lease(&mut tx, Some(&renewed), generation)?;
            tx.commit().map_err(failed("commit"))?;
            Ok(renewed)
        })
    }

    fn unlock(&self, lease: &Lease) -> Result<(), StateError> {
        self.with(|client| {
            let mut tx = client.transaction().map_err(failed("begin"))?;
            let (current, generation) = self.lease_in(&mut tx)?;
            if current.is_some_and(|c| c.id == lease.id) {
                self.set_lease(&mut tx, None, generation)?;
            }
            tx.commit().map_err(failed("commit"))
        })
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.with(|client| {
            let mut tx = client.transaction().map_err(failed("begin"))?;
            let (current, generation) = self.lease_in(&mut tx)?;
            match current {
                Some(current) if current.id == id => {
                    self.set_lease(&mut tx, None, generation)?;
                    tx.commit().map_err(failed("commit"))
                }
                _ => Err(StateError::NoSuchLock(id.to_string())),
            }
        })
    }

    fn current_lock(&self) -> Result<Option<Lease>, StateError> {
        self.with(|client| {
            let mut tx = client.transaction().map_err(failed("begin"))?;
            let (current, _) = self.lease_in(&mut tx)?;
            tx.commit().map_err(failed("commit"))?;
            Ok(current)
        })
    }

    fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        let rows = self
            .with(|c| {
                c.query(
                    &format!(
                        "SELECT serial, written, resources, who, operation, lineage FROM {}.states WHERE workspace = $1 ORDER BY serial DESC",
                        self.schema
                    ),
                    &[&self.workspace],
                )
                .map_err(failed("read history"))
            })?;
        Ok(rows
            .iter()
            .map(|row| {
                let written: chrono::DateTime<chrono::Utc> = row.get(1);
                HistoryEntry {
                    serial: row.get::<_, i64>(0) as u64,
                    lineage: row.get(5),
                    written: rfc3339(written),
                    resources: row.get::<_, i32>(2) as usize,
                    who: row.get(3),
                    operation: row.get(4),
                }
            })
            .collect())
    }

    fn read_version(&self, serial: u64, lineage: Option<&str>) -> Result<Option<Snapshot>, StateError> {
        // Serials are unique per workspace here (rows are never lost), so the lineage only
        // filters.
        let row = self.with(|c| {
            c.query_opt(
                &format!(
                    "SELECT serial, content, checksum FROM {}.states WHERE workspace = $1 AND serial = $2 AND ($3::text IS NULL OR lineage = $3)",
                    self.schema
                ),
                &[&self.workspace, &(serial as i64), &lineage],
            )
            .map_err(failed("read version"))
        })?;
        row.map(|row| self.parse(row.get(0), row.get(1), row.get(2))).transpose()
    }

    fn journal_append(&self, entries: &[JournalEntry], lease: Option<&Lease>) -> Result<(), StateError> {
        if entries.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = entries
            .iter()
            .map(|e| {
                String::from_utf8(self.codec.encode_record(e)?)
                    .map_err(|e| StateError::Corrupt { path: "journal".into(), reason: e.to_string() })
            })
            .collect::<Result<_, _>>()?;
        self.with(|client| {
            let mut tx = client.transaction().map_err(failed("begin"))?;
            if lease.is_some() {
                let (current, _) = self.lease_in(&mut tx)?;
                fence(lease, current.as_ref())?;
            }
            let statement = tx
                .prepare(&format!("INSERT INTO {}.journal (workspace, entry) VALUES ($1, $2)", self.schema))
                .map_err(failed("journal"))?;
            for line in &lines {
                tx.execute(&statement, &[&self.workspace, line]).map_err(failed("journal"))?;
            }
            tx.commit().map_err(failed("commit"))
        })
    }

    fn journal_flush(&self) -> Result<(), StateError> {
        // Every append is a committed transaction already.
        Ok(())
    }

    fn journal_read(&self) -> Result<Vec<JournalEntry>, StateError> {
        let rows = self.with(|c| {
            c.query(
                &format!("SELECT seq, entry FROM {}.journal WHERE workspace = $1 ORDER BY seq", self.schema),
                &[&self.workspace],
            )
            .map_err(failed("read journal"))
        })?;
        // A row is committed whole or not at all: no record may be torn.
        rows.iter()
            .map(|row| {
                let place = format!(
                    "the pg journal {}.journal (workspace `{}`), record seq {}",
                    self.schema,
                    self.workspace,
                    row.get::<_, i64>(0)
                );
                self.codec.decode_record(row.get::<_, &str>(1).as_bytes(), &place).map_err(nothing_deleted)
            })
            .collect()
    }

    fn journal_clear(&self, lease: Option<&Lease>) -> Result<(), StateError> {
        self.with(|client| {
            let mut tx = client.transaction().map_err(failed("begin"))?;
            if lease.is_some() {
                let (current, _) = self.lease_in(&mut tx)?;
                fence(lease, current.as_ref())?;
            }
            tx.execute(&format!("DELETE FROM {}.journal WHERE workspace = $1", self.schema), &[&self.workspace])
                .map_err(failed("clear journal"))?;
            tx.commit().map_err(failed("commit"))
        })
    }
}
