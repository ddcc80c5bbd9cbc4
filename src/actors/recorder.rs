//! RecordingDiscord: a stand-in for the Discord actor that records every
//! `Outgoing` so tests can assert on what would have been posted, and await
//! it instead of sleeping. Public because integration tests use it too.
//!
//! Handles: `Outgoing`.

use super::messages::{AskThread, Outgoing, OutgoingError, ThreadIs};
use crate::domain::MessageId;
use actix::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

pub struct RecordingDiscord {
    events: Arc<Mutex<Vec<Outgoing>>>,
    changed: watch::Sender<usize>,
    next_id: u64,
}

/// The test's side of a recorder: read what was sent, or wait for it.
#[derive(Clone)]
pub struct Recording {
    events: Arc<Mutex<Vec<Outgoing>>>,
    changed: watch::Receiver<usize>,
}

impl RecordingDiscord {
    pub fn new() -> (Self, Recording) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = watch::channel(0);
        let discord = Self {
            events: events.clone(),
            changed: tx,
            next_id: 1_000,
        };
        (
            discord,
            Recording {
                events,
                changed: rx,
            },
        )
    }
}

impl Actor for RecordingDiscord {
    type Context = Context<Self>;
}

impl Handler<Outgoing> for RecordingDiscord {
    type Result = Result<Option<MessageId>, OutgoingError>;

    fn handle(&mut self, msg: Outgoing, _: &mut Self::Context) -> Self::Result {
        let id = matches!(msg, Outgoing::Post { .. } | Outgoing::Prompt { .. }).then(|| {
            self.next_id += 1;
            MessageId(self.next_id)
        });
        let len = {
            let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
            events.push(msg);
            events.len()
        };
        self.changed.send_replace(len);
        Ok(id)
    }
}

/// Every thread is open.
impl Handler<AskThread> for RecordingDiscord {
    type Result = MessageResult<AskThread>;

    fn handle(&mut self, _: AskThread, _: &mut Self::Context) -> Self::Result {
        MessageResult(ThreadIs::Open)
    }
}

impl Recording {
    pub fn events(&self) -> Vec<Outgoing> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until `done` holds for the recorded events, or panics after
    /// `limit` with what was recorded (a safety net, not a sleep).
    pub async fn wait_for(
        &self,
        limit: Duration,
        mut done: impl FnMut(&[Outgoing]) -> bool,
    ) -> Vec<Outgoing> {
        let mut rx = self.changed.clone();
        let waited = tokio::time::timeout(limit, async {
            loop {
                let events = self.events();
                if done(&events) {
                    return events;
                }
                if rx.changed().await.is_err() {
                    return self.events();
                }
            }
        })
        .await;
        match waited {
            Ok(events) => events,
            Err(_) => panic!("timed out; recorded so far: {:#?}", self.events()),
        }
    }
}
