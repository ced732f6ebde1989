//! `cargo bench --profile dev --bench gitops_latency`: commit-to-applied latency of
//! `infra controller`. A bare repository served by `git daemon` on loopback holds a stack of
//! `RESOURCES` (default 50) builtin resources; each of `COMMITS` (default 20) commits changes
//! every resource's input, is pushed, and a signed GitHub push webhook is sent; the latency is
//! the time from the webhook to `/stacks/NAME` showing the commit applied (fetch, export,
//! load, plan, apply of all resources, state written). Prints median, p95 and max; figures are
//! recorded in docs/performance.md.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::GitServer;
use support::controller::{ControllerProcess, SECRET};

fn resources(count: usize, value: &str) -> String {
    (0..count).map(|i| format!("resource \"terraform_data\" \"r{i}\" {{\n  input = \"{value}-{i}\"\n}}\n")).collect()
}

fn main() {
    let count: usize = std::env::var("RESOURCES").ok().and_then(|n| n.parse().ok()).unwrap_or(50);
    let commits: usize = std::env::var("COMMITS").ok().and_then(|n| n.parse().ok()).unwrap_or(20);
    let git = GitServer::start();
    let repo = git.repo("platform");
    repo.write("envs/app/main.tf", &resources(count, "v0"));
    let first = repo.push("first");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "controller {{\n  listen = \"LISTEN\"\n  data_dir = \"data\"\n}}\nstack \"app\" {{\n  source {{\n    url = \"{}\"\n    path = \"envs/app\"\n  }}\n  interval = \"1h\"\n}}\n",
        git.url("platform")
    );
    let controller = ControllerProcess::start(dir.path(), &config);
    controller.wait_for("app", Duration::from_secs(60), |s| s["applied_commit"] == first);
    let mut latencies = Vec::new();
    for n in 1..=commits {
        repo.write("envs/app/main.tf", &resources(count, &format!("v{n}")));
        let commit = repo.push(&format!("commit {n}"));
        let sent = Instant::now();
        assert_eq!(controller.push_webhook("platform", SECRET).status, 202);
        controller.wait_for("app", Duration::from_secs(60), |s| s["applied_commit"] == commit);
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    let at =
        |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1).min(latencies.len() - 1)];
    println!(
        "{commits} commits of {count} resources, webhook to applied: median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        latencies[latencies.len() - 1].as_secs_f64() * 1000.0
    );
}
