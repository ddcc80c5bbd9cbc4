//! Prometheus metrics: one registry per daemon, handed down by the wiring
//! (so every test core counts on its own), the few calls the actors make
//! as things happen, and the scrape endpoint on `[metrics] listen`
//! (`server`). Exposition is the OpenMetrics text format, which
//! Prometheus reads.

mod server;

pub use server::{MetricsServer, serve};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// Every metric name starts with this.
const PREFIX: &str = "claude_coordinator";

/// Upper bounds, in seconds, of the request duration histogram: a quick
/// answer, a few tool calls, a long task, the default timeout.
const DURATION_BUCKETS: [f64; 10] = [0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectOutcome {
    project: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectLabel {
    project: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabel {
    decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

type DurationFamily = Family<ProjectLabel, Histogram, fn() -> Histogram>;

/// How one Discord REST call went, for `discord_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscordOutcome {
    Ok,
    /// A try failed and another follows.
    Retried,
    /// Given up: refused for good, or out of retries.
    Failed,
}

impl DiscordOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Retried => "retried",
            Self::Failed => "failed",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    requests: Family<ProjectOutcome, Counter>,
    durations: DurationFamily,
    cost: Family<ProjectLabel, Counter<f64, AtomicU64>>,
    queue_depth: Gauge,
    cli_running: Gauge,
    cli_warm: Gauge,
    sessions_active: Gauge,
    discord: Family<OutcomeLabel, Counter>,
    approvals: Family<DecisionLabel, Counter>,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut m = Self {
            registry: Registry::with_prefix(PREFIX),
            requests: Family::default(),
            durations: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
            cost: Family::default(),
            queue_depth: Gauge::default(),
            cli_running: Gauge::default(),
            cli_warm: Gauge::default(),
            sessions_active: Gauge::default(),
            discord: Family::default(),
            approvals: Family::default(),
        };
        m.register();
        Arc::new(m)
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "requests",
            "Requests that ended, by project and final status",
            self.requests.clone(),
        );
        r.register(
            "request_duration_seconds",
            "From a request's arrival to its end, by project",
            self.durations.clone(),
        );
        r.register(
            "cost_usd",
            "What Claude's runs cost, in US dollars, by project",
            self.cost.clone(),
        );
        r.register(
            "queue_depth",
            "Requests waiting behind a running one, all channels",
            self.queue_depth.clone(),
        );
        r.register(
            "cli_running",
            "CLI turns running now",
            self.cli_running.clone(),
        );
        r.register(
            "cli_warm",
            "Idle CLI processes kept for a channel's next message",
            self.cli_warm.clone(),
        );
        r.register(
            "sessions_active",
            "Channel and thread sessions in memory",
            self.sessions_active.clone(),
        );
        r.register(
            "discord_requests",
            "Discord REST calls: ok, retried (a try that failed and was tried again) or failed",
            self.discord.clone(),
        );
        r.register(
            "approvals",
            "Tool calls asked about in Discord, by how they were decided",
            self.approvals.clone(),
        );
        let build: Family<VersionLabel, Gauge> = Family::default();
        let version = VersionLabel {
            version: env!("CARGO_PKG_VERSION").into(),
        };
        build.get_or_create(&version).set(1);
        r.register("build_info", "The running build; always 1", build);
    }

    /// A request ended with `status` (the `requests.status` of
    /// docs/DATABASE.md).
    pub fn request_finished(&self, project: &str, status: &str, took: Duration, cost_usd: f64) {
        self.request_unrun(project, status);
        let project = ProjectLabel {
            project: project.into(),
        };
        self.durations
            .get_or_create(&project)
            .observe(took.as_secs_f64());
        if cost_usd > 0.0 {
            self.cost.get_or_create(&project).inc_by(cost_usd);
        }
    }

    /// A request that ended with `status`, counted without a duration or
    /// cost: it never ran (cancelled while queued, turned away at
    /// shutdown).
    pub fn request_unrun(&self, project: &str, status: &str) {
        let labels = ProjectOutcome {
            project: project.into(),
            outcome: status.into(),
        };
        self.requests.get_or_create(&labels).inc();
    }

    /// The pool's counts after a change.
    pub fn set_cli(&self, running: usize, warm: usize) {
        self.cli_running.set(gauge_value(running));
        self.cli_warm.set(gauge_value(warm));
    }

    pub fn set_sessions(&self, active: usize) {
        self.sessions_active.set(gauge_value(active));
    }

    /// A channel's queue grew (positive) or shrank.
    pub fn queue_changed(&self, by: i64) {
        self.queue_depth.inc_by(by);
    }

    pub fn discord_request(&self, outcome: DiscordOutcome) {
        let labels = OutcomeLabel {
            outcome: outcome.as_str().into(),
        };
        self.discord.get_or_create(&labels).inc();
    }

    pub fn approval(&self, decision: &str) {
        let labels = DecisionLabel {
            decision: decision.into(),
        };
        self.approvals.get_or_create(&labels).inc();
    }

    /// The scrape's body.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
