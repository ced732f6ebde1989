//! The GitOps front-end: `infra controller` watches Git and reconciles stacks continuously with
//! the same engine as `infra plan` / `apply`.
//!
//! Each stack has a task: it reconciles at start, then whenever its polling interval elapses, a
//! webhook or `infra controller reconcile STACK` wakes it, or its drift interval is due. The
//! work of a reconcile ([`reconcile::reconcile`]) runs on a blocking thread, so a stack that
//! takes long never holds up the others; a stack runs at most one reconcile at a time (its task
//! is the only one that starts them), and failures back off exponentially per stack. On
//! SIGTERM the stacks stop: an apply in progress starts nothing new, records what finished, and
//! releases its lock.
//!
//! Start at [`Controller::run`]; [`config`] reads the configuration file, [`server`] serves
//! health, metrics, `/stacks` and webhooks.

pub mod cluster;
pub mod config;
pub mod metrics;
pub mod pulls;
pub mod reconcile;
pub mod server;
pub mod source;
pub mod status;
pub mod webhook;

use config::{ControllerConfig, StackSpec};
use reconcile::{StackDirs, Trigger};
use status::{ReconcileResult, StackStatus};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One stack and what the controller knows of it.
pub struct StackHandle {
    /// Its configuration.
    pub spec: StackSpec,
    pub(crate) dirs: StackDirs,
    pulls: Mutex<std::collections::HashMap<u64, u64>>,
    status: Mutex<StackStatus>,
    wake: tokio::sync::Notify,
    next_trigger: Mutex<Option<Trigger>>,
    running: AtomicU32,
    loaded: AtomicBool,
    removed: AtomicBool,
    /// In a cluster: the stack's Lease (only its holder reconciles) and its `Stack` object.
    pub cluster: Option<cluster::StackBinding>,
}

impl StackHandle {
    /// A handle for `spec` under `data_dir`.
    pub fn new(spec: StackSpec, data_dir: &std::path::Path, cluster: Option<cluster::StackBinding>) -> StackHandle {
        StackHandle {
            dirs: StackDirs::new(data_dir, &spec.name),
            pulls: Mutex::new(std::collections::HashMap::new()),
            status: Mutex::new(StackStatus { name: spec.name.clone(), ..StackStatus::default() }),
            spec,
            wake: tokio::sync::Notify::new(),
            next_trigger: Mutex::new(None),
            running: AtomicU32::new(0),
            loaded: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            cluster,
        }
    }

    /// A copy of its status.
    pub fn status(&self) -> StackStatus {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Asks for a reconcile as soon as the current one (if any) ends.
    pub fn trigger(&self, trigger: Trigger) {
        *self.next_trigger.lock().unwrap_or_else(|p| p.into_inner()) = Some(trigger);
        self.wake.notify_one();
    }

    /// A new plan of pull request `number` starts: its generation (older ones are superseded).
    pub fn next_pull_generation(&self, number: u64) -> u64 {
        let mut pulls = self.pulls.lock().unwrap_or_else(|p| p.into_inner());
        let generation = pulls.entry(number).or_insert(0);
        *generation += 1;
        *generation
    }

    /// Whether `generation` is still the newest plan of pull request `number`.
    pub fn is_latest_pull(&self, number: u64, generation: u64) -> bool {
        self.pulls.lock().unwrap_or_else(|p| p.into_inner()).get(&number) == Some(&generation)
    }

    /// Whether it has been reconciled at least once since start.
    pub fn loaded(&self) -> bool {
        self.loaded.load(Ordering::SeqCst)
    }
}

/// The running controller.
pub struct Controller {
    /// Its configuration.
    pub config: ControllerConfig,
    stacks: std::sync::RwLock<Vec<Arc<StackHandle>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Its metrics.
    pub metrics: metrics::Metrics,
    /// Pull-request plans, for `/stacks/NAME/plans/ID`.
    pub plans: pulls::PlanStore,
    interrupted: Arc<AtomicBool>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// The wait after `failures` failures in a row: 1 s, 2 s, 4 s… up to 5 minutes.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(8)).min(Duration::from_secs(300))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Controller {
    /// A controller for `config` (nothing runs yet).
    pub fn new(config: ControllerConfig) -> Arc<Controller> {
        let stacks =
            config.stacks.iter().map(|spec| Arc::new(StackHandle::new(spec.clone(), &config.data_dir, None))).collect();
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Arc::new(Controller {
            config,
            stacks: std::sync::RwLock::new(stacks),
            tasks: Mutex::new(Vec::new()),
            metrics: metrics::Metrics::new(),
            plans: pulls::PlanStore::default(),
            interrupted: Arc::new(AtomicBool::new(false)),
            shutdown,
        })
    }

    /// A stack by name.
    pub fn stack(&self, name: &str) -> Option<Arc<StackHandle>> {
        self.stacks().into_iter().find(|s| s.spec.name == name)
    }

    /// The stacks now (configuration order, then cluster stacks as found).
    pub fn stacks(&self) -> Vec<Arc<StackHandle>> {
        self.stacks.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Keeps a plan's text for `/stacks/NAME/plans/ID`.
    pub fn keep_plan(&self, stack: &str, id: &str, text: String) {
        self.plans.keep(stack, id, text);
    }

    /// Whether every stack was loaded once (a stack another replica holds counts as loaded).
    pub fn ready(&self) -> bool {
        self.stacks().iter().all(|s| s.loaded())
    }

    /// Adds a stack and starts its loop.
    pub fn add(self: &Arc<Controller>, stack: Arc<StackHandle>) {
        self.stacks.write().unwrap_or_else(|p| p.into_inner()).push(stack.clone());
        let task = tokio::spawn(self.clone().stack_loop(stack));
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).push(task);
    }

    /// Removes a stack: its loop ends after the reconcile in progress, if any.
    pub fn remove(&self, name: &str) {
        let mut stacks = self.stacks.write().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = stacks.iter().position(|s| s.spec.name == name) {
            let stack = stacks.remove(index);
            stack.removed.store(true, Ordering::SeqCst);
            stack.wake.notify_one();
        }
    }

    /// A receiver that turns true on [`Controller::stop`].
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Asks everything to stop: applies in progress start nothing new.
    pub fn stop(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        let _ = self.shutdown.send(true);
    }

    /// Runs every stack's loop until [`Controller::stop`]; returns when all have ended.
    pub async fn run(self: &Arc<Controller>) {
        for stack in self.stacks() {
            let task = tokio::spawn(self.clone().stack_loop(stack));
            self.tasks.lock().unwrap_or_else(|p| p.into_inner()).push(task);
        }
        let mut stopping = self.stopping();
        while !*stopping.borrow() {
            if stopping.changed().await.is_err() {
                break;
            }
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for task in tasks {
            let _ = task.await;
        }
    }

    async fn stack_loop(self: Arc<Controller>, stack: Arc<StackHandle>) {
        let mut shutdown = self.shutdown.subscribe();
        let mut trigger = Trigger::Start;
        let mut last_full_check = Instant::now();
        loop {
            if *shutdown.borrow() || stack.removed.load(Ordering::SeqCst) {
                break;
            }
            // In a cluster, only the holder of the stack's Lease reconciles it.
            if let Some(binding) = &stack.cluster
                && !binding.hold().await
            {
                stack.loaded.store(true, Ordering::SeqCst);
                let wait = stack.spec.interval.min(binding.retry_interval());
                tokio::select! {
                    () = stack.wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => break,
                }
                continue;
            }
            if let Some(binding) = &stack.cluster {
                binding.reconciling(&stack.status()).await;
            }
            let drift_due = last_full_check.elapsed() >= stack.spec.drift_interval;
            let previous = stack.status();
            let running = stack.running.fetch_add(1, Ordering::SeqCst) + 1;
            let started = Instant::now();
            let report = {
                let (stack, interrupted, parallelism) =
                    (stack.clone(), self.interrupted.clone(), self.config.parallelism);
                let span = tracing::info_span!("reconcile", stack = stack.spec.name, trigger = ?trigger);
                tokio::task::spawn_blocking(move || {
                    let _entered = span.enter();
                    reconcile::reconcile(
                        &stack.spec,
                        &stack.dirs,
                        &previous,
                        trigger,
                        drift_due,
                        parallelism,
                        interrupted,
                    )
                })
                .await
            };
            stack.running.fetch_sub(1, Ordering::SeqCst);
            let failures = match report {
                Ok(report) => {
                    if report.result.is_some() {
                        last_full_check = Instant::now();
                    }
                    self.record(&stack, report, started.elapsed(), running)
                }
                Err(panic) => {
                    tracing::error!(stack = stack.spec.name, error = %panic, "the reconcile panicked");
                    let mut status = stack.status.lock().unwrap_or_else(|p| p.into_inner());
                    status.failures += 1;
                    status.last_result = Some(ReconcileResult::Failed);
                    status.last_error = Some(format!("internal error: {panic}"));
                    status.failures
                }
            };
            stack.loaded.store(true, Ordering::SeqCst);
            if let Some(binding) = &stack.cluster {
                binding.report(&stack.status()).await;
            }
            let wait = if failures > 0 {
                backoff(failures).min(stack.spec.interval.max(Duration::from_secs(1)) * 10)
            } else {
                stack.spec.interval
            };
            tokio::select! {
                () = stack.wake.notified() => {
                    trigger = stack.next_trigger.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or(Trigger::Webhook);
                }
                () = tokio::time::sleep(wait) => trigger = Trigger::Poll,
                _ = shutdown.changed() => break,
            }
        }
        if let Some(binding) = &stack.cluster {
            binding.release().await;
        }
    }

    /// Folds a report into the stack's status and the metrics; returns the failure count.
    fn record(&self, stack: &StackHandle, report: reconcile::Report, elapsed: Duration, running: u32) -> u32 {
        let name = &stack.spec.name;
        let mut status = stack.status.lock().unwrap_or_else(|p| p.into_inner());
        status.max_concurrent = status.max_concurrent.max(running);
        if report.fetch_failed {
            self.metrics.fetch_failed(name);
        }
        if let Some(revision) = &report.revision {
            status.last_commit = Some(revision.commit.clone());
        }
        let Some(result) = report.result else { return status.failures };
        self.metrics.reconciled(name, result.label(), elapsed.as_secs_f64());
        status.reconciles += 1;
        status.last_result = Some(result);
        status.last_reconciled_at = Some(now());
        match result {
            ReconcileResult::Failed => {
                status.failures += 1;
                status.last_error = report.error.clone();
                tracing::warn!(
                    stack = name.as_str(),
                    error = report.error.as_deref().unwrap_or(""),
                    "reconcile failed"
                );
            }
            ReconcileResult::Applied | ReconcileResult::NoChanges | ReconcileResult::Planned => {
                status.failures = 0;
                status.last_error = None;
                if result != ReconcileResult::Planned
                    && let Some(revision) = &report.revision
                {
                    status.applied_commit = Some(revision.commit.clone());
                    status.applied_tree = Some(revision.tree.clone());
                }
                if result == ReconcileResult::Applied {
                    status.last_applied_at = Some(now());
                    self.metrics.applied(name);
                }
                tracing::info!(
                    stack = name.as_str(),
                    result = result.label(),
                    commit = report.revision.as_ref().map(|r| r.commit.as_str()),
                    "reconciled"
                );
            }
        }
        if report.summary.is_some() {
            status.last_plan = report.summary;
            status.drifted = report.drifted;
            status.drift_warnings = report.drift_warnings;
            status.unpruned = report.unpruned;
        }
        if let Some(resources) = report.resources {
            status.resources = resources;
        }
        // Drift that remains: corrected drift is gone, ignored drift is not reported.
        self.metrics.counts(name, status.resources, status.unpruned.len(), status.drift_warnings.len());
        status.failures
    }
}
