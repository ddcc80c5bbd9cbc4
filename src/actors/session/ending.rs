//! A request after its verdict. First, before the next request starts,
//! its failure gets an error id and its turn is stored, so the stored
//! session and counters never wait on Discord. Then, in delivery order,
//! the answer (or the failure's text) is posted, the user is told under
//! an error id if part of it could not be posted or its record was lost.
//! Last, back on the actor, one `request finished` record is logged and
//! the row notes whether the answer was delivered.

use super::finish::Verdict;
use super::job::InFlight;
use super::outbox;
use super::{SessionDeps, log_failure, post, report_failure, send_out};
use crate::actors::messages::{ErrorKind, FileAttachment, Outgoing, Reported, Request};
use crate::claude::RunReport;
use crate::db::{Db, DbError, RequestFinish, Turn};
use crate::domain::{ChannelId, MessageId, tame_file_name};
use crate::format::Rendered;
use crate::telemetry::metrics::Metrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub(super) struct Ending {
    request: Request,
    status_message: Option<MessageId>,
    answer: Option<Rendered>,
    error: Option<(ErrorKind, String)>,
    finish: RequestFinish,
    turn: Turn,
    outcome: &'static str,
    context_lost: bool,
    /// The turn went to a warm CLI process.
    warm: bool,
    /// The failure, logged under an error id, that the user is to be told.
    failure: Option<Reported>,
    /// The turn could not be stored; the user is told under this id.
    lost_record: Option<Reported>,
    /// After an answer: the working folder whose outbox goes with it, until
    /// `record` has read it.
    outbox: Option<PathBuf>,
    /// The outbox as `record` read it, before the session's next turn.
    taken: Option<outbox::Taken>,
    posted: Posted,
}

impl Ending {
    pub fn new(running: InFlight, report: &RunReport, v: Verdict) -> Self {
        let duration_ms = i64::try_from(running.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let finish = RequestFinish {
            status: v.status,
            session_id_returned: report.outcome.session_id().or(running.announced_session),
            duration_ms: Some(duration_ms),
            claude_duration_ms: v.claude_duration_ms.map(|d| d as i64),
            cost_usd: Some(v.cost_usd),
            cost_basis: v.cost_basis,
            error_id: None,
            error_kind: v.error.as_ref().map(|(k, _)| k.as_str().to_string()),
            // Known once the answer is out (`announce`).
            delivered: None,
        };
        let turn = Turn {
            channel: running.request.channel,
            session: v.session,
            cost_usd: v.cost_usd,
            error_id: None,
        };
        let outbox = v.answer.as_ref().map(|_| running.folder.clone());
        Self {
            outbox,
            taken: None,
            status_message: running.status.message(),
            request: running.request,
            answer: v.answer,
            error: v.error,
            finish,
            turn,
            outcome: report.outcome.kind(),
            context_lost: report.context_lost,
            warm: report.warm,
            failure: None,
            lost_record: None,
            posted: Posted::default(),
        }
    }

    /// Logs the failure under an error id, stores the turn and reads the
    /// outbox: all before the session's next turn may start.
    pub async fn record(mut self, deps: Arc<SessionDeps>) -> Self {
        if let Some(folder) = self.outbox.take() {
            let channel = self.request.channel;
            let read = tokio::task::spawn_blocking(move || outbox::take(&folder, channel));
            self.taken = Some(read.await.unwrap_or_default());
        }
        if let Some((kind, detail)) = &self.error {
            self.failure = log_failure(&deps, *kind, &self.request, detail.clone()).await;
        }
        let error_id = self.failure.as_ref().map(|f| f.error_id.clone());
        self.finish.error_id = error_id.clone();
        self.turn.error_id = error_id;
        let stored = deps
            .db
            .end_turn(&self.turn, self.request.id, &self.finish)
            .await;
        if let Err(e) = stored {
            let detail = format!("cannot record the end of a turn: {e}");
            self.lost_record =
                log_failure(&deps, ErrorKind::StoreError, &self.request, detail).await;
        }
        self
    }

    /// Posts what the user is to see. Touches no store: the store's one
    /// pooled connection (in memory) must never be held by a future the
    /// actor does not wait for.
    pub async fn announce(mut self, deps: Arc<SessionDeps>) -> Self {
        let (channel, reply_to) = (self.request.channel, Some(self.request.message));
        if let Some(failure) = &self.failure {
            let sent = post(&deps, channel, failure.user_text.clone(), reply_to).await;
            self.posted.add(1, usize::from(sent.is_some()));
        }
        if let Some(answer) = self.answer.take() {
            let expected = answer.message_count();
            let sent = post_rendered(&deps, &self.request, answer).await;
            self.posted.add(expected, sent);
        }
        if let Some(taken) = self.taken.take() {
            let (expected, sent) = post_outbox(&deps, self.request.channel, taken).await;
            self.posted.add(expected, sent);
        }
        // After the answer, so the user waits for nothing else.
        if let Some(message) = self.status_message {
            send_out(&deps, Outgoing::Delete { channel, message }).await;
        }
        if let Some(lost) = &self.lost_record {
            post(&deps, channel, lost.user_text.clone(), reply_to).await;
        }
        if !self.posted.delivered {
            let detail = "the answer could not be posted in full".to_string();
            let notice =
                report_failure(&deps, ErrorKind::DiscordError, &self.request, detail).await;
            self.finish.error_id = self.finish.error_id.take().or(notice);
        }
        self
    }

    /// The write that notes whether the answer arrived; none if the turn
    /// itself could not be stored.
    pub fn note(&self, db: Db) -> Option<impl Future<Output = Result<(), DbError>> + 'static> {
        if self.lost_record.is_some() {
            return None;
        }
        let (id, delivered) = (self.request.id, self.posted.delivered);
        let error_id = self.finish.error_id.clone();
        Some(async move { db.record_delivery(id, delivered, error_id.as_ref()).await })
    }

    /// Counts the request in the metrics.
    pub fn count(&self, metrics: &Metrics) {
        let f = &self.finish;
        let took = Duration::from_millis(f.duration_ms.map_or(0, |ms| ms.max(0) as u64));
        let status = f.status.to_string();
        metrics.request_finished(
            self.request.project.as_str(),
            &status,
            took,
            f.cost_usd.unwrap_or(0.0),
        );
    }

    pub fn log(&self) {
        let f = &self.finish;
        tracing::info!(
            outcome = self.outcome,
            status = %f.status,
            duration_ms = f.duration_ms,
            claude_duration_ms = f.claude_duration_ms,
            cost_usd = f.cost_usd,
            chunks = self.posted.chunks,
            delivered = self.posted.delivered,
            context_lost = self.context_lost,
            warm = self.warm,
            error_id = f.error_id.as_ref().map(|e| e.as_str().to_string()),
            "request finished"
        );
    }
}

/// What reached the channel.
struct Posted {
    chunks: usize,
    /// Everything meant for the user was posted.
    delivered: bool,
}

impl Default for Posted {
    fn default() -> Self {
        Self {
            chunks: 0,
            delivered: true,
        }
    }
}

impl Posted {
    fn add(&mut self, expected: usize, sent: usize) {
        self.chunks += sent;
        self.delivered &= sent == expected;
    }
}

/// Attaches the outbox's files, one message each, removing each once
/// posted; names in one message those that stay. Returns how many
/// messages were meant to go out and how many did.
async fn post_outbox(
    deps: &SessionDeps,
    channel: ChannelId,
    taken: outbox::Taken,
) -> (usize, usize) {
    let mut sent = 0;
    for file in &taken.files {
        let msg = Outgoing::Post {
            channel,
            content: format!("📎 `{}`", file.name.replace('`', "'")),
            reply_to: None,
            attachment: Some(FileAttachment {
                filename: tame_file_name(&file.name).unwrap_or_else(|| "file".into()),
                body: file.body.clone(),
            }),
            notify: false,
        };
        if send_out(deps, msg).await.is_some() {
            sent += 1;
            remove_posted(file).await;
        }
    }
    let mut expected = taken.files.len();
    if !taken.kept.is_empty() {
        expected += 1;
        let text = format!("📎 Not attached: {}.", taken.kept.join("; "));
        if post(deps, channel, text, None).await.is_some() {
            sent += 1;
        }
    }
    (expected, sent)
}

/// Removes a posted outbox file, unless the next turn wrote it again.
async fn remove_posted(file: &outbox::Outgoing) {
    let removal = file.removal();
    let removed = tokio::task::spawn_blocking(move || removal.remove_if_unchanged()).await;
    match removed {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => tracing::info!("a posted outbox file was written again; it stays"),
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot remove a posted outbox file"),
        Err(e) => tracing::warn!(error = %e, "cannot remove a posted outbox file"),
    }
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
            notify: deps.config.current().discord.notify_requester,
        };
        if send_out(deps, msg).await.is_some() {
            posted += 1;
        }
    }
    posted
}
