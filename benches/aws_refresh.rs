//! `cargo bench --bench aws_refresh`: refreshing N EC2 instances through the AWS provider
//! against moto (started here, as the tests start it), batched (`read_batch`: Describe calls by
//! id filter) against one call per instance — sequentially, and 10 at a time as Terraform's
//! default `-parallelism=10` would. Run twice: straight to moto on loopback, and through a
//! relay that adds the round trip of a real endpoint (`RTT_MS`, default 30 ms) — loopback moto
//! answers in a few milliseconds, a region's EC2 endpoint in tens. Figures are recorded in
//! docs/performance.md.

#[path = "../tests/support/mod.rs"]
mod support;

use futures::stream::{self, StreamExt};
use infra_provider::{ConfigureRequest, Provider, ReadRequest, Value};
use std::time::Instant;
use support::{block, ec2};

fn object(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn main() {
    let count: i32 = std::env::var("INSTANCES").ok().and_then(|n| n.parse().ok()).unwrap_or(500);
    let client = ec2();
    let images = block(client.describe_images().owners("099720109477").send()).expect("images");
    let ami = images.images().first().and_then(|i| i.image_id()).expect("an AMI").to_string();
    let vpc = block(client.create_vpc().cidr_block("10.60.0.0/16").send()).expect("vpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    let subnet = block(client.create_subnet().vpc_id(&vpc).cidr_block("10.60.0.0/20").send()).expect("subnet");
    let subnet = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
    let output = block(
        client
            .run_instances()
            .image_id(ami)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .subnet_id(subnet)
            .min_count(count)
            .max_count(count)
            .send(),
    )
    .expect("run instances");
    let ids: Vec<String> = output.instances().iter().filter_map(|i| i.instance_id().map(str::to_string)).collect();

    let rtt: u64 = std::env::var("RTT_MS").ok().and_then(|n| n.parse().ok()).unwrap_or(30);
    let relay = support::DelayRelay::start(&support::moto().endpoint, std::time::Duration::from_millis(rtt));
    for (setting, endpoint) in [
        ("moto on loopback".to_string(), support::moto().endpoint.clone()),
        (format!("moto + {rtt} ms round trip"), relay.endpoint.clone()),
    ] {
        run(&ids, &setting, &endpoint, count);
    }
}

fn run(ids: &[String], setting: &str, endpoint: &str, count: i32) {
    let aws = infra_aws::Aws::new();
    let config = object(&[
        ("region", Value::string("us-east-1")),
        ("access_key", Value::string("testing")),
        ("secret_key", Value::string("testing")),
        ("endpoints", object(&[("ec2", Value::string(endpoint.to_string()))])),
    ]);
    block(aws.configure(ConfigureRequest { config })).expect("configure");
    let request = |id: &String| ReadRequest {
        kind: "aws_instance".into(),
        current: object(&[("id", Value::string(id.clone()))]),
    };
    // Warm up the connection pool and moto's backend.
    let _ = block(aws.read_batch(ids.iter().take(5).map(request).collect()));

    println!("\nrefresh of {count} instances through the AWS provider ({setting})");
    let measure = |label: &str, run: &dyn Fn() -> usize| {
        let calls_before = aws.api_calls().unwrap_or(0);
        let started = Instant::now();
        let found = run();
        let elapsed = started.elapsed().as_secs_f64();
        let calls = aws.api_calls().unwrap_or(0) - calls_before;
        println!("{label:<40} {elapsed:>8.3} s {calls:>6} calls  ({found} found)");
        elapsed
    };
    let batched = measure("batched (read_batch)", &|| {
        block(aws.read_batch(ids.iter().map(request).collect()))
            .iter()
            .filter(|a| matches!(a, Ok(r) if r.current.is_some()))
            .count()
    });
    let parallel = measure("one call per instance, 10 at a time", &|| {
        block(
            stream::iter(ids.iter())
                .map(|id| aws.read_batch(vec![request(id)]))
                .buffer_unordered(10)
                .filter(|a| futures::future::ready(matches!(a.first(), Some(Ok(r)) if r.current.is_some())))
                .count(),
        )
    });
    let sequential = measure("one call per instance, one at a time", &|| {
        ids.iter()
            .filter(|id| matches!(block(aws.read_batch(vec![request(id)])).first(), Some(Ok(r)) if r.current.is_some()))
            .count()
    });
    println!(
        "batched is {:.1}x faster than 10 at a time, {:.1}x faster than one at a time",
        parallel / batched,
        sequential / batched
    );
}
