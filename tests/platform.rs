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
  secret     = false
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
    assert!(
        shown.contains("variable \"slo\"") && shown.contains("resource \"kubernetes_manifest\" \"alerts\""),
        "{shown}"
    );
    let cluster = stack.ok(&["platform", "show", "cluster"]);
    for part in [
        "\"prometheus\"",
        "\"alertmanager\"",
        "\"grafana\"",
        "\"loki\"",
        "\"log_collector\"",
        "\"otel_collector\"",
        "variable \"observability\"",
        "variable \"alert_receivers\"",
    ] {
        assert!(cluster.contains(part), "{part} in the cluster block");
    }
    let function = stack.ok(&["platform", "show", "function"]);
    assert!(
        function.contains("resource \"aws_lambda_function\" \"this\"") && function.contains("variable \"schedule\""),
        "{function}"
    );
    assert!(stack.ok(&["platform", "show", "queue-sqs"]).contains("resource \"aws_sqs_queue\" \"this\""));
    assert!(stack.ok(&["platform", "list"]).contains("function"));
    // A label that is no Lambda name (it also names the archive's path) is refused: path-like
    // labels by the loader, and one over Lambda's 64 characters by the block.
    stack.write(&format!("function \"{}\" {{\n  code = \"./src\"\n}}\n", "f".repeat(70)));
    let output = stack.run(&["validate", "-no-color"]);
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("A function's name is 1 to 64 letters"), "{text}");
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

#[test]
fn the_microservices_example_plans_every_lowered_resource_and_its_data_parts_apply() {
    let postgres = support::postgres();
    let broker = support::rabbitmq();
    let nats = support::nats();
    let cluster = support::Cluster::start();
    let mut stack = Stack::new();
    stack.copy_from(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/microservices"));
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack.set_env("TF_VAR_postgres_port", port(&postgres.url));
    stack.set_env("TF_VAR_rabbitmq_endpoint", &broker.management);
    stack.set_env("TF_VAR_nats_servers", &nats.url);
    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    let mut expected = vec![
        "module.cluster_main.aws_vpc.this",
        "module.cluster_main.aws_subnet.nodes[0]",
        "module.cluster_main.aws_subnet.nodes[1]",
        "module.cluster_main.aws_internet_gateway.this",
        "module.cluster_main.aws_route_table.public",
        "module.cluster_main.aws_security_group.nodes",
        "module.cluster_main.aws_instance.server",
        "module.cluster_main.aws_instance.agent[1]",
        "module.queue_audit.jetstream_stream.this[0]",
        "module.queue_order-events.rabbitmq_queue.this[0]",
        "module.queue_order-events.rabbitmq_binding.dead_letter[0]",
        "module.service_orders.kubernetes_manifest.deployment",
        "module.service_orders.kubernetes_manifest.service[0]",
        "module.service_orders.kubernetes_manifest.autoscaler[0]",
        "module.service_orders.kubernetes_manifest.disruption_budget[0]",
        "module.service_orders.kubernetes_manifest.alerts[0]",
        "module.service_orders.kubernetes_manifest.dashboard[0]",
        "module.cluster_main.kubernetes_manifest.prometheus[0]",
        "module.cluster_main.kubernetes_manifest.alertmanager_config[0]",
        "module.service_catalog.kubernetes_manifest.disruption_budget[0]",
        "module.service_notifier.kubernetes_manifest.deployment",
        "module.database_orders.kubernetes_manifest.secret[0]",
    ];
    for database in ["orders", "catalog"] {
        expected.push(if database == "orders" {
            "module.database_orders.postgresql_database.this"
        } else {
            "module.database_catalog.postgresql_role.owner"
        });
    }
    for address in expected {
        assert!(plan.contains(&format!("# {address} will be created")), "{address} is in the plan:\n{plan}");
    }
    assert!(!plan.contains("module.service_notifier.kubernetes_manifest.service[0]"), "notifier is not exposed");
    assert!(plan.contains("ORDER_EVENTS_QUEUE"), "the orders service gets its queue's settings:\n{plan}");
    assert!(plan.contains("orders-database"), "and its database's Secret:\n{plan}");

    // The database and queue parts, against the real servers.
    let targets =
        ["module.database_orders", "module.database_catalog", "module.queue_order-events", "module.queue_audit"];
    let mut apply = vec!["apply", "-auto-approve", "-no-color"];
    let mut replan = vec!["plan", "-detailed-exitcode", "-no-color"];
    for target in &targets {
        apply.extend(["-target", target]);
        replan.extend(["-target", target]);
    }
    stack.ok(&apply);
    let output = stack.run(&replan);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
}

/// A `service` with `autoscale` leaves `replicas` to the autoscaler: after the autoscaler
/// scales the Deployment (through `/scale`, as the HPA controller does), the plan is clean and
/// an apply does not scale it back.
#[test]
fn an_autoscaled_service_never_fights_its_autoscaler_over_replicas() {
    let cluster = support::Cluster::start();
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack.write(
        r#"provider "kubernetes" {}

service "web" {
  image     = "nginx:1.27"
  port      = 8080
  autoscale = { min = 2, max = 6, cpu = 70 }
}
"#,
    );
    let applied = stack.apply();
    assert!(
        applied.contains("Apply complete! Resources: 5 added"),
        "Deployment, Service, autoscaler, disruption budget, dashboard: {applied}"
    );
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
    cluster.kubectl(&["scale", "deployment", "web", "--replicas=5"]);
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "the autoscaler's replicas are not drift:\n{text}");
    stack.apply();
    assert_eq!(cluster.kubectl(&["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"]), "5");
}
