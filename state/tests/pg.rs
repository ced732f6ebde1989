//! The PostgreSQL backend against a real PostgreSQL, started from the server binaries on the
//! machine (`tests/support/postgres_server.rs`: `initdb` + `postgres` in a temp dir on a free
//! loopback port; as root, the cluster runs as the `postgres` user, since initdb refuses root).

use infra_state::pg::PgBackend;

#[path = "../../tests/support/postgres_server.rs"]
mod postgres_server;

use postgres_server::postgres as start;

#[test]
fn pg_backend_passes_the_conformance_suite() {
    let server = start();
    infra_state::testing::conformance(|workspace| {
        Box::new(PgBackend::connect(&server.url, "infra_test", workspace).expect("connect"))
    });
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
