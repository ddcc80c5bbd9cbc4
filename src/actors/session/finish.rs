//! The end of a run: judge what it means for the channel (answer,
//! failure, cancel), update the session in memory, hand the rest to
//! `ending` (store, then deliver in order), and start the next request
//! without waiting for Discord.

use super::SessionActor;
use super::ending::Ending;
use super::job::InFlight;
use crate::actors::messages::{ErrorKind, StopTyping};
use crate::claude::{Outcome, RunReport, Success};
use crate::db::SessionChange;
use crate::domain::{ClaudeSessionId, CostBasis, RequestStatus};
use crate::format::{Rendered, render_turn};
use actix::prelude::*;
use tracing::Instrument;

/// The result subtype of a run stopped by its `--max-budget-usd`.
const BUDGET_REACHED: &str = "error_max_budget_usd";

const CONTEXT_LOST: &str =
    "*The earlier conversation could not be resumed, so this answer starts a fresh session.*\n\n";
const CANCELLED: &str = "🛑 Cancelled.";
const STOPPED_FOR_RESTART: &str =
    "🔄 Stopped: the bot is restarting. Send your message again in a minute.";

/// What a finished run means for the channel.
pub(super) struct Verdict {
    pub status: RequestStatus,
    /// `None` for success and cancel: not an error.
    pub error: Option<(ErrorKind, String)>,
    pub answer: Option<Rendered>,
    pub session: SessionChange,
    pub cost_usd: f64,
    /// `None` when nothing ran (or nothing was reported).
    pub cost_basis: Option<CostBasis>,
    pub claude_duration_ms: Option<u64>,
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

fn judge(report: &RunReport, running: &InFlight) -> Verdict {
    let announced = running.announced_session;
    use {ErrorKind as Kind, RequestStatus as Status};
    let with_stderr = |detail: &str| format!("{detail}; stderr: {}", report.stderr_tail);
    let failed = |kind, detail| Verdict::failed(Status::Failed, kind, detail, stored(announced));
    match &report.outcome {
        Outcome::Success(s) => Verdict::answered(render(report, s, running), s),
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
            let kind = match api {
                Some(trouble) => Kind::from(*trouble),
                None if subtype == BUDGET_REACHED => Kind::BudgetReached,
                None => Kind::ClaudeError,
            };
            Verdict::failed(Status::Failed, kind, detail, session)
                .costing((*cost_usd, *cost_basis), *duration_ms)
        }
        Outcome::Cancelled { cost, session_id } => {
            let cancelled = Verdict::cancelled(stored(session_id.or(announced)));
            match cost {
                Some(cost) => cancelled.costing(*cost, None),
                None => cancelled,
            }
        }
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
fn render(report: &RunReport, s: &Success, running: &InFlight) -> Rendered {
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
    let options = super::format_options(&running.config);
    render_turn(&text, &denials, running.changes.files(), &options)
}

impl SessionActor {
    pub(super) fn finish(
        &mut self,
        mut running: InFlight,
        report: RunReport,
        ctx: &mut Context<Self>,
    ) {
        self.deps.stop_typing.do_send(StopTyping(self.channel));
        self.close_prompts_of(running.request.id, ctx);
        if let Some(ticker) = running.status.ticker.take() {
            ctx.cancel_future(ticker);
        }
        let mut verdict = judge(&report, &running);
        if running.discard_session {
            verdict.session = SessionChange::Keep;
        }
        if running.stopped_for_shutdown && matches!(report.outcome, Outcome::Cancelled { .. }) {
            verdict.status = RequestStatus::Interrupted;
            verdict.answer = Some(Rendered::Chunks(vec![STOPPED_FOR_RESTART.into()]));
        }
        if let Some(stored) = &mut self.stored {
            stored.message_count += 1;
            stored.total_cost_usd += verdict.cost_usd;
            match verdict.session {
                SessionChange::Keep => {}
                SessionChange::Store(id) => stored.claude_session = Some(id),
                SessionChange::Forget => {
                    stored.claude_session = None;
                    self.approvals.forget_session_rules();
                }
            }
        }
        let span = running.span.clone();
        let ending = Ending::new(running, &report, verdict);
        let record = ending.record(self.deps.clone()).instrument(span.clone());
        ctx.wait(record.into_actor(self).map(move |ending, act, ctx| {
            let announce = ending.announce(act.deps.clone()).instrument(span.clone());
            let then = move |ending: Ending, act: &mut Self, ctx: &mut Context<Self>| {
                span.in_scope(|| ending.log());
                ending.count(&act.deps.metrics);
                if let Some(write) = ending.note(act.deps.db.clone()) {
                    act.store(ctx, "record a delivery", write);
                }
            };
            act.deliver(announce, then, ctx);
            act.start_next(ctx);
            act.settle(ctx);
        }));
    }
}
