//! The platform vocabulary: `database` and `queue` blocks applied against a real PostgreSQL,
//! RabbitMQ and NATS started here, and planned clean afterwards; references between blocks.

mod support;

use support::Stack;

fn port(url: &str) -> &str {
    url.rsplit(':').next().and_then(|r| r.split('/').next()).unwrap_or("5432")
}

#[test]
fn database_and_queue_blocks_apply_against_real_servers_and_plan_clean() {
    let postgres = support::postgres();
    let broker = support::rabbitmq();
    let nats = support::nats();
    let stack = Stack::new_without_moto();
    let pg_port = port(&postgres.url);
    stack.write(&format!(
        r#"provider "postgresql" {{
  host     = "127.0.0.1"
  port     = {pg_port}
  username = "postgres"
  sslmode  = "disable"
}}

provider "rabbitmq" {{
  endpoint = "{management}"
  username = "guest"
  password = "guest"
}}

provider "jetstream" {{
  servers = "{nats}"
}}

database "orders" {{
  engine     = "postgres"
  server     = {{ port = {pg_port} }}
  extensions = ["pgcrypto"]
}}

queue "events" {{
  engine      = "rabbitmq"
  ttl         = 3600
  dead_letter = true
}}

queue "audit" {{
  engine = "nats"
  ttl    = 86400
}}

output "wiring" {{
  value = merge(database.orders.env, queue.events.env, queue.audit.env)
}}
"#,
        management = broker.management,
        nats = nats.url
    ));
    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    for address in [
        "module.database_orders.postgresql_database.this",
        "module.database_orders.postgresql_role.owner",
        "module.database_orders.postgresql_extension.this[\"pgcrypto\"]",
        "module.database_orders.random_password.password",
        "module.queue_events.rabbitmq_queue.this[0]",
        "module.queue_events.rabbitmq_exchange.dead_letter[0]",
        "module.queue_events.rabbitmq_queue.dead_letter[0]",
        "module.queue_events.rabbitmq_binding.dead_letter[0]",
        "module.queue_audit.jetstream_stream.this[0]",
    ] {
        assert!(plan.contains(&format!("# {address} will be created")), "{address} planned:\n{plan}");
    }
    stack.apply();
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "no changes after apply:\n{text}");
    let wiring = stack.ok(&["output", "-json", "wiring"]);
    assert!(
        wiring.contains("\"ORDERS_DATABASE\":\"orders\"") && wiring.contains("\"EVENTS_QUEUE\":\"events\""),
        "{wiring}"
    );
    let mut client = postgres::Client::connect(&postgres.url, postgres::NoTls).expect("connect");
    let owner: String = client
        .query_one("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'orders'", &[])
        .expect("the database exists")
        .get(0);
    assert_eq!(owner, "orders_owner");
    stack.ok(&["destroy", "-auto-approve"]);
    assert!(client.query_opt("SELECT 1 FROM pg_database WHERE datname = 'orders'", &[]).expect("q").is_none());
}

#[test]
fn platform_modules_are_shown_and_bad_blocks_explained() {
    let stack = Stack::new_without_moto();
    let shown = stack.ok(&["platform", "show", "service"]);
    assert!(shown.contains("resource \"kubernetes_manifest\" \"deployment\""), "{shown}");
    assert!(stack.run(&["platform", "show", "nope"]).status.code() == Some(1));
    stack.write("queue \"q\" {\n  engine = \"kafka\"\n}\n");
    let output = stack.run(&["validate", "-no-color"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("\"rabbitmq\" or \"nats\"")
            || String::from_utf8_lossy(&output.stdout).contains("\"rabbitmq\" or \"nats\""),
        "{stderr}"
    );
}
