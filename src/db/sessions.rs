//! Queries on `sessions`: one row per Discord channel or thread, holding the
//! Claude session it resumes and its running totals.

use super::{Db, DbError, now_utc};
use crate::domain::{ChannelId, ClaudeSessionId, ErrorId, ProjectName};
use sqlx::{FromRow, SqliteConnection};

/// A channel's stored session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub channel_id: ChannelId,
    pub project: ProjectName,
    /// None for a fresh channel, after a reset, or when the stored text was
    /// not a UUID (it will be overwritten by the next turn).
    pub claude_session_id: Option<ClaudeSessionId>,
    pub created_at: String,
    pub updated_at: String,
    pub message_count: i64,
    pub total_cost_usd: f64,
    pub model_override: Option<String>,
    /// The error id of the latest turn; None when that turn succeeded.
    pub last_error_id: Option<String>,
}

/// What the end of a turn does to the channel's stored Claude session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SessionChange {
    Keep,
    Store(ClaudeSessionId),
    /// It could not be resumed: the next turn starts a fresh one.
    Forget,
}

/// One finished turn, as its session row counts it.
#[derive(Debug, Clone)]
pub struct Turn {
    pub channel: ChannelId,
    pub session: SessionChange,
    pub cost_usd: f64,
    pub error_id: Option<ErrorId>,
}

#[derive(FromRow)]
struct StoredSession {
    channel_id: String,
    project: String,
    claude_session_id: Option<String>,
    created_at: String,
    updated_at: String,
    message_count: i64,
    total_cost_usd: f64,
    model_override: Option<String>,
    last_error_id: Option<String>,
}

impl TryFrom<StoredSession> for SessionRow {
    type Error = DbError;

    fn try_from(s: StoredSession) -> Result<Self, DbError> {
        let channel_id: ChannelId = s
            .channel_id
            .parse()
            .map_err(|e| DbError::Corrupt(format!("sessions.channel_id: {e}")))?;
        let claude_session_id = s.claude_session_id.as_deref().and_then(|raw| {
            let parsed = ClaudeSessionId::parse(raw).ok();
            if parsed.is_none() {
                tracing::warn!(%channel_id, "stored Claude session id is not a UUID; starting a fresh session");
            }
            parsed
        });
        Ok(SessionRow {
            channel_id,
            project: ProjectName::new(s.project),
            claude_session_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
            message_count: s.message_count,
            total_cost_usd: s.total_cost_usd,
            model_override: s.model_override,
            last_error_id: s.last_error_id,
        })
    }
}

impl Db {
    pub async fn session(&self, ch: ChannelId) -> Result<Option<SessionRow>, DbError> {
        sqlx::query_as::<_, StoredSession>("SELECT * FROM sessions WHERE channel_id = ?")
            .bind(ch.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(DbError::query("reading a session"))?
            .map(SessionRow::try_from)
            .transpose()
    }

    /// Returns the channel's session, creating it if missing. If the channel
    /// now maps to another project, the row moves to it and forgets its Claude
    /// session: a session belongs to the folder it was started in.
    pub async fn ensure_session(
        &self,
        ch: ChannelId,
        project: &ProjectName,
    ) -> Result<SessionRow, DbError> {
        let now = now_utc();
        let statement = sqlx::query(
            "INSERT INTO sessions (channel_id, project, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT (channel_id) DO UPDATE
                SET project = excluded.project, claude_session_id = NULL,
                    updated_at = excluded.updated_at
                WHERE sessions.project <> excluded.project",
        )
        .bind(ch.to_string())
        .bind(project.as_str().to_string())
        .bind(now);
        self.execute("creating a session", statement).await?;
        self.session(ch).await?.ok_or(DbError::SessionNotFound(ch))
    }

    /// Stores the session to resume; None resets the channel to a fresh one.
    pub async fn set_claude_session_id(
        &self,
        ch: ChannelId,
        id: Option<ClaudeSessionId>,
    ) -> Result<(), DbError> {
        let statement = sqlx::query(
            "UPDATE sessions SET claude_session_id = ?, updated_at = ? WHERE channel_id = ?",
        )
        .bind(id.map(|id| id.to_string()))
        .bind(now_utc())
        .bind(ch.to_string());
        let changed = self
            .execute("setting a Claude session id", statement)
            .await?;
        found(changed, ch)
    }

    /// Counts one finished turn: adds its cost, keeps the session id Claude
    /// returned (if any) and records whether the turn failed. Sessions end
    /// a turn with `end_turn`, which runs the same statement.
    #[cfg(any(test, feature = "testing"))]
    pub async fn record_turn(
        &self,
        ch: ChannelId,
        session_id: Option<ClaudeSessionId>,
        cost_usd: f64,
        error_id: Option<&ErrorId>,
    ) -> Result<(), DbError> {
        let turn = Turn {
            channel: ch,
            session: session_id.map_or(SessionChange::Keep, SessionChange::Store),
            cost_usd,
            error_id: error_id.cloned(),
        };
        self.write("recording a turn", move |conn| {
            Box::pin(async move { record_turn_on(conn, &turn).await })
        })
        .await
    }

    /// Sets the model this channel uses instead of the project's; None clears it.
    pub async fn set_model_override(
        &self,
        ch: ChannelId,
        model: Option<&str>,
    ) -> Result<(), DbError> {
        let statement = sqlx::query(
            "UPDATE sessions SET model_override = ?, updated_at = ? WHERE channel_id = ?",
        )
        .bind(model.map(str::to_string))
        .bind(now_utc())
        .bind(ch.to_string());
        let changed = self.execute("setting a model override", statement).await?;
        found(changed, ch)
    }

    /// Every session, most recently active first.
    pub async fn list_sessions(&self) -> Result<Vec<SessionRow>, DbError> {
        sqlx::query_as::<_, StoredSession>(
            "SELECT * FROM sessions ORDER BY updated_at DESC, channel_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(DbError::query("listing sessions"))?
        .into_iter()
        .map(SessionRow::try_from)
        .collect()
    }
}

fn found(rows: u64, ch: ChannelId) -> Result<(), DbError> {
    if rows == 0 {
        Err(DbError::SessionNotFound(ch))
    } else {
        Ok(())
    }
}

/// The statement behind `record_turn`, on a connection that may be in a
/// transaction.
pub(super) async fn record_turn_on(
    conn: &mut SqliteConnection,
    turn: &Turn,
) -> Result<(), DbError> {
    let cost = if turn.cost_usd.is_finite() {
        turn.cost_usd
    } else {
        0.0
    };
    let (keep, stored) = match turn.session {
        SessionChange::Keep => (true, None),
        SessionChange::Store(id) => (false, Some(id.to_string())),
        SessionChange::Forget => (false, None),
    };
    let done = sqlx::query(
        "UPDATE sessions
         SET message_count = message_count + 1,
             total_cost_usd = total_cost_usd + ?1,
             claude_session_id = CASE WHEN ?2 THEN claude_session_id ELSE ?3 END,
             last_error_id = ?4,
             updated_at = ?5
         WHERE channel_id = ?6",
    )
    .bind(cost)
    .bind(keep)
    .bind(stored)
    .bind(turn.error_id.as_ref().map(|e| e.as_str().to_string()))
    .bind(now_utc())
    .bind(turn.channel.to_string())
    .execute(conn)
    .await
    .map_err(DbError::query("recording a turn"))?;
    found(done.rows_affected(), turn.channel)
}

#[cfg(test)]
mod tests;
