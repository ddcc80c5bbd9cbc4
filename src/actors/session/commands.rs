//! Commands on a channel's session: cancel, reset, status, model, and the
//! CLI slash commands a prompt may carry.

use super::SessionActor;
use crate::actors::messages::Request;
use crate::actors::messages::{
    CancelJob, CancelReply, CloseWarm, CommandReply, IsWarm, Routed, SessionCommand, SessionStatus,
};
use crate::claude::{Slash, classify_slash};
use crate::db::RequestFinish;
use crate::domain::{RequestStatus, UserId};
use actix::prelude::*;

const CLEARED: &str = "🧹 Cleared: your next message starts a new conversation.";

impl SessionActor {
    /// The caller's (or, for an admin, anyone's) running request first,
    /// else the caller's latest queued one.
    fn cancel(&mut self, by: UserId, admin: bool, ctx: &mut Context<Self>) -> CancelReply {
        if let Some(running) = &self.in_flight
            && (running.request.user == by || admin)
        {
            self.deps.cancel_job.do_send(CancelJob(running.request.id));
            return CancelReply::Running;
        }
        let Some(at) = self.queue.iter().rposition(|q| q.request.user == by) else {
            return match self.in_flight {
                Some(_) => CancelReply::NotAllowed,
                None => CancelReply::Nothing,
            };
        };
        let Some(request) = self.queue.remove(at).map(|q| q.request) else {
            return CancelReply::Nothing;
        };
        self.queue_changed();
        let db = self.deps.db.clone();
        let finish = RequestFinish::unrun(RequestStatus::Cancelled);
        let status = RequestStatus::Cancelled.to_string();
        self.deps
            .metrics
            .request_unrun(request.project.as_str(), &status);
        let write = async move { db.finish_request(request.id, &finish).await };
        self.store(ctx, "record a cancel", write);
        CancelReply::Queued
    }

    /// A prompt that is a CLI slash command the bot handles itself
    /// (`claude::classify_slash`) is answered here; any other comes back
    /// to be queued.
    pub(super) fn take_slash(
        &mut self,
        request: Request,
        ctx: &mut Context<Self>,
    ) -> Option<Request> {
        let text = match classify_slash(&request.prompt) {
            Slash::Run => return Some(request),
            Slash::Clear => {
                self.reset(ctx);
                CLEARED
            }
            Slash::Refuse(text) => text,
        };
        self.reply_later(&request, text.into(), ctx);
        None
    }

    fn reset(&mut self, ctx: &mut Context<Self>) -> bool {
        if let Some(running) = &mut self.in_flight {
            running.discard_session = true;
        }
        self.approvals.forget_session_rules();
        self.deps.close_warm.do_send(CloseWarm(self.channel));
        let had_session = self
            .stored
            .as_mut()
            .and_then(|s| s.claude_session.take())
            .is_some();
        let (db, channel) = (self.deps.db.clone(), self.channel);
        let write = async move { db.set_claude_session_id(channel, None).await };
        self.store(ctx, "reset the session", write);
        had_session
    }

    fn status(&self) -> SessionStatus {
        let stored = self.stored.as_ref();
        let config = self.settings();
        let project_model = self
            .project_in(&config)
            .and_then(|p| p.effective_model(&config.claude).map(str::to_owned));
        SessionStatus {
            project: self.project.clone(),
            session_short: stored.and_then(|s| s.claude_session).map(|s| s.short()),
            message_count: stored.map_or(0, |s| s.message_count),
            total_cost_usd: stored.map_or(0.0, |s| s.total_cost_usd),
            queue_len: self.queue.len(),
            running_for: self.in_flight.as_ref().map(|r| r.started.elapsed()),
            model: stored
                .and_then(|s| s.model_override.clone())
                .or(project_model),
            waiting_approvals: self.waiting_approvals(),
            warm: false,
            branch: self.worktree.as_ref().map(|w| w.branch.clone()),
        }
    }

    /// The status, once the pool has said whether the CLI is warm.
    fn status_reply(&self) -> ResponseActFuture<Self, CommandReply> {
        let mut status = self.status();
        let asked = self.deps.is_warm.send(IsWarm(self.channel));
        let reply = async move {
            status.warm = asked.await.unwrap_or(false);
            CommandReply::Status(status)
        };
        Box::pin(reply.into_actor(self))
    }

    fn set_model(&mut self, model: Option<String>, ctx: &mut Context<Self>) {
        if let Some(stored) = &mut self.stored {
            stored.model_override = model.clone();
        }
        // The model is fixed when the CLI starts.
        self.deps.close_warm.do_send(CloseWarm(self.channel));
        let (db, channel) = (self.deps.db.clone(), self.channel);
        let write = async move { db.set_model_override(channel, model.as_deref()).await };
        self.store(ctx, "set the model", write);
    }
}

impl Handler<Routed<SessionCommand>> for SessionActor {
    type Result = ResponseActFuture<Self, CommandReply>;

    fn handle(
        &mut self,
        Routed {
            seq,
            inner: command,
        }: Routed<SessionCommand>,
        ctx: &mut Self::Context,
    ) -> Self::Result {
        if command == SessionCommand::SweepWorktree {
            // Not activity: the idle timer keeps counting, or sweeps more
            // often than idle_timeout would keep sessions alive.
            self.seq = self.seq.max(seq);
        } else {
            self.touch(seq, ctx);
        }
        let reply = match command {
            SessionCommand::Cancel { by, admin } => {
                CommandReply::Cancel(self.cancel(by, admin, ctx))
            }
            SessionCommand::Reset => CommandReply::Reset {
                had_session: self.reset(ctx),
            },
            SessionCommand::Status => {
                self.arm_idle_timer(ctx);
                return self.status_reply();
            }
            SessionCommand::SetModel(model) => {
                self.set_model(model.clone(), ctx);
                CommandReply::ModelSet { model }
            }
            SessionCommand::Decide {
                approval,
                choice,
                by,
                admin,
            } => CommandReply::Decided(self.decide(&approval, choice, by, admin, ctx)),
            SessionCommand::RemoveWorktree => return self.remove_worktree(ctx),
            SessionCommand::SweepWorktree => {
                let reply = self.sweep_worktree(ctx);
                // Armed anew only if it fired meanwhile.
                self.arm_idle_timer(ctx);
                return reply;
            }
        };
        self.arm_idle_timer(ctx);
        Box::pin(actix::fut::ready(reply))
    }
}
