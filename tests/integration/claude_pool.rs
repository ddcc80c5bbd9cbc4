//! The ClaudeWorker pool against the fake CLI: bounded concurrency, FIFO
//! admission, progress before the final report, and cancellation.

use crate::helpers::FakeCli;
use actix::prelude::*;
use claude_coordinator::actors::claude_pool::{ClaudePool, WarmSettings};
use claude_coordinator::actors::messages::{CancelJob, GetPoolStats, JobEvent, RunJob};
use claude_coordinator::claude::RunSpec;
use claude_coordinator::claude::{Outcome, Progress, RunReport};
use claude_coordinator::domain::{ChannelId, RequestId};
use claude_coordinator::telemetry::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Stands in for a SessionActor: forwards every job event to the test.
struct Requester(mpsc::UnboundedSender<JobEvent>);

impl Actor for Requester {
    type Context = Context<Self>;
}

impl Handler<JobEvent> for Requester {
    type Result = ();
    fn handle(&mut self, event: JobEvent, _: &mut Self::Context) {
        let _ = self.0.send(event);
    }
}

pub struct Harness {
    pub cli: FakeCli,
    pub pool: Addr<ClaudePool>,
    pub metrics: Arc<Metrics>,
    events: mpsc::UnboundedReceiver<JobEvent>,
    requester: Recipient<JobEvent>,
}

impl Harness {
    /// A pool that keeps no process warm.
    pub fn new(max_concurrent: usize) -> Self {
        let cold = WarmSettings {
            max: 0,
            ..WarmSettings::default()
        };
        Self::with_warm(max_concurrent, cold)
    }

    pub fn with_warm(max_concurrent: usize, warm: WarmSettings) -> Self {
        let (tx, events) = mpsc::unbounded_channel();
        let metrics = Metrics::new();
        Self {
            cli: FakeCli::new(),
            pool: ClaudePool::new(max_concurrent, warm, metrics.clone()).start(),
            metrics,
            events,
            requester: Requester(tx).start().recipient(),
        }
    }

    fn submit(&self, prompt: &str) -> RequestId {
        self.submit_spec(self.cli.spec(prompt), None)
    }

    /// Submits a turn of the session `warm` (if any).
    pub fn submit_spec(&self, spec: RunSpec, warm: Option<ChannelId>) -> RequestId {
        let id = RequestId::new();
        self.pool.do_send(RunJob {
            id,
            spec,
            events: self.requester.clone(),
            warm,
        });
        id
    }

    pub async fn next(&mut self) -> JobEvent {
        tokio::time::timeout(Duration::from_secs(30), self.events.recv())
            .await
            .expect("no job event within 30 s")
            .expect("requester gone")
    }

    /// Collects events until `n` jobs have finished.
    pub async fn until_finished(&mut self, n: usize) -> Vec<JobEvent> {
        let mut seen = Vec::new();
        let mut finished = 0;
        while finished < n {
            let event = self.next().await;
            finished += matches!(event, JobEvent::Finished { .. }) as usize;
            seen.push(event);
        }
        seen
    }
}

pub fn finished(events: &[JobEvent]) -> Vec<(RequestId, &RunReport)> {
    events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Finished { id, report } => Some((*id, report.as_ref())),
            _ => None,
        })
        .collect()
}

fn started(events: &[JobEvent]) -> Vec<RequestId> {
    events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Started { id } => Some(*id),
            _ => None,
        })
        .collect()
}

#[actix_rt::test]
async fn the_pool_never_runs_more_than_max_concurrent_copies() {
    let mut h = Harness::new(2);
    let ids: Vec<_> = (0..6).map(|_| h.submit("FAKE:slow=250 hello")).collect();
    let events = h.until_finished(6).await;
    let done = finished(&events);
    assert_eq!(done.len(), 6);
    assert!(
        done.iter()
            .all(|(_, r)| matches!(r.outcome, Outcome::Success(_)))
    );
    assert!(ids.iter().all(|id| done.iter().any(|(d, _)| d == id)));
    assert_eq!(
        h.cli.max_concurrency(),
        2,
        "the pool should fill, not exceed, its slots"
    );
}

#[actix_rt::test]
async fn waiting_jobs_are_admitted_first_in_first_out() {
    let mut h = Harness::new(1);
    let ids: Vec<_> = (0..4)
        .map(|i| h.submit(&format!("FAKE:slow=20 job {i}")))
        .collect();
    let events = h.until_finished(4).await;
    assert_eq!(started(&events), ids);
    let order: Vec<_> = finished(&events).iter().map(|(id, _)| *id).collect();
    assert_eq!(order, ids);
}

#[actix_rt::test]
async fn progress_arrives_before_the_final_report() {
    let mut h = Harness::new(1);
    let id = h.submit("FAKE:tools please edit");
    let events = h.until_finished(1).await;
    assert!(matches!(events.first(), Some(JobEvent::Started { id: s }) if *s == id));
    let tools = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                JobEvent::Progress {
                    progress: Progress::ToolUse { .. },
                    ..
                }
            )
        })
        .count();
    assert!(tools >= 2, "{events:?}");
    assert!(matches!(events.last(), Some(JobEvent::Finished { .. })));
}

#[actix_rt::test]
async fn a_queued_job_is_cancelled_without_ever_starting() {
    let mut h = Harness::new(1);
    let running = h.submit("FAKE:hang");
    let queued = h.submit("never runs");
    assert!(matches!(h.next().await, JobEvent::Started { id } if id == running));
    let stats = h.pool.send(GetPoolStats).await.unwrap();
    assert_eq!((stats.running, stats.waiting), (1, 1));

    assert!(h.pool.send(CancelJob(queued)).await.unwrap());
    match h.next().await {
        JobEvent::Finished { id, report } => {
            assert_eq!(id, queued);
            assert_eq!(report.outcome, Outcome::cancelled());
        }
        other => panic!("expected the queued job to finish, got {other:?}"),
    }

    assert!(h.pool.send(CancelJob(running)).await.unwrap());
    let events = h.until_finished(1).await;
    let done = finished(&events);
    assert_eq!(done[0].0, running);
    // The CLI ended the turn on the interrupt, with its cost.
    assert!(
        matches!(done[0].1.outcome, Outcome::Cancelled { cost: Some(_), .. }),
        "{:?}",
        done[0].1.outcome
    );
    assert!(!started(&events).contains(&queued));
    let spawned_queued = h
        .cli
        .records()
        .iter()
        .any(|r| r.to_string().contains("never runs"));
    assert!(!spawned_queued, "the cancelled queued job must not spawn");

    let stats = h.pool.send(GetPoolStats).await.unwrap();
    assert_eq!((stats.running, stats.waiting), (0, 0));
}

#[actix_rt::test]
async fn cancelling_an_unknown_job_says_so() {
    let h = Harness::new(1);
    assert!(!h.pool.send(CancelJob(RequestId::new())).await.unwrap());
}

#[actix_rt::test]
async fn a_freed_slot_goes_to_the_next_waiting_job() {
    let mut h = Harness::new(1);
    let first = h.submit("FAKE:hang");
    let second = h.submit("FAKE:slow=10 second");
    assert!(matches!(h.next().await, JobEvent::Started { id } if id == first));
    h.pool.send(CancelJob(first)).await.unwrap();
    let events = h.until_finished(2).await;
    assert_eq!(started(&events), vec![second]);
    assert!(matches!(
        finished(&events)[1].1.outcome,
        Outcome::Success(_)
    ));
}
