//! A session's part in a reload: when its project is removed, queued
//! requests are told and dropped (the running one finishes with the
//! settings it was queued with); when its channel is mapped to another
//! project, the session moves to it once nothing runs.

use super::SessionActor;
use crate::actors::messages::{ProjectsRemoved, Request, Routed};
use crate::domain::{ProjectName, RequestStatus};
use actix::prelude::*;

impl SessionActor {
    /// A request for another project than this session's: the channel was
    /// mapped anew by a reload. The session moves once idle, which loads
    /// its row for the new project (a new conversation) before the request
    /// is taken.
    pub(super) fn adopt(&mut self, seq: u64, request: Request, ctx: &mut Context<Self>) {
        let config = self.deps.config.current();
        if config.project_named(request.project.as_str()).is_none() {
            let why = removed_notice(&request.project);
            self.not_run(request, RequestStatus::Cancelled, why, ctx);
            return;
        }
        if self.busy() {
            let why = format!(
                "🗂️ This channel now belongs to project **{}**, but the request for **{}** is still being handled. Send this again once it has finished.",
                request.project, self.project
            );
            self.not_run(request, RequestStatus::Cancelled, why, ctx);
            return;
        }
        tracing::info!(
            channel_id = self.channel.get(),
            from = %self.project,
            to = %request.project,
            "the channel was mapped to another project"
        );
        self.project = request.project.clone();
        self.stored = None;
        self.load(ctx);
        // Handled after the load: a waiting context takes no message.
        ctx.notify(Routed {
            seq,
            inner: request,
        });
    }
}

pub(super) fn removed_notice(project: &ProjectName) -> String {
    format!(
        "🗂️ Project **{project}** was removed from the configuration, so this request was not run."
    )
}

impl Handler<ProjectsRemoved> for SessionActor {
    type Result = ();

    fn handle(&mut self, ProjectsRemoved(removed): ProjectsRemoved, ctx: &mut Self::Context) {
        if !removed.contains(&self.project) {
            return;
        }
        let queued: Vec<_> = self.queue.drain(..).map(|q| q.request).collect();
        self.queue_changed();
        let why = removed_notice(&self.project);
        for request in queued {
            self.not_run(request, RequestStatus::Cancelled, why.clone(), ctx);
        }
        self.arm_idle_timer(ctx);
    }
}
