//! Tests for ending a turn across both tables.

use super::*;
use crate::db::{RequestStart, SessionChange};
use crate::domain::{ChannelId, ClaudeSessionId, ErrorId, ProjectName, RequestStatus, UserId};

const CH: ChannelId = ChannelId(77);

/// A file database (so writes take the writer connection, as in the
/// daemon) with one session and one running request.
async fn with_request() -> (tempfile::TempDir, Db, RequestId) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = Db::connect(&url).await.unwrap();
    let id = add_request(&db).await;
    (dir, db, id)
}

/// A session and one running request in `db`.
async fn add_request(db: &Db) -> RequestId {
    db.ensure_session(CH, &ProjectName::new("api"))
        .await
        .unwrap();
    let id = RequestId::new();
    let row = RequestStart {
        id,
        message_id: crate::db::unique_message_id(),
        channel_id: CH,
        user_id: UserId(5),
        project: ProjectName::new("api"),
        session_id_used: None,
    };
    db.insert_running_request(&row).await.unwrap();
    id
}

fn finish(status: RequestStatus, error_id: Option<ErrorId>) -> RequestFinish {
    RequestFinish {
        status,
        session_id_returned: None,
        duration_ms: Some(12),
        claude_duration_ms: Some(10),
        cost_usd: Some(0.25),
        cost_basis: None,
        error_id,
        error_kind: None,
        delivered: Some(true),
    }
}

fn turn(session: SessionChange, error_id: Option<ErrorId>) -> Turn {
    Turn {
        channel: CH,
        session,
        cost_usd: 0.25,
        error_id,
    }
}

#[tokio::test]
async fn ending_a_turn_counts_it_and_finishes_its_request() {
    let (_dir, db, id) = with_request().await;
    let session = ClaudeSessionId::new_random();
    let done = finish(RequestStatus::Done, None);
    db.end_turn(&turn(SessionChange::Store(session), None), id, &done)
        .await
        .unwrap();
    let row = db.session(CH).await.unwrap().unwrap();
    assert_eq!(
        (row.message_count, row.total_cost_usd, row.claude_session_id),
        (1, 0.25, Some(session))
    );
    let request = db.request(id).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Done);
    assert_eq!(request.cost_usd, Some(0.25));
}

#[tokio::test]
async fn keep_leaves_the_stored_session_and_forget_clears_it() {
    let (_dir, db, first) = with_request().await;
    let session = ClaudeSessionId::new_random();
    db.set_claude_session_id(CH, Some(session)).await.unwrap();
    let done = finish(RequestStatus::Done, None);
    db.end_turn(&turn(SessionChange::Keep, None), first, &done)
        .await
        .unwrap();
    let kept = db.session(CH).await.unwrap().unwrap().claude_session_id;
    assert_eq!(kept, Some(session));

    let error = ErrorId::new();
    let failed = finish(RequestStatus::Failed, Some(error.clone()));
    let forget = turn(SessionChange::Forget, Some(error.clone()));
    db.end_turn(&forget, first, &failed).await.unwrap();
    let row = db.session(CH).await.unwrap().unwrap();
    assert_eq!(row.claude_session_id, None);
    assert_eq!(row.last_error_id.as_deref(), Some(error.as_str()));
    assert_eq!(row.message_count, 2);
}

#[tokio::test]
async fn an_unknown_request_rolls_the_turn_back() {
    let (_dir, db, _) = with_request().await;
    let done = finish(RequestStatus::Done, None);
    let err = db
        .end_turn(&turn(SessionChange::Keep, None), RequestId::new(), &done)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::RequestNotFound(_)), "{err}");
    let row = db.session(CH).await.unwrap().unwrap();
    assert_eq!((row.message_count, row.total_cost_usd), (0, 0.0));
}

/// Deletes the session row behind its requests' backs, then ends a turn.
async fn end_turn_without_its_session(db: &Db, id: RequestId) {
    // On the writer's connection, which the foreign key would otherwise
    // stop: the row goes while its requests stay.
    let off = sqlx::query("PRAGMA foreign_keys = OFF");
    db.execute("test set-up", off).await.unwrap();
    let gone = sqlx::query("DELETE FROM sessions");
    assert_eq!(db.execute("test set-up", gone).await.unwrap(), 1);
    let done = finish(RequestStatus::Done, None);
    let err = db
        .end_turn(&turn(SessionChange::Keep, None), id, &done)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::SessionNotFound(CH)), "{err}");
    let request = db.request(id).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Done);
}

#[tokio::test]
async fn a_vanished_session_row_still_lets_the_request_finish() {
    let (_dir, db, id) = with_request().await;
    end_turn_without_its_session(&db, id).await;
}

#[tokio::test]
async fn in_memory_the_request_also_finishes_without_its_session_row() {
    let db = Db::in_memory().await.unwrap();
    let id = add_request(&db).await;
    end_turn_without_its_session(&db, id).await;
}
