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

/// One object of every kind the provider and the platform blocks use, each with only the fields
/// a user writes: the server defaults the rest, as a real one does.
const EVERY_KIND: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: kinds}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: kinds}
data: {MODE: production}
---
apiVersion: v1
kind: Secret
metadata: {name: credentials, namespace: kinds}
stringData: {password: hunter2}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: kinds}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: kinds}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reads, namespace: kinds}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: ServiceAccount, name: web, namespace: kinds}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: kinds}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80, name: http}]
        env:
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        readinessProbe: {httpGet: {path: /, port: 80}}
        resources: {requests: {cpu: 0.5, memory: 1024Mi}}
        volumeMounts: [{name: settings, mountPath: /etc/web}]
      volumes:
      - name: settings
        configMap: {name: settings}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: kinds}
spec:
  selector: {app: web}
  ports: [{port: 80, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-node, namespace: kinds}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: kinds}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: kinds}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  behavior:
    scaleDown: {stabilizationWindowSeconds: 60}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: kinds}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: kinds}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:17}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kinds}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: fluent/fluent-bit}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: kinds}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: busybox, args: [echo, done]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: kinds}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: busybox}]
"#;

#[test]
fn every_kind_applied_with_only_user_fields_reads_back_defaulted_and_plans_clean() {
    let cluster = Cluster::start();
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack.write("provider \"kubernetes\" {}\n");
    std::fs::write(stack.path().join("kinds.yaml"), EVERY_KIND).expect("write kinds.yaml");
    let applied = stack.apply();
    assert!(applied.contains("Apply complete! Resources: 16 added"), "{applied}");
    let get = |kind: &str, name: &str, path: &str| {
        cluster.kubectl(&["get", kind, name, "-n", "kinds", "-o", &format!("jsonpath={{{path}}}")])
    };
    // The server filled in what the user left out.
    assert_eq!(get("deployment", "web", ".spec.progressDeadlineSeconds"), "600");
    assert_eq!(get("deployment", "web", ".spec.template.spec.containers[0].imagePullPolicy"), "IfNotPresent");
    assert_eq!(get("deployment", "web", ".spec.template.spec.volumes[0].configMap.defaultMode"), "420");
    assert_eq!(get("deployment", "web", ".spec.template.spec.containers[0].resources.requests.cpu"), "500m");
    assert_eq!(get("service", "web", ".spec.sessionAffinity"), "None");
    assert!(get("service", "web-node", ".spec.ports[0].nodePort").parse::<u16>().is_ok_and(|p| p >= 30000));
    assert_eq!(get("statefulset", "db", ".spec.volumeClaimTemplates[0].spec.volumeMode"), "Filesystem");
    assert_eq!(get("hpa", "web", ".spec.behavior.scaleUp.selectPolicy"), "Max");
    assert_eq!(get("job", "migrate", ".spec.backoffLimit"), "6");
    assert_eq!(get("cronjob", "nightly", ".spec.concurrencyPolicy"), "Allow");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "defaults are not drift:\n{text}");
    assert!(!text.contains("Warning"), "{text}");

    // An autoscaler scales the Deployment (through /scale): its field, not infra's.
    cluster.kubectl(&["scale", "deployment", "web", "-n", "kinds", "--replicas=4"]);
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "replicas set by an autoscaler are not drift:\n{text}");
    stack.apply();
    assert_eq!(get("deployment", "web", ".spec.replicas"), "4", "an apply leaves the autoscaler's replicas");
}

const GADGET_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget}
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
              size: {type: integer}
              colour: {type: string, default: red}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g, namespace: default}
spec:
  size: 2
  shape: round
"#;

#[test]
fn a_custom_resource_field_its_schema_lacks_is_a_plan_warning_and_never_a_diff() {
    let cluster = Cluster::start();
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack.write("provider \"kubernetes\" {}\n");
    std::fs::write(stack.path().join("gadgets.yaml"), GADGET_CRD).expect("write gadgets.yaml");
    // The CRD is in the same plan: its schema names the field before anything exists.
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("v1/Gadget/default/g: the API server prunes `.spec.shape`"), "{text}");
    assert!(text.contains("--> gadgets.yaml:22:1"), "the warning points at the document:\n{text}");
    stack.apply();
    let live = cluster.kubectl(&["get", "gadget", "g", "-o", "jsonpath={.spec}"]);
    assert!(!live.contains("shape") && live.contains("\"colour\":\"red\""), "pruned and defaulted: {live}");
    for _ in 0..2 {
        let (code, text) = stack.plan();
        assert_eq!(code, 0, "no perpetual diff:\n{text}");
        assert!(text.contains("Field not in the kind's schema") && text.contains("`.spec.shape`"), "{text}");
    }
    // A value the schema refuses is an error at plan time, naming the field.
    let wrong = GADGET_CRD.replace("size: 2", "size: two");
    std::fs::write(stack.path().join("gadgets.yaml"), wrong).expect("write gadgets.yaml");
    let (code, text) = stack.plan();
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("spec.size") && text.contains("must be of type integer"), "{text}");
}

#[test]
fn a_changed_immutable_field_replaces_the_object_saying_which_field() {
    let cluster = Cluster::start();
    let stack = example_stack(&cluster);
    stack.apply();
    let api = std::fs::read_to_string(stack.path().join("api.yaml")).expect("api.yaml");
    let moved = api
        .replacen("    matchLabels:\n      app: api\n", "    matchLabels:\n      app: api\n      tier: web\n", 1)
        .replacen("      labels:\n        app: api\n", "      labels:\n        app: api\n        tier: web\n", 1);
    assert_ne!(moved, api);
    std::fs::write(stack.path().join("api.yaml"), moved).expect("write");
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("must be replaced"), "{text}");
    assert!(text.contains("because spec.selector of a Deployment cannot change in place"), "{text}");
    stack.apply();
    let selector = cluster.kubectl(&[
        "get",
        "deployment",
        "api",
        "-n",
        "shop",
        "-o",
        "jsonpath={.spec.selector.matchLabels.tier}",
    ]);
    assert_eq!(selector, "web");
    assert_eq!(stack.plan().0, 0);
}

#[test]
fn a_misspelt_field_of_a_built_in_kind_is_a_plan_warning_naming_it() {
    let cluster = Cluster::start();
    let stack = example_stack(&cluster);
    let api = std::fs::read_to_string(stack.path().join("api.yaml")).expect("api.yaml");
    let typo = api.replacen("  selector:\n", "  replica: 3\n  selector:\n", 1);
    assert_ne!(typo, api);
    std::fs::write(stack.path().join("api.yaml"), typo).expect("write");
    stack.apply();
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("apps/v1/Deployment/shop/api: the API server prunes `.spec.replica`"), "{text}");
}

#[test]
fn a_manifest_without_a_namespace_lands_in_the_default_one_and_plans_clean() {
    let cluster = Cluster::start();
    let mut stack = Stack::new_without_moto();
    stack.set_env("KUBECONFIG", &cluster.kubeconfig());
    stack.write("provider \"kubernetes\" {}\n");
    std::fs::write(
        stack.path().join("app.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {MODE: production}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: app}\nspec:\n  selector: {app: app}\n  ports: [{port: 80, name: web}]\n",
    )
    .expect("write app.yaml");
    let applied = stack.apply();
    assert!(applied.contains("Apply complete! Resources: 2 added"), "{applied}");
    assert_eq!(
        cluster.kubectl(&["get", "configmap", "settings", "-n", "default", "-o", "jsonpath={.data.MODE}"]),
        "production"
    );
    assert_eq!(stack.attribute("kubernetes_manifest.yaml[\"v1/ConfigMap/settings\"]", "id"), "v1/ConfigMap/settings");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
}
