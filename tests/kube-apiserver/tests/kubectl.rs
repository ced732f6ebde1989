//! The server checked with a client nobody here wrote: kubectl (v1.32 on these machines).
//! Each test starts its own server binary on a free port, as a user would.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Instant;

/// A running `kube-test-apiserver` and its kubeconfig.
struct Cluster {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
}

impl Cluster {
    fn start() -> Cluster {
        Cluster::start_with(&[])
    }

    fn start_with(args: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("kubeconfig");
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kube-test-apiserver"))
            .arg("--kubeconfig")
            .arg(&config)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the URL line");
        let url = line.trim().to_string();
        assert!(url.starts_with("https://127.0.0.1:"), "the first line is the URL: {url}");
        eprintln!("kube-test-apiserver ready in {:?}", started.elapsed());
        Cluster { child, dir, url }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", self.config())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("kubectl runs")
    }

    /// kubectl that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.status.success(),
            "kubectl {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// kubectl that must fail; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(!output.status.success(), "kubectl {} should fail", args.join(" "));
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write a manifest");
        path.display().to_string()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("kubectl printed JSON")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

const MANIFEST: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: production
---
apiVersion: v1
kind: Secret
metadata:
  name: credentials
  namespace: shop
stringData:
  password: hunter2
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  labels:
    app: api
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  selector:
    app: api
  ports:
  - port: 80
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    kind: Widget
    plural: widgets
    singular: widget
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: blue
  namespace: shop
spec:
  color: blue
"#;

/// Applies the manifest. As against a real cluster, kubectl maps every document before it
/// applies any, so the custom resource of a CRD in the same file is refused on the first run
/// and applied on the second, once the CRD is established.
fn apply_manifest(cluster: &Cluster) -> String {
    let path = cluster.write("manifest.yaml", MANIFEST);
    let first = cluster.kubectl(&["apply", "--server-side", "-f", &path]);
    let text = String::from_utf8_lossy(&first.stdout);
    for object in ["namespace/shop", "configmap/settings", "secret/credentials", "deployment.apps/api", "service/api"] {
        assert!(text.contains(&format!("{object} serverside-applied")), "{text}");
    }
    cluster.ok(&["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s"]);
    cluster.ok(&["apply", "--server-side", "-f", &path])
}

#[test]
fn api_resources_come_from_discovery() {
    let cluster = Cluster::start();
    let text = cluster.ok(&["api-resources"]);
    for row in [
        "deployments",
        "statefulsets",
        "cronjobs",
        "ingresses",
        "networkpolicies",
        "clusterrolebindings",
        "poddisruptionbudgets",
        "horizontalpodautoscalers",
        "leases",
        "customresourcedefinitions",
        "configmaps",
    ] {
        assert!(text.contains(row), "`{row}` in api-resources:\n{text}");
    }
    assert!(text.contains("deploy") && text.contains("apps/v1"), "{text}");
    let version = cluster.ok(&["version", "-o", "json"]);
    assert!(version.contains("serverVersion"), "{version}");
}

#[test]
fn create_namespace_then_get_it() {
    let cluster = Cluster::start();
    assert!(cluster.ok(&["create", "namespace", "shop"]).contains("namespace/shop created"));
    let namespace = cluster.json(&["get", "namespace", "shop", "-o", "json"]);
    assert_eq!(namespace["status"]["phase"], "Active");
    let again = cluster.fails(&["create", "namespace", "shop"]);
    assert!(again.contains("AlreadyExists") && again.contains("already exists"), "{again}");
    let bad = cluster.fails(&["create", "namespace", "Not_Valid"]);
    assert!(bad.contains("is invalid") && bad.contains("RFC 1123"), "{bad}");
}

#[test]
fn server_side_apply_of_a_multi_document_manifest() {
    let cluster = Cluster::start();
    let text = apply_manifest(&cluster);
    assert!(text.contains("widget.example.com/blue serverside-applied"), "{text}");
    let deployment = cluster.json(&["get", "deployment", "api", "-n", "shop", "-o", "json", "--show-managed-fields"]);
    let meta = &deployment["metadata"];
    assert!(meta["uid"].as_str().is_some_and(|u| u.len() == 36), "{meta}");
    assert!(meta["resourceVersion"].as_str().is_some_and(|v| v.parse::<u64>().is_ok()), "{meta}");
    let managers = meta["managedFields"].as_array().expect("managedFields");
    let apply = managers
        .iter()
        .find(|m| m["manager"] == "kubectl" && m["operation"] == "Apply")
        .expect("kubectl's Apply entry");
    assert!(apply["fieldsV1"]["f:spec"]["f:replicas"].is_object(), "{apply}");
    let widget = cluster.json(&["get", "wd", "blue", "-n", "shop", "-o", "json"]);
    assert_eq!(widget["spec"]["color"], "blue");
    let secret = cluster.json(&["get", "secret", "credentials", "-n", "shop", "-o", "json"]);
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==", "stringData is stored as data");
    // Applying the same manifest again changes nothing.
    let before = cluster.json(&["get", "deployment", "api", "-n", "shop", "-o", "json"]);
    cluster.ok(&["apply", "--server-side", "-f", &cluster.write("again.yaml", MANIFEST)]);
    let after = cluster.json(&["get", "deployment", "api", "-n", "shop", "-o", "json"]);
    assert_eq!(before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"]);
}

#[test]
fn diff_server_side_shows_a_change_and_stores_nothing() {
    let cluster = Cluster::start();
    apply_manifest(&cluster);
    let changed = cluster.write("changed.yaml", &MANIFEST.replace("replicas: 2", "replicas: 3"));
    let output = cluster.kubectl(&["diff", "--server-side", "-f", &changed]);
    assert_eq!(output.status.code(), Some(1), "kubectl diff exits 1 when there are differences");
    let diff = String::from_utf8_lossy(&output.stdout);
    assert!(diff.contains("-  replicas: 2") && diff.contains("+  replicas: 3"), "{diff}");
    assert!(!diff.contains("ConfigMap.shop.settings"), "unchanged objects show no diff:\n{diff}");
    let replicas = cluster.ok(&["get", "deployment", "api", "-n", "shop", "-o", "jsonpath={.spec.replicas}"]);
    assert_eq!(replicas, "2", "a dry run stores nothing");
}

#[test]
fn a_second_field_manager_conflicts_until_it_forces() {
    let cluster = Cluster::start();
    apply_manifest(&cluster);
    let scale = cluster.write(
        "scale.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  replicas: 5\n",
    );
    let conflict = cluster.fails(&["apply", "--server-side", "--field-manager=autoscaler", "-f", &scale]);
    assert!(conflict.contains("conflict with \"kubectl\"") && conflict.contains(".spec.replicas"), "{conflict}");
    cluster.ok(&["apply", "--server-side", "--field-manager=autoscaler", "--force-conflicts", "-f", &scale]);
    let deployment = cluster.json(&["get", "deployment", "api", "-n", "shop", "-o", "json", "--show-managed-fields"]);
    assert_eq!(deployment["spec"]["replicas"], 5);
    let managers = deployment["metadata"]["managedFields"].as_array().expect("managedFields");
    let kubectl = managers.iter().find(|m| m["manager"] == "kubectl").expect("kubectl still manages the rest");
    assert!(kubectl["fieldsV1"]["f:spec"]["f:replicas"].is_null(), "force took `replicas` from kubectl: {kubectl}");
    assert!(kubectl["fieldsV1"]["f:spec"]["f:template"].is_object());
}

#[test]
fn wait_for_a_deployment_to_become_available() {
    let cluster = Cluster::start();
    apply_manifest(&cluster);
    cluster.ok(&["wait", "--for=condition=Available", "deployment/api", "-n", "shop", "--timeout=10s"]);
    let status = cluster.json(&["get", "deployment", "api", "-n", "shop", "-o", "json"])["status"].clone();
    assert_eq!(status["readyReplicas"], 2);
    assert_eq!(status["observedGeneration"], 1);
}

#[test]
fn a_failing_image_never_becomes_available() {
    let cluster = Cluster::start();
    apply_manifest(&cluster);
    cluster.ok(&["set", "image", "deployment/api", "api=fail/nginx", "-n", "shop"]);
    let text = cluster.fails(&["wait", "--for=condition=Available", "deployment/api", "-n", "shop", "--timeout=2s"]);
    assert!(text.contains("timed out"), "{text}");
    let conditions =
        cluster.json(&["get", "deployment", "api", "-n", "shop", "-o", "json"])["status"]["conditions"].clone();
    assert!(conditions.to_string().contains("ProgressDeadlineExceeded"), "{conditions}");
}

#[test]
fn get_watch_sees_an_update() {
    let cluster = Cluster::start();
    apply_manifest(&cluster);
    let mut watch = Command::new("kubectl")
        .args(["get", "configmap", "settings", "-n", "shop", "-w", "-o", "jsonpath={.data.mode}{\"\\n\"}"])
        .env("KUBECONFIG", cluster.config())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl get -w");
    let mut lines = BufReader::new(watch.stdout.take().expect("stdout")).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("production"), "the current object first");
    cluster.ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"data":{"mode":"staging"}}"#,
    ]);
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("staging"), "then the update");
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn a_finalizer_holds_a_deleted_object_until_it_is_removed() {
    let cluster = Cluster::start();
    apply_manifest(&cluster);
    cluster.ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
    ]);
    cluster.ok(&["delete", "configmap", "settings", "-n", "shop", "--wait=false"]);
    let held = cluster.json(&["get", "configmap", "settings", "-n", "shop", "-o", "json"]);
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    cluster.ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "shop",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);
    let gone = cluster.fails(&["get", "configmap", "settings", "-n", "shop"]);
    assert!(gone.contains("NotFound"), "{gone}");
}

#[test]
fn deleting_a_namespace_removes_its_objects() {
    let cluster = Cluster::start();
    apply_manifest(&cluster);
    cluster.ok(&["delete", "namespace", "shop", "--timeout=10s"]);
    let remaining = cluster.ok(&["get", "deployments,configmaps,services,widgets", "-A", "-o", "name"]);
    assert!(!remaining.contains("shop"), "{remaining}");
    assert!(cluster.fails(&["get", "namespace", "shop"]).contains("NotFound"));
    let refused = cluster.fails(&["create", "configmap", "late", "-n", "shop"]);
    assert!(refused.contains("namespaces \"shop\" not found"), "{refused}");
}

#[test]
fn label_selectors_filter_lists() {
    let cluster = Cluster::start();
    for (name, tier) in [("a", "front"), ("b", "back"), ("c", "front")] {
        cluster.ok(&["create", "configmap", name]);
        cluster.ok(&["label", "configmap", name, &format!("tier={tier}")]);
    }
    let names = |selector: &str| cluster.ok(&["get", "configmaps", "-l", selector, "-o", "name"]);
    assert_eq!(names("tier=front"), "configmap/a\nconfigmap/c\n");
    assert_eq!(names("tier notin (front)"), "configmap/b\n");
    assert_eq!(names("tier in (back,front),tier!=back"), "configmap/a\nconfigmap/c\n");
    assert_eq!(names("!tier"), "");
    let limited = cluster.ok(&["get", "configmaps", "--chunk-size=1", "-o", "name", "-l", "tier"]);
    assert_eq!(limited, "configmap/a\nconfigmap/b\nconfigmap/c\n", "limit + continue pages through everything");
}

#[test]
fn a_wrong_token_is_refused() {
    let cluster = Cluster::start();
    let config = std::fs::read_to_string(cluster.config()).expect("kubeconfig");
    let token = config.lines().find_map(|l| l.trim().strip_prefix("token: ")).expect("a token").to_string();
    std::fs::write(cluster.config(), config.replace(&token, "wrong")).expect("rewrite kubeconfig");
    let text = cluster.fails(&["get", "namespaces"]);
    assert!(text.contains("Unauthorized") || text.contains("provide credentials"), "{text}");
    let _ = &cluster.url;
}
