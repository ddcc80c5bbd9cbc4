//! The end of a request: post the answer (or a user-safe error with an
//! id), record the turn in SQLite, log one record, and start the next.

use super::job::InFlight;
use super::{SessionActor, SessionDeps, report_failure, send_out};
use crate::actors::messages::{ErrorKind, FileAttachment, Outgoing, StopTyping};
use crate::claude::{Outcome, RunReport};
use crate::db::{RequestFinish, SessionChange, Turn};
use crate::domain::{ClaudeSessionId, RequestStatus};
use crate::format::{Rendered, render_answer};
use actix::prelude::*;
use std::sync::Arc;

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
    claude_duration_ms: Option<u64>,
}

fn judge(report: &RunReport, announced: Option<ClaudeSessionId>, deps: &SessionDeps) -> Verdict {
    let failed = |status, kind, detail: String| Verdict {
        status,
        error: Some((kind, detail)),
        answer: None,
        session: announced.map_or(SessionChange::Keep, SessionChange::Store),
        cost_usd: 0.0,
        claude_duration_ms: None,
    };
    let with_stderr = |detail: &str| format!("{detail}; stderr: {}", report.stderr_tail);
    match &report.outcome {
        Outcome::Success(s) => {
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
            Verdict {
                status: RequestStatus::Done,
                error: None,
                answer: Some(render_answer(&text, &denials, &deps.format_options())),
                session: SessionChange::Store(s.session_id),
                cost_usd: s.cost_usd,
                claude_duration_ms: Some(s.duration_ms),
            }
        }
        Outcome::ClaudeError {
            subtype,
            log_detail,
            session_id,
            cost_usd,
            duration_ms,
        } => Verdict {
            cost_usd: *cost_usd,
            claude_duration_ms: *duration_ms,
            session: session_id
                .or(announced)
                .map_or(SessionChange::Keep, SessionChange::Store),
            ..failed(
                RequestStatus::Failed,
                ErrorKind::ClaudeError,
                with_stderr(&format!("{subtype}: {log_detail}")),
            )
        },
        Outcome::Cancelled => Verdict {
            error: None,
            answer: Some(Rendered::Chunks(vec![CANCELLED.into()])),
            ..failed(
                RequestStatus::Cancelled,
                ErrorKind::ClaudeError,
                String::new(),
            )
        },
        Outcome::Timeout => failed(
            RequestStatus::Timeout,
            ErrorKind::Timeout,
            with_stderr(&format!("no result after {:?}", report.elapsed)),
        ),
        Outcome::ResumeFailed { log_detail } => Verdict {
            session: SessionChange::Forget,
            ..failed(
                RequestStatus::Failed,
                ErrorKind::SessionError,
                with_stderr(log_detail),
            )
        },
        Outcome::ParseError { log_detail } => failed(
            RequestStatus::Failed,
            ErrorKind::ParseError,
            with_stderr(log_detail),
        ),
        Outcome::SpawnError { log_detail } => failed(
            RequestStatus::Failed,
            ErrorKind::ConfigError,
            log_detail.clone(),
        ),
        Outcome::OutputTooLarge => failed(
            RequestStatus::Failed,
            ErrorKind::ClaudeError,
            "output exceeded max_output_bytes".into(),
        ),
    }
}

impl SessionActor {
    pub(super) fn finish(
        &mut self,
        mut running: InFlight,
        report: RunReport,
        ctx: &mut Context<Self>,
    ) {
        self.deps.stop_typing.do_send(StopTyping(self.channel));
        if let Some(ticker) = running.ticker.take() {
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
        let done = conclude(self.deps.clone(), running, report, verdict);
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
async fn conclude(deps: Arc<SessionDeps>, running: InFlight, report: RunReport, v: Verdict) {
    let request = &running.request;
    let channel = request.channel;
    let mut chunks = 0;
    let mut error_id = None;
    if let Some((kind, detail)) = &v.error
        && let Some(failure) = report_failure(&deps, *kind, request, detail.clone()).await
    {
        chunks += usize::from(failure.told);
        error_id = Some(failure.error_id);
    }
    if let Some(answer) = v.answer {
        chunks += post_rendered(&deps, request, answer).await;
    }
    // After the answer, so the user waits for nothing else.
    if let Some(message) = running.status_message {
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
        error_id: error_id.clone(),
        error_kind: v.error.as_ref().map(|(k, _)| k.as_str().to_string()),
    };
    let turn = Turn {
        channel,
        session: v.session,
        cost_usd: v.cost_usd,
        error_id: error_id.clone(),
    };
    if let Err(e) = deps.db.end_turn(&turn, request.id, &finish).await {
        tracing::error!(channel_id = channel.get(), error = %e, "cannot record the end of a turn");
    }
    tracing::info!(
        channel_id = channel.get(),
        request_id = %request.id,
        project = %request.project,
        outcome = report.outcome.kind(),
        status = %v.status,
        duration_ms,
        claude_duration_ms = v.claude_duration_ms,
        cost_usd = v.cost_usd,
        chunks,
        context_lost = report.context_lost,
        error_id = error_id.as_ref().map(|e| e.as_str().to_string()),
        "request finished"
    );
}

/// Posts an answer; the first message replies to the user's. Returns how
/// many messages went out.
async fn post_rendered(
    deps: &SessionDeps,
    request: &crate::actors::messages::Request,
    rendered: Rendered,
) -> usize {
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
