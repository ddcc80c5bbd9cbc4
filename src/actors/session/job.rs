//! The running side of a session: queueing, starting the next request in
//! the worker pool, and driving its status message while it runs.

use super::changes::Changes;
use super::status::{StatusMessage, Tick};
use super::{SessionActor, post, send_out};
use crate::actors::messages::{ErrorKind, JobEvent, Outgoing, Request, RunJob, StartTyping};
use crate::claude::{Approver, Progress, RunSpec};
use crate::config::{Approvals, Config};
use crate::db::{DbError, RequestStart};
use crate::domain::{ChannelId, ClaudeSessionId};
use actix::prelude::*;
use std::sync::Arc;
use std::time::Instant;

/// A request waiting its turn, with the span its records go in.
pub(super) struct Queued {
    pub request: Request,
    pub span: tracing::Span,
    /// The configuration when it arrived: it runs with these settings
    /// whatever a reload changes meanwhile.
    pub config: Arc<Config>,
    /// The least any daily budget leaves, when one applies: the run's
    /// `--max-budget-usd`.
    pub budget_left: Option<f64>,
}

pub(super) struct InFlight {
    pub request: Request,
    pub span: tracing::Span,
    pub config: Arc<Config>,
    /// Where it runs: the project, or the thread's worktree.
    pub folder: std::path::PathBuf,
    pub started: Instant,
    pub status: StatusMessage,
    /// The session id the CLI announced, kept in case no result follows.
    pub announced_session: Option<ClaudeSessionId>,
    /// Set by a reset during the run: its session must not be stored.
    pub discard_session: bool,
    /// Stopped because the daemon is shutting down, not by a user.
    pub stopped_for_shutdown: bool,
    /// The files its calls changed, listed after the answer.
    pub changes: Changes,
}

/// What the CLI takes for "its own default model" on `--model`.
const DEFAULT_MODEL: &str = "default";

impl SessionActor {
    pub(super) fn enqueue(&mut self, request: Request, ctx: &mut Context<Self>) {
        if self.draining {
            self.turn_away(request, ctx);
            return;
        }
        let config = self.deps.config.current();
        if config.project_named(request.project.as_str()).is_none() {
            // Accepted just before a reload removed its project.
            let why = super::reload::removed_notice(&request.project);
            self.not_run(request, crate::domain::RequestStatus::Cancelled, why, ctx);
            return;
        }
        let queue_size = config.sessions.queue_size;
        if self.in_flight.is_some() && self.queue.len() >= queue_size {
            let detail = format!("queue of {queue_size} is full");
            let report = self.report(ErrorKind::QueueFull, &request, detail);
            self.deliver_and_forget(report, ctx);
            return;
        }
        if self.stored.is_none() {
            let detail = "the session row could not be loaded".to_string();
            let report = self.report(ErrorKind::SessionError, &request, detail);
            self.deliver_and_forget(report, ctx);
            self.load(ctx);
            return;
        }
        self.check_budgets(request, config, ctx);
    }

    /// Stores the request, then runs or queues it; its run may spend at
    /// most `budget_left`.
    pub(super) fn record(
        &mut self,
        request: Request,
        config: Arc<Config>,
        budget_left: Option<f64>,
        ctx: &mut Context<Self>,
    ) {
        let Some(stored) = &self.stored else {
            return;
        };
        // An idle channel's request runs at once: stored as running in one
        // write, with no queue step.
        let idle = self.in_flight.is_none() && self.queue.is_empty();
        let row = RequestStart {
            id: request.id,
            message_id: request.message,
            channel_id: request.channel,
            user_id: request.user,
            project: request.project.clone(),
            session_id_used: stored.claude_session,
        };
        // Each step continues in the previous one's callback: actix runs
        // several `ctx.wait` futures of one handler last-in first-out.
        let db = self.deps.db.clone();
        let insert = async move {
            if idle {
                db.insert_running_request(&row).await
            } else {
                db.insert_request(&row).await
            }
        };
        let queued = Queued {
            span: self.request_span(&request),
            request,
            config,
            budget_left,
        };
        ctx.wait(
            insert
                .into_actor(self)
                .map(move |inserted, act, ctx| act.recorded(inserted, queued, idle, ctx)),
        );
    }

    /// The request's row is written (or not): run it, queue it, or drop a
    /// message that was handled before.
    fn recorded(
        &mut self,
        inserted: Result<(), DbError>,
        queued: Queued,
        idle: bool,
        ctx: &mut Context<Self>,
    ) {
        match inserted {
            Ok(()) => {}
            // The gateway delivered the message again (a RESUME replay, or
            // after a restart): it has run, or is running, already.
            Err(DbError::MessageSeen(_)) => {
                let _in_request = queued.span.enter();
                tracing::info!("message seen before; not run again");
                self.arm_idle_timer(ctx);
                return;
            }
            Err(e) => {
                let _in_request = queued.span.enter();
                tracing::error!(error = %e, "cannot record request");
            }
        }
        if idle {
            self.begin(queued, ctx);
            return;
        }
        self.tell_position(&queued.request, ctx);
        self.queue.push_back(queued);
        self.queue_changed();
        self.start_next(ctx);
    }

    fn tell_position(&mut self, request: &Request, ctx: &mut Context<Self>) {
        let position = self.queue.len() + 1;
        let text = format!(
            "⏳ Queued: position {position}. I'll answer once the request before it finishes."
        );
        let notice = self.reply(request, text, false);
        self.send_later(notice, ctx);
    }

    /// Replies to the user's message without waiting, notifying them;
    /// a refusal is reported.
    pub(super) fn reply_later(
        &mut self,
        request: &Request,
        content: String,
        ctx: &mut Context<Self>,
    ) {
        let reply = self.reply(request, content, true);
        self.send_later(reply, ctx);
    }

    /// A reply to the user's message; with `notify` (an answer, an error,
    /// a refusal, not a notice) it notifies them if the config says so.
    fn reply(&self, request: &Request, content: String, notify: bool) -> Outgoing {
        Outgoing::Post {
            channel: request.channel,
            content,
            reply_to: Some(request.message),
            attachment: None,
            notify: notify && self.deps.config.current().discord.notify_requester,
        }
    }

    pub(super) fn start_next(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight.is_some() {
            return;
        }
        let Some(queued) = self.queue.pop_front() else {
            self.arm_idle_timer(ctx);
            return;
        };
        self.queue_changed();
        let resume = self.stored.as_ref().and_then(|s| s.claude_session);
        let (db, id) = (self.deps.db.clone(), queued.request.id);
        let mark = async move { db.mark_request_running(id, resume).await };
        ctx.wait(mark.into_actor(self).map(move |marked, act, ctx| {
            if let Err(e) = marked {
                let _in_request = queued.span.enter();
                tracing::error!(error = %e, "cannot mark request running");
            }
            act.begin(queued, ctx);
        }));
    }

    pub(super) fn launch(&mut self, queued: Queued, mut spec: RunSpec, ctx: &mut Context<Self>) {
        let Queued {
            request,
            span,
            config,
            ..
        } = queued;
        let id = request.id;
        if approvals_on(&config, &request) {
            let (asks, asked) = tokio::sync::mpsc::unbounded_channel();
            spec.approver = Some(Approver(asks));
            self.take_asks(id, asked, ctx);
        }
        self.deps.start_typing.do_send(StartTyping(self.channel));
        let interval = self.deps.progress_interval;
        let started = Instant::now();
        let mut status = StatusMessage::new(started);
        status.ticker = Some(ctx.run_interval(interval, |act, ctx| act.refresh_status(ctx)));
        self.in_flight = Some(Box::new(InFlight {
            request,
            span,
            config,
            folder: spec.cwd.clone(),
            started,
            status,
            announced_session: None,
            discard_session: false,
            stopped_for_shutdown: false,
            changes: Changes::default(),
        }));
        self.deps.run_job.do_send(RunJob {
            id,
            spec,
            events: ctx.address().recipient(),
            warm: Some(self.channel),
        });
    }

    /// How the CLI runs `queued`, in `folder` (the thread's worktree)
    /// or else the project's.
    pub(super) fn spec_for(&self, queued: &Queued, folder: Option<std::path::PathBuf>) -> RunSpec {
        let request = &queued.request;
        let config = &queued.config;
        let claude = &config.claude;
        let stored = self.stored.as_ref();
        let mut spec = match config.project_named(request.project.as_str()) {
            Some(project) => {
                let folder = folder.unwrap_or_else(|| project.path.clone());
                let mut spec = RunSpec::new(&claude.binary, folder, &request.prompt);
                spec.model = project.effective_model(claude).map(str::to_owned);
                spec.permission_mode = project.effective_permission_mode(claude);
                spec.allowed_tools = project.effective_allowed_tools(claude).to_vec();
                let own = project.system_prompt.as_deref();
                spec.append_system_prompt = Some(system_prompt(own, request.channel));
                spec.timeout = project.effective_timeout(claude);
                spec
            }
            // The runner reports the missing folder as a spawn error.
            None => RunSpec::new(&claude.binary, "/nonexistent", &request.prompt),
        };
        spec.images.clone_from(&request.images);
        if let Some(model) = stored.and_then(|s| s.model_override.clone()) {
            spec.model = Some(model);
        }
        spec.resume = stored.and_then(|s| s.claude_session);
        if spec.resume.is_some() {
            spec.session_rules = self.approvals.allowed_tools().collect();
        }
        // A resumed session keeps its last model unless told otherwise, so
        // after `/model x` then `/model default` it would stay on x.
        if spec.resume.is_some() && spec.model.is_none() {
            spec.model = Some(DEFAULT_MODEL.into());
        }
        spec.max_output_bytes = claude.max_output_bytes;
        spec.max_budget_usd = queued.budget_left;
        if let Some(retries) = claude.max_api_retries {
            let retries = retries.to_string();
            spec.extra_env
                .push(("CLAUDE_CODE_MAX_RETRIES".into(), retries));
        }
        spec
    }

    fn post_status(&mut self, text: String, ctx: &mut Context<Self>) {
        let Some(running) = &self.in_flight else {
            return;
        };
        let (deps, channel, request) = (self.deps.clone(), self.channel, running.request.id);
        self.deliver(
            async move { post(&deps, channel, text, None).await },
            move |id, act, ctx| match &mut act.in_flight {
                Some(running) if running.request.id == request => running.status.posted(id),
                // The answer came first: the status message is stale.
                _ => {
                    if let Some(message) = id {
                        act.send_later(Outgoing::Delete { channel, message }, ctx);
                    }
                }
            },
            ctx,
        );
    }

    /// The status message's ticker: post it, edit it, or wait.
    fn refresh_status(&mut self, ctx: &mut Context<Self>) {
        let Some(running) = &mut self.in_flight else {
            return;
        };
        match running.status.tick(Instant::now()) {
            Tick::Nothing => {}
            Tick::Post(text) => self.post_status(text, ctx),
            Tick::Edit(message, content) => {
                let channel = self.channel;
                self.send_later(
                    Outgoing::Edit {
                        channel,
                        message,
                        content,
                    },
                    ctx,
                );
            }
        }
    }

    /// Sends in delivery order without waiting; a refusal is reported.
    pub(super) fn send_later(&mut self, msg: Outgoing, ctx: &mut Context<Self>) {
        let deps = self.deps.clone();
        self.deliver_and_forget(async move { send_out(&deps, msg).await }, ctx);
    }

    fn on_progress(&mut self, progress: Progress) {
        let Some(running) = &mut self.in_flight else {
            return;
        };
        match progress {
            Progress::Init { session_id, .. } => running.announced_session = Some(session_id),
            Progress::ToolUse {
                id,
                name,
                target,
                changes,
            } => {
                running.changes.called(&id, changes.as_ref());
                running.status.tool_used(name, target);
            }
            Progress::ApiRetry {
                attempt,
                max_retries,
            } => running.status.api_retrying(attempt, max_retries),
            Progress::Text(_) => running.status.api_answered(),
            Progress::Asking { .. } => running.status.asking(),
            Progress::Answered => running.status.answered(),
            Progress::ToolResult { id, is_error } => running.changes.returned(&id, is_error),
        }
    }
}

/// The project's system prompt, then how to hand the user a file.
fn system_prompt(project: Option<&str>, channel: ChannelId) -> String {
    let hint = super::outbox::hint(channel);
    match project {
        Some(own) => format!("{own}\n\n{hint}"),
        None => hint,
    }
}

/// Whether the request's calls are asked about in Discord.
fn approvals_on(config: &Config, request: &Request) -> bool {
    config
        .project_named(request.project.as_str())
        .is_some_and(|p| p.effective_approvals(&config.claude) == Approvals::Discord)
}

impl Handler<JobEvent> for SessionActor {
    type Result = ();

    fn handle(&mut self, event: JobEvent, ctx: &mut Self::Context) {
        match event {
            JobEvent::Started { .. } => {}
            JobEvent::Progress { id, progress } => {
                if self.in_flight.as_ref().is_some_and(|r| r.request.id == id) {
                    self.on_progress(progress);
                }
            }
            JobEvent::Finished { id, report } => {
                match self.in_flight.take_if(|r| r.request.id == id) {
                    Some(running) => self.finish(*running, *report, ctx),
                    None => tracing::warn!(request_id = %id, "finished job is not the running one"),
                }
            }
        }
    }
}
