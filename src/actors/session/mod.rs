//! SessionActor, one per channel or thread: serializes the channel's
//! requests (this replaces locks), owns its bounded queue and its Claude
//! session id, and keeps both in SQLite so a revived actor carries on the
//! same conversation. It stops when the router tells it to after an idle
//! report.
//!
//! Handles: `Routed<Request>`, `Routed<SessionCommand>`, `JobEvent`,
//! `StopSession`, `ProjectsRemoved`, `Drain`, `StopForShutdown`, and the
//! running request's approvals (`approvals`).

mod approvals;
mod budget;
mod changes;
mod commands;
mod delivery;
mod ending;
mod finish;
mod job;
mod outbox;
mod reload;
mod shutdown;
mod status;
mod worktree;

use super::messages::{
    AskThread, CancelJob, CloseWarm, ErrorKind, IsWarm, Outgoing, ReportError, Reported, Routed,
    RunJob, SessionIdle, StartTyping, StopSession, StopTyping,
};
use crate::config::{Config, Project, SharedConfig};
use crate::db::Db;
use crate::domain::{ChannelId, ClaudeSessionId, ErrorId, MessageId, ProjectName};
use crate::format::FormatOptions;
use crate::telemetry::metrics::Metrics;
use actix::prelude::*;
use approvals::Approvals;
use delivery::Deliveries;
use job::{InFlight, Queued};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::messages::Request;

/// What every session shares; one copy behind an `Arc` keeps each actor
/// small.
pub struct SessionDeps {
    pub config: SharedConfig,
    pub db: Db,
    pub run_job: Recipient<RunJob>,
    pub cancel_job: Recipient<CancelJob>,
    pub close_warm: Recipient<CloseWarm>,
    pub is_warm: Recipient<IsWarm>,
    pub start_typing: Recipient<StartTyping>,
    pub stop_typing: Recipient<StopTyping>,
    pub discord: Recipient<Outgoing>,
    /// Whether a thread is still open (Discord, or a test's stand-in).
    pub threads: Recipient<AskThread>,
    pub errors: Recipient<ReportError>,
    /// How often the live status message may be edited.
    pub progress_interval: Duration,
    /// The clock the daily budgets reset by.
    pub now: fn() -> chrono::DateTime<chrono::Utc>,
    pub metrics: Arc<Metrics>,
}

fn format_options(config: &Config) -> FormatOptions {
    FormatOptions {
        max_chunks: config.discord.max_chunks,
        ..FormatOptions::default()
    }
}

/// A session's part of the daemon-wide `queue_depth` gauge; given back
/// when the actor goes, even by a panic.
struct QueueShare {
    metrics: Arc<Metrics>,
    counted: i64,
}

impl QueueShare {
    fn sync(&mut self, len: usize) {
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        self.metrics.queue_changed(len - self.counted);
        self.counted = len;
    }
}

impl Drop for QueueShare {
    fn drop(&mut self) {
        self.metrics.queue_changed(-self.counted);
    }
}

/// The stored part of a session, mirrored in memory.
#[derive(Debug, Default)]
struct Stored {
    claude_session: Option<ClaudeSessionId>,
    model_override: Option<String>,
    message_count: i64,
    total_cost_usd: f64,
}

pub struct SessionActor {
    channel: ChannelId,
    project: ProjectName,
    deps: Arc<SessionDeps>,
    router: Recipient<SessionIdle>,
    stored: Option<Stored>,
    queue: VecDeque<Queued>,
    /// The queue's length as the `queue_depth` metric has it.
    queue_share: QueueShare,
    /// Boxed: an idle session (most of them) then holds one pointer.
    in_flight: Option<Box<InFlight>>,
    deliveries: Deliveries,
    /// The running request's tool calls waiting for an answer.
    approvals: Approvals,
    /// The last router number handled, reported back when idle.
    seq: u64,
    idle_timer: Option<SpawnHandle>,
    /// A thread's own checkout (`thread_worktrees`), once known.
    worktree: Option<crate::worktree::Worktree>,
    /// Set on shutdown: new requests are turned away.
    draining: bool,
    /// Completed during a shutdown once nothing runs or waits to be
    /// delivered.
    drained: Option<tokio::sync::oneshot::Sender<()>>,
}

impl SessionActor {
    pub fn new(
        channel: ChannelId,
        project: ProjectName,
        deps: Arc<SessionDeps>,
        router: Recipient<SessionIdle>,
    ) -> Self {
        let metrics = deps.metrics.clone();
        Self {
            channel,
            project,
            deps,
            router,
            stored: None,
            queue: VecDeque::new(),
            queue_share: QueueShare {
                metrics,
                counted: 0,
            },
            in_flight: None,
            deliveries: Deliveries::default(),
            approvals: Approvals::default(),
            seq: 0,
            idle_timer: None,
            worktree: None,
            draining: false,
            drained: None,
        }
    }

    /// Loads (or creates) the session row before any message is handled.
    fn load(&mut self, ctx: &mut Context<Self>) {
        let (db, channel, project) = (self.deps.db.clone(), self.channel, self.project.clone());
        let load = async move {
            let row = db.ensure_session(channel, &project).await?;
            let orphaned = db.interrupt_unfinished_in(channel).await?;
            Ok::<_, crate::db::DbError>((row, orphaned))
        };
        ctx.wait(load.into_actor(self).map(|loaded, act, ctx| match loaded {
            Ok((row, orphaned)) => {
                act.stored = Some(Stored {
                    claude_session: row.claude_session_id,
                    model_override: row.model_override,
                    message_count: row.message_count,
                    total_cost_usd: row.total_cost_usd,
                });
                if orphaned > 0 {
                    act.after_crash(orphaned, ctx);
                }
            }
            Err(e) => {
                tracing::error!(channel_id = act.channel.get(), error = %e, "cannot load session");
            }
        }));
    }

    /// This channel's previous actor died mid-request (a panic): stop its
    /// typing and tell the channel, under an error id.
    fn after_crash(&mut self, orphaned: u64, ctx: &mut Context<Self>) {
        self.deps.stop_typing.do_send(StopTyping(self.channel));
        let (deps, channel) = (self.deps.clone(), self.channel);
        let report = ReportError {
            kind: ErrorKind::SessionError,
            channel: Some(channel),
            request: None,
            detail: format!(
                "session actor restarted; {orphaned} unfinished request(s) interrupted"
            ),
        };
        let notice = async move {
            let reported = deps.errors.send(report).await.ok()?;
            let text = format!(
                "{} A request here was interrupted; please send it again.",
                reported.user_text
            );
            post(&deps, channel, text, None).await
        };
        self.deliver_and_forget(notice, ctx);
    }

    /// A store write that must land before the next message is handled;
    /// a failure is logged, and the channel carries on.
    fn store(
        &mut self,
        ctx: &mut Context<Self>,
        what: &'static str,
        write: impl Future<Output = Result<(), crate::db::DbError>> + 'static,
    ) {
        ctx.wait(write.into_actor(self).map(move |done, act, _| {
            if let Err(e) = done {
                tracing::error!(channel_id = act.channel.get(), error = %e, what, "store write failed");
            }
        }));
    }

    /// The span a request's records are logged in, from its arrival to
    /// its "request finished" record. One per request, not per session:
    /// tracing keeps the slots of as many spans as were ever open at once,
    /// and 10,000 idle sessions would hold 10,000. At error level so that
    /// it is enabled whatever LOG_LEVEL says and its fields reach every
    /// record; spans write no records of their own (telemetry's
    /// span_fields).
    fn request_span(&self, request: &Request) -> tracing::Span {
        tracing::error_span!(
            "request",
            request_id = %request.id,
            channel_id = request.channel.get(),
            project = %request.project
        )
    }

    /// The settings the running request was queued with; the current
    /// ones when nothing runs.
    fn settings(&self) -> Arc<Config> {
        match &self.in_flight {
            Some(running) => running.config.clone(),
            None => self.deps.config.current(),
        }
    }

    /// This session's project in `config`.
    fn project_in<'a>(&self, config: &'a Config) -> Option<&'a Project> {
        config.project_named(self.project.as_str())
    }

    /// The queue changed: the metric follows.
    fn queue_changed(&mut self) {
        self.queue_share.sync(self.queue.len());
    }

    /// Nothing runs and nothing waits to be delivered.
    fn settled(&self) -> bool {
        self.in_flight.is_none() && self.deliveries.pending() == 0
    }

    fn busy(&self) -> bool {
        self.in_flight.is_some() || !self.queue.is_empty() || self.deliveries.pending() > 0
    }

    fn touch(&mut self, seq: u64, ctx: &mut Context<Self>) {
        self.seq = self.seq.max(seq);
        if let Some(timer) = self.idle_timer.take() {
            ctx.cancel_future(timer);
        }
    }

    /// Arms the idle timer once nothing is running or waiting.
    fn arm_idle_timer(&mut self, ctx: &mut Context<Self>) {
        if self.busy() || self.idle_timer.is_some() {
            return;
        }
        let after = self.deps.config.current().sessions.idle_timeout;
        self.idle_timer = Some(ctx.run_later(after, |act, _| {
            act.idle_timer = None;
            if !act.busy() {
                act.report_idle();
            }
        }));
    }

    /// Tells the router it may stop this session.
    fn report_idle(&self) {
        self.router.do_send(SessionIdle {
            channel: self.channel,
            seq: self.seq,
        });
    }

    /// Tells the user something went wrong, with an error id, replying to
    /// their message.
    fn report(
        &self,
        kind: ErrorKind,
        request: &Request,
        detail: String,
    ) -> impl Future<Output = Option<ErrorId>> + 'static {
        let deps = self.deps.clone();
        let request = request.clone();
        async move { report_failure(&deps, kind, &request, detail).await }
    }
}

/// Logs a request's failure under a new error id and replies to the
/// user's message with the user-safe text (a refusal is reported in turn).
async fn report_failure(
    deps: &SessionDeps,
    kind: ErrorKind,
    request: &Request,
    detail: String,
) -> Option<ErrorId> {
    let reported = log_failure(deps, kind, request, detail).await?;
    let reply_to = Some(request.message);
    post(deps, request.channel, reported.user_text, reply_to).await;
    Some(reported.error_id)
}

/// Logs a request's failure under a new error id; the user is not told
/// yet.
async fn log_failure(
    deps: &SessionDeps,
    kind: ErrorKind,
    request: &Request,
    detail: String,
) -> Option<Reported> {
    let report = ReportError {
        kind,
        channel: Some(request.channel),
        request: Some(request.id),
        detail,
    };
    deps.errors.send(report).await.ok()
}

/// Posts one message (a reply, an error or refusal, notifies its user); a
/// refusal is logged with an error id, never fatal.
async fn post(
    deps: &SessionDeps,
    channel: ChannelId,
    content: String,
    reply_to: Option<MessageId>,
) -> Option<MessageId> {
    let msg = Outgoing::Post {
        channel,
        content,
        reply_to,
        attachment: None,
        notify: deps.config.current().discord.notify_requester,
    };
    send_out(deps, msg).await
}

/// Sends any `Outgoing`, logging a refusal under an error id.
async fn send_out(deps: &SessionDeps, msg: Outgoing) -> Option<MessageId> {
    let channel = msg.channel();
    let detail = match deps.discord.send(msg).await {
        Ok(Ok(id)) => return id,
        Ok(Err(e)) => e.to_string(),
        Err(e) => format!("the Discord actor is unavailable: {e}"),
    };
    let report = ReportError {
        kind: ErrorKind::DiscordError,
        channel: Some(channel),
        request: None,
        detail,
    };
    let _ = deps.errors.send(report).await;
    None
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Bursts (50 messages in a second) must queue or be refused with a
        // reply, never be dropped by a full mailbox.
        ctx.set_mailbox_capacity(256);
        self.load(ctx);
        self.find_worktree(ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if self.in_flight.is_some() {
            self.deps.stop_typing.do_send(StopTyping(self.channel));
        }
    }
}

impl Handler<Routed<Request>> for SessionActor {
    type Result = ();

    fn handle(
        &mut self,
        Routed {
            seq,
            inner: request,
        }: Routed<Request>,
        ctx: &mut Self::Context,
    ) {
        self.touch(seq, ctx);
        if request.project != self.project {
            self.adopt(seq, request, ctx);
            return;
        }
        match self.take_slash(request, ctx) {
            Some(request) => self.enqueue(request, ctx),
            None => self.arm_idle_timer(ctx),
        }
    }
}

#[cfg(any(test, feature = "testing"))]
impl Handler<super::messages::Crash> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: super::messages::Crash, _: &mut Self::Context) {
        panic!(
            "fault injected into the session of channel {}",
            self.channel
        );
    }
}

impl Handler<StopSession> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: StopSession, ctx: &mut Self::Context) {
        if !self.busy() {
            ctx.stop();
        }
    }
}
