//! ClaudePool, the ClaudeWorker pool: runs at most `max_concurrent` CLI
//! turns at once across all channels, admits waiting jobs first in, first
//! out, streams each job's progress to its requester and ends every job
//! with exactly one `Finished`. Between turns it keeps up to `max_warm`
//! sessions' CLI processes alive (`warm`), each for `warm_idle`; a warm
//! process holds no run slot.
//!
//! Handles: `RunJob`, `CancelJob`, `CloseWarm`, `IsWarm`, `CloseAllWarm`,
//! `SetLimits`, its own `JobDone`, and (for tests) `GetPoolStats`.

mod warm;

use super::messages::{
    CancelJob, CloseAllWarm, CloseWarm, IsWarm, JobDone, JobEvent, RunJob, SetLimits,
};
#[cfg(any(test, feature = "testing"))]
use super::messages::{GetPoolStats, PoolStats};
use crate::claude::{self, Live, Outcome, RunReport};
use crate::domain::{ChannelId, RequestId};
use crate::telemetry::metrics::Metrics;
use actix::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use warm::WarmSet;

/// How the pool keeps CLI processes between turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmSettings {
    /// At most this many idle processes across the daemon; 0 keeps none.
    pub max: usize,
    /// An idle process is closed after this long.
    pub idle: Duration,
    /// A warm process that prints nothing this long after a message is
    /// replaced (the real CLI answers with its init line in about 50 ms).
    pub answer_within: Duration,
}

impl Default for WarmSettings {
    fn default() -> Self {
        Self {
            max: 4,
            idle: Duration::from_secs(600),
            answer_within: Duration::from_secs(10),
        }
    }
}

struct RunningJob {
    cancel: CancellationToken,
    warm: Option<ChannelId>,
    /// The turn's process may be kept (no reset or shutdown since).
    keep: bool,
}

pub struct ClaudePool {
    max_concurrent: usize,
    waiting: VecDeque<RunJob>,
    running: HashMap<RequestId, RunningJob>,
    settings: WarmSettings,
    warm: WarmSet<Live>,
    /// Closes under way, awaited at shutdown.
    closes: JoinSet<()>,
    /// Shutting down: no process is kept any more.
    closing: bool,
    metrics: Arc<Metrics>,
}

impl ClaudePool {
    pub fn new(max_concurrent: usize, settings: WarmSettings, metrics: Arc<Metrics>) -> Self {
        Self {
            max_concurrent: max_concurrent.max(1),
            waiting: VecDeque::new(),
            running: HashMap::new(),
            settings,
            warm: WarmSet::new(settings.max),
            closes: JoinSet::new(),
            closing: false,
            metrics,
        }
    }

    /// The running and warm counts, for the metrics.
    fn publish(&self) {
        self.metrics.set_cli(self.running.len(), self.warm.len());
    }

    fn admit(&mut self, ctx: &mut Context<Self>) {
        while self.running.len() < self.max_concurrent {
            let Some(job) = self.waiting.pop_front() else {
                break;
            };
            let cancel = CancellationToken::new();
            let live = job.warm.and_then(|key| self.warm.take(key));
            let keep = job.warm.is_some() && self.settings.max > 0 && !self.closing;
            let running = RunningJob {
                cancel: cancel.clone(),
                warm: job.warm,
                keep,
            };
            self.running.insert(job.id, running);
            job.events.do_send(JobEvent::Started { id: job.id });
            let turn = Turn {
                job,
                live,
                keep,
                answer_within: self.settings.answer_within,
            };
            tokio::spawn(execute(turn, cancel, ctx.address()));
        }
        self.publish();
    }

    /// Keeps a finished turn's process for its session, closing what no
    /// longer fits, and sets its expiry.
    fn keep_warm(&mut self, key: ChannelId, live: Live, ctx: &mut Context<Self>) {
        let (stamp, evicted) = self.warm.put(key, live);
        tracing::debug!(
            channel_id = key.get(),
            warm = self.warm.len(),
            "CLI process kept warm"
        );
        for live in evicted {
            tracing::info!(
                channel_id = key.get(),
                "closing the least recently used warm CLI process"
            );
            self.close(live);
        }
        ctx.run_later(self.settings.idle, move |act, _| {
            if let Some(live) = act.warm.expire(key, stamp) {
                tracing::info!(channel_id = key.get(), "closing an idle warm CLI process");
                act.close(live);
                act.publish();
            }
        });
    }

    fn close(&mut self, live: Live) {
        while self.closes.try_join_next().is_some() {}
        self.closes.spawn(live.close());
    }
}

/// A job as the pool hands it to its task.
struct Turn {
    job: RunJob,
    live: Option<Live>,
    keep: bool,
    answer_within: Duration,
}

/// Runs one job off the actor's thread, forwarding progress as it comes.
async fn execute(turn: Turn, cancel: CancellationToken, pool: Addr<ClaudePool>) {
    let Turn {
        job: RunJob {
            id, spec, events, ..
        },
        live,
        keep,
        answer_within,
    } = turn;
    let (tx, mut rx) = mpsc::unbounded_channel();
    // A task of its own, so a panic in a run still ends in `Finished`.
    let run = tokio::spawn(async move {
        claude::run_turn(&spec, live, keep, answer_within, &tx, &cancel).await
    });
    // The sender goes with the run task, so this ends after the last event.
    while let Some(progress) = rx.recv().await {
        events.do_send(JobEvent::Progress { id, progress });
    }
    let (report, live) = run.await.unwrap_or_else(|e| {
        tracing::error!(request_id = %id, error = %e, "claude run task failed");
        (failed_task_report(e.to_string()), None)
    });
    // The pool first: the session's next job, sent once it hears of this
    // one's end, must find the process kept.
    pool.do_send(JobDone { id, live });
    events.do_send(JobEvent::Finished {
        id,
        report: Box::new(report),
    });
}

fn failed_task_report(detail: String) -> RunReport {
    RunReport {
        outcome: Outcome::ParseError {
            log_detail: format!("the run task ended abnormally: {detail}"),
        },
        context_lost: false,
        warm: false,
        elapsed: Duration::ZERO,
        exit_code: None,
        stderr_tail: String::new(),
    }
}

fn cancelled_report() -> RunReport {
    RunReport {
        outcome: Outcome::cancelled(),
        context_lost: false,
        warm: false,
        elapsed: Duration::ZERO,
        exit_code: None,
        stderr_tail: String::new(),
    }
}

impl Actor for ClaudePool {
    type Context = Context<Self>;

    fn stopping(&mut self, _: &mut Self::Context) -> actix::Running {
        for running in self.running.values() {
            running.cancel.cancel();
        }
        actix::Running::Stop
    }
}

impl Handler<RunJob> for ClaudePool {
    type Result = ();

    fn handle(&mut self, job: RunJob, ctx: &mut Self::Context) {
        self.waiting.push_back(job);
        self.admit(ctx);
    }
}

impl Handler<JobDone> for ClaudePool {
    type Result = ();

    fn handle(&mut self, JobDone { id, live }: JobDone, ctx: &mut Self::Context) {
        let running = self.running.remove(&id);
        if let Some(live) = live {
            match running {
                Some(RunningJob {
                    warm: Some(key),
                    keep: true,
                    ..
                }) if !self.closing => self.keep_warm(key, live, ctx),
                _ => self.close(live),
            }
        }
        self.admit(ctx);
    }
}

impl Handler<CancelJob> for ClaudePool {
    type Result = bool;

    fn handle(&mut self, CancelJob(id): CancelJob, _: &mut Self::Context) -> bool {
        if let Some(running) = self.running.get(&id) {
            running.cancel.cancel();
            return true;
        }
        let Some(at) = self.waiting.iter().position(|j| j.id == id) else {
            return false;
        };
        if let Some(job) = self.waiting.remove(at) {
            job.events.do_send(JobEvent::Finished {
                id,
                report: Box::new(cancelled_report()),
            });
        }
        true
    }
}

impl Handler<CloseWarm> for ClaudePool {
    type Result = ();

    fn handle(&mut self, CloseWarm(key): CloseWarm, _: &mut Self::Context) {
        if let Some(live) = self.warm.take(key) {
            self.close(live);
            self.publish();
        }
        for running in self.running.values_mut() {
            if running.warm == Some(key) {
                running.keep = false;
            }
        }
    }
}

impl Handler<IsWarm> for ClaudePool {
    type Result = bool;

    fn handle(&mut self, IsWarm(key): IsWarm, _: &mut Self::Context) -> bool {
        self.warm.contains(key)
    }
}

impl Handler<CloseAllWarm> for ClaudePool {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: CloseAllWarm, _: &mut Self::Context) -> Self::Result {
        self.closing = true;
        for live in self.warm.drain() {
            self.close(live);
        }
        self.publish();
        let mut closes = std::mem::take(&mut self.closes);
        Box::pin(async move { while closes.join_next().await.is_some() {} })
    }
}

impl Handler<SetLimits> for ClaudePool {
    type Result = ();

    fn handle(&mut self, limits: SetLimits, ctx: &mut Self::Context) {
        self.max_concurrent = limits.max_concurrent.max(1);
        self.settings.max = limits.max_warm;
        self.settings.idle = limits.warm_idle;
        for live in self.warm.set_max(limits.max_warm) {
            self.close(live);
        }
        self.admit(ctx);
    }
}

#[cfg(any(test, feature = "testing"))]
impl Handler<GetPoolStats> for ClaudePool {
    type Result = MessageResult<GetPoolStats>;

    fn handle(&mut self, _: GetPoolStats, _: &mut Self::Context) -> Self::Result {
        MessageResult(PoolStats {
            running: self.running.len(),
            waiting: self.waiting.len(),
            max_concurrent: self.max_concurrent,
            warm: self.warm.len(),
        })
    }
}
