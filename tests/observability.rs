//! The operations checklist in the platform blocks, checked by the tools of its ecosystem:
//! `promtool` (rules, unit tests of the alerts with written series, configuration), `amtool`
//! (Alertmanager configuration) — from Debian's `prometheus` and `prometheus-alertmanager`
//! packages, which `scripts/test` installs — and the Kubernetes API test server.

mod support;

use std::path::Path;
use std::process::Command;
use support::{Cluster, Stack};

/// Runs a tool of the Prometheus ecosystem, insisting on success; its output.
fn tool(program: &str, args: &[&str], dir: &Path) -> String {
    let output =
        Command::new(program).args(args).current_dir(dir).output().unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{program} {}:\n{text}", args.join(" "));
    text
}

const ORDERS: &str = r#"provider "kubernetes" {}

service "orders" {
  image = "ghcr.io/acme/orders:1.4.2"
  port  = 8080
  slo   = { availability = 99.9, latency_p99_ms = 300, team = "shop" }
}

output "rules" {
  value = service.orders.alert_rules
}
"#;

/// The alert of the rules file with these labels, as promtool expects it in a test
/// (`exp_labels`, `exp_annotations`).
fn expected(rules: &serde_json::Value, alert: &str, label: (&str, &str)) -> serde_json::Value {
    let rule = rules["groups"][0]["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["alert"] == alert && r["labels"][label.0] == label.1)
        .unwrap_or_else(|| panic!("a rule {alert} with {label:?}"));
    serde_json::json!({"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]})
}

#[test]
fn objectives_become_burn_rate_alerts_that_fire_on_a_spike_and_stay_silent_at_the_objective() {
    let cluster = Cluster::start();
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack.write(ORDERS);
    stack.apply();
    let rules = stack.ok(&["output", "-raw", "rules"]);
    let dir = stack.path();
    std::fs::write(dir.join("rules.yaml"), &rules).expect("write rules.yaml");
    let checked = tool("promtool", &["check", "rules", "rules.yaml"], dir);
    assert!(checked.contains("SUCCESS: 5 rules found"), "{checked}");
    // The rules are what the cluster's Prometheus loads: a ConfigMap with the sidecar's label.
    let labels = cluster.kubectl(&["get", "configmap", "orders-alerts", "-o", "jsonpath={.metadata.labels}"]);
    assert!(labels.contains("\"infra.dev/prometheus-rules\":\"1\""), "{labels}");

    let parsed: serde_json::Value = serde_saphyr::from_str(&rules).expect("the rules are YAML");
    let page_1h = expected(&parsed, "ErrorBudgetBurn", ("long_window", "1h"));
    let page_6h = expected(&parsed, "ErrorBudgetBurn", ("long_window", "6h"));
    let ticket_1d = expected(&parsed, "ErrorBudgetBurn", ("long_window", "1d"));
    let ticket_3d = expected(&parsed, "ErrorBudgetBurn", ("long_window", "3d"));
    let latency = expected(&parsed, "LatencyObjectiveMissed", ("slo", "latency"));
    let bucket = |le: &str, per_minute: u32| serde_json::json!({"series": format!("http_request_duration_seconds_bucket{{service=\"orders\",le=\"{le}\"}}"), "values": format!("0+{per_minute}x60")});
    let tests = serde_json::json!({
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            // A spike: half the requests fail from minute 60. Silent before; both paging
            // windows fire once their `for` has passed (the ticket windows not yet), and after
            // four hours every window fires.
            {
                "interval": "1m",
                "input_series": [
                    {"series": "http_requests_total{service=\"orders\",code=\"200\"}", "values": "0+1000x300"},
                    {"series": "http_requests_total{service=\"orders\",code=\"500\"}", "values": "0+0x60 0+1000x240"},
                ],
                "alert_rule_test": [
                    {"eval_time": "59m", "alertname": "ErrorBudgetBurn", "exp_alerts": []},
                    {"eval_time": "62m", "alertname": "ErrorBudgetBurn", "exp_alerts": []},
                    {"eval_time": "90m", "alertname": "ErrorBudgetBurn", "exp_alerts": [page_1h.clone(), page_6h.clone()]},
                    {"eval_time": "5h", "alertname": "ErrorBudgetBurn", "exp_alerts": [page_1h, page_6h, ticket_1d, ticket_3d]},
                ],
            },
            // Exactly at the objective (0.1 % of requests fail) for more than three days: the
            // budget is spent at the rate it allows, and no window alerts.
            {
                "interval": "1m",
                "input_series": [
                    {"series": "http_requests_total{service=\"orders\",code=\"200\"}", "values": "0+999x4700"},
                    {"series": "http_requests_total{service=\"orders\",code=\"500\"}", "values": "0+1x4700"},
                ],
                "alert_rule_test": [
                    {"eval_time": "2h", "alertname": "ErrorBudgetBurn", "exp_alerts": []},
                    {"eval_time": "78h", "alertname": "ErrorBudgetBurn", "exp_alerts": []},
                ],
            },
            // p99 latency around 0.8 s against a 300 ms objective: fires after 10 minutes.
            {
                "interval": "1m",
                "input_series": [bucket("0.1", 100), bucket("0.25", 500), bucket("0.5", 950), bucket("1", 1000), bucket("+Inf", 1000)],
                "alert_rule_test": [
                    {"eval_time": "5m", "alertname": "LatencyObjectiveMissed", "exp_alerts": []},
                    {"eval_time": "30m", "alertname": "LatencyObjectiveMissed", "exp_alerts": [latency]},
                ],
            },
            // p99 under 250 ms: silent.
            {
                "interval": "1m",
                "input_series": [bucket("0.1", 900), bucket("0.25", 995), bucket("0.5", 1000), bucket("1", 1000), bucket("+Inf", 1000)],
                "alert_rule_test": [{"eval_time": "30m", "alertname": "LatencyObjectiveMissed", "exp_alerts": []}],
            },
        ],
    });
    std::fs::write(dir.join("rules_test.yaml"), tests.to_string()).expect("write the rules test");
    let proved = tool("promtool", &["test", "rules", "rules_test.yaml"], dir);
    assert!(proved.contains("SUCCESS"), "{proved}");
}

const PLATFORM: &str = r##"provider "kubernetes" {}

variable "slack_hook" {
  type      = string
  sensitive = true
  default   = "https://hooks.slack.example/services/T000/B000/secret-token"
}

cluster "main" {
  nodes           = 1
  alert_receivers = [
    { name = "oncall", severity = "page", slack_url = var.slack_hook, channel = "#oncall" },
    { name = "tickets", severity = "ticket", webhook_url = "https://tickets.example/hook" },
    { name = "mail", email = "ops@example.com", smtp_host = "smtp.example.com:587" },
  ]
}

service "orders" {
  image = "ghcr.io/acme/orders:1.4.2"
  slo   = { availability = 99.9, latency_p99_ms = 300 }
}

service "catalog" {
  image = "ghcr.io/acme/catalog:2.0.1"
  slo   = { availability = 99.5 }
}

output "alertmanager" {
  value     = cluster.main.alertmanager_config
  sensitive = true
}

output "prometheus" {
  value = cluster.main.prometheus_config
}
"##;

#[test]
fn a_cluster_with_its_observability_stack_and_two_services_with_objectives_applies_and_plans_clean() {
    let cluster = Cluster::start();
    let mut stack = Stack::new();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack.write(PLATFORM);
    let applied = stack.apply();
    assert!(applied.contains("Apply complete!"), "{applied}");
    assert!(!applied.contains("secret-token"), "a receiver URL is sensitive:\n{applied}");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");

    let args = cluster.kubectl(&[
        "get",
        "statefulset",
        "prometheus",
        "-n",
        "monitoring",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].args}",
    ]);
    assert!(args.contains("--storage.tsdb.retention.time=20d"), "{args}");
    let storage = cluster.kubectl(&[
        "get",
        "statefulset",
        "prometheus",
        "-n",
        "monitoring",
        "-o",
        "jsonpath={.spec.volumeClaimTemplates[0].spec.resources.requests.storage}",
    ]);
    assert_eq!(storage, "50Gi");
    for (kind, name) in [
        ("deployment", "alertmanager"),
        ("deployment", "grafana"),
        ("statefulset", "loki"),
        ("daemonset", "fluent-bit"),
        ("deployment", "otel-collector"),
    ] {
        cluster.kubectl(&["get", kind, name, "-n", "monitoring"]);
    }
    let env =
        cluster.kubectl(&["get", "deployment", "orders", "-o", "jsonpath={.spec.template.spec.containers[0].env}"]);
    assert!(
        env.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && env.contains("\"OTEL_SERVICE_NAME\",\"value\":\"orders\""),
        "{env}"
    );
    let dashboards = cluster.kubectl(&["get", "configmaps", "-l", "grafana_dashboard=1", "-o", "name"]);
    assert!(dashboards.contains("orders-dashboard") && dashboards.contains("catalog-dashboard"), "{dashboards}");

    // The configurations pass their own tools' checks.
    let dir = stack.path();
    std::fs::write(dir.join("alertmanager.yml"), stack.ok(&["output", "-raw", "alertmanager"])).expect("write");
    let checked = tool("amtool", &["check-config", "alertmanager.yml"], dir);
    assert!(checked.contains("SUCCESS") && checked.contains("4 receivers"), "the null receiver and three: {checked}");
    // (Debian's promtool is built without Kubernetes service discovery, so `promtool check
    // config` cannot read the pod scrape job; the configuration is checked for its parts.)
    let prometheus: serde_json::Value =
        serde_saphyr::from_str(&stack.ok(&["output", "-raw", "prometheus"])).expect("prometheus.yml is YAML");
    assert_eq!(prometheus["rule_files"], serde_json::json!(["/etc/prometheus/rules/*.yaml"]));
    assert_eq!(
        prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"],
        serde_json::json!(["alertmanager.monitoring.svc:9093"])
    );
}

/// A child process killed when dropped (also when an assertion fails).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real Prometheus (Debian's) on loopback, scraping `infra controller`'s `/metrics`: the
/// reconcile counter of the stack is queryable by PromQL.
#[test]
fn a_real_prometheus_scrapes_the_controllers_reconcile_counter() {
    use support::controller::{ControllerProcess, http};
    let git = support::GitServer::start();
    let repo = git.repo("platform");
    repo.write("envs/app/main.tf", "resource \"terraform_data\" \"r\" {\n  input = \"v1\"\n}\n");
    let commit = repo.push("first");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "controller {{\n  listen   = \"LISTEN\"\n  data_dir = \"data\"\n}}\nstack \"app\" {{\n  source {{\n    url    = \"{}\"\n    branch = \"main\"\n    path   = \"envs/app\"\n  }}\n  interval = \"1h\"\n}}\n",
        git.url("platform")
    );
    let controller = ControllerProcess::start(dir.path(), &config);
    controller.wait_for("app", std::time::Duration::from_secs(20), |s| s["applied_commit"] == commit.as_str());

    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port");
    let prometheus_dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        prometheus_dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: infra-controller\n  static_configs:\n  - targets: [\"{}\"]\n",
            controller.address
        ),
    )
    .expect("write prometheus.yml");
    let prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", prometheus_dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", prometheus_dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );
    let address = format!("127.0.0.1:{port}");
    let query = "/api/v1/query?query=infra_reconcile_total%7Bstack%3D%22app%22%7D";
    let started = std::time::Instant::now();
    let answer = loop {
        let ready = std::net::TcpStream::connect(&address).is_ok();
        if ready {
            let response = http(&address, "GET", query, &[], b"");
            let body: serde_json::Value = serde_json::from_str(&response.body).unwrap_or_default();
            if body["data"]["result"].as_array().is_some_and(|r| !r.is_empty()) {
                break body;
            }
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "Prometheus never had the series");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    drop(prometheus);
    let series = &answer["data"]["result"][0];
    assert_eq!(series["metric"]["job"], "infra-controller");
    assert_eq!(series["metric"]["result"], "applied");
    assert!(series["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()).is_some_and(|v| v >= 1.0), "{answer}");
}

/// With the Prometheus operator's CRD in the cluster, a service can be scraped through a
/// ServiceMonitor on its Service's `http` port.
#[test]
fn a_service_is_scraped_through_a_service_monitor_when_asked() {
    let cluster = Cluster::start();
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    // The operator's CRD, reduced to what the test needs (its schema keeps every field).
    std::fs::write(
        stack.path().join("crd.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: servicemonitors.monitoring.coreos.com}\nspec:\n  group: monitoring.coreos.com\n  scope: Namespaced\n  names: {kind: ServiceMonitor, plural: servicemonitors, singular: servicemonitor}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n",
    )
    .expect("write the CRD");
    stack.write(
        "provider \"kubernetes\" {}\n\nservice \"orders\" {\n  image     = \"ghcr.io/acme/orders:1.4.2\"\n  telemetry = { service_monitor = true }\n}\n",
    );
    let applied = stack.apply();
    assert!(applied.contains("Apply complete!"), "{applied}");
    let endpoint = cluster.kubectl(&[
        "get",
        "servicemonitor",
        "orders",
        "-o",
        "jsonpath={.spec.endpoints[0].port} {.spec.endpoints[0].path}",
    ]);
    assert_eq!(endpoint, "http /metrics");
    let ports = cluster.kubectl(&["get", "service", "orders", "-o", "jsonpath={.spec.ports[0].name}"]);
    assert_eq!(ports, "http", "the ServiceMonitor's port is the Service's");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
}
