//! The one connection every write goes through. SQLite lets one writer in
//! at a time, so writes from several pooled connections only queue on the
//! file lock; one connection behind an async mutex queues them in the
//! process instead, and skips the pool's checkout and return per statement.
//! An in-memory database has a single connection, so there the pool is the
//! writer.

use super::DbError;
use sqlx::Connection;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};
use std::ops::{Deref, DerefMut};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

#[derive(Debug)]
pub(super) enum Writer {
    Own(Mutex<Option<SqliteConnection>>),
    Pooled,
}

/// A connection held for one write (or one transaction).
pub(crate) enum WriteConn<'a> {
    Own(MappedMutexGuard<'a, SqliteConnection>),
    Pooled(PoolConnection<Sqlite>),
}

impl Writer {
    pub(super) async fn acquire(
        &self,
        pool: &SqlitePool,
        what: &'static str,
    ) -> Result<WriteConn<'_>, DbError> {
        match self {
            Writer::Own(conn) => MutexGuard::try_map(conn.lock().await, Option::as_mut)
                .map(WriteConn::Own)
                .map_err(|_| DbError::query(what)(sqlx::Error::PoolClosed)),
            Writer::Pooled => pool
                .acquire()
                .await
                .map(WriteConn::Pooled)
                .map_err(DbError::query(what)),
        }
    }

    /// Waits for a write in progress, then closes the connection; later
    /// writes fail as if the pool were closed.
    pub(super) async fn close(&self) {
        if let Writer::Own(conn) = self
            && let Some(conn) = conn.lock().await.take()
            && let Err(e) = conn.close().await
        {
            tracing::warn!(error = %e, "closing the database writer failed");
        }
    }
}

impl Deref for WriteConn<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match self {
            WriteConn::Own(conn) => conn,
            WriteConn::Pooled(conn) => conn,
        }
    }
}

impl DerefMut for WriteConn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            WriteConn::Own(conn) => conn,
            WriteConn::Pooled(conn) => conn,
        }
    }
}
