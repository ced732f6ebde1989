//! The engine seen from inside: a plan and apply against a fake provider that records every
//! call, so the walk's order, its concurrency bound, `-target` pruning, failure isolation,
//! destroy order from recorded dependencies and the refactoring blocks are asserted from what
//! the provider saw — never from wall time.
//!
//! The fake (`fake_thing`) keeps its objects in memory; it refuses to delete an object another
//! object still refers to (as EC2 answers `DependencyViolation`), and an object with
//! `await_started = "x"` does not finish its create until the create of `x` has started — so a
//! walk that ran the two one after the other would never finish (the fake then fails after a
//! long grace period, which only a broken walk reaches).

use async_trait::async_trait;
use infra::addr::Target;
use infra::apply::{ApplyOptions, Quiet, apply};
use infra::plan::planner::{PlanOptions, plan};
use infra::plan::{Action, Plan, ResourceChange};
use infra::registry::Registry;
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, PlanRequest, PlanResponse,
    Provider, ProviderSchema, ReadRequest, ReadResponse, ResourceSchema, Value, plan_by_schema,
};
use infra_state::Backend;
use infra_state::local::LocalBackend;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Calls of one kind in flight now, and the most seen at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    most: AtomicUsize,
    total: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        self.total.fetch_add(1, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A provider that records what it is asked.
#[derive(Default)]
struct Fake {
    schema: ProviderSchema,
    objects: Mutex<BTreeMap<String, Value>>,
    events: Mutex<Vec<String>>,
    started: tokio::sync::Notify,
    reads: Gauge,
    plans: Gauge,
    applies: Gauge,
    /// Simulated latency of reads and plans (so that calls are in flight together).
    latency: Option<Duration>,
}

fn attr<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.as_map()?.get(name)?.as_str()
}

impl Fake {
    fn new(latency: Option<Duration>) -> Arc<Fake> {
        let block = BlockSchema::new()
            .attribute("name", Attribute::required(AttrType::String))
            .attribute("input", Attribute::optional(AttrType::String))
            .attribute("await_started", Attribute::optional(AttrType::String))
            .attribute("fail", Attribute::optional(AttrType::Bool))
            .attribute("id", Attribute::computed(AttrType::String));
        let mut schema = ProviderSchema::default();
        schema.resources.insert("fake_thing".into(), ResourceSchema { version: 0, block });
        Arc::new(Fake { schema, latency, ..Fake::default() })
    }

    fn event(&self, text: String) {
        self.events.lock().unwrap().push(text);
    }

    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    fn position(&self, event: &str) -> usize {
        self.events().iter().position(|e| e == event).unwrap_or_else(|| panic!("no event {event}: {:?}", self.events()))
    }

    async fn delay(&self) {
        if let Some(latency) = self.latency {
            tokio::time::sleep(latency).await;
        }
    }
}

#[async_trait]
impl Provider for Fake {
    fn name(&self) -> &str {
        "fake"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        self.plans.enter();
        self.delay().await;
        self.plans.leave();
        Ok(plan_by_schema(self.schema.resources.get(&request.kind).map(|r| &r.block), &request))
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        self.applies.enter();
        let result = match (request.prior, request.planned) {
            (prior, Some(planned)) => {
                let name = attr(&planned, "name").unwrap_or_default().to_string();
                self.event(format!("start {name}"));
                self.started.notify_waiters();
                if let Some(peer) = attr(&planned, "await_started").map(str::to_string) {
                    let peer_started = format!("start {peer}");
                    let waited = tokio::time::timeout(Duration::from_secs(60), async {
                        loop {
                            let notified = self.started.notified();
                            if self.events().contains(&peer_started) {
                                return;
                            }
                            notified.await;
                        }
                    })
                    .await;
                    if waited.is_err() {
                        self.applies.leave();
                        return Err(Diagnostic::error("Never overlapped", format!("{name} waited for {peer}")).into());
                    }
                }
                if planned.as_map().and_then(|m| m.get("fail")) == Some(&Value::Bool(true)) {
                    self.event(format!("failed {name}"));
                    self.applies.leave();
                    return Err(Diagnostic::error("Fake failure", format!("{name} fails as asked")).into());
                }
                let mut object = planned.as_map().cloned().unwrap_or_default();
                let id = prior.as_ref().and_then(|p| attr(p, "id")).map(str::to_string).unwrap_or(format!("id-{name}"));
                object.insert("id".into(), Value::String(id.clone()));
                let object = Value::Map(object);
                self.objects.lock().unwrap().insert(id, object.clone());
                self.event(format!("done {name}"));
                Ok(ApplyResponse { new: Some(object) })
            }
            (Some(prior), None) => {
                let id = attr(&prior, "id").unwrap_or_default().to_string();
                let name = attr(&prior, "name").unwrap_or_default().to_string();
                let mut objects = self.objects.lock().unwrap();
                let users: Vec<String> = objects
                    .values()
                    .filter(|o| attr(o, "input") == Some(id.as_str()))
                    .filter_map(|o| attr(o, "name").map(str::to_string))
                    .collect();
                if users.is_empty() {
                    objects.remove(&id);
                    drop(objects);
                    self.event(format!("delete {name}"));
                    Ok(ApplyResponse { new: None })
                } else {
                    Err(Diagnostic::error("DependencyViolation", format!("{name} is still used by {users:?}")).into())
                }
            }
            (None, None) => Ok(ApplyResponse { new: None }),
        };
        self.applies.leave();
        result
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        self.reads.enter();
        self.delay().await;
        let id = attr(&request.current, "id").unwrap_or_default();
        let current = self.objects.lock().unwrap().get(id).cloned();
        self.reads.leave();
        Ok(ReadResponse { current })
    }
}

/// A configuration directory, the fake, and local state.
struct Engine {
    dir: tempfile::TempDir,
    fake: Arc<Fake>,
    registry: Registry,
    backend: LocalBackend,
}

impl Engine {
    fn new(files: &[(&str, &str)], latency: Option<Duration>) -> Engine {
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = Fake::new(latency);
        let mut registry = Registry::new();
        let shared = fake.clone();
        registry.register(Arc::new(move || shared.clone() as Arc<dyn Provider>), &["fake"]);
        let backend = LocalBackend::new(dir.path().join("state"), "default");
        let engine = Engine { dir, fake, registry, backend };
        engine.write(files);
        engine
    }

    fn write(&self, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = self.dir.path().join("config").join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
    }

    fn remove(&self, name: &str) {
        std::fs::remove_file(self.dir.path().join("config").join(name)).expect("remove");
    }

    fn config(&self) -> infra::config::LoadedConfig {
        let config = infra::config::load_module_tree(&self.dir.path().join("config"));
        assert!(!config.diagnostics.has_errors(), "{:?}", config.diagnostics);
        config
    }

    fn plan(&self, options: PlanOptions) -> (Plan, Diagnostics) {
        let snapshot = self.backend.read_folded(None).expect("state reads");
        plan(&self.config(), &BTreeMap::new(), snapshot, &self.registry, &PlanOptions { refresh: true, ..options })
    }

    fn apply(&self, plan: &Plan, parallelism: usize) -> Diagnostics {
        let snapshot = self.backend.read_folded(None).expect("state reads");
        let options = ApplyOptions {
            parallelism,
            interrupted: Arc::new(AtomicBool::new(false)),
            progress: &Quiet,
            workspace: "default".into(),
        };
        let (_, diagnostics) = apply(&self.config(), plan, snapshot, &self.registry, &self.backend, None, &options);
        diagnostics
    }

    fn converge(&self, options: PlanOptions) -> Plan {
        let (plan, diagnostics) = self.plan(PlanOptions { parallelism: 10, ..options });
        assert!(!diagnostics.has_errors(), "plan: {diagnostics:?}");
        let diagnostics = self.apply(&plan, 10);
        assert!(!diagnostics.has_errors(), "apply: {diagnostics:?}");
        plan
    }

    fn state_addresses(&self) -> Vec<String> {
        let snapshot = self.backend.read_folded(None).expect("state reads").expect("state exists");
        snapshot.resources.keys().cloned().collect()
    }

    fn dependencies(&self, address: &str) -> Vec<String> {
        let snapshot = self.backend.read_folded(None).expect("state reads").expect("state exists");
        snapshot.resources.get(address).unwrap_or_else(|| panic!("{address} in state")).dependencies.clone()
    }
}

fn count(plan: &Plan, action: Action) -> usize {
    plan.changes.iter().filter(|c| c.change.action == action).count()
}

const CHAIN: &str = r#"
variable "prefix" {}
variable "peer" {}
resource "fake_thing" "first" {
  name          = "${var.prefix}1"
  await_started = var.peer
}
resource "fake_thing" "second" {
  name  = "${var.prefix}2"
  input = fake_thing.first.id
}
output "last" { value = fake_thing.second.id }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sibling_modules_apply_overlapped() {
    // Each module's first create waits until the other module's first create has started:
    // only a walk that runs both chains at once finishes.
    let engine = Engine::new(
        &[
            (
                "main.tf",
                r#"
module "a" {
  source = "./chain"
  prefix = "a"
  peer   = "b1"
}
module "b" {
  source = "./chain"
  prefix = "b"
  peer   = "a1"
}
resource "fake_thing" "after" {
  name  = "after"
  input = "${module.a.last}/${module.b.last}"
}
"#,
            ),
            ("chain/main.tf", CHAIN),
        ],
        None,
    );
    engine.converge(PlanOptions::default());
    let fake = &engine.fake;
    assert!(fake.position("start b1") < fake.position("done a1"), "{:?}", fake.events());
    assert!(fake.position("start a1") < fake.position("done b1"), "{:?}", fake.events());
    // Order still holds inside each chain and across the modules' outputs.
    assert!(fake.position("done a1") < fake.position("start a2"));
    assert!(fake.position("done a2") < fake.position("start after"));
    assert!(fake.position("done b2") < fake.position("start after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_and_plan_never_exceed_the_parallelism() {
    let engine = Engine::new(
        &[("main.tf", "resource \"fake_thing\" \"many\" {\n  count = 50\n  name  = \"many-${count.index}\"\n}\n")],
        Some(Duration::from_millis(100)),
    );
    engine.converge(PlanOptions::default());
    for gauge in [&engine.fake.reads, &engine.fake.plans] {
        gauge.most.store(0, Ordering::SeqCst);
        gauge.total.store(0, Ordering::SeqCst);
    }
    let (plan, diagnostics) = engine.plan(PlanOptions { parallelism: 4, ..PlanOptions::default() });
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    assert_eq!(count(&plan, Action::NoOp), 50);
    assert_eq!(engine.fake.reads.total.load(Ordering::SeqCst), 50);
    assert_eq!(engine.fake.plans.total.load(Ordering::SeqCst), 50);
    let (reads, plans) = (engine.fake.reads.most.load(Ordering::SeqCst), engine.fake.plans.most.load(Ordering::SeqCst));
    assert!(reads <= 4 && plans <= 4, "in flight at once: {reads} reads, {plans} plans");
    // And the walk does use what it may: reads overlap (each takes 100 ms).
    assert!(reads >= 2, "reads ran one at a time ({reads} at most in flight)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_targeted_plan_reads_and_plans_only_the_target_and_its_dependencies() {
    let engine = Engine::new(
        &[
            (
                "main.tf",
                r#"
resource "fake_thing" "base" { name = "base" }
locals { base = fake_thing.base.id }
resource "fake_thing" "many" {
  count = 100
  name  = "many-${count.index}"
  input = local.base
}
module "other" {
  source = "./chain"
  prefix = "other"
  peer   = "other1"
}
"#,
            ),
            ("chain/main.tf", &CHAIN.replace("await_started = var.peer", "")),
        ],
        None,
    );
    engine.converge(PlanOptions::default());
    engine.fake.reads.total.store(0, Ordering::SeqCst);
    engine.fake.plans.total.store(0, Ordering::SeqCst);
    let target: Target = "fake_thing.many[7]".parse().expect("target");
    let (plan, diagnostics) =
        engine.plan(PlanOptions { targets: vec![target], parallelism: 10, ..PlanOptions::default() });
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    let planned: Vec<String> = plan.changes.iter().map(ResourceChange::address).collect();
    assert_eq!(planned, ["fake_thing.base", "fake_thing.many[7]"]);
    // The target and the one object it depends on, through a local: nothing else is read.
    assert_eq!(engine.fake.reads.total.load(Ordering::SeqCst), 2);
    assert_eq!(engine.fake.plans.total.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_runs_dependents_first_through_locals_and_module_outputs() {
    let engine = Engine::new(
        &[
            (
                "main.tf",
                r#"
module "net" { source = "./net" }
resource "fake_thing" "server" {
  name  = "server"
  input = module.net.subnet_id
}
"#,
            ),
            (
                "net/main.tf",
                r#"
resource "fake_thing" "vpc" { name = "vpc" }
locals { vpc_id = fake_thing.vpc.id }
resource "fake_thing" "subnet" {
  name  = "subnet"
  input = local.vpc_id
}
output "subnet_id" { value = fake_thing.subnet.id }
"#,
            ),
        ],
        None,
    );
    engine.converge(PlanOptions::default());
    assert_eq!(engine.dependencies("module.net.fake_thing.subnet"), ["module.net.fake_thing.vpc"]);
    assert_eq!(engine.dependencies("fake_thing.server"), ["module.net.fake_thing.subnet"]);
    let plan = engine.converge(PlanOptions { destroy: true, ..PlanOptions::default() });
    assert_eq!(count(&plan, Action::Delete), 3);
    let fake = &engine.fake;
    assert!(fake.position("delete server") < fake.position("delete subnet"));
    assert!(fake.position("delete subnet") < fake.position("delete vpc"));
    assert!(fake.objects.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_stops_only_what_depends_on_it() {
    let engine = Engine::new(
        &[(
            "main.tf",
            r#"
resource "fake_thing" "broken" {
  name = "broken"
  fail = true
}
resource "fake_thing" "downstream" {
  name  = "downstream"
  input = fake_thing.broken.id
}
resource "fake_thing" "independent" { name = "independent" }
"#,
        )],
        None,
    );
    let (plan, diagnostics) = engine.plan(PlanOptions { parallelism: 10, ..PlanOptions::default() });
    assert!(!diagnostics.has_errors());
    let diagnostics = engine.apply(&plan, 10);
    assert!(diagnostics.iter().any(|d| d.summary == "Fake failure"), "{diagnostics:?}");
    assert_eq!(engine.state_addresses(), ["fake_thing.independent"]);
    assert!(!engine.fake.events().iter().any(|e| e.ends_with("downstream")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refactor_plans_nothing_to_add_or_destroy_and_forgets_the_dropped_module() {
    let single = "variable \"name\" {}\nresource \"fake_thing\" \"this\" { name = var.name }\n";
    let engine = Engine::new(
        &[
            (
                "main.tf",
                r#"
resource "fake_thing" "old" { name = "renamed" }
module "old_module" {
  source = "./single"
  name   = "moved-module"
}
module "dropped" {
  source = "./single"
  name   = "dropped"
}
"#,
            ),
            ("single/main.tf", single),
        ],
        None,
    );
    engine.converge(PlanOptions::default());
    engine.remove("main.tf");
    engine.write(&[(
        "main.tf",
        r#"
resource "fake_thing" "new" { name = "renamed" }
moved {
  from = fake_thing.old
  to   = fake_thing.new
}
module "new_module" {
  source = "./single"
  name   = "moved-module"
}
moved {
  from = module.old_module
  to   = module.new_module
}
removed {
  from = module.dropped
  lifecycle {
    destroy = false
  }
}
"#,
    )]);
    let plan = engine.converge(PlanOptions::default());
    let summary = plan.summary();
    assert_eq!((summary.add, summary.change, summary.destroy, summary.forget), (0, 0, 0, 1), "{:#?}", plan.changes);
    assert_eq!(engine.state_addresses(), ["fake_thing.new", "module.new_module.fake_thing.this"]);
    // The dropped module's object still exists; it is only out of state.
    assert!(engine.fake.objects.lock().unwrap().contains_key("id-dropped"));
    let (again, _) = engine.plan(PlanOptions { parallelism: 10, ..PlanOptions::default() });
    assert!(!again.has_changes(), "{:#?}", again.changes);
}

#[test]
fn the_fake_is_what_the_tests_say() {
    // The fake refuses to delete an object in use, so the destroy-order test can fail.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let fake = Fake::new(None);
        let create = |name: &str, input: Option<&str>| {
            let mut object = BTreeMap::from([("name".to_string(), Value::String(name.into()))]);
            if let Some(input) = input {
                object.insert("input".into(), Value::String(input.into()));
            }
            ApplyRequest {
                kind: "fake_thing".into(),
                prior: None,
                planned: Some(Value::Map(object)),
                idempotency_key: String::new(),
                config: Value::Null,
            }
        };
        let vpc = fake.apply(create("vpc", None)).await.expect("create").new.expect("object");
        fake.apply(create("subnet", Some("id-vpc"))).await.expect("create");
        let delete = ApplyRequest {
            kind: "fake_thing".into(),
            prior: Some(vpc),
            planned: None,
            idempotency_key: String::new(),
            config: Value::Null,
        };
        assert!(fake.apply(delete).await.is_err());
    });
}
