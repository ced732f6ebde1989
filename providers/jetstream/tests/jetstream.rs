//! The JetStream provider against a real `nats-server -js` (`tests/support/nats_server.rs`).

use infra_jetstream::Jetstream;
use infra_provider::testing::{LifecycleCase, lifecycle, object, plan_and_apply};
use infra_provider::{
    ApplyRequest, ConfigureRequest, ImportRequest, PlanRequest, Provider, ReadRequest, Value, values_equal,
};

#[path = "../../../tests/support/nats_server.rs"]
mod nats_server;

async fn provider(url: &str) -> Jetstream {
    let provider = Jetstream::new();
    provider.configure(ConfigureRequest { config: object(&[("servers", Value::from(url))]) }).await.expect("configure");
    provider
}

fn stream(name: &str, age: i64) -> Value {
    object(&[
        ("name", Value::from(name)),
        ("subjects", Value::List(vec![Value::from(format!("{}.>", name.to_lowercase()).as_str())])),
        ("max_age", Value::int(age)),
    ])
}

async fn plan(
    provider: &Jetstream,
    kind: &str,
    prior: Option<Value>,
    config: Value,
) -> Result<infra_provider::PlanResponse, infra_provider::Diagnostics> {
    provider.plan(PlanRequest { kind: kind.into(), prior, proposed: config.clone(), config }).await
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_and_consumers_live_full_lives() {
    let server = tokio::task::spawn_blocking(nats_server::nats).await.expect("server");
    let provider = provider(&server.url).await;
    lifecycle(
        &provider,
        LifecycleCase {
            kind: "jetstream_stream".into(),
            create: stream("ORDERS", 3600),
            update: Some(stream("ORDERS", 7200)),
            remote: true,
        },
    )
    .await
    .unwrap_or_else(|error| panic!("stream: {error}"));
    plan_and_apply(&provider, "jetstream_stream", None, stream("EVENTS", 0)).await;
    let consumer = |wait: i64| {
        object(&[
            ("stream_id", Value::from("EVENTS")),
            ("durable_name", Value::from("billing")),
            ("filter_subject", Value::from("events.billing")),
            ("ack_wait", Value::int(wait)),
        ])
    };
    lifecycle(
        &provider,
        LifecycleCase {
            kind: "jetstream_consumer".into(),
            create: consumer(30),
            update: Some(consumer(60)),
            remote: true,
        },
    )
    .await
    .unwrap_or_else(|error| panic!("consumer: {error}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_replacement_import_and_hostile_names() {
    let server = tokio::task::spawn_blocking(nats_server::nats).await.expect("server");
    let provider = provider(&server.url).await;
    let created = plan_and_apply(&provider, "jetstream_stream", None, stream("AUDIT", 60)).await;

    // Changed by hand with a raw API request: drift.
    let client = async_nats::connect(server.url.as_str()).await.expect("connect");
    let mut config = serde_json::json!({"name": "AUDIT", "subjects": ["audit.>"], "max_age": 5_000_000_000i64, "storage": "file", "retention": "limits", "num_replicas": 1});
    config["max_msgs"] = serde_json::json!(10);
    let reply = client.request("$JS.API.STREAM.UPDATE.AUDIT", config.to_string().into()).await.expect("update by hand");
    assert!(
        !String::from_utf8_lossy(&reply.payload).contains("\"error\""),
        "{}",
        String::from_utf8_lossy(&reply.payload)
    );
    let read = provider
        .read(ReadRequest { kind: "jetstream_stream".into(), current: created.clone() })
        .await
        .expect("read")
        .current
        .expect("there");
    assert!(!values_equal(&read, &created), "a stream changed by hand is drift");

    // Storage cannot change in place: a replace, naming the attribute.
    let mut memory = stream("AUDIT", 60);
    if let Value::Map(map) = &mut memory {
        map.insert("storage".into(), Value::from("memory"));
    }
    let replan = plan(&provider, "jetstream_stream", Some(read), memory).await.expect("plan");
    assert!(replan.requires_replace.iter().any(|p| p == &vec!["storage".to_string()]), "{:?}", replan.requires_replace);

    let imported = provider
        .import(ImportRequest { kind: "jetstream_stream".into(), id: "AUDIT".into() })
        .await
        .expect("import")
        .current;
    assert_eq!(
        imported.as_map().and_then(|m| m.get("max_msgs")).and_then(|v| v.as_number()).map(|n| n.to_string()),
        Some("10".into())
    );

    for hostile in ["ORDERS.>", "A B", "X*", "../Y"] {
        let error = plan(&provider, "jetstream_stream", None, stream(hostile, 0)).await.expect_err(hostile);
        assert!(format!("{error:?}").contains("letters, digits"), "{hostile}: {error:?}");
    }

    provider
        .apply(ApplyRequest {
            kind: "jetstream_stream".into(),
            prior: Some(created.clone()),
            planned: None,
            idempotency_key: "d".into(),
            config: Value::Null,
        })
        .await
        .expect("delete");
    let gone =
        provider.read(ReadRequest { kind: "jetstream_stream".into(), current: created }).await.expect("read").current;
    assert!(gone.is_none(), "nothing left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_a_clear_error() {
    let provider = provider("nats://127.0.0.1:9").await;
    let error = provider
        .read(ReadRequest { kind: "jetstream_stream".into(), current: stream("X", 0) })
        .await
        .expect_err("unreachable");
    assert!(format!("{error:?}").contains("Cannot connect to NATS"), "{error:?}");
}
