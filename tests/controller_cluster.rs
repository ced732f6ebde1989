//! `infra controller` in a cluster, against the project's Kubernetes API test server (checked
//! with kubectl): `Stack` objects, their status conditions, and Lease leader election between
//! two controller replicas, of which only one reconciles, with takeover when it dies.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::controller::ControllerProcess;
use support::{Cluster, GitServer};

fn manifests(cluster: &Cluster, names: &[&str]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    for name in names {
        cluster.kubectl(&["apply", "-f", &dir.join(name).display().to_string()]);
    }
}

fn stack_object(cluster: &Cluster, dir: &Path, url: &str) {
    let yaml = format!(
        "apiVersion: infra.dev/v1alpha1\nkind: Stack\nmetadata:\n  name: prod\n  namespace: infra-system\nspec:\n  source:\n    url: {url}\n    branch: main\n    path: envs/prod\n  interval: 500ms\n  prune: true\n"
    );
    let file = dir.join("stack.yaml");
    std::fs::write(&file, yaml).expect("stack yaml");
    cluster.kubectl(&["apply", "-f", &file.display().to_string()]);
}

fn stack_json(cluster: &Cluster) -> serde_json::Value {
    serde_json::from_str(&cluster.kubectl(&["get", "stack", "prod", "-n", "infra-system", "-o", "json"]))
        .unwrap_or(serde_json::Value::Null)
}

fn condition<'a>(stack: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    stack["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .unwrap_or(&serde_json::Value::Null)
}

fn wait_for_object(
    cluster: &Cluster,
    timeout: Duration,
    ready: impl Fn(&serde_json::Value) -> bool,
    logs: &[&ControllerProcess],
) {
    let started = Instant::now();
    loop {
        let stack = stack_json(cluster);
        if ready(&stack) {
            return;
        }
        if started.elapsed() > timeout {
            let logs: Vec<String> = logs.iter().map(|c| c.log()).collect();
            panic!("the Stack did not get there in {timeout:?}: {stack}\n{}", logs.join("\n----\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn replica(dir: &Path, shared: &Path, cluster: &Cluster, ordinal: &str) -> ControllerProcess {
    let config = format!(
        "controller {{\n  listen = \"LISTEN\"\n  data_dir = \"{}\"\n  kubernetes {{\n    namespace = \"infra-system\"\n    lease_duration = \"2s\"\n    sync_interval = \"300ms\"\n    shared_data_dir = true\n  }}\n}}\n",
        shared.display()
    );
    let identity = format!("infra-controller-{ordinal}");
    ControllerProcess::start_with_env(
        &dir.join(&identity),
        &config,
        &[
            ("KUBECONFIG", &cluster.kubeconfig()),
            ("INFRA_CONTROLLER_IDENTITY", &identity),
            ("INFRA_REPLICAS", "2"),
            ("INFRA_REPLICA_ORDINAL", ordinal),
        ],
    )
}

fn reconciles(controller: &ControllerProcess) -> u64 {
    controller.stack("infra-system.prod")["reconciles"].as_u64().unwrap_or(0)
}

#[test]
fn two_replicas_one_leader_status_conditions_and_takeover() {
    let cluster = Cluster::start();
    manifests(&cluster, &["namespace.yaml", "crd.yaml"]);
    let git = GitServer::start();
    let repo = git.repo("platform");
    repo.write("envs/prod/main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"one\"\n}\n");
    let first = repo.push("first");
    let dir = tempfile::tempdir().expect("temp dir");
    stack_object(&cluster, dir.path(), &git.url("platform"));
    let shared = dir.path().join("shared");
    let mut replicas = [replica(dir.path(), &shared, &cluster, "0"), replica(dir.path(), &shared, &cluster, "1")];

    wait_for_object(
        &cluster,
        Duration::from_secs(30),
        |s| s["status"]["appliedCommit"] == first && condition(s, "Ready")["status"] == "True",
        &[&replicas[0], &replicas[1]],
    );
    let stack = stack_json(&cluster);
    assert_eq!(condition(&stack, "Ready")["reason"], "Applied", "{stack}");
    assert_eq!(condition(&stack, "Stalled")["status"], "False", "{stack}");
    assert_eq!(stack["status"]["lastResult"], "applied");
    let columns = cluster.kubectl(&["get", "stacks", "-n", "infra-system"]);
    assert!(columns.contains("READY") && columns.contains(&first), "printer columns: {columns}");

    // Exactly one replica reconciles: the Lease holder. Both replicas have seen the Stack, and
    // the holder has renewed its Lease since — the follower had its chance to take it.
    let lease_json = || -> serde_json::Value {
        let text =
            cluster.kubectl(&["get", "lease", "infra-stack-infra-system-prod", "-n", "infra-system", "-o", "json"]);
        serde_json::from_str(&text).expect("lease json")
    };
    let started = Instant::now();
    while !replicas.iter().all(|r| r.log().contains("stack from the cluster")) {
        assert!(started.elapsed() < Duration::from_secs(30), "a replica never saw the Stack");
        std::thread::sleep(Duration::from_millis(100));
    }
    let renewed = lease_json()["spec"]["renewTime"].clone();
    while lease_json()["spec"]["renewTime"] == renewed {
        assert!(started.elapsed() < Duration::from_secs(30), "the Lease was never renewed: {}", lease_json());
        std::thread::sleep(Duration::from_millis(100));
    }
    let counts = [reconciles(&replicas[0]), reconciles(&replicas[1])];
    assert!(counts.iter().filter(|&&c| c > 0).count() == 1, "one reconciling replica, not {counts:?}");
    let leader = if counts[0] > 0 { 0 } else { 1 };
    let follower = 1 - leader;
    let lease: serde_json::Value = serde_json::from_str(&cluster.kubectl(&[
        "get",
        "lease",
        "infra-stack-infra-system-prod",
        "-n",
        "infra-system",
        "-o",
        "json",
    ]))
    .expect("lease json");
    assert_eq!(lease["spec"]["holderIdentity"], format!("infra-controller-{leader}"));

    // The leader dies; the follower takes the Lease over after it expires and applies the next commit.
    replicas[leader].signal("KILL");
    repo.write("envs/prod/main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"two\"\n}\n");
    let second = repo.push("second");
    wait_for_object(
        &cluster,
        Duration::from_secs(30),
        |s| s["status"]["appliedCommit"] == second,
        &[&replicas[follower]],
    );
    assert!(reconciles(&replicas[follower]) > 0, "the follower reconciled after the takeover");
    let holder = cluster.kubectl(&[
        "get",
        "lease",
        "infra-stack-infra-system-prod",
        "-n",
        "infra-system",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_eq!(holder.trim(), format!("infra-controller-{follower}"));
}

#[test]
fn an_invalid_stack_object_is_stalled_with_its_reason() {
    let cluster = Cluster::start();
    manifests(&cluster, &["namespace.yaml", "crd.yaml"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = "apiVersion: infra.dev/v1alpha1\nkind: Stack\nmetadata:\n  name: prod\n  namespace: infra-system\nspec:\n  source:\n    url: git://127.0.0.1:9/x.git\n    path: ../outside\n";
    std::fs::write(dir.path().join("stack.yaml"), yaml).expect("yaml");
    cluster.kubectl(&["apply", "-f", &dir.path().join("stack.yaml").display().to_string()]);
    let controller = replica(dir.path(), &dir.path().join("shared"), &cluster, "0");
    wait_for_object(&cluster, Duration::from_secs(20), |s| condition(s, "Stalled")["status"] == "True", &[&controller]);
    let stack = stack_json(&cluster);
    assert!(
        condition(&stack, "Stalled")["message"].as_str().unwrap_or("").contains("inside the repository"),
        "{stack}"
    );
}

#[test]
fn the_deployment_manifests_apply() {
    let cluster = Cluster::start();
    manifests(&cluster, &["namespace.yaml", "crd.yaml", "rbac.yaml", "controller.yaml", "example-stack.yaml"]);
    let roles = cluster.kubectl(&["get", "clusterrole", "infra-controller-stacks", "-o", "json"]);
    assert!(!roles.contains("\"*\""), "least privilege: no wildcards in {roles}");
    let statefulset = cluster.kubectl(&["get", "statefulset", "infra-controller", "-n", "infra-system", "-o", "json"]);
    assert!(statefulset.contains("/readyz") && statefulset.contains("/healthz"), "{statefulset}");
    assert!(statefulset.contains("prometheus.io/scrape"), "{statefulset}");
    assert!(cluster.kubectl(&["get", "stacks", "-n", "infra-system"]).contains("prod"));
}
