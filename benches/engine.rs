//! `cargo bench`: the engine's stages in-process, on generated configurations of N
//! `terraform_data` resources (the shapes of `bench/generate.py`): load, validate, plan on an
//! empty state, apply, and the no-change plan. The side-by-side comparison with Terraform is
//! `bench/run`; figures are recorded in docs/performance.md.

use infra::apply::{ApplyOptions, Quiet, apply};
use infra::config::load_module_tree;
use infra::plan::planner::{PlanOptions, plan};
use infra::registry::Registry;
use infra_state::Backend;
use infra_state::local::LocalBackend;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn generate(shape: &str, n: usize) -> String {
    let mut out = String::with_capacity(n * 128);
    for i in 0..n {
        let input = match shape {
            "layered" if i >= 100 => {
                let (layer, position) = (i / 100, i % 100);
                let refs: Vec<String> = (0..2 + i % 2)
                    .map(|k| format!("terraform_data.r{}.id", (layer - 1) * 100 + (position + k) % 100))
                    .collect();
                format!("[\"layer-{i}\", {}]", refs.join(", "))
            }
            _ => format!("\"value-{i}\""),
        };
        out.push_str(&format!("resource \"terraform_data\" \"r{i}\" {{\n  input = {input}\n}}\n"));
    }
    out
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = f();
    println!("{label:<48} {:>9.3} s", started.elapsed().as_secs_f64());
    result
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let sizes: Vec<usize> = std::env::var("INFRA_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 10000]);
    runtime.block_on(async {
        for n in sizes {
            for shape in ["independent", "layered"] {
                let dir = tempfile::tempdir().expect("temp dir");
                std::fs::write(dir.path().join("main.tf"), generate(shape, n)).expect("write");
                let registry = Registry::with_builtins();
                let config = time(&format!("{n} {shape}: load"), || load_module_tree(dir.path()));
                time(&format!("{n} {shape}: validate"), || infra::validate::check(&config, &BTreeMap::new()));
                let options = PlanOptions { refresh: true, workspace: "default".into(), ..PlanOptions::default() };
                let (created, _) = time(&format!("{n} {shape}: plan (empty state)"), || {
                    plan(&config, &BTreeMap::new(), None, &registry, &options)
                });
                let mut backend = LocalBackend::new(dir.path().join("state"), "default");
                // As the CLI does: appends written at once, fsynced once per wave.
                backend.sync = false;
                let apply_options = ApplyOptions {
                    parallelism: 10,
                    interrupted: Arc::new(AtomicBool::new(false)),
                    progress: &Quiet,
                    workspace: "default".into(),
                };
                let (outcome, _) = time(&format!("{n} {shape}: apply (create all)"), || {
                    apply(&config, &created, None, &registry, &backend, None, &apply_options)
                });
                assert_eq!(outcome.applied, n);
                let snapshot = backend.read().expect("state");
                let (again, _) = time(&format!("{n} {shape}: plan (no changes)"), || {
                    plan(&config, &BTreeMap::new(), snapshot, &registry, &options)
                });
                assert!(!again.has_changes());
            }
        }
    });
}
