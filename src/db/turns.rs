//! The end of a turn touches both tables: the session's counters and
//! stored Claude session, and the request's row. One transaction keeps
//! them in step (a crash cannot count a turn whose request still looks
//! unfinished) and commits once instead of two or three times.

use super::requests::finish_request_on;
use super::sessions::record_turn_on;
use super::{Db, DbError, RequestFinish, Turn};
use crate::domain::RequestId;
use sqlx::Connection;

impl Db {
    /// Records `turn` on its session and `finish` on `request` together. A
    /// session row that has gone missing does not keep the request from
    /// being finished; that error is returned after the commit.
    pub async fn end_turn(
        &self,
        turn: &Turn,
        request: RequestId,
        finish: &RequestFinish,
    ) -> Result<(), DbError> {
        const WHAT: &str = "ending a turn";
        let (turn, finish) = (turn.clone(), finish.clone());
        self.write(WHAT, move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await.map_err(DbError::query(WHAT))?;
                let counted = record_turn_on(&mut tx, &turn).await;
                if let Err(e) = &counted
                    && !matches!(e, DbError::SessionNotFound(_))
                {
                    return counted;
                }
                finish_request_on(&mut tx, request, &finish).await?;
                tx.commit().await.map_err(DbError::query(WHAT))?;
                counted
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests;
