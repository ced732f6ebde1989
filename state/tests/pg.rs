//! The PostgreSQL backend against a real PostgreSQL, started from the server binaries on the
//! machine (`tests/support/postgres_server.rs`: `initdb` + `postgres` in a temp dir on a free
//! loopback port; as root, the cluster runs as the `postgres` user, since initdb refuses root).

use infra_state::pg::PgBackend;
use infra_state::{Backend, Codec};

#[path = "../../tests/support/postgres_server.rs"]
mod postgres_server;

use postgres_server::postgres as start;

struct Database(postgres_server::Postgres);

impl Database {
    fn sql(&self) -> postgres::Client {
        postgres::Client::connect(&self.0.url, postgres::NoTls).expect("a test connection")
    }
}

const NEWEST: &str = "(SELECT max(serial) FROM infra_test.states WHERE workspace = $1)";

impl infra_state::testing::Harness for Database {
    fn open(&self, workspace: &str, codec: Codec) -> Box<dyn Backend> {
        Box::new(PgBackend::connect(&self.0.url, "infra_test", workspace).expect("connect").with_codec(codec))
    }
    fn raw(&self, workspace: &str) -> Vec<u8> {
        let row = self
            .sql()
            .query_one(
                &format!("SELECT content FROM infra_test.states WHERE workspace = $1 AND serial = {NEWEST}"),
                &[&workspace],
            )
            .expect("the newest row");
        row.get::<_, String>(0).into_bytes()
    }
    fn corrupt(&self, workspace: &str, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes).into_owned();
        self.sql()
            .execute(
                &format!("UPDATE infra_test.states SET content = $2 WHERE workspace = $1 AND serial = {NEWEST}"),
                &[&workspace, &text],
            )
            .expect("corrupt");
    }
    fn corrupt_journal_record(&self, workspace: &str, index: usize) {
        let mut sql = self.sql();
        let rows = sql
            .query("SELECT seq, entry FROM infra_test.journal WHERE workspace = $1 ORDER BY seq", &[&workspace])
            .expect("journal rows");
        let row = &rows[index];
        let mut entry = row.get::<_, String>(1).into_bytes();
        infra_state::testing::flip_a_byte(&mut entry);
        let entry = String::from_utf8(entry).expect("still text");
        sql.execute("UPDATE infra_test.journal SET entry = $2 WHERE seq = $1", &[&row.get::<_, i64>(0), &entry])
            .expect("corrupt journal");
    }
}

#[test]
fn pg_backend_passes_the_conformance_suite() {
    infra_state::testing::conformance(&Database(start()));
}

#[test]
fn a_wrong_address_is_a_clear_error_without_the_password() {
    let error = PgBackend::connect("postgres://ann:hunter2@127.0.0.1:9/db", "infra", "default").err().expect("refused");
    let text = error.to_string();
    assert!(text.contains("postgres: connect"), "{text}");
    assert!(!text.contains("hunter2"), "no password in errors: {text}");
}

#[test]
fn a_hostile_schema_name_is_refused() {
    let error = PgBackend::connect("postgres://127.0.0.1:9/db", "x; DROP TABLE y", "default").err().expect("refused");
    assert!(error.to_string().contains("schema_name"), "{error}");
}
