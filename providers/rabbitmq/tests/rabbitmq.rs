//! The RabbitMQ provider against a real broker (`rabbitmq-server` with the management plugin,
//! started by `tests/support/rabbitmq_server.rs`); one broker for the binary, a vhost per test.

use infra_provider::testing::{LifecycleCase, lifecycle, object, plan_and_apply, read_back};
use infra_provider::{ApplyRequest, ConfigureRequest, ImportRequest, PlanRequest, Provider, Value, values_equal};
use infra_rabbitmq::Rabbitmq;
use std::sync::OnceLock;

#[path = "../../../tests/support/rabbitmq_server.rs"]
mod rabbitmq_server;

fn broker() -> &'static rabbitmq_server::Rabbitmq {
    static BROKER: OnceLock<rabbitmq_server::Rabbitmq> = OnceLock::new();
    BROKER.get_or_init(rabbitmq_server::rabbitmq)
}

async fn provider() -> Rabbitmq {
    let management = tokio::task::spawn_blocking(|| broker().management.clone()).await.expect("broker");
    let provider = Rabbitmq::new();
    let config = object(&[
        ("endpoint", Value::from(management.as_str())),
        ("username", Value::from("guest")),
        ("password", Value::from("guest")),
    ]);
    provider.configure(ConfigureRequest { config }).await.expect("configure");
    provider
}

/// The management API, as an operator would use it by hand.
async fn by_hand(method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> reqwest::StatusCode {
    let url = format!("{}/api/{path}", broker().management);
    let mut request = reqwest::Client::new().request(method, url).basic_auth("guest", Some("guest"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("the management API answers").status()
}

fn queue(vhost: &str, name: &str, ttl: i64) -> Value {
    let arguments = object(&[("x-message-ttl", Value::int(ttl)), ("x-queue-type", Value::from("quorum"))]);
    object(&[
        ("name", Value::from(name)),
        ("vhost", Value::from(vhost)),
        ("settings", object(&[("durable", Value::Bool(true)), ("arguments", arguments)])),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_lives_a_full_life() {
    let provider = provider().await;
    plan_and_apply(&provider, "rabbitmq_vhost", None, object(&[("name", Value::from("life"))])).await;
    let cases = [
        LifecycleCase {
            kind: "rabbitmq_vhost".into(),
            create: object(&[("name", Value::from("life-other"))]),
            update: None,
            remote: true,
        },
        LifecycleCase {
            kind: "rabbitmq_queue".into(),
            create: queue("life", "orders", 60000),
            update: None,
            remote: true,
        },
        LifecycleCase {
            kind: "rabbitmq_exchange".into(),
            create: object(&[
                ("name", Value::from("events")),
                ("vhost", Value::from("life")),
                ("settings", object(&[("type", Value::from("topic")), ("durable", Value::Bool(true))])),
            ]),
            update: None,
            remote: true,
        },
        LifecycleCase {
            kind: "rabbitmq_user".into(),
            create: object(&[
                ("name", Value::from("life-user")),
                ("password", Value::from("first-pass").mark_sensitive()),
            ]),
            update: Some(object(&[
                ("name", Value::from("life-user")),
                ("password", Value::from("second-pass").mark_sensitive()),
                ("tags", Value::List(vec![Value::from("monitoring")])),
            ])),
            remote: true,
        },
    ];
    for case in cases {
        let kind = case.kind.clone();
        lifecycle(&provider, case).await.unwrap_or_else(|error| panic!("{kind}: {error}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bindings_permissions_drift_and_import() {
    let provider = provider().await;
    plan_and_apply(&provider, "rabbitmq_vhost", None, object(&[("name", Value::from("wiring"))])).await;
    plan_and_apply(&provider, "rabbitmq_queue", None, queue("wiring", "billing", 1000)).await;
    let exchange = object(&[
        ("name", Value::from("events")),
        ("vhost", Value::from("wiring")),
        ("settings", object(&[("type", Value::from("topic"))])),
    ]);
    plan_and_apply(&provider, "rabbitmq_exchange", None, exchange).await;
    let binding = plan_and_apply(
        &provider,
        "rabbitmq_binding",
        None,
        object(&[
            ("source", Value::from("events")),
            ("vhost", Value::from("wiring")),
            ("destination", Value::from("billing")),
            ("destination_type", Value::from("queue")),
            ("routing_key", Value::from("order.*")),
        ]),
    )
    .await;
    assert!(values_equal(&read_back(&provider, "rabbitmq_binding", &binding).await.expect("binding"), &binding));

    let user = plan_and_apply(
        &provider,
        "rabbitmq_user",
        None,
        object(&[("name", Value::from("billing-svc")), ("password", Value::from("p4ss").mark_sensitive())]),
    )
    .await;
    let permissions = plan_and_apply(
        &provider,
        "rabbitmq_permissions",
        None,
        object(&[
            ("user", Value::from("billing-svc")),
            ("vhost", Value::from("wiring")),
            (
                "permissions",
                object(&[
                    ("configure", Value::from("^$")),
                    ("write", Value::from("events")),
                    ("read", Value::from("billing")),
                ]),
            ),
        ]),
    )
    .await;
    assert!(values_equal(
        &read_back(&provider, "rabbitmq_permissions", &permissions).await.expect("perms"),
        &permissions
    ));

    // Drift made by hand: a password, permissions, a deleted queue.
    by_hand(reqwest::Method::PUT, "users/billing-svc", Some(serde_json::json!({"password": "by-hand", "tags": ""})))
        .await;
    let refreshed = read_back(&provider, "rabbitmq_user", &user).await.expect("user");
    assert!(!values_equal(&refreshed, &user), "a password changed by hand is drift");
    assert!(!format!("{refreshed:?}").contains("by-hand"));
    by_hand(
        reqwest::Method::PUT,
        "permissions/wiring/billing-svc",
        Some(serde_json::json!({"configure": ".*", "write": ".*", "read": ".*"})),
    )
    .await;
    assert!(!values_equal(
        &read_back(&provider, "rabbitmq_permissions", &permissions).await.expect("perms"),
        &permissions
    ));
    let billing = queue("wiring", "billing", 1000);
    by_hand(reqwest::Method::DELETE, "queues/wiring/billing", None).await;
    assert!(read_back(&provider, "rabbitmq_queue", &billing).await.is_none(), "a queue deleted by hand is gone");

    // A changed argument cannot be made in place: the plan replaces, naming the argument.
    let created = plan_and_apply(&provider, "rabbitmq_queue", None, queue("wiring", "audit", 1000)).await;
    let replan = provider
        .plan(PlanRequest {
            kind: "rabbitmq_queue".into(),
            prior: Some(created.clone()),
            proposed: queue("wiring", "audit", 2000),
            config: queue("wiring", "audit", 2000),
        })
        .await
        .expect("plan");
    assert!(
        replan.requires_replace.iter().any(|path| path.first().map(String::as_str) == Some("settings")),
        "{:?}",
        replan.requires_replace
    );

    let imported = provider
        .import(ImportRequest { kind: "rabbitmq_queue".into(), id: "audit@wiring".into() })
        .await
        .expect("import")
        .current;
    assert_eq!(imported.as_map().and_then(|m| m.get("id")).and_then(Value::as_str), Some("audit@wiring"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_stay_names() {
    let provider = provider().await;
    let vhost =
        plan_and_apply(&provider, "rabbitmq_vhost", None, object(&[("name", Value::from("odd/../vhost?x=1#y"))])).await;
    let hostile = queue("odd/../vhost?x=1#y", "q/../../api/users", 1000);
    let created = plan_and_apply(&provider, "rabbitmq_queue", None, hostile).await;
    assert!(read_back(&provider, "rabbitmq_queue", &created).await.is_some(), "found under its exact name");
    assert_eq!(
        by_hand(reqwest::Method::GET, "users/guest", None).await,
        reqwest::StatusCode::OK,
        "nothing else touched"
    );
    for (kind, prior) in [("rabbitmq_queue", created), ("rabbitmq_vhost", vhost)] {
        provider
            .apply(ApplyRequest {
                kind: kind.into(),
                prior: Some(prior.clone()),
                planned: None,
                idempotency_key: "d".into(),
                config: Value::Null,
            })
            .await
            .expect("delete");
        assert!(read_back(&provider, kind, &prior).await.is_none(), "{kind} left nothing behind");
    }
}
