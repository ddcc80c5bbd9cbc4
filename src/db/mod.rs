//! The SQLite store: opening the database file, running the embedded
//! migrations, and the error type every query returns. Queries live beside
//! this file, one module per table.

mod approvals;
mod lock;
mod requests;
mod sessions;
mod turns;
mod writer;

pub use approvals::{ApprovalStart, Decision, StalePrompt};
pub use lock::{DaemonLock, LockError};
pub use requests::{CostTotals, RequestFinish, RequestRow, RequestStart};
pub use sessions::{SessionChange, SessionRow, Turn};

use crate::domain::{ChannelId, MessageId, RequestId};
use sqlx::Connection;
use sqlx::error::DatabaseError;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use writer::{WriteFuture, Writer};

/// A statement with every value bound (and owned), ready for the writer.
pub(crate) type Statement =
    sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reads only: writes have a connection of their own (see `writer`).
const FILE_POOL_SIZE: u32 = 4;

// Primary SQLite result codes (the low byte of an extended code).
const SQLITE_READONLY: i32 = 8;
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_NOTADB: i32 = 26;

/// Why the store could not be opened or a query failed. Messages are for the
/// operator: they name the file and say what to change.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "DATABASE_URL `{url}` is not a usable SQLite URL ({reason}); use e.g. sqlite:data/coordinator.db or sqlite:///absolute/path.db"
    )]
    BadUrl { url: String, reason: String },
    #[error(
        "cannot create the database folder {}: {source}; create it yourself or point DATABASE_URL at a writable place",
        .path.display()
    )]
    CreateFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot open the database file {}: {source}; it must be a file (not a folder) the daemon's user can read and write",
        .path.display()
    )]
    CannotOpen { path: PathBuf, source: sqlx::Error },
    #[error(
        "the database file {} is read-only ({source}); give the daemon's user write access to the file and its folder",
        .path.display()
    )]
    ReadOnly { path: PathBuf, source: sqlx::Error },
    #[error(
        "{} is not an SQLite database or is damaged ({source}); move it aside or point DATABASE_URL at another file",
        .path.display()
    )]
    NotADatabase { path: PathBuf, source: sqlx::Error },
    #[error(
        "migrating the database {} failed: {source}; if a newer claude-coordinator made this file, run that version or start from a fresh file",
        .path.display()
    )]
    Migration { path: PathBuf, source: MigrateError },
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("Discord message {0} already has a request")]
    MessageSeen(MessageId),
    #[error("no session is stored for channel {0}; call ensure_session first")]
    SessionNotFound(ChannelId),
    #[error("no request {0} is stored")]
    RequestNotFound(RequestId),
    #[error("the database holds an invalid value: {0}")]
    Corrupt(String),
    #[error("database query failed while {what}: {source}")]
    Query {
        what: &'static str,
        source: sqlx::Error,
    },
    #[error("database commit failed after {what}: {reason}")]
    Commit { what: &'static str, reason: String },
}

impl DbError {
    pub(crate) fn query(what: &'static str) -> impl FnOnce(sqlx::Error) -> DbError {
        move |source| DbError::Query { what, source }
    }
}

/// The store. Cheap to clone: clones share the read pool and the writer.
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
    writer: Arc<Writer>,
}

impl Db {
    /// Opens the database named by `url` (`sqlite:data/coordinator.db`,
    /// `sqlite:///abs/path.db` or `sqlite::memory:`), creating the file and
    /// its folder if missing, in WAL mode with a 5 s busy timeout, foreign
    /// keys on and `synchronous=NORMAL`, then applies pending migrations.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        if is_memory_url(url) {
            return Db::in_memory().await;
        }
        let (options, path) = file_options(url)?;
        make_folder_of(&path)?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(FILE_POOL_SIZE)
            .connect_with(options.clone())
            .await
            .map_err(|e| open_error(&path, e))?;
        let mut db = Db::migrated(pool, &path).await?;
        match SqliteConnection::connect_with(&options).await {
            Ok(conn) => db.writer = Arc::new(Writer::start(conn, options)),
            Err(e) => {
                db.close().await;
                return Err(open_error(&path, e));
            }
        }
        Ok(db)
    }

    /// Takes the one-daemon lock of the database `url` names (see
    /// `lock`); an in-memory database needs none.
    pub fn lock_for_daemon(url: &str) -> Result<Option<DaemonLock>, DbError> {
        if is_memory_url(url) {
            return Ok(None);
        }
        let (_, path) = file_options(url)?;
        make_folder_of(&path)?;
        Ok(Some(DaemonLock::acquire(&path)?))
    }

    /// A private database in memory: one connection that never expires, since
    /// the data lives only as long as that connection.
    pub async fn in_memory() -> Result<Db, DbError> {
        let path = Path::new(":memory:");
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|e| open_error(path, e))?
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|e| open_error(path, e))?;
        Db::migrated(pool, path).await
    }

    async fn migrated(pool: SqlitePool, path: &Path) -> Result<Db, DbError> {
        if let Err(source) = MIGRATOR.run(&pool).await {
            pool.close().await;
            return Err(migration_error(path, source));
        }
        Ok(Db {
            pool,
            writer: Arc::new(Writer::pooled()),
        })
    }

    /// Waits for in-flight queries, then closes every connection.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Runs `op` on the writer's connection and returns once it is
    /// committed; `what` names the write in errors. `op` must not open a
    /// transaction: see `write_atomic`.
    pub(crate) async fn write<T, F>(&self, what: &'static str, op: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        self.writer.write(&self.pool, what, false, op).await
    }

    /// `write` for an `op` of several statements that must commit together:
    /// it always runs in a transaction (alone, or its batch's). A statement
    /// that fails leaves the earlier ones in place, so order them so that
    /// this is harmless.
    pub(crate) async fn write_atomic<T, F>(&self, what: &'static str, op: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        self.writer.write(&self.pool, what, true, op).await
    }

    /// Runs one fully bound write that returns rows (`RETURNING`) on the
    /// writer; returns them.
    pub(crate) async fn fetch_written<T>(
        &self,
        what: &'static str,
        statement: sqlx::query::QueryAs<'static, sqlx::Sqlite, T, sqlx::sqlite::SqliteArguments>,
    ) -> Result<Vec<T>, DbError>
    where
        T: Send + Unpin + 'static + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    {
        self.write(what, move |conn| {
            Box::pin(async move {
                statement
                    .fetch_all(conn)
                    .await
                    .map_err(DbError::query(what))
            })
        })
        .await
    }

    /// Runs one fully bound statement on the writer; returns how many rows
    /// it changed.
    pub(crate) async fn execute(
        &self,
        what: &'static str,
        statement: Statement,
    ) -> Result<u64, DbError> {
        self.write(what, move |conn| {
            Box::pin(async move {
                let done = statement.execute(conn).await;
                done.map(|d| d.rows_affected())
                    .map_err(DbError::query(what))
            })
        })
        .await
    }

    /// Raw reads for tests and benches that look at the tables directly.
    #[cfg(any(test, feature = "testing"))]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// The current time as the store writes it: ISO-8601 UTC with milliseconds,
/// which also sorts correctly as text.
pub(crate) fn now_utc() -> String {
    store_time(chrono::Utc::now())
}

fn store_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// 00:00 UTC of `now`'s day, as the store writes times: where today's
/// spend starts (`Db::spend_since`).
pub fn start_of_day(now: chrono::DateTime<chrono::Utc>) -> String {
    store_time(crate::domain::start_of_utc_day(now))
}

/// Creates the folder the database file goes in.
fn make_folder_of(path: &Path) -> Result<(), DbError> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|source| DbError::CreateFolder {
            path: parent.to_path_buf(),
            source,
        }),
        None => Ok(()),
    }
}

fn is_memory_url(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

/// The URL's options (so `?mode=ro` and friends still apply) and its file.
fn file_options(url: &str) -> Result<(SqliteConnectOptions, PathBuf), DbError> {
    let bad = |reason: &str| DbError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    if !url.starts_with("sqlite:") {
        return Err(bad("it must start with `sqlite:`"));
    }
    let options = SqliteConnectOptions::from_str(url).map_err(|e| bad(&e.to_string()))?;
    let path = options.get_filename().to_path_buf();
    if path.as_os_str().is_empty() {
        return Err(bad("it names no file"));
    }
    Ok((options, path))
}

fn primary_code(e: &dyn DatabaseError) -> Option<i32> {
    e.code()?.parse::<i32>().ok().map(|c| c & 0xff)
}

fn open_error(path: &Path, source: sqlx::Error) -> DbError {
    let path = path.to_path_buf();
    let code = match &source {
        sqlx::Error::Database(e) => primary_code(e.as_ref()),
        _ => None,
    };
    match code {
        Some(SQLITE_READONLY) => DbError::ReadOnly { path, source },
        Some(SQLITE_NOTADB | SQLITE_CORRUPT) => DbError::NotADatabase { path, source },
        _ => DbError::CannotOpen { path, source },
    }
}

fn migration_error(path: &Path, source: MigrateError) -> DbError {
    match source {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) if is_file_problem(&e) => {
            open_error(path, e)
        }
        source => DbError::Migration {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// A failure that comes from the file itself rather than from a migration.
fn is_file_problem(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = e else {
        return false;
    };
    matches!(
        primary_code(e.as_ref()),
        Some(SQLITE_READONLY | SQLITE_NOTADB | SQLITE_CORRUPT | SQLITE_CANTOPEN)
    )
}

/// A message id no other row of this test binary has.
#[cfg(test)]
pub(crate) fn unique_message_id() -> MessageId {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    MessageId(NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests;
