//! The one connection every write goes through, owned by a task of its own
//! (SQLite admits one writer at a time). How one write flows:
//!
//! 1. A `Db` method calls `Writer::write` with a closure that runs its
//!    statements on a connection.
//! 2. The closure is boxed into a job and sent to the task; the caller
//!    awaits a oneshot.
//! 3. The task takes that job and whatever else queued meanwhile (up to
//!    `MAX_BATCH`), opens one transaction, and runs each job in turn.
//! 4. It commits the batch, then answers every caller: its own result, or
//!    the commit's error if the commit failed.
//! 5. So a returned write is visible to readers, and a busy caller never
//!    holds the connection.
//! 6. If the commit failed (a full disk), the task reopens its connection
//!    before the next batch: SQLite may have rolled the transaction back
//!    itself, and sqlx would otherwise nest every later write in a
//!    savepoint of a transaction that never commits.
//!
//! Writes never open transactions themselves (inside a batch that would be
//! a savepoint); a write of several statements asks to be `atomic`
//! instead. An in-memory database has a single connection, so there the
//! pool writes. Why the store is built this way, with figures, is in
//! docs/PERFORMANCE.md.

use super::DbError;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// Writes waiting when the task comes back for more go into one transaction,
/// up to this many.
const MAX_BATCH: usize = 64;

/// One write on the writer's connection, which may be inside a transaction.
pub(crate) type WriteFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, DbError>> + Send + 'c>>;

/// Tells the caller its result once the batch is committed; `Some` carries
/// why the commit failed.
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;
type Job = Box<
    dyn for<'c> FnOnce(
            &'c mut SqliteConnection,
        ) -> Pin<Box<dyn Future<Output = Answer> + Send + 'c>>
        + Send,
>;

enum Command {
    Write { job: Job, atomic: bool },
    Close(oneshot::Sender<()>),
}

/// The way to the writer task; without one, writes take a pooled connection.
#[derive(Debug)]
pub(super) struct Writer {
    jobs: Option<mpsc::UnboundedSender<Command>>,
}

impl Writer {
    /// Starts the task on the current tokio runtime. It ends, closing the
    /// connection, on `close` or when every handle is gone.
    /// `options` reopen the connection when a failed commit has left it
    /// unusable.
    pub(super) fn start(conn: SqliteConnection, options: SqliteConnectOptions) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(serve(conn, options, rx));
        Writer { jobs: Some(tx) }
    }

    /// For a database whose only connection is the read pool's.
    pub(super) fn pooled() -> Writer {
        Writer { jobs: None }
    }

    /// Runs `op` on the connection and answers once it is committed.
    /// `atomic`: run it in a transaction even when nothing shares it.
    pub(super) async fn write<T, F>(
        &self,
        pool: &SqlitePool,
        what: &'static str,
        atomic: bool,
        op: F,
    ) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        let Some(jobs) = &self.jobs else {
            let mut conn = pool.acquire().await.map_err(DbError::query(what))?;
            if !atomic {
                return op(&mut conn).await;
            }
            // As on the task: what `op` wrote before an error still commits.
            let mut tx = conn.begin().await.map_err(DbError::query(what))?;
            let result = op(&mut tx).await;
            tx.commit().await.map_err(DbError::query(what))?;
            return result;
        };
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = op(conn).await;
                let answer: Answer = Box::new(move |failed_commit| {
                    let result = match (result, failed_commit) {
                        (Ok(_), Some(reason)) => Err(DbError::Commit {
                            what,
                            reason: reason.to_string(),
                        }),
                        (result, _) => result,
                    };
                    let _ = tx.send(result);
                });
                answer
            })
        });
        let closed = || DbError::query(what)(sqlx::Error::PoolClosed);
        jobs.send(Command::Write { job, atomic })
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    /// Lets queued writes finish, then closes the connection; later writes
    /// fail as if the pool were closed.
    pub(super) async fn close(&self) {
        if let Some(jobs) = &self.jobs {
            let (tx, rx) = oneshot::channel();
            if jobs.send(Command::Close(tx)).is_ok() {
                let _ = rx.await;
            }
        }
    }
}

async fn serve(
    mut conn: SqliteConnection,
    options: SqliteConnectOptions,
    mut inbox: mpsc::UnboundedReceiver<Command>,
) {
    let mut closing = None;
    while closing.is_none() {
        let Some(first) = inbox.recv().await else {
            break;
        };
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Write { job, atomic } => batch.push((job, atomic)),
                Command::Close(done) => closing = Some(done),
            }
            if closing.is_none() && batch.len() < MAX_BATCH {
                next = inbox.try_recv().ok();
            }
        }
        if run(&mut conn, batch).await == Health::Broken {
            conn = reopen(conn, &options).await;
        }
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the database writer failed");
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Whether the connection can take the next batch.
#[derive(Debug, PartialEq, Eq)]
enum Health {
    Fine,
    /// A commit failed (a full disk, say): SQLite may have rolled the
    /// transaction back itself, and sqlx's count of open transactions no
    /// longer matches, so every later "transaction" would be a savepoint
    /// inside one that never commits.
    Broken,
}

/// Several writes share a transaction, and so does an atomic one alone; a
/// single plain write runs in autocommit.
async fn run(conn: &mut SqliteConnection, batch: Vec<(Job, bool)>) -> Health {
    if batch.len() > 1 || batch.first().is_some_and(|(_, atomic)| *atomic) {
        match conn.begin().await {
            Ok(mut tx) => {
                let mut answers = Vec::with_capacity(batch.len());
                for (job, _) in batch {
                    answers.push(job(&mut tx).await);
                }
                let failed = tx.commit().await.err().map(|e| e.to_string());
                for answer in answers {
                    answer(failed.as_deref());
                }
                if let Some(reason) = failed {
                    tracing::error!(error = %reason, "a batch of writes could not be committed");
                    return Health::Broken;
                }
                return Health::Fine;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot begin a batch of writes; running them one by one")
            }
        }
    }
    for (job, _) in batch {
        job(conn).await(None);
    }
    Health::Fine
}

/// A fresh connection in place of one a failed commit left unusable;
/// if none can be opened yet, the old one with its transaction rolled back.
async fn reopen(old: SqliteConnection, options: &SqliteConnectOptions) -> SqliteConnection {
    let mut old = old;
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut old).await;
    match SqliteConnection::connect_with(options).await {
        Ok(fresh) => {
            let _ = old.close().await;
            tracing::warn!("the database writer reopened its connection after a failed commit");
            fresh
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot reopen the database writer's connection");
            old
        }
    }
}
