//! The end of a turn touches both tables: the request's row, and the
//! session's counters and stored Claude session. One transaction keeps them
//! in step (a crash cannot count a turn whose request still looks
//! unfinished) and commits once instead of two or three times.

use super::requests::finish_request_on;
use super::sessions::record_turn_on;
use super::{Db, DbError, RequestFinish, Turn};
use crate::domain::RequestId;

impl Db {
    /// Records `finish` on `request`, then `turn` on its session, in one
    /// transaction. An unknown request leaves the session untouched; a
    /// session row that has gone missing does not keep the request from
    /// being finished (its error is returned after the commit).
    pub async fn end_turn(
        &self,
        turn: &Turn,
        request: RequestId,
        finish: &RequestFinish,
    ) -> Result<(), DbError> {
        let (turn, finish) = (turn.clone(), finish.clone());
        self.write_atomic("ending a turn", move |conn| {
            Box::pin(async move {
                // First: a failed statement changes nothing, so a request
                // that is not there stops the turn from being counted.
                finish_request_on(conn, request, &finish).await?;
                record_turn_on(conn, &turn).await
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests;
