//! Queries on `requests`: one row per relayed message, from queued to its
//! end. The message text is never stored.

use super::{Db, DbError, now_utc};
use crate::domain::{
    ChannelId, ClaudeSessionId, CostBasis, ErrorId, MessageId, ProjectName, RequestId,
    RequestStatus, Spend, UserId,
};
use sqlx::{FromRow, SqliteConnection};

/// A message accepted for relaying.
#[derive(Debug, Clone)]
pub struct RequestStart {
    pub id: RequestId,
    /// The Discord message it answers; stored once only.
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub user_id: UserId,
    pub project: ProjectName,
    pub session_id_used: Option<ClaudeSessionId>,
}

/// How a request ended.
#[derive(Debug, Clone)]
pub struct RequestFinish {
    pub status: RequestStatus,
    pub session_id_returned: Option<ClaudeSessionId>,
    /// Wall-clock time from receipt to end; None computes it from `created_at`.
    pub duration_ms: Option<i64>,
    /// The time the CLI itself reported.
    pub claude_duration_ms: Option<i64>,
    pub cost_usd: Option<f64>,
    /// What `cost_usd` covers; `None` when nothing ran.
    pub cost_basis: Option<CostBasis>,
    pub error_id: Option<ErrorId>,
    pub error_kind: Option<String>,
    /// Whether the answer (or the error) reached the channel in full;
    /// `None` when nothing ran.
    pub delivered: Option<bool>,
}

impl RequestFinish {
    /// A request that ended without running: cancelled in the queue, or
    /// turned away by a shutdown.
    pub fn unrun(status: RequestStatus) -> Self {
        Self {
            status,
            session_id_returned: None,
            duration_ms: None,
            claude_duration_ms: None,
            cost_usd: None,
            cost_basis: None,
            error_id: None,
            error_kind: None,
            delivered: None,
        }
    }
}

/// One stored request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    pub id: RequestId,
    pub channel_id: ChannelId,
    pub user_id: UserId,
    pub project: ProjectName,
    pub session_id_used: Option<ClaudeSessionId>,
    pub session_id_returned: Option<ClaudeSessionId>,
    pub status: RequestStatus,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub claude_duration_ms: Option<i64>,
    pub cost_usd: Option<f64>,
    pub cost_basis: Option<CostBasis>,
    pub error_id: Option<ErrorId>,
    pub error_kind: Option<String>,
    pub delivered: Option<bool>,
}

/// Spending so far, for one channel and for its whole project.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CostTotals {
    pub channel_cost_usd: f64,
    pub channel_requests: i64,
    pub project_cost_usd: f64,
    pub project_requests: i64,
}

#[derive(FromRow)]
struct StoredRequest {
    id: String,
    channel_id: String,
    user_id: String,
    project: String,
    session_id_used: Option<String>,
    session_id_returned: Option<String>,
    status: String,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    duration_ms: Option<i64>,
    claude_duration_ms: Option<i64>,
    cost_usd: Option<f64>,
    cost_basis: Option<String>,
    error_id: Option<String>,
    error_kind: Option<String>,
    delivered: Option<bool>,
}

/// Marks queued and running rows interrupted; callers narrow it further.
macro_rules! interrupt_unfinished_sql {
    () => {
        "UPDATE requests
         SET status = 'interrupted', finished_at = ?1,
             duration_ms = COALESCE(duration_ms,
                CAST(ROUND((julianday(?1) - julianday(created_at)) * 86400000) AS INTEGER))
         WHERE status IN ('queued', 'running')"
    };
}

fn corrupt(column: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("requests.{column}: {e}"))
}

/// Session ids are only ever read back for display, so a bad one is dropped.
fn lenient_session_id(raw: Option<String>) -> Option<ClaudeSessionId> {
    raw.and_then(|s| ClaudeSessionId::parse(&s).ok())
}

impl TryFrom<StoredRequest> for RequestRow {
    type Error = DbError;

    fn try_from(r: StoredRequest) -> Result<Self, DbError> {
        Ok(RequestRow {
            id: RequestId::parse(&r.id).ok_or_else(|| corrupt("id", "not a UUID"))?,
            channel_id: r.channel_id.parse().map_err(|e| corrupt("channel_id", e))?,
            user_id: r.user_id.parse().map_err(|e| corrupt("user_id", e))?,
            project: ProjectName::new(r.project),
            session_id_used: lenient_session_id(r.session_id_used),
            session_id_returned: lenient_session_id(r.session_id_returned),
            status: r.status.parse().map_err(|e| corrupt("status", e))?,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
            claude_duration_ms: r.claude_duration_ms,
            cost_usd: r.cost_usd,
            cost_basis: r
                .cost_basis
                .map(|b| b.parse().map_err(|e| corrupt("cost_basis", e)))
                .transpose()?,
            error_id: r.error_id.map(ErrorId::from_stored),
            error_kind: r.error_kind,
            delivered: r.delivered,
        })
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

impl Db {
    /// Stores a request that waits for its turn. Its channel must have a
    /// session row.
    pub async fn insert_request(&self, r: &RequestStart) -> Result<(), DbError> {
        self.insert(r, RequestStatus::Queued).await
    }

    /// Stores a request that runs at once (its channel was idle): one write
    /// instead of an insert and a `mark_request_running`.
    pub async fn insert_running_request(&self, r: &RequestStart) -> Result<(), DbError> {
        self.insert(r, RequestStatus::Running).await
    }

    async fn insert(&self, r: &RequestStart, status: RequestStatus) -> Result<(), DbError> {
        let now = now_utc();
        let started_at = (status == RequestStatus::Running).then(|| now.clone());
        let channel = r.channel_id;
        let statement = sqlx::query(
            "INSERT INTO requests
                (id, channel_id, user_id, project, session_id_used, status, created_at, started_at,
                 message_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.id.to_string())
        .bind(r.channel_id.to_string())
        .bind(r.user_id.to_string())
        .bind(r.project.as_str().to_string())
        .bind(r.session_id_used.map(|s| s.to_string()))
        .bind(status.as_str())
        .bind(now)
        .bind(started_at)
        .bind(r.message_id.to_string());
        let message = r.message_id;
        self.write("storing a request", move |conn| {
            Box::pin(async move {
                match statement.execute(conn).await {
                    Ok(_) => Ok(()),
                    Err(e) if is_foreign_key_violation(&e) => {
                        Err(DbError::SessionNotFound(channel))
                    }
                    Err(e) if is_unique_violation(&e) => Err(DbError::MessageSeen(message)),
                    Err(source) => Err(DbError::Query {
                        what: "storing a request",
                        source,
                    }),
                }
            })
        })
        .await
    }

    /// Marks a request as handed to Claude, with the session it resumes
    /// (None for a fresh session).
    pub async fn mark_request_running(
        &self,
        id: RequestId,
        session_id_used: Option<ClaudeSessionId>,
    ) -> Result<(), DbError> {
        let statement = sqlx::query(
            "UPDATE requests SET status = 'running', started_at = ?, session_id_used = ?
             WHERE id = ?",
        )
        .bind(now_utc())
        .bind(session_id_used.map(|s| s.to_string()))
        .bind(id.to_string());
        let changed = self.execute("marking a request running", statement).await?;
        request_found(changed, id)
    }

    /// Records how a request ended.
    pub async fn finish_request(&self, id: RequestId, f: &RequestFinish) -> Result<(), DbError> {
        let f = f.clone();
        self.write("finishing a request", move |conn| {
            Box::pin(async move { finish_request_on(conn, id, &f).await })
        })
        .await
    }

    /// Notes whether a finished request's answer reached the channel, and
    /// the error id its user was given if it did not and the run had none.
    pub async fn record_delivery(
        &self,
        id: RequestId,
        delivered: bool,
        error_id: Option<&ErrorId>,
    ) -> Result<(), DbError> {
        let statement = sqlx::query(
            "UPDATE requests SET delivered = ?, error_id = COALESCE(error_id, ?) WHERE id = ?",
        )
        .bind(delivered)
        .bind(error_id.map(|e| e.as_str().to_string()))
        .bind(id.to_string());
        let changed = self.execute("recording a delivery", statement).await?;
        request_found(changed, id)
    }

    /// One request row, as tests read it back.
    #[cfg(any(test, feature = "testing"))]
    pub async fn request(&self, id: RequestId) -> Result<Option<RequestRow>, DbError> {
        sqlx::query_as::<_, StoredRequest>("SELECT * FROM requests WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(DbError::query("reading a request"))?
            .map(RequestRow::try_from)
            .transpose()
    }

    /// At start-up: requests left queued or running by a previous process
    /// become `interrupted`. Returns the ones it changed.
    pub async fn interrupt_unfinished(&self) -> Result<Vec<(RequestId, ChannelId)>, DbError> {
        const WHAT: &str = "interrupting unfinished requests";
        let statement = sqlx::query_as::<_, (String, String)>(concat!(
            interrupt_unfinished_sql!(),
            " RETURNING id, channel_id"
        ))
        .bind(now_utc());
        let rows = self.fetch_written(WHAT, statement).await?;
        rows.into_iter()
            .map(|(id, ch)| {
                let id = RequestId::parse(&id).ok_or_else(|| corrupt("id", "not a UUID"))?;
                let ch = ch.parse().map_err(|e| corrupt("channel_id", e))?;
                Ok((id, ch))
            })
            .collect()
    }

    /// A revived session's clean-up: requests of this channel that a
    /// crashed actor left queued or running become `interrupted`. Returns
    /// how many there were.
    pub async fn interrupt_unfinished_in(&self, ch: ChannelId) -> Result<u64, DbError> {
        let statement = sqlx::query(concat!(interrupt_unfinished_sql!(), " AND channel_id = ?2"))
            .bind(now_utc())
            .bind(ch.to_string());
        self.execute("interrupting a channel's unfinished requests", statement)
            .await
    }

    /// The recorded costs of requests that finished at or after `since`
    /// (a store timestamp): in all projects, in `project`, and `user`'s
    /// there.
    pub async fn spend_since(
        &self,
        since: &str,
        project: &ProjectName,
        user: UserId,
    ) -> Result<Spend, DbError> {
        let (all_usd, project_usd, user_usd) = sqlx::query_as::<_, (f64, f64, f64)>(
            "SELECT
                TOTAL(cost_usd),
                TOTAL(CASE WHEN project = ?2 THEN cost_usd END),
                TOTAL(CASE WHEN project = ?2 AND user_id = ?3 THEN cost_usd END)
             FROM requests WHERE finished_at >= ?1",
        )
        .bind(since)
        .bind(project.as_str())
        .bind(user.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(DbError::query("summing today's spend"))?;
        Ok(Spend {
            all_usd,
            project_usd,
            user_usd,
        })
    }

    pub async fn cost_totals(
        &self,
        ch: ChannelId,
        project: &ProjectName,
    ) -> Result<CostTotals, DbError> {
        let (channel_cost_usd, channel_requests, project_cost_usd, project_requests) =
            sqlx::query_as::<_, (f64, i64, f64, i64)>(
                "SELECT
                    (SELECT TOTAL(cost_usd) FROM requests WHERE channel_id = ?1),
                    (SELECT COUNT(*) FROM requests WHERE channel_id = ?1),
                    (SELECT TOTAL(cost_usd) FROM requests WHERE project = ?2),
                    (SELECT COUNT(*) FROM requests WHERE project = ?2)",
            )
            .bind(ch.to_string())
            .bind(project.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(DbError::query("summing costs"))?;
        Ok(CostTotals {
            channel_cost_usd,
            channel_requests,
            project_cost_usd,
            project_requests,
        })
    }

    pub async fn count_requests(&self) -> Result<i64, DbError> {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM requests")
            .fetch_one(&self.pool)
            .await
            .map_err(DbError::query("counting requests"))
    }
}

/// The statement behind `finish_request`, on a connection that may be in
/// a transaction.
pub(super) async fn finish_request_on(
    conn: &mut SqliteConnection,
    id: RequestId,
    f: &RequestFinish,
) -> Result<(), DbError> {
    let done = sqlx::query(
        "UPDATE requests
         SET status = ?1, session_id_returned = ?2,
             duration_ms = COALESCE(?3,
                CAST(ROUND((julianday(?8) - julianday(created_at)) * 86400000) AS INTEGER)),
             claude_duration_ms = ?4, cost_usd = ?5, error_id = ?6, error_kind = ?7,
             finished_at = ?8, cost_basis = ?10, delivered = ?11
         WHERE id = ?9",
    )
    .bind(f.status.as_str())
    .bind(f.session_id_returned.map(|s| s.to_string()))
    .bind(f.duration_ms)
    .bind(f.claude_duration_ms)
    .bind(f.cost_usd.filter(|c| c.is_finite()))
    .bind(f.error_id.as_ref().map(|e| e.as_str().to_string()))
    .bind(f.error_kind.clone())
    .bind(now_utc())
    .bind(id.to_string())
    .bind(f.cost_basis.map(CostBasis::as_str))
    .bind(f.delivered)
    .execute(conn)
    .await
    .map_err(DbError::query("finishing a request"))?;
    request_found(done.rows_affected(), id)
}

fn request_found(rows: u64, id: RequestId) -> Result<(), DbError> {
    if rows == 0 {
        Err(DbError::RequestNotFound(id))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
