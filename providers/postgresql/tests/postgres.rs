//! The PostgreSQL provider against a real PostgreSQL, started from the machine's server binaries
//! (`tests/support/postgres_server.rs`). Each test works in databases and roles of its own.

use infra_postgresql::Postgresql;
use infra_provider::testing::{LifecycleCase, lifecycle, object, plan_and_apply, read_back};
use infra_provider::{ApplyRequest, ConfigureRequest, ImportRequest, Provider, ReadRequest, Value};

#[path = "../../../tests/support/postgres_server.rs"]
mod postgres_server;

fn port(url: &str) -> i64 {
    url.rsplit(':').next().and_then(|rest| rest.split('/').next()).and_then(|p| p.parse().ok()).expect("a port")
}

async fn provider(server: &postgres_server::Postgres) -> Postgresql {
    let provider = Postgresql::new();
    let config = object(&[
        ("host", Value::from("127.0.0.1")),
        ("port", Value::int(port(&server.url))),
        ("username", Value::from("postgres")),
        ("sslmode", Value::from("disable")),
    ]);
    provider.configure(ConfigureRequest { config }).await.expect("configure");
    provider
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_lives_a_full_life() {
    let server = tokio::task::spawn_blocking(postgres_server::postgres).await.expect("server");
    let provider = provider(&server).await;
    let cases = [
        LifecycleCase {
            kind: "postgresql_role".into(),
            create: object(&[("name", Value::from("life_role")), ("login", Value::Bool(true))]),
            update: Some(object(&[
                ("name", Value::from("life_role")),
                ("login", Value::Bool(true)),
                ("connection_limit", Value::int(5)),
                ("password", Value::from("s3cret-password").mark_sensitive()),
            ])),
            remote: true,
        },
        LifecycleCase {
            kind: "postgresql_database".into(),
            create: object(&[("name", Value::from("life_db"))]),
            update: Some(object(&[("name", Value::from("life_db")), ("connection_limit", Value::int(20))])),
            remote: true,
        },
        LifecycleCase {
            kind: "postgresql_schema".into(),
            create: object(&[("name", Value::from("life_schema")), ("database", Value::from("postgres"))]),
            update: Some(object(&[
                ("name", Value::from("life_schema")),
                ("database", Value::from("postgres")),
                ("owner", Value::from("postgres")),
            ])),
            remote: true,
        },
        LifecycleCase {
            kind: "postgresql_extension".into(),
            create: object(&[("name", Value::from("pgcrypto")), ("database", Value::from("postgres"))]),
            update: None,
            remote: true,
        },
    ];
    for case in cases {
        let kind = case.kind.clone();
        lifecycle(&provider, case).await.unwrap_or_else(|error| panic!("{kind}: {error}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_are_data_not_sql() {
    let server = tokio::task::spawn_blocking(postgres_server::postgres).await.expect("server");
    let provider = provider(&server).await;
    let hostile = "x\"; DROP ROLE postgres; --";
    let role = plan_and_apply(&provider, "postgresql_role", None, object(&[("name", Value::from(hostile))])).await;
    let database = plan_and_apply(
        &provider,
        "postgresql_database",
        None,
        object(&[("name", Value::from("db'; DROP DATABASE postgres; --"))]),
    )
    .await;
    let names: Vec<String> = tokio::task::spawn_blocking({
        let url = server.url.clone();
        move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            let mut names: Vec<String> =
                client.query("SELECT rolname FROM pg_roles", &[]).expect("roles").iter().map(|r| r.get(0)).collect();
            names.extend(
                client
                    .query("SELECT datname FROM pg_database", &[])
                    .expect("dbs")
                    .iter()
                    .map(|r| r.get::<_, String>(0)),
            );
            names
        }
    })
    .await
    .expect("query");
    assert!(names.iter().any(|n| n == hostile), "the role exists under its exact name");
    assert!(names.iter().any(|n| n == "postgres"), "nothing was dropped");
    assert!(names.iter().any(|n| n == "db'; DROP DATABASE postgres; --"));
    for (kind, prior) in [("postgresql_database", database), ("postgresql_role", role)] {
        provider
            .apply(ApplyRequest {
                kind: kind.into(),
                prior: Some(prior.clone()),
                planned: None,
                idempotency_key: "d".into(),
                config: Value::Null,
            })
            .await
            .expect("delete");
        assert!(read_back(&provider, kind, &prior).await.is_none(), "{kind} left nothing behind");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_changed_out_of_band_is_drift_without_either_password() {
    let server = tokio::task::spawn_blocking(postgres_server::postgres).await.expect("server");
    let provider = provider(&server).await;
    let config = object(&[
        ("name", Value::from("app_user")),
        ("login", Value::Bool(true)),
        ("password", Value::from("first-password").mark_sensitive()),
    ]);
    let created = plan_and_apply(&provider, "postgresql_role", None, config).await;
    assert!(infra_provider::values_equal(
        &read_back(&provider, "postgresql_role", &created).await.expect("role"),
        &created
    ));
    // The clear text never reached the server: what it stores is a SCRAM verifier.
    let stored: String = tokio::task::spawn_blocking({
        let url = server.url.clone();
        move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            let stored: String = client
                .query_one("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'", &[])
                .expect("row")
                .get(0);
            client.batch_execute("ALTER ROLE app_user PASSWORD 'changed-by-hand'").expect("out of band");
            stored
        }
    })
    .await
    .expect("sql");
    assert!(stored.starts_with("SCRAM-SHA-256$") && !stored.contains("first-password"));
    let refreshed = read_back(&provider, "postgresql_role", &created).await.expect("role");
    let password = refreshed.as_map().and_then(|m| m.get("password")).cloned().expect("password");
    assert!(password.is_marked(), "still sensitive");
    assert!(!infra_provider::values_equal(&password, &Value::from("first-password").mark_sensitive()), "drift seen");
    let text = format!("{refreshed:?}");
    assert!(!text.contains("changed-by-hand"), "the new password is never known");
}

#[tokio::test(flavor = "multi_thread")]
async fn grants_follow_privileges_and_import_reads_objects() {
    let server = tokio::task::spawn_blocking(postgres_server::postgres).await.expect("server");
    let provider = provider(&server).await;
    plan_and_apply(&provider, "postgresql_role", None, object(&[("name", Value::from("reader"))])).await;
    tokio::task::spawn_blocking({
        let url = server.url.clone();
        move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            client
                .batch_execute("CREATE SCHEMA app; CREATE TABLE app.orders (id int); CREATE TABLE app.items (id int);")
                .expect("tables");
        }
    })
    .await
    .expect("sql");
    let grant = |privileges: &[&str]| {
        object(&[
            ("role", Value::from("reader")),
            ("database", Value::from("postgres")),
            ("schema", Value::from("app")),
            ("object_type", Value::from("table")),
            ("privileges", Value::set(privileges.iter().map(|p| Value::from(*p)).collect())),
        ])
    };
    let granted = plan_and_apply(&provider, "postgresql_grant", None, grant(&["SELECT"])).await;
    assert!(infra_provider::values_equal(
        &read_back(&provider, "postgresql_grant", &granted).await.expect("grant"),
        &granted
    ));
    let widened = plan_and_apply(&provider, "postgresql_grant", Some(granted), grant(&["INSERT", "SELECT"])).await;
    let reread = read_back(&provider, "postgresql_grant", &widened).await.expect("grant");
    assert!(infra_provider::values_equal(&reread, &widened), "{reread:?}");
    // A privilege revoked by hand is drift.
    tokio::task::spawn_blocking({
        let url = server.url.clone();
        move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            client.batch_execute("REVOKE INSERT ON app.items FROM reader").expect("revoke");
        }
    })
    .await
    .expect("sql");
    let drifted = read_back(&provider, "postgresql_grant", &widened).await.expect("grant");
    assert!(!infra_provider::values_equal(&drifted, &widened), "a revoked privilege shows as drift");

    let imported = provider
        .import(ImportRequest { kind: "postgresql_role".into(), id: "reader".into() })
        .await
        .expect("import")
        .current;
    assert_eq!(imported.as_map().and_then(|m| m.get("login")).and_then(Value::as_bool), Some(false));
    assert!(provider.import(ImportRequest { kind: "postgresql_role".into(), id: "nobody".into() }).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_a_clear_error() {
    let provider = Postgresql::new();
    let config =
        object(&[("host", Value::from("127.0.0.1")), ("port", Value::int(9)), ("password", Value::from("hunter2"))]);
    provider.configure(ConfigureRequest { config }).await.expect("configure");
    let error = provider
        .read(ReadRequest { kind: "postgresql_role".into(), current: object(&[("name", Value::from("x"))]) })
        .await
        .expect_err("unreachable");
    let text = format!("{error:?}");
    assert!(text.contains("Cannot connect to PostgreSQL") && text.contains("127.0.0.1:9"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
