//! Prometheus metrics of the controller (`/metrics`, text format):
//!
//! - `infra_reconcile_total{stack,result}`: reconciles by result (`applied`, `no_changes`,
//!   `failed`, `planned`);
//! - `infra_reconcile_duration_seconds{stack}`: how long reconciles take (histogram);
//! - `infra_resources{stack,state}`: instances in state (`managed`), deletes held back
//!   (`unpruned`);
//! - `infra_drifted_resources{stack}`: objects changed outside infra at the last check;
//! - `infra_last_applied_timestamp_seconds{stack}`: when changes were last applied;
//! - `infra_git_fetch_errors_total{stack}`: failed fetches.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StackLabel {
    stack: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    stack: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    stack: String,
    state: String,
}

/// The controller's metrics.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ResultLabel, Counter>,
    durations: Family<StackLabel, Histogram>,
    resources: Family<StateLabel, Gauge>,
    drifted: Family<StackLabel, Gauge>,
    last_applied: Family<StackLabel, Gauge<f64, AtomicU64>>,
    fetch_errors: Family<StackLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let reconciles = Family::<ResultLabel, Counter>::default();
        let durations = Family::<StackLabel, Histogram>::new_with_constructor(|| {
            Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0])
        });
        let resources = Family::<StateLabel, Gauge>::default();
        let drifted = Family::<StackLabel, Gauge>::default();
        let last_applied = Family::<StackLabel, Gauge<f64, AtomicU64>>::default();
        let fetch_errors = Family::<StackLabel, Counter>::default();
        registry.register("infra_reconcile", "Reconciles by stack and result", reconciles.clone());
        registry.register("infra_reconcile_duration_seconds", "How long reconciles take", durations.clone());
        registry.register("infra_resources", "Resource instances by stack and state", resources.clone());
        registry.register(
            "infra_drifted_resources",
            "Objects changed outside infra at the last check",
            drifted.clone(),
        );
        registry.register(
            "infra_last_applied_timestamp_seconds",
            "When changes were last applied (Unix time)",
            last_applied.clone(),
        );
        registry.register("infra_git_fetch_errors", "Failed Git fetches", fetch_errors.clone());
        Metrics { registry, reconciles, durations, resources, drifted, last_applied, fetch_errors }
    }

    /// A reconcile ended.
    pub fn reconciled(&self, stack: &str, result: &str, seconds: f64) {
        self.reconciles.get_or_create(&ResultLabel { stack: stack.into(), result: result.into() }).inc();
        self.durations.get_or_create(&StackLabel { stack: stack.into() }).observe(seconds);
    }

    /// The stack's counts after a reconcile.
    pub fn counts(&self, stack: &str, managed: usize, unpruned: usize, drifted: usize) {
        let set = |state: &str, value: usize| {
            self.resources
                .get_or_create(&StateLabel { stack: stack.into(), state: state.into() })
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        set("managed", managed);
        set("unpruned", unpruned);
        self.drifted.get_or_create(&StackLabel { stack: stack.into() }).set(i64::try_from(drifted).unwrap_or(i64::MAX));
    }

    /// Changes were applied now.
    pub fn applied(&self, stack: &str) {
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        self.last_applied.get_or_create(&StackLabel { stack: stack.into() }).set(now);
    }

    /// A fetch failed.
    pub fn fetch_failed(&self, stack: &str) {
        self.fetch_errors.get_or_create(&StackLabel { stack: stack.into() }).inc();
    }

    /// The text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
