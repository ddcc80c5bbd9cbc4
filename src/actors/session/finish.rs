//! The end of a request: post the answer (or a user-safe error with an
//! id), record the turn in SQLite, log one record, and start the next.

use super::job::InFlight;
use super::{SessionActor, SessionDeps, report_failure, send_out};
use crate::actors::messages::{ErrorKind, FileAttachment, Outgoing, Request, StopTyping};
use crate::claude::{Outcome, RunReport, Success};
use crate::db::{RequestFinish, SessionChange, Turn};
use crate::domain::{ClaudeSessionId, CostBasis, ErrorId, RequestStatus};
use crate::format::{Rendered, render_answer};
use actix::prelude::*;
use std::sync::Arc;
use tracing::Instrument;

const CONTEXT_LOST: &str =
    "*The earlier conversation could not be resumed, so this answer starts a fresh session.*\n\n";
const CANCELLED: &str = "🛑 Cancelled.";
const STOPPED_FOR_RESTART: &str =
    "🔄 Stopped: the bot is restarting. Send your message again in a minute.";

/// What a finished run means for the channel.
struct Verdict {
    status: RequestStatus,
    /// `None` for success and cancel: not an error.
    error: Option<(ErrorKind, String)>,
    answer: Option<Rendered>,
    session: SessionChange,
    cost_usd: f64,
    /// `None` when nothing ran (or nothing was reported).
    cost_basis: Option<CostBasis>,
    claude_duration_ms: Option<u64>,
}

impl Verdict {
    fn answered(answer: Rendered, s: &Success) -> Self {
        Self {
            status: RequestStatus::Done,
            error: None,
            answer: Some(answer),
            session: SessionChange::Store(s.session_id),
            cost_usd: s.cost_usd,
            cost_basis: Some(s.cost_basis),
            claude_duration_ms: Some(s.duration_ms),
        }
    }

    fn failed(
        status: RequestStatus,
        kind: ErrorKind,
        detail: String,
        session: SessionChange,
    ) -> Self {
        Self {
            status,
            error: Some((kind, detail)),
            answer: None,
            session,
            cost_usd: 0.0,
            cost_basis: None,
            claude_duration_ms: None,
        }
    }

    fn cancelled(session: SessionChange) -> Self {
        Self {
            status: RequestStatus::Cancelled,
            error: None,
            answer: Some(Rendered::Chunks(vec![CANCELLED.into()])),
            session,
            cost_usd: 0.0,
            cost_basis: None,
            claude_duration_ms: None,
        }
    }

    /// A failed run that still reported what it cost.
    fn costing(self, cost: (f64, CostBasis), claude_duration_ms: Option<u64>) -> Self {
        Self {
            cost_usd: cost.0,
            cost_basis: Some(cost.1),
            claude_duration_ms,
            ..self
        }
    }
}

fn stored(session: Option<ClaudeSessionId>) -> SessionChange {
    session.map_or(SessionChange::Keep, SessionChange::Store)
}

fn judge(report: &RunReport, announced: Option<ClaudeSessionId>, deps: &SessionDeps) -> Verdict {
    use {ErrorKind as Kind, RequestStatus as Status};
    let with_stderr = |detail: &str| format!("{detail}; stderr: {}", report.stderr_tail);
    let failed = |kind, detail| Verdict::failed(Status::Failed, kind, detail, stored(announced));
    match &report.outcome {
        Outcome::Success(s) => Verdict::answered(render(report, s, deps), s),
        Outcome::ClaudeError {
            subtype,
            log_detail,
            session_id,
            cost_usd,
            cost_basis,
            duration_ms,
            api,
        } => {
            let detail = with_stderr(&format!("{subtype}: {log_detail}"));
            let session = stored(session_id.or(announced));
            let kind = api.map_or(Kind::ClaudeError, Kind::from);
            Verdict::failed(Status::Failed, kind, detail, session)
                .costing((*cost_usd, *cost_basis), *duration_ms)
        }
        Outcome::Cancelled => Verdict::cancelled(stored(announced)),
        Outcome::Timeout => {
            let detail = with_stderr(&format!("no result after {:?}", report.elapsed));
            Verdict::failed(Status::Timeout, Kind::Timeout, detail, stored(announced))
        }
        Outcome::ResumeFailed { log_detail } => Verdict::failed(
            Status::Failed,
            Kind::SessionError,
            with_stderr(log_detail),
            SessionChange::Forget,
        ),
        Outcome::ParseError { log_detail } => failed(Kind::ParseError, with_stderr(log_detail)),
        Outcome::SpawnError { log_detail } => failed(Kind::ConfigError, log_detail.clone()),
        Outcome::OutputTooLarge => {
            failed(Kind::ClaudeError, "output exceeded max_output_bytes".into())
        }
    }
}

/// The answer as the channel will see it: a note when the earlier
/// conversation was lost, and the tools Claude was denied.
fn render(report: &RunReport, s: &Success, deps: &SessionDeps) -> Rendered {
    let text = if report.context_lost {
        format!("{CONTEXT_LOST}{}", s.text)
    } else {
        s.text.clone()
    };
    let denials: Vec<String> = s
        .permission_denials
        .iter()
        .map(|d| d.summary.clone())
        .collect();
    render_answer(&text, &denials, &deps.format_options())
}

impl SessionActor {
    pub(super) fn finish(
        &mut self,
        mut running: InFlight,
        report: RunReport,
        ctx: &mut Context<Self>,
    ) {
        self.deps.stop_typing.do_send(StopTyping(self.channel));
        if let Some(ticker) = running.status.ticker.take() {
            ctx.cancel_future(ticker);
        }
        let mut verdict = judge(&report, running.announced_session, &self.deps);
        if running.discard_session {
            verdict.session = SessionChange::Keep;
        }
        if running.stopped_for_shutdown && report.outcome == Outcome::Cancelled {
            verdict.status = RequestStatus::Interrupted;
            verdict.answer = Some(Rendered::Chunks(vec![STOPPED_FOR_RESTART.into()]));
        }
        if let Some(stored) = &mut self.stored {
            stored.message_count += 1;
            stored.total_cost_usd += verdict.cost_usd;
            match verdict.session {
                SessionChange::Keep => {}
                SessionChange::Store(id) => stored.claude_session = Some(id),
                SessionChange::Forget => stored.claude_session = None,
            }
        }
        let span = running.span.clone();
        let done = conclude(self.deps.clone(), running, report, verdict).instrument(span);
        ctx.wait(done.into_actor(self).map(|_, act, ctx| {
            if let Some(drained) = act.drained.take() {
                let _ = drained.send(());
            }
            act.start_next(ctx);
        }));
    }
}

/// Posts, records and logs, in that order, so the channel sees the answer
/// before the next request starts.
async fn conclude(deps: Arc<SessionDeps>, running: InFlight, report: RunReport, mut v: Verdict) {
    let request = &running.request;
    let channel = request.channel;
    let Posted {
        chunks,
        error_id,
        delivered,
    } = post_outcome(&deps, request, v.error.as_ref(), v.answer.take()).await;
    // After the answer, so the user waits for nothing else.
    if let Some(message) = running.status.message() {
        send_out(&deps, Outgoing::Delete { channel, message }).await;
    }
    let session_returned = report.outcome.session_id().or(running.announced_session);
    let duration_ms = i64::try_from(running.started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let finish = RequestFinish {
        status: v.status,
        session_id_returned: session_returned,
        duration_ms: Some(duration_ms),
        claude_duration_ms: v.claude_duration_ms.map(|d| d as i64),
        cost_usd: Some(v.cost_usd),
        cost_basis: v.cost_basis,
        error_id: error_id.clone(),
        error_kind: v.error.as_ref().map(|(k, _)| k.as_str().to_string()),
        delivered: Some(delivered),
    };
    let turn = Turn {
        channel,
        session: v.session,
        cost_usd: v.cost_usd,
        error_id: error_id.clone(),
    };
    if let Err(e) = deps.db.end_turn(&turn, request.id, &finish).await {
        tracing::error!(error = %e, "cannot record the end of a turn");
    }
    tracing::info!(
        outcome = report.outcome.kind(),
        status = %v.status,
        duration_ms,
        claude_duration_ms = v.claude_duration_ms,
        cost_usd = v.cost_usd,
        chunks,
        delivered,
        context_lost = report.context_lost,
        error_id = error_id.as_ref().map(|e| e.as_str().to_string()),
        "request finished"
    );
}

/// What reached the channel.
struct Posted {
    chunks: usize,
    error_id: Option<ErrorId>,
    /// Everything meant for the user was posted.
    delivered: bool,
}

/// Posts the answer, or the failure under an error id. If Discord still
/// refused part of it after its retries, the user is told so under an
/// error id of its own (itself retried), so nothing is lost unsaid.
async fn post_outcome(
    deps: &SessionDeps,
    request: &Request,
    error: Option<&(ErrorKind, String)>,
    answer: Option<Rendered>,
) -> Posted {
    let mut posted = Posted {
        chunks: 0,
        error_id: None,
        delivered: true,
    };
    if let Some((kind, detail)) = error
        && let Some(failure) = report_failure(deps, *kind, request, detail.clone()).await
    {
        posted.chunks += usize::from(failure.told);
        posted.delivered &= failure.told;
        posted.error_id = Some(failure.error_id);
    }
    if let Some(answer) = answer {
        let expected = answer.message_count();
        let sent = post_rendered(deps, request, answer).await;
        posted.chunks += sent;
        posted.delivered &= sent == expected;
    }
    if !posted.delivered {
        let detail = "the answer could not be posted in full".to_string();
        let notice = report_failure(deps, ErrorKind::DiscordError, request, detail).await;
        posted.error_id = posted.error_id.or(notice.map(|n| n.error_id));
    }
    posted
}

/// Posts an answer; the first message replies to the user's. Returns how
/// many messages went out.
async fn post_rendered(deps: &SessionDeps, request: &Request, rendered: Rendered) -> usize {
    let messages: Vec<(String, Option<FileAttachment>)> = match rendered {
        Rendered::Chunks(chunks) => chunks.into_iter().map(|c| (c, None)).collect(),
        Rendered::Attachment {
            message,
            filename,
            body,
        } => vec![(
            message,
            Some(FileAttachment {
                filename,
                body: body.into_bytes(),
            }),
        )],
    };
    let mut posted = 0;
    for (i, (content, attachment)) in messages.into_iter().enumerate() {
        let msg = Outgoing::Post {
            channel: request.channel,
            content,
            reply_to: (i == 0).then_some(request.message),
            attachment,
        };
        if send_out(deps, msg).await.is_some() {
            posted += 1;
        }
    }
    posted
}
