//! A long history for the start-up measurement: sessions and finished
//! requests written through the crate's own `Db` (so the schema is the
//! migrated one), in one transaction.

use claude_coordinator::db::Db;
use claude_coordinator::domain::RequestId;

/// Writes `sessions` session rows (channels `first_channel + i`) and
/// `requests` finished request rows spread over them.
pub async fn prefill(db_url: &str, sessions: u64, requests: u64, first_channel: u64, user: u64) {
    let db = Db::connect(db_url).await.expect("open the bench database");
    let mut tx = db.pool().begin().await.expect("begin");
    for i in 0..sessions {
        sqlx::query(
            "INSERT INTO sessions (channel_id, project, claude_session_id, created_at, \
             updated_at, message_count, total_cost_usd) VALUES (?, 'p0', ?, ?, ?, ?, 0.01)",
        )
        .bind((first_channel + i).to_string())
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(stamp(i))
        .bind(stamp(i + 1))
        .bind((requests / sessions) as i64)
        .execute(&mut *tx)
        .await
        .expect("insert a session");
    }
    for i in 0..requests {
        let failed = i % 50 == 0;
        sqlx::query(
            "INSERT INTO requests (id, channel_id, user_id, project, session_id_returned, status, \
             created_at, started_at, finished_at, duration_ms, claude_duration_ms, cost_usd, \
             error_id, error_kind) VALUES (?, ?, ?, 'p0', ?, ?, ?, ?, ?, 1200, 1100, 0.002, ?, ?)",
        )
        .bind(RequestId::new().to_string())
        .bind((first_channel + i % sessions).to_string())
        .bind(user.to_string())
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(if failed { "failed" } else { "done" })
        .bind(stamp(i))
        .bind(stamp(i))
        .bind(stamp(i + 1))
        .bind(failed.then_some("Ab3dEf7h"))
        .bind(failed.then_some("cli_failed"))
        .execute(&mut *tx)
        .await
        .expect("insert a request");
    }
    tx.commit().await.expect("commit");
    db.close().await;
}

/// An ISO-8601 UTC time `i` seconds after a fixed start.
fn stamp(i: u64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("a fixed time")
        .to_utc();
    (base + chrono::Duration::seconds(i as i64))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
