//! Tests for the `sessions` queries.

use super::*;

const CH: ChannelId = ChannelId(1_234_567_890_123_456_789);

fn project(name: &str) -> ProjectName {
    ProjectName::new(name)
}

#[tokio::test]
async fn a_missing_session_reads_as_none() {
    let db = Db::in_memory().await.unwrap();
    assert_eq!(db.session(CH).await.unwrap(), None);
}

#[tokio::test]
async fn ensure_session_creates_once_and_then_returns_the_same_row() {
    let db = Db::in_memory().await.unwrap();
    let first = db.ensure_session(CH, &project("api")).await.unwrap();
    assert_eq!(first.channel_id, CH);
    assert_eq!(first.project, project("api"));
    assert_eq!((first.message_count, first.total_cost_usd), (0, 0.0));
    assert_eq!(first.claude_session_id, None);
    let id = ClaudeSessionId::new_random();
    db.set_claude_session_id(CH, Some(id)).await.unwrap();
    let again = db.ensure_session(CH, &project("api")).await.unwrap();
    assert_eq!(again.created_at, first.created_at);
    assert_eq!(again.claude_session_id, Some(id));
    assert_eq!(db.list_sessions().await.unwrap().len(), 1);
}

#[tokio::test]
async fn snowflakes_are_stored_as_exact_decimal_text() {
    let db = Db::in_memory().await.unwrap();
    db.ensure_session(CH, &project("api")).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT channel_id FROM sessions")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored, "1234567890123456789");
}

#[tokio::test]
async fn moving_a_channel_to_another_project_forgets_its_claude_session() {
    let db = Db::in_memory().await.unwrap();
    db.ensure_session(CH, &project("api")).await.unwrap();
    db.set_claude_session_id(CH, Some(ClaudeSessionId::new_random()))
        .await
        .unwrap();
    let moved = db.ensure_session(CH, &project("web")).await.unwrap();
    assert_eq!(moved.project, project("web"));
    assert_eq!(moved.claude_session_id, None);
}

#[tokio::test]
async fn setting_and_resetting_the_claude_session_id() {
    let db = Db::in_memory().await.unwrap();
    db.ensure_session(CH, &project("api")).await.unwrap();
    let id = ClaudeSessionId::new_random();
    db.set_claude_session_id(CH, Some(id)).await.unwrap();
    assert_eq!(
        db.session(CH).await.unwrap().unwrap().claude_session_id,
        Some(id)
    );
    db.set_claude_session_id(CH, None).await.unwrap();
    assert_eq!(
        db.session(CH).await.unwrap().unwrap().claude_session_id,
        None
    );
}

#[tokio::test]
async fn record_turn_counts_costs_and_tracks_the_latest_session_and_error() {
    let db = Db::in_memory().await.unwrap();
    db.ensure_session(CH, &project("api")).await.unwrap();
    let (s1, error) = (ClaudeSessionId::new_random(), ErrorId::new());
    db.record_turn(CH, Some(s1), 0.25, None).await.unwrap();
    db.record_turn(CH, None, 0.5, Some(&error)).await.unwrap();
    let row = db.session(CH).await.unwrap().unwrap();
    assert_eq!(row.message_count, 2);
    assert!((row.total_cost_usd - 0.75).abs() < 1e-9);
    assert_eq!(
        row.claude_session_id,
        Some(s1),
        "a turn without an id keeps the old one"
    );
    assert_eq!(row.last_error_id.as_deref(), Some(error.as_str()));
    let s2 = ClaudeSessionId::new_random();
    db.record_turn(CH, Some(s2), f64::NAN, None).await.unwrap();
    let row = db.session(CH).await.unwrap().unwrap();
    assert_eq!((row.claude_session_id, row.last_error_id), (Some(s2), None));
    assert!((row.total_cost_usd - 0.75).abs() < 1e-9);
    assert!(row.updated_at >= row.created_at);
}

#[tokio::test]
async fn model_override_can_be_set_and_cleared() {
    let db = Db::in_memory().await.unwrap();
    db.ensure_session(CH, &project("api")).await.unwrap();
    db.set_model_override(CH, Some("opus")).await.unwrap();
    let row = db.session(CH).await.unwrap().unwrap();
    assert_eq!(row.model_override.as_deref(), Some("opus"));
    db.set_model_override(CH, None).await.unwrap();
    assert_eq!(db.session(CH).await.unwrap().unwrap().model_override, None);
}

#[tokio::test]
async fn updates_to_an_unknown_channel_say_so() {
    let db = Db::in_memory().await.unwrap();
    let err = db.record_turn(CH, None, 0.1, None).await.unwrap_err();
    assert!(
        matches!(err, DbError::SessionNotFound(c) if c == CH),
        "{err:?}"
    );
    assert!(db.set_model_override(CH, Some("x")).await.is_err());
    assert!(db.set_claude_session_id(CH, None).await.is_err());
}

#[tokio::test]
async fn a_hand_edited_session_id_that_is_not_a_uuid_reads_as_none() {
    let db = Db::in_memory().await.unwrap();
    db.ensure_session(CH, &project("api")).await.unwrap();
    sqlx::query("UPDATE sessions SET claude_session_id = '--dangerously-skip-permissions'")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        db.session(CH).await.unwrap().unwrap().claude_session_id,
        None
    );
    assert_eq!(db.list_sessions().await.unwrap()[0].claude_session_id, None);
    let fresh = ClaudeSessionId::new_random();
    db.record_turn(CH, Some(fresh), 0.0, None).await.unwrap();
    assert_eq!(
        db.session(CH).await.unwrap().unwrap().claude_session_id,
        Some(fresh)
    );
}

#[tokio::test]
async fn sessions_are_listed_most_recently_active_first() {
    let db = Db::in_memory().await.unwrap();
    let channels = [ChannelId(1), ChannelId(2), ChannelId(3)];
    for ch in channels {
        db.ensure_session(ch, &project("api")).await.unwrap();
    }
    // Distinct, known times: `now_utc` has only millisecond resolution.
    for (ch, at) in [(1, "2026-01-02"), (2, "2026-01-03"), (3, "2026-01-01")] {
        sqlx::query("UPDATE sessions SET updated_at = ? WHERE channel_id = ?")
            .bind(format!("{at}T00:00:00.000Z"))
            .bind(ch.to_string())
            .execute(db.pool())
            .await
            .unwrap();
    }
    let order: Vec<u64> = db
        .list_sessions()
        .await
        .unwrap()
        .iter()
        .map(|s| s.channel_id.get())
        .collect();
    assert_eq!(order, vec![2, 1, 3]);
}
