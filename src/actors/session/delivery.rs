//! A session's posts leave in the order it made them, each once the one
//! before it was delivered or given up on, and the actor never waits for
//! any: an answer Discord holds (retried for up to two minutes) does not
//! block the channel's commands, typing or next request. A session with
//! deliveries pending counts as busy, so it is not stopped with posts
//! still to make, and a shutdown waits for them (within its deadline).
//! A delivery never writes to the store: the actor's store writes run in
//! `ctx.wait`, which would never let a delivery holding the in-memory
//! store's one connection finish.

use super::SessionActor;
use actix::prelude::*;
use tokio::sync::oneshot;

#[derive(Default)]
pub(super) struct Deliveries {
    /// Completed when the newest delivery has ended.
    last: Option<oneshot::Receiver<()>>,
    pending: usize,
}

impl Deliveries {
    pub fn pending(&self) -> usize {
        self.pending
    }
}

impl SessionActor {
    /// Runs `job` after every delivery queued before it, then `then` on
    /// the actor with its result.
    pub(super) fn deliver<T: 'static>(
        &mut self,
        job: impl Future<Output = T> + 'static,
        then: impl FnOnce(T, &mut Self, &mut Context<Self>) + 'static,
        ctx: &mut Context<Self>,
    ) {
        let (done, next) = oneshot::channel();
        let before = self.deliveries.last.replace(next);
        self.deliveries.pending += 1;
        let in_turn = async move {
            if let Some(before) = before {
                // An error only means that delivery was dropped: go on.
                let _ = before.await;
            }
            let out = job.await;
            let _ = done.send(());
            out
        };
        ctx.spawn(in_turn.into_actor(self).map(move |out, act, ctx| {
            act.deliveries.pending -= 1;
            then(out, act, ctx);
            act.settle(ctx);
        }));
    }

    /// Runs `job` in delivery order; its result is not needed.
    pub(super) fn deliver_and_forget(
        &mut self,
        job: impl Future + 'static,
        ctx: &mut Context<Self>,
    ) {
        self.deliver(job, |_, _, _| {}, ctx);
    }

    /// Nothing is running or being delivered: a shutdown waiting on this
    /// session may go on, and the idle timer may start.
    pub(super) fn settle(&mut self, ctx: &mut Context<Self>) {
        if !self.settled() {
            return;
        }
        if let Some(drained) = self.drained.take() {
            let _ = drained.send(());
        }
        self.arm_idle_timer(ctx);
    }
}
