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

const MINIMAL_DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
        readinessProbe:
          httpGet: {path: /, port: 80}
"#;

/// The defaults the API reference gives for the fields a user leaves out (apps/v1
/// DeploymentSpec, core/v1 PodSpec, Container, ContainerPort, Probe, HTTPGetAction).
#[test]
fn a_deployment_created_with_only_user_fields_reads_back_with_the_api_servers_defaults() {
    let cluster = Cluster::start_with(&["--no-controllers"]);
    let path = cluster.write("web.yaml", MINIMAL_DEPLOYMENT);
    cluster.ok(&["create", "-f", &path]);
    let live = cluster.json(&["get", "deployment", "web", "-o", "json", "--show-managed-fields"]);
    let spec = &live["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(
        spec["strategy"],
        serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    let pod = &spec["template"]["spec"];
    for (field, value) in [
        ("restartPolicy", serde_json::json!("Always")),
        ("dnsPolicy", serde_json::json!("ClusterFirst")),
        ("schedulerName", serde_json::json!("default-scheduler")),
        ("terminationGracePeriodSeconds", serde_json::json!(30)),
        ("securityContext", serde_json::json!({})),
    ] {
        assert_eq!(pod[field], value, "{field}");
    }
    let container = &pod["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent", "a tag other than latest");
    assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(container["terminationMessagePolicy"], "File");
    assert_eq!(container["ports"][0]["protocol"], "TCP");
    assert_eq!(container["readinessProbe"]["httpGet"]["scheme"], "HTTP");
    assert_eq!(container["readinessProbe"]["periodSeconds"], 10);
    assert_eq!(container["readinessProbe"]["failureThreshold"], 3);
    // An Update (kubectl create) owns what it sent as stored, defaults included.
    let entry = &live["metadata"]["managedFields"][0];
    assert_eq!((entry["manager"].as_str(), entry["operation"].as_str()), (Some("kubectl-create"), Some("Update")));
    assert!(entry["fieldsV1"]["f:spec"]["f:progressDeadlineSeconds"].is_object(), "{entry}");
}

#[test]
fn a_server_side_dry_run_answers_exactly_what_the_apply_stores() {
    let cluster = Cluster::start_with(&["--no-controllers"]);
    let path = cluster.write("web.yaml", MINIMAL_DEPLOYMENT);
    let dry: serde_json::Value =
        serde_json::from_str(&cluster.ok(&["apply", "--server-side", "--dry-run=server", "-o", "json", "-f", &path]))
            .expect("JSON");
    assert!(cluster.kubectl(&["get", "deployment", "web"]).stderr.starts_with(b"Error from server (NotFound)"));
    let stored: serde_json::Value =
        serde_json::from_str(&cluster.ok(&["apply", "--server-side", "-o", "json", "-f", &path])).expect("JSON");
    assert_eq!(dry["spec"], stored["spec"]);
    assert_eq!(dry["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
    // An Apply owns only what it applied: the defaults are nobody's.
    let applied = cluster.json(&["get", "deployment", "web", "-o", "json", "--show-managed-fields"]);
    let entry = &applied["metadata"]["managedFields"][0];
    assert_eq!(entry["operation"], "Apply");
    assert!(entry["fieldsV1"]["f:spec"].get("f:progressDeadlineSeconds").is_none(), "{entry}");
}

#[test]
fn invalid_objects_and_changes_to_immutable_fields_are_refused_with_their_fields() {
    let cluster = Cluster::start_with(&["--no-controllers"]);
    let no_image = cluster.write("no-image.yaml", &MINIMAL_DEPLOYMENT.replace("        image: nginx:1.27\n", ""));
    let text = cluster.fails(&["create", "-f", &no_image]);
    assert!(
        text.contains("is invalid") && text.contains("spec.template.spec.containers[0].image: Required value"),
        "{text}"
    );

    let job = cluster.write(
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec:\n      containers: [{name: run, image: busybox}]\n",
    );
    let text = cluster.fails(&["create", "-f", &job]);
    assert!(text.contains(r#"spec.template.spec.restartPolicy: Unsupported value: "Always""#), "{text}");

    let path = cluster.write("web.yaml", MINIMAL_DEPLOYMENT);
    cluster.ok(&["apply", "--server-side", "-f", &path]);
    let moved = cluster.write("moved.yaml", &MINIMAL_DEPLOYMENT.replace("{app: web}", "{app: web2}"));
    let text = cluster.fails(&["apply", "--server-side", "-f", &moved]);
    assert!(text.contains("spec.selector: Invalid value") && text.contains("field is immutable"), "{text}");

    let frozen = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: \"1\"}\n";
    cluster.ok(&["apply", "--server-side", "-f", &cluster.write("frozen.yaml", frozen)]);
    let text = cluster.fails(&[
        "apply",
        "--server-side",
        "-f",
        &cluster.write("thawed.yaml", &frozen.replace("\"1\"", "\"2\"")),
    ]);
    assert!(text.contains("data: Forbidden: field is immutable when `immutable` is set"), "{text}");
    assert_eq!(cluster.ok(&["get", "configmap", "frozen", "-o", "jsonpath={.data.a}"]), "1");

    let service =
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  clusterIP: 10.96.7.7\n  ports: [{port: 80}]\n";
    cluster.ok(&["apply", "--server-side", "-f", &cluster.write("svc.yaml", service)]);
    let text = cluster.fails(&[
        "apply",
        "--server-side",
        "-f",
        &cluster.write("svc2.yaml", &service.replace("10.96.7.7", "10.96.7.8")),
    ]);
    assert!(text.contains("may not change once set"), "{text}");
}

const WIDGET_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              colour: {type: string, enum: [red, blue], default: red}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              ready: {type: boolean}
"#;

/// Structural schemas: pruning (refused by kubectl's default `--validate=strict`, dropped
/// with a warning otherwise), defaults, validation, and the status subresource.
#[test]
fn a_custom_resource_is_pruned_defaulted_and_validated_by_its_schema() {
    let cluster = Cluster::start_with(&["--controller-delay-ms", "0"]);
    cluster.ok(&["apply", "--server-side", "-f", &cluster.write("crd.yaml", WIDGET_CRD)]);
    cluster.ok(&["wait", "--for=condition=Established", "crd/gadgets.example.com", "--timeout=10s"]);
    let gadget = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\nspec:\n  size: 2\n  shape: round\n  extra: {anything: [1]}\n";
    let path = cluster.write("gadget.yaml", gadget);
    let text = cluster.fails(&["apply", "--server-side", "-f", &path]);
    assert!(text.contains(".spec.shape: field not declared in schema"), "{text}");

    let output = cluster.kubectl(&["apply", "--server-side", "--validate=warn", "-f", &path]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("unknown field \"spec.shape\""),
        "kubectl prints the warning"
    );
    let live = cluster.json(&["get", "gadget", "g", "-o", "json"]);
    assert!(live["spec"].get("shape").is_none(), "pruned: {live}");
    assert_eq!(live["spec"]["extra"], serde_json::json!({"anything": [1]}), "preserved");
    assert_eq!(live["spec"]["colour"], "red", "defaulted");
    let generation = live["metadata"]["generation"].as_i64();

    let bad = cluster.write(
        "bad.yaml",
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: h}\nspec: {size: 0, colour: green}\n",
    );
    let text = cluster.fails(&["create", "-f", &bad]);
    assert!(text.contains("spec.colour: Unsupported value: \"green\""), "{text}");
    assert!(
        text.contains("spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"),
        "{text}"
    );

    // Status only through /status, and without a new generation.
    cluster.ok(&["patch", "gadget", "g", "--subresource=status", "--type=merge", "-p", r#"{"status":{"ready":true}}"#]);
    cluster.ok(&["patch", "gadget", "g", "--type=merge", "-p", r#"{"status":{"ready":false}}"#]);
    let live = cluster.json(&["get", "gadget", "g", "-o", "json"]);
    assert_eq!(live["status"]["ready"], true);
    assert_eq!(live["metadata"]["generation"].as_i64(), generation);
    cluster.ok(&["patch", "gadget", "g", "--type=merge", "-p", r#"{"spec":{"size":3}}"#]);
    let live = cluster.json(&["get", "gadget", "g", "-o", "json"]);
    assert_eq!(live["metadata"]["generation"].as_i64(), generation.map(|g| g + 1));
}

/// `kubectl scale` writes `/scale`: an Update of `.spec.replicas` recorded with subresource
/// `scale`, taking the field from the applier (as an autoscaler does).
#[test]
fn scaling_through_the_scale_subresource_takes_replicas() {
    let cluster = Cluster::start_with(&["--no-controllers"]);
    let path =
        cluster.write("web.yaml", &MINIMAL_DEPLOYMENT.replace("spec:\n  selector", "spec:\n  replicas: 2\n  selector"));
    cluster.ok(&["apply", "--server-side", "-f", &path]);
    cluster.ok(&["scale", "deployment", "web", "--replicas=5"]);
    let live = cluster.json(&["get", "deployment", "web", "-o", "json", "--show-managed-fields"]);
    assert_eq!(live["spec"]["replicas"], 5);
    let entries = live["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    let scaler = entries.iter().find(|e| e["subresource"] == "scale").expect("a scale entry");
    assert_eq!(scaler["operation"], "Update");
    assert_eq!(scaler["fieldsV1"], serde_json::json!({"f:spec": {"f:replicas": {}}}));
    let applier = entries.iter().find(|e| e["operation"] == "Apply").expect("the apply entry");
    assert!(applier["fieldsV1"]["f:spec"].get("f:replicas").is_none(), "{applier}");
    // Applying replicas again conflicts with the scaler.
    let text = cluster.fails(&["apply", "--server-side", "--field-manager=deployer", "-f", &path]);
    assert!(text.contains("conflict") && text.contains(".spec.replicas"), "{text}");
}

const RACK_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: racks.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Rack, plural: racks, singular: rack}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              servers:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    cpu: {type: integer}
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
              args:
                type: array
                items: {type: string}
              owner:
                type: object
                x-kubernetes-map-type: atomic
                properties:
                  team: {type: string}
                  contact: {type: string}
"#;

/// The merge strategy markers of the server-side apply documentation: a `map` list merges by
/// its keys, a `set` by value, an `atomic` list or map belongs whole to one manager.
#[test]
fn list_and_map_types_of_a_schema_decide_how_two_appliers_merge() {
    let cluster = Cluster::start_with(&["--controller-delay-ms", "0"]);
    cluster.ok(&["apply", "--server-side", "-f", &cluster.write("crd.yaml", RACK_CRD)]);
    cluster.ok(&["wait", "--for=condition=Established", "crd/racks.example.com", "--timeout=10s"]);
    let rack = |spec: &str| format!("apiVersion: example.com/v1\nkind: Rack\nmetadata: {{name: r}}\nspec:\n{spec}");
    let a = cluster.write(
        "a.yaml",
        &rack("  servers: [{name: a, cpu: 1}]\n  tags: [left]\n  args: [--a]\n  owner: {team: a, contact: a@example.com}\n"),
    );
    cluster.ok(&["apply", "--server-side", "--field-manager=alice", "-f", &a]);
    let b = cluster.write("b.yaml", &rack("  servers: [{name: b, cpu: 2}]\n  tags: [right]\n"));
    cluster.ok(&["apply", "--server-side", "--field-manager=bob", "-f", &b]);
    let live = cluster.json(&["get", "rack", "r", "-o", "json", "--show-managed-fields"]);
    assert_eq!(live["spec"]["servers"], serde_json::json!([{"name": "a", "cpu": 1}, {"name": "b", "cpu": 2}]));
    assert_eq!(live["spec"]["tags"], serde_json::json!(["left", "right"]));
    let alice = live["metadata"]["managedFields"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["manager"] == "alice").cloned())
        .expect("alice's entry");
    let spec = &alice["fieldsV1"]["f:spec"];
    assert!(spec["f:servers"]["k:{\"name\":\"a\"}"]["f:cpu"].is_object(), "{spec}");
    assert!(spec["f:tags"]["v:\"left\""].is_object(), "{spec}");
    assert_eq!(spec["f:owner"], serde_json::json!({}), "an atomic map is owned whole");
    assert_eq!(spec["f:args"], serde_json::json!({}), "a list without a type is atomic");

    // Bob changing one field of Alice's atomic map conflicts on the whole map.
    let team = cluster.write("team.yaml", &rack("  owner: {team: b}\n"));
    let text = cluster.fails(&["apply", "--server-side", "--field-manager=bob", "-f", &team]);
    assert!(text.contains("conflict with \"alice\"") && text.contains(".spec.owner"), "{text}");

    // Alice stops applying her tag and server: hers go, Bob's stay.
    let fewer = cluster.write("fewer.yaml", &rack("  args: [--a]\n  owner: {team: a, contact: a@example.com}\n"));
    cluster.ok(&["apply", "--server-side", "--field-manager=alice", "-f", &fewer]);
    let live = cluster.json(&["get", "rack", "r", "-o", "json"]);
    assert_eq!(live["spec"]["servers"], serde_json::json!([{"name": "b", "cpu": 2}]));
    assert_eq!(live["spec"]["tags"], serde_json::json!(["right"]));
}

/// Built-in kinds decode into their types: a misspelt field is unknown (refused by kubectl's
/// strict validation, pruned otherwise) and quantities are stored in canonical form.
#[test]
fn a_built_in_object_loses_its_unknown_fields_and_keeps_canonical_quantities() {
    let cluster = Cluster::start_with(&["--no-controllers"]);
    let typo = MINIMAL_DEPLOYMENT.replace("spec:\n  selector", "spec:\n  replica: 3\n  selector").replace(
        "        readinessProbe:",
        "        resources: {requests: {cpu: 0.5, memory: 1024Mi}, limits: {cpu: 1000m}}\n        readinessProbe:",
    );
    let path = cluster.write("typo.yaml", &typo);
    let text = cluster.fails(&["apply", "--server-side", "-f", &path]);
    assert!(text.contains(".spec.replica: field not declared in schema"), "{text}");
    let output = cluster.kubectl(&["create", "--validate=warn", "-f", &path]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown field \"spec.replica\""));
    let live = cluster.json(&["get", "deployment", "web", "-o", "json"]);
    assert!(live["spec"].get("replica").is_none() && live["spec"]["replicas"] == 1, "{}", live["spec"]);
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["resources"],
        serde_json::json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1"}})
    );
    let wrong = cluster
        .write("wrong.yaml", &MINIMAL_DEPLOYMENT.replace("spec:\n  selector", "spec:\n  replicas: two\n  selector"));
    let text = cluster.fails(&["create", "--validate=false", "-f", &wrong]);
    assert!(text.contains("cannot be handled as a Deployment"), "{text}");
}

/// The server-side apply documentation's ConfigMap: an Apply owns exactly the fields it
/// applied, written as the documentation shows them.
#[test]
fn the_documentations_config_map_is_owned_as_documented() {
    let cluster = Cluster::start();
    let path = cluster.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: test-cm\n  namespace: default\n  labels:\n    test-label: test\ndata:\n  key: some value\n",
    );
    cluster.ok(&["apply", "--server-side", "-f", &path]);
    let live = cluster.json(&["get", "configmap", "test-cm", "-o", "json", "--show-managed-fields"]);
    let entries = live["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    for (field, value) in
        [("manager", "kubectl"), ("operation", "Apply"), ("apiVersion", "v1"), ("fieldsType", "FieldsV1")]
    {
        assert_eq!(entry[field], value, "{field}");
    }
    assert_eq!(
        entry["fieldsV1"],
        serde_json::json!({"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}})
    );
}

/// The documentation's hand-over of `replicas` to an autoscaler: a temporary manager applies
/// only `replicas`, the user's configuration drops it (the value stays, co-owned before), and
/// once the autoscaler scales, the temporary manager owns nothing and its entry goes.
#[test]
fn replicas_are_handed_over_to_an_autoscaler_as_documented() {
    let cluster = Cluster::start_with(&["--no-controllers"]);
    let with_replicas = MINIMAL_DEPLOYMENT.replace("spec:\n  selector", "spec:\n  replicas: 3\n  selector");
    cluster.ok(&["apply", "--server-side", "-f", &cluster.write("web.yaml", &with_replicas)]);
    let only = cluster.write(
        "replicas-only.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
    );
    cluster.ok(&["apply", "--server-side", "--field-manager=handover-to-hpa", "--validate=false", "-f", &only]);
    cluster.ok(&["apply", "--server-side", "-f", &cluster.write("web2.yaml", MINIMAL_DEPLOYMENT)]);
    let live = cluster.json(&["get", "deployment", "web", "-o", "json", "--show-managed-fields"]);
    assert_eq!(live["spec"]["replicas"], 3, "still owned by the temporary manager");
    let entries = live["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    let owner = |name: &str| {
        entries.iter().find(|e| e["manager"] == name).map(|e| e["fieldsV1"]["f:spec"]["f:replicas"].is_object())
    };
    assert_eq!(owner("kubectl"), Some(false));
    assert_eq!(owner("handover-to-hpa"), Some(true));
    cluster.ok(&["scale", "deployment", "web", "--replicas=4"]);
    let live = cluster.json(&["get", "deployment", "web", "-o", "json", "--show-managed-fields"]);
    let managers: Vec<String> = live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["manager"].as_str().map(str::to_string))
        .collect();
    assert!(!managers.contains(&"handover-to-hpa".to_string()), "{managers:?}");
    assert_eq!(live["spec"]["replicas"], 4);
}
