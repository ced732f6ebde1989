//! The same scenarios from a Rust `kube` client: discovery, server-side apply with conflicts
//! and force, dry runs, the watcher, finalizers, and faults.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::Discovery;
use kube::runtime::watcher;
use kube_test_apiserver::{Options, kubeconfig, start};
use serde_json::json;
use std::time::Duration;

async fn client() -> (kube::Client, kube_test_apiserver::Running) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let running =
        start(Options { controller_delay: Duration::from_millis(50), ..Options::default() }, 0).await.expect("server");
    let config = Kubeconfig::from_yaml(&kubeconfig(&running)).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default()).await.expect("config");
    (kube::Client::try_from(config).expect("client"), running)
}

fn deployment(replicas: i64, image: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "default", "labels": {"app": "api"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": image, "env": [{"name": "MODE", "value": "prod"}]}]}
            }
        }
    })
}

#[tokio::test]
async fn discovery_finds_builtin_kinds_and_crds() {
    let (client, _server) = client().await;
    let discovery = Discovery::new(client.clone()).run().await.expect("discovery");
    let apps = discovery.groups().find(|g| g.name() == "apps").expect("apps group");
    assert!(apps.recommended_resources().iter().any(|(r, _)| r.kind == "Deployment"));
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    crds.patch("widgets.example.com", &PatchParams::apply("infra"), &Patch::Apply(crd)).await.expect("apply the CRD");
    let discovery = Discovery::new(client.clone()).run().await.expect("discovery");
    assert!(discovery.groups().any(|g| g.name() == "example.com"), "a CRD's group is discovered");
    crds.delete("widgets.example.com", &DeleteParams::default()).await.expect("delete the CRD");
    let discovery = Discovery::new(client).run().await.expect("discovery");
    assert!(!discovery.groups().any(|g| g.name() == "example.com"), "and is gone with it");
}

#[tokio::test]
async fn server_side_apply_owns_fields_and_conflicts() {
    let (client, _server) = client().await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let applied = api
        .patch("api", &PatchParams::apply("infra"), &Patch::Apply(deployment(2, "nginx:1")))
        .await
        .expect("apply creates");
    let managed = applied.metadata.managed_fields.expect("managedFields");
    assert_eq!(managed[0].manager.as_deref(), Some("infra"));
    assert_eq!(managed[0].operation.as_deref(), Some("Apply"));

    // Dry run: the answer, nothing stored.
    let dry = api
        .patch("api", &PatchParams::apply("infra").dry_run(), &Patch::Apply(deployment(4, "nginx:1")))
        .await
        .expect("dry run");
    assert_eq!(dry.spec.replicas, Some(4));
    assert_eq!(api.get("api").await.expect("get").spec.replicas, Some(2));

    // Another manager setting a field infra owns, to another value: 409 with the field named.
    let scale =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}, "spec": {"replicas": 7}});
    let error =
        api.patch("api", &PatchParams::apply("hpa"), &Patch::Apply(scale.clone())).await.expect_err("a conflict");
    let kube::Error::Api(status) = error else { panic!("an API error") };
    assert_eq!(status.code, 409);
    assert!(status.message.contains(".spec.replicas") && status.message.contains("\"infra\""), "{}", status.message);
    api.patch("api", &PatchParams::apply("hpa").force(), &Patch::Apply(scale)).await.expect("force takes ownership");

    // infra stops applying `env`: it is removed (nobody else owns it); replicas stay the hpa's.
    let mut without_env = deployment(2, "nginx:2");
    without_env["spec"]["template"]["spec"]["containers"][0].as_object_mut().expect("container").remove("env");
    without_env["spec"].as_object_mut().expect("spec").remove("replicas");
    let after = api.patch("api", &PatchParams::apply("infra"), &Patch::Apply(without_env)).await.expect("apply");
    let container = &after.spec.template.spec.as_ref().expect("pod spec").containers[0];
    assert_eq!(container.image.as_deref(), Some("nginx:2"));
    assert!(container.env.is_none(), "a field no manager applies any more is removed");
    assert_eq!(after.spec.replicas, Some(7));
}

#[tokio::test]
async fn a_stale_resource_version_is_a_conflict() {
    let (client, _server) = client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut map: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"a": "1"}})).expect("configmap");
    let created = api.create(&PostParams::default(), &map).await.expect("create");
    map.metadata.resource_version = created.metadata.resource_version.clone();
    map.data = Some([("a".to_string(), "2".to_string())].into());
    api.replace("c", &PostParams::default(), &map).await.expect("a current resourceVersion replaces");
    map.data = Some([("a".to_string(), "3".to_string())].into());
    let error = api.replace("c", &PostParams::default(), &map).await.expect_err("now it is stale");
    assert!(matches!(error, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"), "{error:?}");
    let error = api.create(&PostParams::default(), &map).await.expect_err("exists");
    assert!(matches!(error, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists"), "{error:?}");
}

#[tokio::test]
async fn the_watcher_sees_changes_and_deletions() {
    let (client, _server) = client().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut seen_init_done = false;
    while let Some(event) = events.try_next().await.expect("watch") {
        if matches!(event, watcher::Event::InitDone) {
            seen_init_done = true;
            break;
        }
    }
    assert!(seen_init_done);
    let map: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "w"}, "data": {"a": "1"}})).expect("configmap");
    api.create(&PostParams::default(), &map).await.expect("create");
    api.patch("w", &PatchParams::default(), &Patch::Merge(json!({"data": {"a": "2"}}))).await.expect("patch");
    api.delete("w", &DeleteParams::default()).await.expect("delete");
    let mut values = Vec::new();
    let mut deleted = false;
    while let Some(event) = tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("events arrive") {
        match event.expect("event") {
            watcher::Event::Apply(map) => values.push(map.data.and_then(|d| d.get("a").cloned()).unwrap_or_default()),
            watcher::Event::Delete(_) => {
                deleted = true;
                break;
            }
            _ => {}
        }
    }
    assert_eq!(values, ["1", "2"]);
    assert!(deleted);
}

#[tokio::test]
async fn finalizers_and_namespace_termination() {
    let (client, _server) = client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "team"}})).expect("namespace");
    namespaces.create(&PostParams::default(), &ns).await.expect("create namespace");
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    let held: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}))
            .expect("configmap");
    maps.create(&PostParams::default(), &held).await.expect("create");
    namespaces.delete("team", &DeleteParams::default()).await.expect("delete namespace");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let namespace = namespaces.get("team").await.expect("still there while an object is held");
    assert_eq!(namespace.status.and_then(|s| s.phase).as_deref(), Some("Terminating"));
    assert!(maps.get("held").await.expect("held").metadata.deletion_timestamp.is_some());
    maps.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}})))
        .await
        .expect("release");
    for _ in 0..50 {
        if namespaces.get_opt("team").await.expect("get").is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the namespace went away once its last object did");
}

#[tokio::test]
async fn lists_page_with_limit_and_continue() {
    let (client, _server) = client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for i in 0..5 {
        let map: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("m{i}"), "labels": {"n": i.to_string()}}}))
                .expect("cm");
        api.create(&PostParams::default(), &map).await.expect("create");
    }
    let first = api.list(&ListParams::default().limit(2)).await.expect("first page");
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().expect("a continue token");
    let rest = api.list(&ListParams::default().continue_token(&token)).await.expect("the rest");
    assert_eq!(rest.items.len(), 3);
    let selected = api.list(&ListParams::default().labels("n in (1,3)")).await.expect("selected");
    assert_eq!(selected.items.len(), 2);
}

#[tokio::test]
async fn faults_on_demand() {
    use std::sync::atomic::Ordering;
    let (client, server) = client().await;
    let faults = &server.server.faults;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    // One 429 with Retry-After: the client waits, retries, and is served.
    faults.throttle_next.store(1, Ordering::SeqCst);
    api.list(&ListParams::default()).await.expect("served after the retry");
    assert_eq!(faults.throttle_next.load(Ordering::SeqCst), 0, "the 429 was sent");
    // 500s until they run out.
    faults.fail_next.store(20, Ordering::SeqCst);
    let error = api.list(&ListParams::default()).await.expect_err("a 500");
    assert!(matches!(error, kube::Error::Api(ref s) if s.code == 500 && s.reason == "InternalError"), "{error:?}");
    faults.fail_next.store(0, Ordering::SeqCst);
    api.list(&ListParams::default()).await.expect("served again");
}

#[tokio::test]
async fn watches_resume_send_bookmarks_and_expire() {
    use kube::api::{WatchEvent, WatchParams};
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let running = start(Options { history: 5, ..Options::default() }, 0).await.expect("server");
    let config = Kubeconfig::from_yaml(&kubeconfig(&running)).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default()).await.expect("config");
    let api: Api<ConfigMap> = Api::namespaced(kube::Client::try_from(config).expect("client"), "default");
    let first = api
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "a"}})).expect("cm"))
        .await
        .expect("create");
    let from = first.metadata.resource_version.clone().expect("rv");
    api.patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"k": "1"}}))).await.expect("patch");

    // Resuming from a resourceVersion replays what came after it, then bookmarks.
    let mut stream = api.watch(&WatchParams::default().timeout(3), &from).await.expect("watch").boxed();
    let replayed = stream.try_next().await.expect("event").expect("one");
    assert!(
        matches!(replayed, WatchEvent::Modified(ref m) if m.data.as_ref().is_some_and(|d| d["k"] == "1")),
        "{replayed:?}"
    );
    let bookmark =
        tokio::time::timeout(Duration::from_secs(3), stream.try_next()).await.expect("in time").expect("event");
    assert!(matches!(bookmark, Some(WatchEvent::Bookmark(_))), "{bookmark:?}");

    // Older than the history kept: 410.
    for i in 0..10 {
        api.patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"k": i.to_string()}})))
            .await
            .expect("patch");
    }
    let mut stream = api.watch(&WatchParams::default(), &from).await.expect("watch").boxed();
    let expired = stream.try_next().await.expect("event").expect("one");
    assert!(matches!(expired, WatchEvent::Error(ref e) if e.code == 410), "{expired:?}");
}
