//! ClaudePool, the ClaudeWorker pool: runs at most `max_concurrent` CLI
//! processes at once across all channels, admits waiting jobs first in,
//! first out, streams each job's progress to its requester and ends every
//! job with exactly one `Finished`.
//!
//! Handles: `RunJob`, `CancelJob`, its own `JobDone`, and (for tests)
//! `GetPoolStats`.

use super::messages::{CancelJob, JobDone, JobEvent, RunJob};
#[cfg(any(test, feature = "testing"))]
use super::messages::{GetPoolStats, PoolStats};
use crate::claude::{self, Outcome, RunReport};
use crate::domain::RequestId;
use actix::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub struct ClaudePool {
    max_concurrent: usize,
    waiting: VecDeque<RunJob>,
    running: HashMap<RequestId, CancellationToken>,
}

impl ClaudePool {
    pub fn new(max_concurrent: usize) -> Self {
        Self {
            max_concurrent: max_concurrent.max(1),
            waiting: VecDeque::new(),
            running: HashMap::new(),
        }
    }

    fn admit(&mut self, ctx: &mut Context<Self>) {
        while self.running.len() < self.max_concurrent {
            let Some(job) = self.waiting.pop_front() else {
                break;
            };
            let cancel = CancellationToken::new();
            self.running.insert(job.id, cancel.clone());
            job.events.do_send(JobEvent::Started { id: job.id });
            tokio::spawn(execute(job, cancel, ctx.address()));
        }
    }
}

/// Runs one job off the actor's thread, forwarding progress as it comes.
async fn execute(job: RunJob, cancel: CancellationToken, pool: Addr<ClaudePool>) {
    let RunJob { id, spec, events } = job;
    let (tx, mut rx) = mpsc::unbounded_channel();
    // A task of its own, so a panic in a run still ends in `Finished`.
    let run = tokio::spawn(async move { claude::run_with_recovery(&spec, &tx, &cancel).await });
    // The sender goes with the run task, so this ends after the last event.
    while let Some(progress) = rx.recv().await {
        events.do_send(JobEvent::Progress { id, progress });
    }
    let report = run.await.unwrap_or_else(|e| {
        tracing::error!(request_id = %id, error = %e, "claude run task failed");
        failed_task_report(e.to_string())
    });
    events.do_send(JobEvent::Finished {
        id,
        report: Box::new(report),
    });
    pool.do_send(JobDone(id));
}

fn failed_task_report(detail: String) -> RunReport {
    RunReport {
        outcome: Outcome::ParseError {
            log_detail: format!("the run task ended abnormally: {detail}"),
        },
        context_lost: false,
        elapsed: Duration::ZERO,
        exit_code: None,
        stderr_tail: String::new(),
    }
}

fn cancelled_report() -> RunReport {
    RunReport {
        outcome: Outcome::cancelled(),
        context_lost: false,
        elapsed: Duration::ZERO,
        exit_code: None,
        stderr_tail: String::new(),
    }
}

impl Actor for ClaudePool {
    type Context = Context<Self>;

    fn stopping(&mut self, _: &mut Self::Context) -> Running {
        for cancel in self.running.values() {
            cancel.cancel();
        }
        Running::Stop
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

    fn handle(&mut self, JobDone(id): JobDone, ctx: &mut Self::Context) {
        self.running.remove(&id);
        self.admit(ctx);
    }
}

impl Handler<CancelJob> for ClaudePool {
    type Result = bool;

    fn handle(&mut self, CancelJob(id): CancelJob, _: &mut Self::Context) -> bool {
        if let Some(cancel) = self.running.get(&id) {
            cancel.cancel();
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

#[cfg(any(test, feature = "testing"))]
impl Handler<GetPoolStats> for ClaudePool {
    type Result = MessageResult<GetPoolStats>;

    fn handle(&mut self, _: GetPoolStats, _: &mut Self::Context) -> Self::Result {
        MessageResult(PoolStats {
            running: self.running.len(),
            waiting: self.waiting.len(),
            max_concurrent: self.max_concurrent,
        })
    }
}
