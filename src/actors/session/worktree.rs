//! A thread's own git worktree (`thread_worktrees`): found when the
//! session starts, made before the thread's first run (the message's
//! attachments moved into it), and removed with `/worktree remove`, or
//! by a sweep that finds the thread archived or deleted, if nothing in it
//! would be lost.

use super::SessionActor;
use super::job::Queued;
use crate::actors::messages::{
    AskThread, CloseWarm, CommandReply, ErrorKind, ReportError, StartTyping, StopTyping, Sweep,
    ThreadIs, WorktreeReply,
};
use crate::config::Config;
use crate::db::RequestFinish;
use crate::domain::{ATTACHMENT_DIR, ChannelId, ErrorId, MessageId, RequestStatus};
use crate::worktree::{self, GitError, Worktree};
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
        // Making a worktree checks the project out again: on a big one
        // that takes a while, and the user should see work has begun.
        self.deps.start_typing.do_send(StartTyping(self.channel));
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
        self.deps.stop_typing.do_send(StopTyping(self.channel));
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

    /// `/worktree remove`. The session takes no other message meanwhile,
    /// so no run can start in a worktree being removed.
    pub(super) fn remove_worktree(
        &mut self,
        ctx: &mut Context<Self>,
    ) -> ResponseActFuture<Self, CommandReply> {
        let Some((project, made)) = self.removable() else {
            let why = if self.busy() {
                WorktreeReply::Busy
            } else {
                WorktreeReply::NoWorktree
            };
            return Box::pin(actix::fut::ready(CommandReply::Worktree(why)));
        };
        let errors = self.deps.errors.clone();
        let channel = self.channel;
        let remove = async move { removal(&project, &made, &errors, channel).await };
        let work = remove.into_actor(self).map(|removal, act, _| {
            act.removed(&removal, None);
            CommandReply::Worktree(removal)
        });
        self.answer_when_done(work, ctx)
    }

    /// A sweep: the thread is looked up, and if it was archived or
    /// deleted, its worktree is removed as `/worktree remove` would.
    pub(super) fn sweep_worktree(
        &mut self,
        ctx: &mut Context<Self>,
    ) -> ResponseActFuture<Self, CommandReply> {
        let Some((project, made)) = self.removable() else {
            return Box::pin(actix::fut::ready(CommandReply::Swept(Sweep::Skipped)));
        };
        let (threads, errors) = (self.deps.threads.clone(), self.deps.errors.clone());
        let channel = self.channel;
        let sweep = async move {
            let thread = threads
                .send(AskThread(channel))
                .await
                .unwrap_or(ThreadIs::Unknown);
            if !matches!(thread, ThreadIs::Archived | ThreadIs::Gone) {
                return Sweep::NotClosed(thread);
            }
            let removal = removal(&project, &made, &errors, channel).await;
            Sweep::Closed { thread, removal }
        };
        let work = sweep.into_actor(self).map(|sweep, act, _| {
            if let Sweep::Closed { thread, removal } = &sweep {
                act.removed(removal, Some(*thread));
                if let WorktreeReply::Kept { branch, why } = removal {
                    tracing::info!(channel_id = act.channel.get(), ?thread, %branch, why, "thread closed; its worktree was kept");
                }
            }
            CommandReply::Swept(sweep)
        });
        self.answer_when_done(work, ctx)
    }

    /// The project folder and worktree, when there is one and nothing
    /// runs or waits.
    fn removable(&self) -> Option<(PathBuf, Worktree)> {
        if self.busy() {
            return None;
        }
        let project = self.worktree_project(&self.deps.config.current())?;
        Some((project, self.worktree.clone()?))
    }

    /// `closed`: how a sweep found the thread; `None` for the command.
    fn removed(&mut self, removal: &WorktreeReply, closed: Option<ThreadIs>) {
        if let WorktreeReply::Removed { branch } = removal {
            tracing::info!(channel_id = self.channel.get(), branch = %branch, ?closed, "thread worktree removed");
            self.worktree = None;
            // Its warm process works in the removed folder; a fresh
            // worktree at the same path is another folder.
            self.deps.close_warm.do_send(CloseWarm(self.channel));
        }
    }

    /// Runs `work` while the session waits (takes no other message), and
    /// answers with its result.
    fn answer_when_done(
        &mut self,
        work: impl ActorFuture<Self, Output = CommandReply> + 'static,
        ctx: &mut Context<Self>,
    ) -> ResponseActFuture<Self, CommandReply> {
        let (done, answer) = tokio::sync::oneshot::channel();
        ctx.wait(work.map(|reply, act, ctx| {
            let _ = done.send(reply);
            act.arm_idle_timer(ctx);
        }));
        let stopped = CommandReply::Worktree(WorktreeReply::Failed {
            error_id: ErrorId::default(),
        });
        Box::pin(
            answer
                .into_actor(self)
                .map(|reply, _, _| reply.unwrap_or(stopped)),
        )
    }
}

/// Removes the worktree and its branch unless something would be lost; a
/// git failure is reported under an error id.
async fn removal(
    project: &Path,
    made: &Worktree,
    errors: &Recipient<ReportError>,
    channel: ChannelId,
) -> WorktreeReply {
    let branch = made.branch.clone();
    let e = match worktree::remove(project, made).await {
        Ok(None) => return WorktreeReply::Removed { branch },
        Ok(Some(kept)) => {
            return WorktreeReply::Kept {
                branch,
                why: kept.describe(),
            };
        }
        Err(e) => e,
    };
    let report = ReportError {
        kind: ErrorKind::SessionError,
        channel: Some(channel),
        request: None,
        detail: format!("cannot remove the thread's worktree: {e}"),
    };
    let error_id = match errors.send(report).await {
        Ok(reported) => reported.error_id,
        Err(_) => ErrorId::default(),
    };
    WorktreeReply::Failed { error_id }
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
