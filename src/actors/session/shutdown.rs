//! A session's part in a graceful shutdown: turn new requests away, tell
//! queued users their request will not run, and report when the running
//! one has ended (or stop it when the grace period is over).

use super::SessionActor;
use super::post;
use crate::actors::messages::{CancelJob, Drain, Request, StopForShutdown};
use crate::db::RequestFinish;
use crate::domain::RequestStatus;
use actix::prelude::*;

const RESTARTING: &str =
    "🔄 The bot is restarting, so this was not run. Send it again in a minute.";

impl SessionActor {
    /// Tells the user their request will not run, and records that.
    pub(super) fn turn_away(&mut self, request: Request, ctx: &mut Context<Self>) {
        let deps = self.deps.clone();
        ctx.spawn(
            async move {
                post(
                    &deps,
                    request.channel,
                    RESTARTING.into(),
                    Some(request.message),
                )
                .await;
                let finish = RequestFinish::unrun(RequestStatus::Interrupted);
                // Requests turned away before they were queued have no row.
                let _ = deps.db.finish_request(request.id, &finish).await;
            }
            .into_actor(self),
        );
    }
}

impl Handler<Drain> for SessionActor {
    type Result = MessageResult<Drain>;

    fn handle(&mut self, _: Drain, ctx: &mut Self::Context) -> Self::Result {
        self.draining = true;
        let queued: Vec<_> = self.queue.drain(..).map(|q| q.request).collect();
        for request in queued {
            self.turn_away(request, ctx);
        }
        if self.in_flight.is_none() {
            return MessageResult(None);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.drained = Some(tx);
        MessageResult(Some(rx))
    }
}

impl Handler<StopForShutdown> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: StopForShutdown, _: &mut Self::Context) {
        if let Some(running) = &mut self.in_flight {
            running.stopped_for_shutdown = true;
            self.deps.cancel_job.do_send(CancelJob(running.request.id));
        }
    }
}
