//! The `approvals` table: one row per approval prompt, from the ask to the
//! decision (who and when), kept as an audit trail. Prompts still open at
//! start-up were cut off by a restart: they are marked expired, and their
//! messages are returned so their buttons can be taken away.

use super::{Db, DbError, now_utc};
use crate::domain::{ApprovalId, ChannelId, MessageId, RequestId, UserId};

/// How a prompt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    AllowedForSession,
    Denied,
    /// Nobody answered in time, or the bot restarted first.
    Expired,
    /// The run ended (cancel, timeout, a crash of the CLI) first.
    Cancelled,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::AllowedForSession => "allowed_for_session",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A prompt as it is shown.
#[derive(Debug, Clone)]
pub struct ApprovalStart {
    pub id: ApprovalId,
    pub request: RequestId,
    pub channel: ChannelId,
    pub tool: String,
    /// A short target (path, command's first line); never file contents.
    pub summary: String,
}

/// A prompt a restart left open, whose message still has buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePrompt {
    pub channel: ChannelId,
    pub message: MessageId,
    pub tool: String,
    pub summary: String,
}

impl Db {
    pub async fn insert_approval(&self, a: &ApprovalStart) -> Result<(), DbError> {
        let statement = sqlx::query(
            "INSERT INTO approvals (id, request_id, channel_id, tool, summary, asked_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(a.id.as_str().to_string())
        .bind(a.request.to_string())
        .bind(a.channel.to_string())
        .bind(a.tool.clone())
        .bind(a.summary.clone())
        .bind(now_utc());
        self.execute("storing an approval prompt", statement)
            .await?;
        Ok(())
    }

    pub async fn set_approval_message(
        &self,
        id: &ApprovalId,
        message: MessageId,
    ) -> Result<(), DbError> {
        let statement = sqlx::query("UPDATE approvals SET message_id = ? WHERE id = ?")
            .bind(message.to_string())
            .bind(id.as_str().to_string());
        self.execute("noting an approval prompt's message", statement)
            .await?;
        Ok(())
    }

    /// Records the decision on a prompt that is still open.
    pub async fn decide_approval(
        &self,
        id: &ApprovalId,
        decision: Decision,
        by: Option<UserId>,
    ) -> Result<(), DbError> {
        let statement = sqlx::query(
            "UPDATE approvals SET decision = ?, decided_by = ?, decided_at = ?
             WHERE id = ? AND decision IS NULL",
        )
        .bind(decision.as_str())
        .bind(by.map(|u| u.to_string()))
        .bind(now_utc())
        .bind(id.as_str().to_string());
        self.execute("recording an approval decision", statement)
            .await?;
        Ok(())
    }

    /// At start-up: prompts left open by the last stop become `expired`;
    /// returns those whose message was posted.
    pub async fn expire_open_approvals(&self) -> Result<Vec<StalePrompt>, DbError> {
        const WHAT: &str = "expiring open approval prompts";
        let statement = sqlx::query_as::<_, (String, Option<String>, String, String)>(
            "UPDATE approvals SET decision = 'expired', decided_at = ?
             WHERE decision IS NULL
             RETURNING channel_id, message_id, tool, summary",
        )
        .bind(now_utc());
        let rows = self.fetch_written(WHAT, statement).await?;
        let stale = rows
            .into_iter()
            .filter_map(|(channel, message, tool, summary)| {
                Some(StalePrompt {
                    channel: channel.parse().ok()?,
                    message: message?.parse().ok()?,
                    tool,
                    summary,
                })
            });
        Ok(stale.collect())
    }

    /// The decision on a prompt, as tests read it back.
    #[cfg(any(test, feature = "testing"))]
    pub async fn approval_decision(
        &self,
        id: &ApprovalId,
    ) -> Result<Option<(Option<String>, Option<String>)>, DbError> {
        sqlx::query_as::<_, (Option<String>, Option<String>)>(
            "SELECT decision, decided_by FROM approvals WHERE id = ?",
        )
        .bind(id.as_str().to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(DbError::query("reading an approval"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::RequestStart;
    use crate::domain::ProjectName;

    async fn db_with_request() -> (Db, RequestId) {
        let db = Db::in_memory().await.unwrap();
        db.ensure_session(ChannelId(5), &ProjectName::new("p"))
            .await
            .unwrap();
        let request = RequestStart {
            id: RequestId::new(),
            message_id: crate::db::unique_message_id(),
            channel_id: ChannelId(5),
            user_id: UserId(7),
            project: ProjectName::new("p"),
            session_id_used: None,
        };
        db.insert_running_request(&request).await.unwrap();
        (db, request.id)
    }

    fn start(request: RequestId) -> ApprovalStart {
        ApprovalStart {
            id: ApprovalId::new(),
            request,
            channel: ChannelId(5),
            tool: "Bash".into(),
            summary: "rm -rf build".into(),
        }
    }

    #[tokio::test]
    async fn a_prompt_is_decided_once_with_who_decided() {
        let (db, request) = db_with_request().await;
        let a = start(request);
        db.insert_approval(&a).await.unwrap();
        db.decide_approval(&a.id, Decision::AllowedForSession, Some(UserId(7)))
            .await
            .unwrap();
        db.decide_approval(&a.id, Decision::Expired, None)
            .await
            .unwrap();
        let row = db.approval_decision(&a.id).await.unwrap();
        assert_eq!(
            row,
            Some((Some("allowed_for_session".into()), Some("7".into())))
        );
    }

    #[tokio::test]
    async fn prompts_a_restart_left_open_expire_and_posted_ones_are_returned() {
        let (db, request) = db_with_request().await;
        let (posted, unposted, decided) = (start(request), start(request), start(request));
        for a in [&posted, &unposted, &decided] {
            db.insert_approval(a).await.unwrap();
        }
        db.set_approval_message(&posted.id, MessageId(99))
            .await
            .unwrap();
        db.decide_approval(&decided.id, Decision::Denied, Some(UserId(7)))
            .await
            .unwrap();
        let stale = db.expire_open_approvals().await.unwrap();
        assert_eq!(
            stale,
            [StalePrompt {
                channel: ChannelId(5),
                message: MessageId(99),
                tool: "Bash".into(),
                summary: "rm -rf build".into(),
            }]
        );
        for (a, want) in [
            (&posted, "expired"),
            (&unposted, "expired"),
            (&decided, "denied"),
        ] {
            let (decision, _) = db.approval_decision(&a.id).await.unwrap().unwrap();
            assert_eq!(decision.as_deref(), Some(want));
        }
        assert!(db.expire_open_approvals().await.unwrap().is_empty());
    }
}
