//! A thread's own git worktree (`thread_worktrees`): found when the
//! session starts, made before the thread's first run (the message's
//! attachments moved into it), and removed with `/worktree remove`, or
//! when the session goes idle in a thread since archived or deleted, if
//! nothing in it would be lost.

use super::SessionActor;
use super::job::Queued;
use crate::actors::messages::{
    AskThread, CommandReply, ErrorKind, ReportError, ThreadIs, WorktreeReply,
};
use crate::config::Config;
use crate::db::RequestFinish;
use crate::domain::{ATTACHMENT_DIR, MessageId, RequestStatus};
use crate::worktree::{self, GitError};
use actix::prelude::*;
use std::path::{Path, PathBuf};

impl SessionActor {
    /// The project folder, when this session is a thread of a project
    /// whose threads get worktrees.
    fn worktree_project(&self, config: &Config) -> Option<PathBuf> {
        let project = self.project_in(config)?;
        (project.thread_worktrees && project.channel_id != self.channel)
            .then(|| project.path.clone())
    }

    /// Learns of a worktree an earlier session of this thread made.
    pub(super) fn find_worktree(&mut self, ctx: &mut Context<Self>) {
        let Some(project) = self.worktree_project(&self.deps.config.current()) else {
            return;
        };
        let thread = self.channel;
        let found = async move { worktree::existing(&project, thread).await };
        ctx.wait(
            found
                .into_actor(self)
                .map(|found, act, _| act.worktree = found),
        );
    }

    /// Runs `queued` in its folder: the project's, or the thread's
    /// worktree, made first if need be.
    pub(super) fn begin(&mut self, queued: Queued, ctx: &mut Context<Self>) {
        let Some(project) = self.worktree_project(&queued.config) else {
            let spec = self.spec_for(&queued, None);
            self.launch(queued, spec, ctx);
            return;
        };
        let (thread, message) = (self.channel, queued.request.message);
        let name = queued.request.thread_name.clone().unwrap_or_default();
        let prepare = async move {
            let made = worktree::ensure(&project, thread, &name).await?;
            move_attachments(&project, &made.path, message).await;
            Ok::<_, GitError>(made)
        };
        ctx.wait(prepare.into_actor(self).map(move |made, act, ctx| match made {
            Ok(made) => {
                let spec = act.spec_for(&queued, Some(made.path.clone()));
                if act.worktree.as_ref() != Some(&made) {
                    tracing::info!(channel_id = act.channel.get(), branch = %made.branch, "thread worktree ready");
                }
                act.worktree = Some(made);
                act.launch(queued, spec, ctx);
            }
            Err(e) => act.not_prepared(queued, &e, ctx),
        }));
    }

    /// The worktree could not be made: the request fails under an error
    /// id, and the next one gets its turn.
    fn not_prepared(&mut self, queued: Queued, e: &GitError, ctx: &mut Context<Self>) {
        let request = queued.request;
        let detail = format!("cannot make the thread's worktree: {e}");
        let report = self.report(ErrorKind::SessionError, &request, detail);
        self.deliver_and_forget(report, ctx);
        let (db, id) = (self.deps.db.clone(), request.id);
        let finish = RequestFinish::unrun(RequestStatus::Failed);
        let status = RequestStatus::Failed.to_string();
        self.deps
            .metrics
            .request_unrun(request.project.as_str(), &status);
        let write = async move { db.finish_request(id, &finish).await };
        self.store(ctx, "record a request that could not start", write);
        self.start_next(ctx);
    }

    pub(super) fn remove_worktree(&mut self) -> ResponseActFuture<Self, CommandReply> {
        let reply = |r| Box::pin(actix::fut::ready(CommandReply::Worktree(r)));
        if self.busy() {
            return reply(WorktreeReply::Busy);
        }
        let project = self.worktree_project(&self.deps.config.current());
        let (Some(project), Some(made)) = (project, self.worktree.clone()) else {
            return reply(WorktreeReply::NoWorktree);
        };
        let (errors, channel) = (self.deps.errors.clone(), self.channel);
        let remove = async move {
            let branch = made.branch.clone();
            match worktree::remove(&project, &made).await {
                Ok(None) => WorktreeReply::Removed { branch },
                Ok(Some(kept)) => WorktreeReply::Kept {
                    branch,
                    why: kept.describe(),
                },
                Err(e) => {
                    let report = ReportError {
                        kind: ErrorKind::SessionError,
                        channel: Some(channel),
                        request: None,
                        detail: format!("cannot remove the thread's worktree: {e}"),
                    };
                    match errors.send(report).await {
                        Ok(reported) => WorktreeReply::Failed {
                            error_id: reported.error_id,
                        },
                        Err(_) => WorktreeReply::Failed {
                            error_id: Default::default(),
                        },
                    }
                }
            }
        };
        Box::pin(remove.into_actor(self).map(|answer, act, ctx| {
            if let WorktreeReply::Removed { branch } = &answer {
                tracing::info!(channel_id = act.channel.get(), branch = %branch, "thread worktree removed");
                act.worktree = None;
            }
            act.arm_idle_timer(ctx);
            CommandReply::Worktree(answer)
        }))
    }
}

impl SessionActor {
    /// Nothing ran here for `idle_timeout`. A thread with a worktree is
    /// first looked up: archived or deleted, its worktree is removed if
    /// nothing would be lost, and kept (logged, not posted: a post would
    /// unarchive the thread) otherwise.
    pub(super) fn went_idle(&mut self, ctx: &mut Context<Self>) {
        let project = self.worktree_project(&self.deps.config.current());
        let (Some(project), Some(made)) = (project, self.worktree.clone()) else {
            self.report_idle();
            return;
        };
        let (threads, channel) = (self.deps.threads.clone(), self.channel);
        let check = async move {
            let state = threads
                .send(AskThread(channel))
                .await
                .unwrap_or(ThreadIs::Unknown);
            if !matches!(state, ThreadIs::Archived | ThreadIs::Gone) {
                return (state, None);
            }
            (state, Some(worktree::remove(&project, &made).await))
        };
        ctx.wait(check.into_actor(self).map(|(state, removed), act, _| {
            let channel_id = act.channel.get();
            match removed {
                Some(Ok(None)) => {
                    tracing::info!(channel_id, ?state, "thread closed; its worktree was removed");
                    act.worktree = None;
                }
                Some(Ok(Some(kept))) => {
                    let why = kept.describe();
                    tracing::warn!(channel_id, ?state, why, "thread closed; its worktree was kept");
                }
                Some(Err(e)) => {
                    tracing::error!(channel_id, ?state, error = %e, "thread closed; cannot remove its worktree");
                }
                None => {}
            }
            act.report_idle();
        }));
    }
}

/// The message's attachments were saved in the project; its run works
/// in the worktree, where the prompt's relative paths must hold.
async fn move_attachments(project: &Path, worktree: &Path, message: MessageId) {
    let from = project.join(ATTACHMENT_DIR).join(message.to_string());
    if tokio::fs::symlink_metadata(&from).await.is_err() {
        return;
    }
    let into = worktree.join(ATTACHMENT_DIR);
    let moved = async {
        tokio::fs::create_dir_all(&into).await?;
        tokio::fs::rename(&from, into.join(message.to_string())).await
    };
    if let Err(e) = moved.await {
        tracing::warn!(error = %e, "cannot move attachments into the thread's worktree");
    }
}
