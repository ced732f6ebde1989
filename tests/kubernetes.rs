//! The Kubernetes provider against the Kubernetes API test server (`tests/kube-apiserver`),
//! with kubectl for changes made outside infra.

mod support;

use support::{Cluster, Stack};

fn example_stack(cluster: &Cluster) -> Stack {
    let mut stack = Stack::new_without_moto();
    stack.copy_from(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes"));
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack
}

#[test]
fn the_example_applies_and_another_managers_field_is_no_drift() {
    let cluster = Cluster::start();
    let stack = example_stack(&cluster);
    let applied = stack.apply();
    assert!(applied.contains("Apply complete! Resources: 7 added"), "{applied}");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
    assert_eq!(cluster.kubectl(&["get", "widget", "blue", "-n", "shop", "-o", "jsonpath={.spec.color}"]), "blue");
    let labels = cluster.kubectl(&["get", "deployment", "api", "-n", "shop", "-o", "jsonpath={.metadata.labels}"]);
    assert!(labels.contains("\"app.kubernetes.io/managed-by\":\"infra\""), "{labels}");

    // An autoscaler owns `replicas`: not infra's field, so no drift and nothing to do.
    cluster.kubectl(&[
        "patch",
        "deployment",
        "api",
        "-n",
        "shop",
        "--field-manager=autoscaler",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":6}}"#,
    ]);
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "a field another manager owns is not drift:\n{text}");
    assert!(!text.contains("changed outside"), "{text}");
}

#[test]
fn a_field_infra_manages_changed_outside_is_drift_and_corrected() {
    let cluster = Cluster::start();
    let stack = example_stack(&cluster);
    stack.apply();
    cluster.kubectl(&["set", "image", "deployment/api", "api=nginx:evil", "-n", "shop"]);
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("# kubernetes_manifest.yaml[\"apps/v1/Deployment/shop/api\"] has changed"), "{text}");
    assert!(text.contains("image = \"nginx:evil\"") && text.contains("image = \"nginx:1.27\""), "{text}");
    stack.apply();
    let image = cluster.kubectl(&[
        "get",
        "deployment",
        "api",
        "-n",
        "shop",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "nginx:1.27", "the drift was corrected");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
}

#[test]
fn removing_a_document_deletes_exactly_that_object() {
    let cluster = Cluster::start();
    let stack = example_stack(&cluster);
    stack.apply();
    let api = std::fs::read_to_string(stack.path().join("api.yaml")).expect("api.yaml");
    let without_hpa = api
        .split("\n---\n")
        .filter(|doc| !doc.contains("kind: HorizontalPodAutoscaler"))
        .collect::<Vec<_>>()
        .join("\n---\n");
    std::fs::write(stack.path().join("api.yaml"), without_hpa).expect("write");
    let (code, text) = stack.plan();
    assert_eq!(code, 2);
    assert!(text.contains("Plan: 0 to add, 0 to change, 1 to destroy."), "{text}");
    assert!(
        text.contains(
            "# kubernetes_manifest.yaml[\"autoscaling/v2/HorizontalPodAutoscaler/shop/api\"] will be destroyed"
        ),
        "{text}"
    );
    stack.apply();
    let left = cluster.kubectl(&[
        "get",
        "deployments,services,horizontalpodautoscalers,configmaps",
        "-n",
        "shop",
        "-o",
        "name",
    ]);
    assert!(!left.contains("horizontalpodautoscaler"), "{left}");
    assert!(
        left.contains("deployment.apps/api") && left.contains("service/api") && left.contains("configmap/api-settings"),
        "{left}"
    );
}

#[test]
fn a_failing_rollout_fails_the_apply_quoting_its_conditions() {
    let cluster = Cluster::start();
    let stack = example_stack(&cluster);
    let api = std::fs::read_to_string(stack.path().join("api.yaml")).expect("api.yaml");
    std::fs::write(stack.path().join("api.yaml"), api.replace("image: nginx:1.27", "image: fail/nginx"))
        .expect("write");
    let output = stack.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in `kubernetes_manifest.yaml[\"apps/v1/Deployment/shop/api\"]`"), "{stderr}");
    assert!(stderr.contains("ProgressDeadlineExceeded"), "the condition is quoted:\n{stderr}");
}

#[test]
fn a_field_another_manager_applies_is_a_conflict_until_forced() {
    let cluster = Cluster::start();
    let stack = example_stack(&cluster);
    stack.apply();
    let other = stack.path().join("other.yml.txt");
    std::fs::write(
        &other,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-settings\n  namespace: shop\ndata:\n  MODE: theirs\n",
    )
    .expect("write");
    cluster.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=other-team",
        "--force-conflicts",
        "-f",
        &other.display().to_string(),
    ]);
    let output = stack.run(&["plan", "-no-color"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Field manager conflict") && stderr.contains("other-team"), "{stderr}");
    assert!(stderr.contains("force_conflicts"), "{stderr}");
    let main = std::fs::read_to_string(stack.path().join("main.tf")).expect("main.tf");
    std::fs::write(
        stack.path().join("main.tf"),
        main.replace("  manifest = {", "  force_conflicts = true\n  manifest = {"),
    )
    .expect("write");
    stack.apply();
    assert_eq!(
        cluster.kubectl(&["get", "configmap", "api-settings", "-n", "shop", "-o", "jsonpath={.data.MODE}"]),
        "production"
    );
}

#[test]
fn refreshing_300_objects_of_5_kinds_takes_a_few_lists() {
    let cluster = Cluster::start();
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    let mut text = String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bulk\n");
    let kinds = [
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "ServiceAccount"),
        ("coordination.k8s.io/v1", "Lease"),
        ("rbac.authorization.k8s.io/v1", "Role"),
    ];
    for i in 0..300 {
        let (version, kind) = kinds[i % kinds.len()];
        text.push_str(&format!(
            "---\napiVersion: {version}\nkind: {kind}\nmetadata:\n  name: object-{i}\n  namespace: bulk\n"
        ));
    }
    std::fs::write(stack.path().join("bulk.yaml"), text).expect("write");
    stack.apply();
    cluster.reset_requests();
    let (code, output) = stack.plan();
    assert_eq!(code, 0, "{output}");
    let requests = cluster.requests();
    eprintln!("requests for refreshing 300 objects: {requests:?}");
    let lists = requests.get("list").copied().unwrap_or(0);
    assert!(lists <= 10, "300 objects over 5 kinds refreshed in {lists} list requests: {requests:?}");
    assert_eq!(requests.get("get").copied().unwrap_or(0), 0, "no GET per object: {requests:?}");
}

#[test]
fn injected_faults_lose_nothing() {
    use std::sync::atomic::Ordering;
    let cluster = Cluster::start();
    let stack = example_stack(&cluster);
    let faults = &cluster.running.server.faults;
    faults.fail_next.store(3, Ordering::SeqCst);
    faults.throttle_next.store(3, Ordering::SeqCst);
    let applied = stack.apply();
    assert!(applied.contains("Apply complete! Resources: 7 added"), "500s and 429s are retried:\n{applied}");
    let _ = faults.drop_watches.send(());
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "state matches the cluster after the faults:\n{text}");
}

#[test]
fn an_object_made_with_kubectl_is_imported_and_adopted() {
    let cluster = Cluster::start();
    cluster.kubectl(&["create", "configmap", "legacy", "--from-literal=MODE=old"]);
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack.write(
        r#"
resource "kubernetes_manifest" "legacy" {
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "legacy", namespace = "default" }
    data       = { MODE = "new" }
  }
}
"#,
    );
    stack.ok(&["import", "kubernetes_manifest.legacy", "v1/ConfigMap/default/legacy"]);
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("0 to add, 1 to change, 0 to destroy"),
        "adoption is an update, never a second object:\n{text}"
    );
    stack.apply();
    assert_eq!(cluster.kubectl(&["get", "configmap", "legacy", "-o", "jsonpath={.data.MODE}"]), "new");
    let managers = cluster.kubectl(&[
        "get",
        "configmap",
        "legacy",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
        "--show-managed-fields",
    ]);
    assert!(managers.contains("infra"), "infra owns the fields it applies: {managers}");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
}

#[test]
fn an_unknown_kind_is_a_plan_error_naming_the_object() {
    let cluster = Cluster::start();
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    std::fs::write(
        stack.path().join("gadget.yaml"),
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: default\n",
    )
    .expect("write");
    let output = stack.run(&["plan", "-no-color"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Unknown kind") && stderr.contains("example.com/v1/Gadget/default/g"), "{stderr}");
    assert!(stderr.contains("install the CRD"), "{stderr}");
}

#[test]
fn an_applier_dropping_its_fields_beside_another_managers_field_is_not_a_conflict() {
    // The server-side-apply sequence of issue 19, with kubectl as both managers: `first` applies
    // data.a and data.b; `other` force-applies data.a; `first` applies `data: {}` — a real API
    // server accepts it, removes data.b (first's, no longer specified) and keeps data.a (other's).
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, data: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: default\ndata: {data}\n"),
        )
        .expect("write");
        path.to_string_lossy().into_owned()
    };
    let both = write("both.yaml", "{a: \"1\", b: \"2\"}");
    let theirs = write("theirs.yaml", "{a: \"changed\"}");
    let empty = write("empty.yaml", "{}");
    cluster.kubectl(&["apply", "--server-side", "--field-manager=first", "-f", &both]);
    cluster.kubectl(&["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", &theirs]);
    cluster.kubectl(&["apply", "--server-side", "--field-manager=first", "-f", &empty]);
    let data = cluster.kubectl(&["get", "configmap", "shared", "-o", "jsonpath={.data}"]);
    let data: serde_json::Value = serde_json::from_str(&data).expect("JSON");
    assert_eq!(data, serde_json::json!({"a": "changed"}), "data.b is gone, data.a stays with `other`");
    let managed = cluster.kubectl(&["get", "configmap", "shared", "-o", "json", "--show-managed-fields"]);
    let managed: serde_json::Value = serde_json::from_str(&managed).expect("JSON");
    let owner_of_a: Vec<&str> = managed["metadata"]["managedFields"]
        .as_array()
        .expect("managed fields")
        .iter()
        .filter(|entry| entry["fieldsV1"]["f:data"]["f:a"].is_object())
        .filter_map(|entry| entry["manager"].as_str())
        .collect();
    assert_eq!(owner_of_a, ["other"]);
}
