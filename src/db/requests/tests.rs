//! Tests for the `requests` queries, including load and concurrency.

use super::*;
use crate::db::{SessionChange, Turn};

const CH: ChannelId = ChannelId(42);
const USER: UserId = UserId(7);

async fn db_with_session(project: &str) -> Db {
    let db = Db::in_memory().await.unwrap();
    db.ensure_session(CH, &ProjectName::new(project))
        .await
        .unwrap();
    db
}

fn new_request(ch: ChannelId, project: &str, used: Option<ClaudeSessionId>) -> RequestStart {
    RequestStart {
        id: RequestId::new(),
        message_id: crate::db::unique_message_id(),
        channel_id: ch,
        user_id: USER,
        project: ProjectName::new(project),
        session_id_used: used,
    }
}

fn finish(status: RequestStatus, cost: Option<f64>) -> RequestFinish {
    RequestFinish {
        status,
        session_id_returned: None,
        duration_ms: None,
        claude_duration_ms: None,
        cost_usd: cost,
        cost_basis: None,
        error_id: None,
        error_kind: None,
        delivered: None,
    }
}

#[tokio::test]
async fn a_new_request_is_queued_with_its_creation_time() {
    let db = db_with_session("api").await;
    let r = new_request(CH, "api", None);
    db.insert_request(&r).await.unwrap();
    let row = db.request(r.id).await.unwrap().unwrap();
    assert_eq!((row.id, row.channel_id, row.user_id), (r.id, CH, USER));
    assert_eq!(row.status, RequestStatus::Queued);
    assert_eq!(row.created_at.len(), "2026-11-25T19:33:36.123Z".len());
    assert_eq!((row.started_at, row.finished_at), (None, None));
    assert_eq!(db.request(RequestId::new()).await.unwrap(), None);
}

#[tokio::test]
async fn a_request_for_an_idle_channel_is_stored_running_in_one_write() {
    let db = db_with_session("api").await;
    let used = Some(ClaudeSessionId::new_random());
    let r = new_request(CH, "api", used);
    db.insert_running_request(&r).await.unwrap();
    let row = db.request(r.id).await.unwrap().unwrap();
    assert_eq!(row.status, RequestStatus::Running);
    assert_eq!(row.session_id_used, used);
    assert_eq!(row.started_at.as_deref(), Some(row.created_at.as_str()));
    assert_eq!(db.interrupt_unfinished().await.unwrap(), vec![(r.id, CH)]);
}

#[tokio::test]
async fn a_request_moves_from_queued_to_running_to_done() {
    let db = db_with_session("api").await;
    let r = new_request(CH, "api", None);
    db.insert_request(&r).await.unwrap();
    let (used, returned, error) = (
        ClaudeSessionId::new_random(),
        ClaudeSessionId::new_random(),
        ErrorId::new(),
    );
    db.mark_request_running(r.id, Some(used)).await.unwrap();
    let row = db.request(r.id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.session_id_used),
        (RequestStatus::Running, Some(used))
    );
    assert!(row.started_at.is_some());
    let f = RequestFinish {
        status: RequestStatus::Failed,
        session_id_returned: Some(returned),
        duration_ms: Some(1500),
        claude_duration_ms: Some(1200),
        cost_usd: Some(0.03),
        cost_basis: Some(CostBasis::SessionTotal),
        error_id: Some(error.clone()),
        error_kind: Some("cli_exit".into()),
        delivered: Some(false),
    };
    db.finish_request(r.id, &f).await.unwrap();
    let row = db.request(r.id).await.unwrap().unwrap();
    assert_eq!(row.status, RequestStatus::Failed);
    assert_eq!(row.session_id_returned, Some(returned));
    assert_eq!(
        (row.duration_ms, row.claude_duration_ms),
        (Some(1500), Some(1200))
    );
    assert_eq!((row.cost_usd, row.error_id), (Some(0.03), Some(error)));
    assert_eq!(row.error_kind.as_deref(), Some("cli_exit"));
    assert_eq!(row.cost_basis, Some(CostBasis::SessionTotal));
    assert_eq!(row.delivered, Some(false));
    assert!(row.finished_at.unwrap() >= row.started_at.unwrap());
}

#[tokio::test]
async fn a_missing_duration_is_measured_from_creation() {
    let db = db_with_session("api").await;
    let r = new_request(CH, "api", None);
    db.insert_request(&r).await.unwrap();
    sqlx::query("UPDATE requests SET created_at = '2026-01-01T00:00:00.000Z'")
        .execute(db.pool())
        .await
        .unwrap();
    db.finish_request(r.id, &finish(RequestStatus::Done, None))
        .await
        .unwrap();
    let row = db.request(r.id).await.unwrap().unwrap();
    let finished =
        chrono::DateTime::parse_from_rfc3339(row.finished_at.as_deref().unwrap()).unwrap();
    let created = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00.000Z").unwrap();
    let expected = (finished - created).num_milliseconds();
    assert!((row.duration_ms.unwrap() - expected).abs() <= 1, "{row:?}");
}

#[tokio::test]
async fn a_request_needs_its_channel_session_first() {
    let db = Db::in_memory().await.unwrap();
    let err = db
        .insert_request(&new_request(CH, "api", None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::SessionNotFound(c) if c == CH),
        "{err:?}"
    );
    let err = db
        .mark_request_running(RequestId::new(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::RequestNotFound(_)), "{err:?}");
}

#[tokio::test]
async fn resetting_a_session_keeps_the_old_ids_in_its_requests() {
    let db = db_with_session("api").await;
    let old = ClaudeSessionId::new_random();
    db.set_claude_session_id(CH, Some(old)).await.unwrap();
    let r = new_request(CH, "api", Some(old));
    db.insert_request(&r).await.unwrap();
    let mut f = finish(RequestStatus::Done, Some(0.1));
    f.session_id_returned = Some(old);
    db.finish_request(r.id, &f).await.unwrap();
    db.set_claude_session_id(CH, None).await.unwrap();
    let row = db.request(r.id).await.unwrap().unwrap();
    assert_eq!(
        (row.session_id_used, row.session_id_returned),
        (Some(old), Some(old))
    );
    assert_eq!(
        db.session(CH).await.unwrap().unwrap().claude_session_id,
        None
    );
}

#[tokio::test]
async fn interrupt_unfinished_touches_only_queued_and_running_rows() {
    let db = db_with_session("api").await;
    let mut unfinished = Vec::new();
    let mut finished = Vec::new();
    for status in [
        RequestStatus::Queued,
        RequestStatus::Running,
        RequestStatus::Done,
        RequestStatus::Failed,
        RequestStatus::Cancelled,
        RequestStatus::Timeout,
        RequestStatus::Interrupted,
    ] {
        let r = new_request(CH, "api", None);
        db.insert_request(&r).await.unwrap();
        match status {
            RequestStatus::Queued => unfinished.push((r.id, CH)),
            RequestStatus::Running => {
                db.mark_request_running(r.id, None).await.unwrap();
                unfinished.push((r.id, CH));
            }
            other => {
                db.finish_request(r.id, &finish(other, None)).await.unwrap();
                finished.push(db.request(r.id).await.unwrap().unwrap());
            }
        }
    }
    let mut changed = db.interrupt_unfinished().await.unwrap();
    changed.sort_by_key(|(id, _)| id.to_string());
    unfinished.sort_by_key(|(id, _)| id.to_string());
    assert_eq!(changed, unfinished);
    for (id, _) in &unfinished {
        let row = db.request(*id).await.unwrap().unwrap();
        assert_eq!(row.status, RequestStatus::Interrupted);
        assert!(row.finished_at.is_some() && row.duration_ms.is_some());
    }
    for before in finished {
        assert_eq!(db.request(before.id).await.unwrap().unwrap(), before);
    }
    assert!(db.interrupt_unfinished().await.unwrap().is_empty());
}

#[tokio::test]
async fn interrupting_one_channel_leaves_the_others_alone() {
    let db = db_with_session("api").await;
    let other = ChannelId(CH.get() + 1);
    db.ensure_session(other, &ProjectName::new("api"))
        .await
        .unwrap();
    let mine = new_request(CH, "api", None);
    let theirs = new_request(other, "api", None);
    db.insert_request(&mine).await.unwrap();
    db.insert_request(&theirs).await.unwrap();
    db.mark_request_running(mine.id, None).await.unwrap();
    assert_eq!(db.interrupt_unfinished_in(CH).await.unwrap(), 1);
    let status = |id| {
        let db = db.clone();
        async move { db.request(id).await.unwrap().unwrap().status }
    };
    assert_eq!(status(mine.id).await, RequestStatus::Interrupted);
    assert_eq!(status(theirs.id).await, RequestStatus::Queued);
    assert_eq!(db.interrupt_unfinished_in(CH).await.unwrap(), 0);
}

#[tokio::test]
async fn interrupting_uses_the_unfinished_index_among_100k_requests() {
    let db = db_with_session("api").await;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
         INSERT INTO requests (id, channel_id, user_id, project, status, created_at, finished_at)
         SELECT printf('00000000-0000-4000-8000-%012d', i), '42', '7', 'api', 'done',
                '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z'
         FROM n",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let stuck = new_request(CH, "api", None);
    db.insert_request(&stuck).await.unwrap();
    let plan: Vec<String> = sqlx::query(
        "EXPLAIN QUERY PLAN UPDATE requests SET status = 'interrupted'
         WHERE status IN ('queued', 'running')",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
    .collect();
    let plan = plan.join(" | ");
    assert!(plan.contains("requests_unfinished"), "plan: {plan}");
    let started = std::time::Instant::now();
    let changed = db.interrupt_unfinished().await.unwrap();
    eprintln!(
        "interrupt_unfinished over 100001 rows: {:?}",
        started.elapsed()
    );
    assert_eq!(changed, vec![(stuck.id, CH)]);
    assert_eq!(db.count_requests().await.unwrap(), 100_001);
}

#[tokio::test]
async fn cost_totals_sum_per_channel_and_per_project() {
    let db = db_with_session("api").await;
    let other = ChannelId(43);
    db.ensure_session(other, &ProjectName::new("api"))
        .await
        .unwrap();
    let elsewhere = ChannelId(44);
    db.ensure_session(elsewhere, &ProjectName::new("web"))
        .await
        .unwrap();
    for (ch, project, cost) in [
        (CH, "api", Some(0.5)),
        (CH, "api", None),
        (other, "api", Some(0.25)),
        (elsewhere, "web", Some(9.0)),
    ] {
        let r = new_request(ch, project, None);
        db.insert_request(&r).await.unwrap();
        db.finish_request(r.id, &finish(RequestStatus::Done, cost))
            .await
            .unwrap();
    }
    let totals = db.cost_totals(CH, &ProjectName::new("api")).await.unwrap();
    assert_eq!((totals.channel_requests, totals.project_requests), (2, 3));
    assert!((totals.channel_cost_usd - 0.5).abs() < 1e-9);
    assert!((totals.project_cost_usd - 0.75).abs() < 1e-9);
    let empty = db
        .cost_totals(ChannelId(99), &ProjectName::new("none"))
        .await
        .unwrap();
    assert_eq!(empty, CostTotals::default());
    assert_eq!(db.count_requests().await.unwrap(), 4);
}

#[tokio::test]
async fn a_hand_edited_session_id_in_a_request_reads_as_none() {
    let db = db_with_session("api").await;
    let r = new_request(CH, "api", Some(ClaudeSessionId::new_random()));
    db.insert_request(&r).await.unwrap();
    sqlx::query("UPDATE requests SET session_id_used = 'nonsense'")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        db.request(r.id).await.unwrap().unwrap().session_id_used,
        None
    );
}

#[tokio::test]
async fn the_schema_refuses_unknown_statuses_and_has_no_message_text() {
    let db = db_with_session("api").await;
    let bad = sqlx::query(
        "INSERT INTO requests (id, channel_id, user_id, project, status, created_at)
         VALUES ('x', '42', '7', 'api', 'sleeping', 'now')",
    )
    .execute(db.pool())
    .await;
    assert!(bad.is_err());
    let bad_basis = sqlx::query(
        "INSERT INTO requests (id, channel_id, user_id, project, status, created_at, cost_basis)
         VALUES ('y', '42', '7', 'api', 'done', 'now', 'guess')",
    )
    .execute(db.pool())
    .await;
    assert!(bad_basis.is_err());
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('requests') ORDER BY cid")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(columns.len(), 18, "{columns:?}");
    assert!(
        !columns
            .iter()
            .any(|c| c.contains("text") || c.contains("content"))
    );
}

#[tokio::test]
async fn concurrent_writers_on_a_file_database_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("busy.db").display());
    let db = Db::connect(&url).await.unwrap();
    let (tasks, writes) = (8u64, 50);
    let handles: Vec<_> = (1..=tasks)
        .map(|t| {
            let db = db.clone();
            tokio::spawn(async move {
                let ch = ChannelId(t);
                db.ensure_session(ch, &ProjectName::new("api")).await?;
                for _ in 0..writes {
                    let r = new_request(ch, "api", None);
                    db.insert_request(&r).await?;
                    db.mark_request_running(r.id, None).await?;
                    // As a session ends a turn: the request and the counters together.
                    let turn = Turn {
                        channel: ch,
                        session: SessionChange::Keep,
                        cost_usd: 0.01,
                        error_id: None,
                    };
                    let done = finish(RequestStatus::Done, Some(0.01));
                    db.end_turn(&turn, r.id, &done).await?;
                }
                Ok::<_, DbError>(())
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert_eq!(db.count_requests().await.unwrap(), (tasks * writes) as i64);
    for s in db.list_sessions().await.unwrap() {
        assert_eq!(s.message_count, writes as i64);
    }
    db.close().await;
}

#[tokio::test]
async fn a_discord_message_gets_one_request_row_only() {
    let db = db_with_session("api").await;
    let first = new_request(CH, "api", None);
    db.insert_running_request(&first).await.unwrap();
    let again = RequestStart {
        id: RequestId::new(),
        ..first.clone()
    };
    let err = db.insert_request(&again).await.unwrap_err();
    assert!(
        matches!(err, DbError::MessageSeen(m) if m == first.message_id),
        "{err}"
    );
    assert!(db.request(again.id).await.unwrap().is_none());
}

#[tokio::test]
async fn delivery_is_noted_after_the_end_and_keeps_the_runs_error_id() {
    let db = db_with_session("api").await;
    let r = new_request(CH, "api", None);
    db.insert_running_request(&r).await.unwrap();
    let run_error = ErrorId::new();
    let ended = RequestFinish {
        error_id: Some(run_error.clone()),
        ..finish(RequestStatus::Failed, Some(0.01))
    };
    db.finish_request(r.id, &ended).await.unwrap();
    assert_eq!(db.request(r.id).await.unwrap().unwrap().delivered, None);

    let notice = ErrorId::new();
    db.record_delivery(r.id, false, Some(&notice))
        .await
        .unwrap();
    let row = db.request(r.id).await.unwrap().unwrap();
    assert_eq!(row.delivered, Some(false));
    assert_eq!(row.error_id, Some(run_error), "the run's own id stays");

    let answered = new_request(CH, "api", None);
    db.insert_running_request(&answered).await.unwrap();
    db.finish_request(answered.id, &finish(RequestStatus::Done, Some(0.01)))
        .await
        .unwrap();
    db.record_delivery(answered.id, false, Some(&notice))
        .await
        .unwrap();
    let row = db.request(answered.id).await.unwrap().unwrap();
    assert_eq!(row.error_id, Some(notice), "the notice's id is the row's");

    let unknown = db.record_delivery(RequestId::new(), true, None).await;
    assert!(
        matches!(unknown, Err(DbError::RequestNotFound(_))),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn spend_since_sums_all_the_project_and_the_users_share_finished_after_the_moment() {
    let db = db_with_session("api").await;
    let elsewhere = ChannelId(44);
    db.ensure_session(elsewhere, &ProjectName::new("web"))
        .await
        .unwrap();
    let before = now_utc();
    for (ch, project, user, cost) in [
        (CH, "api", USER, 0.5),
        (CH, "api", UserId(77), 0.25),
        (elsewhere, "web", USER, 2.0),
    ] {
        let mut r = new_request(ch, project, None);
        r.user_id = user;
        db.insert_request(&r).await.unwrap();
        db.finish_request(r.id, &finish(RequestStatus::Done, Some(cost)))
            .await
            .unwrap();
    }
    let spend = db
        .spend_since(&before, &ProjectName::new("api"), USER)
        .await
        .unwrap();
    assert!((spend.all_usd - 2.75).abs() < 1e-9, "{spend:?}");
    assert!((spend.project_usd - 0.75).abs() < 1e-9, "{spend:?}");
    assert!((spend.user_usd - 0.5).abs() < 1e-9, "{spend:?}");
    let later = db
        .spend_since("9999-01-01T00:00:00.000Z", &ProjectName::new("api"), USER)
        .await
        .unwrap();
    assert_eq!(later, Spend::default(), "nothing finished after the moment");
}
