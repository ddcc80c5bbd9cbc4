//! What a test reads back from its daemon: bot.log as JSON records, the
//! SQLite file (opened beside the running daemon; WAL allows it), and all
//! of its output.

use super::{Daemon, LIMIT, poll_async};
use claude_coordinator::db::{Db, RequestRow};
use claude_coordinator::domain::RequestId;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

impl Daemon {
    /// Every JSON record of bot.log so far; a line still being written
    /// (no newline yet) is left for the next read.
    pub fn log_records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.cli.dir("logs/bot.log")).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Polls bot.log (bounded) until a record matches; returns it.
    pub async fn wait_log(&self, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + LIMIT;
        loop {
            let records = self.log_records();
            if let Some(found) = records.iter().find(|r| pred(r)) {
                return found.clone();
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = records.iter().map(Value::to_string).collect();
                panic!("waited {LIMIT:?} for a log record; bot.log: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn db(&self) -> Db {
        Db::connect(&self.db_url)
            .await
            .expect("open the daemon's db")
    }

    /// Polls (bounded) until `n` approval prompts are decided; returns
    /// (tool, summary, decision, decided_by) of every prompt, oldest first.
    pub async fn decided_approvals(
        &self,
        n: usize,
    ) -> Vec<(String, String, String, Option<String>)> {
        poll_async(
            || async {
                let db = self.db().await;
                let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT tool, summary, decision, decided_by FROM approvals ORDER BY asked_at, rowid",
                )
                .fetch_all(db.pool())
                .await
                .expect("approval rows");
                db.close().await;
                let decided = rows.iter().filter(|r| r.2.is_some()).count();
                let rows = rows.into_iter().map(|(t, s, d, by)| (t, s, d.unwrap_or_default(), by));
                (decided >= n).then(|| rows.collect())
            },
            "decided approval prompts",
        )
        .await
    }

    /// Polls (bounded) until `n` prompts have their message stored.
    pub async fn stored_prompts(&self, n: i64) {
        poll_async(
            || async {
                let db = self.db().await;
                let stored: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM approvals WHERE message_id IS NOT NULL",
                )
                .fetch_one(db.pool())
                .await
                .expect("approval count");
                db.close().await;
                (stored >= n).then_some(())
            },
            "approval prompts with their message stored",
        )
        .await;
    }

    /// The request rows of `channel`, oldest first.
    pub async fn requests(&self, channel: u64) -> Vec<RequestRow> {
        let db = self.db().await;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM requests WHERE channel_id = ? ORDER BY created_at, rowid",
        )
        .bind(channel.to_string())
        .fetch_all(db.pool())
        .await
        .expect("request ids");
        let mut rows = Vec::new();
        for id in ids {
            let id = RequestId::parse(&id).expect("request id");
            rows.push(db.request(id).await.expect("row").expect("row exists"));
        }
        db.close().await;
        rows
    }

    /// Polls the database (bounded) until `channel` has `n` finished requests.
    pub async fn finished_requests(&self, channel: u64, n: usize) -> Vec<RequestRow> {
        poll_async(
            || async {
                let rows = self.requests(channel).await;
                let done = rows.iter().filter(|r| r.finished_at.is_some()).count();
                (done >= n).then_some(rows)
            },
            "finished requests",
        )
        .await
    }

    /// Waits until `n` requests of `channel` have noted whether their
    /// answer was delivered (after they finished).
    pub async fn delivered_requests(&self, channel: u64, n: usize) -> Vec<RequestRow> {
        poll_async(
            || async {
                let rows = self.requests(channel).await;
                let noted = rows.iter().filter(|r| r.delivered.is_some()).count();
                (noted >= n).then_some(rows)
            },
            "requests with their delivery noted",
        )
        .await
    }

    /// Everything the daemon wrote: bot.log (and rotations), stdout, stderr.
    pub fn all_output(&self) -> String {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.cli.dir("logs"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.push(self.cli.dir("stdout.txt"));
        paths.push(self.cli.dir("stderr.txt"));
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }
}
