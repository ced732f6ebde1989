//! The postgresql provider through the CLI against a real PostgreSQL started here: apply, no
//! changes after, drift made out of band with `psql`, import, destroy.

mod support;

use support::Stack;

fn psql(url: &str, statement: &str) {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|d| d.flatten().map(|e| e.path()).max())
        .map(|v| v.join("bin/psql"))
        .expect("psql beside the server binaries");
    let output = std::process::Command::new(bin)
        .args([url, "-v", "ON_ERROR_STOP=1", "-c", statement])
        .output()
        .expect("psql runs");
    assert!(output.status.success(), "psql: {}", String::from_utf8_lossy(&output.stderr));
}

fn configuration(url: &str) -> String {
    let port = url.rsplit(':').next().and_then(|r| r.split('/').next()).unwrap_or("5432");
    format!(
        r#"variable "app_password" {{
  type      = string
  sensitive = true
}}

provider "postgresql" {{
  host     = "127.0.0.1"
  port     = {port}
  username = "postgres"
  sslmode  = "disable"
}}

resource "postgresql_role" "app" {{
  name     = "orders_app"
  login    = true
  password = var.app_password
}}

resource "postgresql_database" "orders" {{
  name  = "orders"
  owner = postgresql_role.app.name
}}

resource "postgresql_extension" "crypto" {{
  name     = "pgcrypto"
  database = postgresql_database.orders.name
}}

resource "postgresql_grant" "connect" {{
  role        = postgresql_role.app.name
  database    = postgresql_database.orders.name
  object_type = "database"
  privileges  = ["CONNECT", "TEMPORARY"]
}}
"#
    )
}

#[test]
fn a_database_platform_applies_plans_clean_shows_password_drift_and_destroys() {
    let server = support::postgres();
    let mut stack = Stack::new_without_moto();
    stack.write(&configuration(&server.url));
    stack.set_env("TF_VAR_app_password", "first-secret-value");
    stack.apply();
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "no changes after apply:\n{text}");

    psql(&server.url, "ALTER ROLE orders_app PASSWORD 'typed-by-hand'");
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("postgresql_role.app") && text.contains("password"), "{text}");
    assert!(text.contains("(sensitive value)"), "{text}");
    for secret in ["first-secret-value", "typed-by-hand"] {
        assert!(!text.contains(secret), "`{secret}` printed:\n{text}");
    }
    stack.apply();
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "the password was set back:\n{text}");

    // Import: forget the role, adopt it again, no changes.
    stack.ok(&["state", "rm", "postgresql_role.app"]);
    stack.ok(&["import", "postgresql_role.app", "orders_app"]);
    let (code, text) = stack.plan();
    assert!(code == 0 || text.contains("password"), "only the password, unknown to an import, may differ:\n{text}");

    stack.ok(&["destroy", "-auto-approve"]);
    let mut client = postgres::Client::connect(&server.url, postgres::NoTls).expect("connect");
    assert!(client.query_opt("SELECT 1 FROM pg_roles WHERE rolname = 'orders_app'", &[]).expect("q").is_none());
    assert!(client.query_opt("SELECT 1 FROM pg_database WHERE datname = 'orders'", &[]).expect("q").is_none());
}
