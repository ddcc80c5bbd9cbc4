//! A session's part in a graceful shutdown: turn new requests away, tell
//! queued users their request will not run, and report when the running
//! one has ended and every post is delivered (or stop the run when the
//! grace period is over).

use super::SessionActor;
use super::post;
use crate::actors::messages::{CancelJob, Drain, Draining, Request, StopForShutdown};
use crate::db::RequestFinish;
use crate::domain::RequestStatus;
use actix::prelude::*;

const RESTARTING: &str =
    "🔄 The bot is restarting, so this was not run. Send it again in a minute.";

impl SessionActor {
    /// Tells the user their request will not run as the daemon restarts,
    /// and records that.
    pub(super) fn turn_away(&mut self, request: Request, ctx: &mut Context<Self>) {
        self.not_run(request, RequestStatus::Interrupted, RESTARTING.into(), ctx);
    }

    /// Records a request that will not run with `status`, and replies
    /// `why` to its message.
    pub(super) fn not_run(
        &mut self,
        request: Request,
        status: RequestStatus,
        why: String,
        ctx: &mut Context<Self>,
    ) {
        let (db, id) = (self.deps.db.clone(), request.id);
        let finish = RequestFinish::unrun(status);
        let status = status.to_string();
        self.deps
            .metrics
            .request_unrun(request.project.as_str(), &status);
        // Requests turned away before they were queued have no row.
        let write = async move {
            let _ = db.finish_request(id, &finish).await;
            Ok(())
        };
        self.store(ctx, "record a turned-away request", write);
        let deps = self.deps.clone();
        let (channel, message) = (request.channel, Some(request.message));
        let notice = async move { post(&deps, channel, why, message).await };
        self.deliver_and_forget(notice, ctx);
    }
}

impl Handler<Drain> for SessionActor {
    type Result = MessageResult<Drain>;

    fn handle(&mut self, _: Drain, ctx: &mut Self::Context) -> Self::Result {
        self.draining = true;
        let queued: Vec<_> = self.queue.drain(..).map(|q| q.request).collect();
        self.queue_changed();
        for request in queued {
            self.turn_away(request, ctx);
        }
        if self.settled() {
            return MessageResult(None);
        }
        let (tx, done) = tokio::sync::oneshot::channel();
        self.drained = Some(tx);
        MessageResult(Some(Draining {
            done,
            running: self.in_flight.is_some(),
        }))
    }
}

impl Handler<StopForShutdown> for SessionActor {
    type Result = bool;

    /// Stops the running request; false if nothing was running (only
    /// deliveries were pending).
    fn handle(&mut self, _: StopForShutdown, _: &mut Self::Context) -> bool {
        let Some(running) = &mut self.in_flight else {
            return false;
        };
        running.stopped_for_shutdown = true;
        self.deps.cancel_job.do_send(CancelJob(running.request.id));
        true
    }
}
