//! Tests for opening the store: files, folders, URLs, pragmas and errors.

use super::*;
use sqlx::Row;

fn url_for(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

async fn names(db: &Db, kind: &'static str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .bind(kind)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_fresh_file_gets_its_folder_both_tables_and_the_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/data/coordinator.db");
    let db = Db::connect(&url_for(&path)).await.unwrap();
    assert!(path.is_file());
    let tables = names(&db, "table").await;
    assert!(tables.contains(&"sessions".to_string()), "{tables:?}");
    assert!(tables.contains(&"requests".to_string()), "{tables:?}");
    let indexes = names(&db, "index").await;
    for wanted in [
        "requests_by_channel",
        "requests_by_project",
        "requests_unfinished",
    ] {
        assert!(indexes.contains(&wanted.to_string()), "{indexes:?}");
    }
    db.close().await;
}

async fn settings(conn: &mut sqlx::SqliteConnection) -> (String, i64, i64, i64) {
    let mut values = Vec::new();
    for pragma in [
        "PRAGMA busy_timeout",
        "PRAGMA foreign_keys",
        "PRAGMA synchronous",
    ] {
        let row = sqlx::query(pragma).fetch_one(&mut *conn).await.unwrap();
        values.push(row.get::<i64, _>(0));
    }
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    (journal, values[0], values[1], values[2])
}

#[tokio::test]
async fn connections_use_wal_busy_timeout_foreign_keys_and_normal_sync() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&url_for(&dir.path().join("c.db")))
        .await
        .unwrap();
    let expected = ("wal".to_string(), 5000, 1, 1);
    let mut reader = db.pool().acquire().await.unwrap();
    assert_eq!(settings(&mut reader).await, expected);
    let on_writer = db
        .write("reading pragmas", |conn| {
            Box::pin(async { Ok(settings(conn).await) })
        })
        .await;
    assert_eq!(on_writer.unwrap(), expected);
}

#[tokio::test]
async fn a_write_is_visible_to_the_read_pool_once_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&url_for(&dir.path().join("v.db")))
        .await
        .unwrap();
    let ch = ChannelId(7);
    let made = db
        .ensure_session(ch, &crate::domain::ProjectName::new("p"))
        .await;
    assert_eq!(made.unwrap().channel_id, ch);
    db.record_turn(ch, None, 0.5, None).await.unwrap();
    let row = db.session(ch).await.unwrap().unwrap();
    assert_eq!((row.message_count, row.total_cost_usd), (1, 0.5));
}

#[tokio::test]
async fn a_write_after_close_is_an_error_naming_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&url_for(&dir.path().join("x.db")))
        .await
        .unwrap();
    db.close().await;
    let err = db
        .set_model_override(ChannelId(1), Some("opus"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("setting a model override"),
        "{err}"
    );
}

#[tokio::test]
async fn reopening_a_file_keeps_its_rows_and_reapplies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("r.db").display());
    let db = Db::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO sessions (channel_id, project, created_at, updated_at) VALUES ('1', 'p', 'x', 'x')")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    let db = Db::connect(&url).await.unwrap();
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(sessions, 1);
    assert_eq!(applied, MIGRATOR.iter().count() as i64);
}

#[tokio::test]
async fn memory_urls_give_a_migrated_private_database() {
    let a = Db::connect("sqlite::memory:").await.unwrap();
    let b = Db::in_memory().await.unwrap();
    sqlx::query("INSERT INTO sessions (channel_id, project, created_at, updated_at) VALUES ('1', 'p', 'x', 'x')")
        .execute(a.pool())
        .await
        .unwrap();
    let count = |db: Db| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions")
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    assert_eq!(count(a).await, 1);
    assert_eq!(count(b).await, 0);
}

#[tokio::test]
async fn a_path_under_a_regular_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain.txt");
    std::fs::write(&file, "not a folder").unwrap();
    let err = Db::connect(&url_for(&file.join("sub/c.db")))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::CreateFolder { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("plain.txt"), "{message}");
    assert!(message.contains("DATABASE_URL"), "{message}");
}

#[tokio::test]
async fn a_folder_where_the_file_should_be_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let err = Db::connect(&url_for(dir.path())).await.unwrap_err();
    assert!(matches!(err, DbError::CannotOpen { .. }), "{err:?}");
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "this is a text file, not SQLite ".repeat(100)).unwrap();
    let err = Db::connect(&url_for(&path)).await.unwrap_err();
    assert!(matches!(err, DbError::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.db"));
}

#[tokio::test]
async fn a_read_only_database_is_reported_as_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    std::fs::write(&path, "").unwrap();
    let err = Db::connect(&format!("{}?mode=ro", url_for(&path)))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("ro.db"));
}

#[tokio::test]
async fn urls_for_other_databases_are_refused() {
    for url in ["postgres://localhost/db", "sqlite:", "data/coordinator.db"] {
        let err = Db::connect(url).await.unwrap_err();
        assert!(matches!(err, DbError::BadUrl { .. }), "{url}: {err:?}");
    }
}

#[test]
fn timestamps_are_iso_8601_utc_with_milliseconds() {
    let now = now_utc();
    let parsed = chrono::DateTime::parse_from_rfc3339(&now).unwrap();
    assert_eq!(parsed.offset().local_minus_utc(), 0);
    assert_eq!(now.len(), "2026-11-25T19:33:36.123Z".len());
    assert!(now.ends_with('Z'));
}

fn request_in(ch: ChannelId) -> crate::db::RequestStart {
    crate::db::RequestStart {
        id: RequestId::new(),
        message_id: crate::db::unique_message_id(),
        channel_id: ch,
        user_id: crate::domain::UserId(3),
        project: crate::domain::ProjectName::new("p"),
        session_id_used: None,
    }
}

/// A database file (so writes go through the writer task) with a session
/// row for `ch`.
async fn file_db_with_session(ch: ChannelId) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&url_for(&dir.path().join("w.db")))
        .await
        .unwrap();
    db.ensure_session(ch, &crate::domain::ProjectName::new("p"))
        .await
        .unwrap();
    (dir, db)
}

#[tokio::test]
async fn writes_queued_together_commit_together_and_a_failing_one_fails_alone() {
    let ch = ChannelId(9);
    let (_dir, db) = file_db_with_session(ch).await;
    let good: Vec<_> = (0..20).map(|_| request_in(ch)).collect();
    // No session row for channel 10: the foreign key refuses this one.
    let orphan = request_in(ChannelId(10));
    // Polled together on this one thread, all reach the writer before it
    // runs, so they share a transaction.
    let (results, refused) = tokio::join!(
        futures_util::future::join_all(good.iter().map(|r| db.insert_request(r))),
        db.insert_request(&orphan),
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(
        matches!(refused, Err(DbError::SessionNotFound(c)) if c == ChannelId(10)),
        "{refused:?}"
    );
    for r in &good {
        assert!(db.request(r.id).await.unwrap().is_some());
    }
    assert_eq!(db.request(orphan.id).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_is_readable_once_it_returns_under_concurrent_load() {
    let ch = ChannelId(11);
    let (_dir, db) = file_db_with_session(ch).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                for _ in 0..25 {
                    let r = request_in(ch);
                    db.insert_request(&r).await.unwrap();
                    let stored = db.request(r.id).await.unwrap();
                    assert_eq!(stored.map(|s| s.id), Some(r.id));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(db.count_requests().await.unwrap(), 400);
}

#[tokio::test]
async fn after_the_disk_was_full_later_writes_land_again() {
    let ch = ChannelId(9);
    let (_dir, db) = file_db_with_session(ch).await;
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(db.pool())
        .await
        .unwrap();
    // SQLITE_FULL for real: the writer's connection may not grow the file.
    db.execute(
        "capping the file",
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "PRAGMA max_page_count = {pages}"
        ))),
    )
    .await
    .unwrap();
    let burst: Vec<_> = (0..400).map(|_| request_in(ch)).collect();
    let results = futures_util::future::join_all(burst.iter().map(|r| db.insert_request(r))).await;
    assert!(
        results.iter().any(Result::is_err),
        "the cap made no write fail"
    );
    let mut lost = 0;
    for (r, result) in burst.iter().zip(&results) {
        if result.is_ok() && db.request(r.id).await.unwrap().is_none() {
            lost += 1;
        }
    }
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(
        lost, 0,
        "{lost} writes said Ok but are not stored ({failed} failed)"
    );
    // The cause goes away, as when the disk is freed.
    let _ = db
        .execute(
            "lifting the cap",
            sqlx::query("PRAGMA max_page_count = 1073741823"),
        )
        .await;
    let later = request_in(ch);
    db.insert_request(&later).await.unwrap();
    let seen = db.request(later.id).await.unwrap();
    assert!(
        seen.is_some(),
        "a write after the fault is not visible to readers"
    );
}

/// A real full filesystem: a 2 MiB tmpfs (needs root; skipped otherwise).
#[tokio::test]
async fn after_a_full_filesystem_later_writes_land_again() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIPPED after_a_full_filesystem_later_writes_land_again: cannot mount a tmpfs");
        return;
    }
    let result = full_filesystem_round(dir.path()).await;
    let _ = std::process::Command::new("umount")
        .arg(dir.path())
        .status();
    result.unwrap();
}

async fn full_filesystem_round(root: &Path) -> Result<(), String> {
    let ch = ChannelId(9);
    let db = Db::connect(&url_for(&root.join("w.db")))
        .await
        .map_err(|e| e.to_string())?;
    db.ensure_session(ch, &crate::domain::ProjectName::new("p"))
        .await
        .map_err(|e| e.to_string())?;
    let filler = root.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 4 * 1024 * 1024]);
    let burst: Vec<_> = (0..2000).map(|_| request_in(ch)).collect();
    let results = futures_util::future::join_all(burst.iter().map(|r| db.insert_request(r))).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    std::fs::remove_file(&filler).map_err(|e| e.to_string())?;
    let mut lost = 0;
    for (r, result) in burst.iter().zip(&results) {
        if result.is_ok() && db.request(r.id).await.map_err(|e| e.to_string())?.is_none() {
            lost += 1;
        }
    }
    let later = request_in(ch);
    let wrote = db.insert_request(&later).await;
    let seen = db
        .request(later.id)
        .await
        .map_err(|e| e.to_string())?
        .is_some();
    db.close().await;
    if failed == 0 {
        return Err("the full filesystem made no write fail".into());
    }
    if lost > 0 || wrote.is_err() || !seen {
        return Err(format!(
            "failed {failed}, lost {lost}, later write {wrote:?}, seen {seen}"
        ));
    }
    Ok(())
}
