//! The live status message of a running request: what Claude is doing,
//! for how long, and how many tools it has used. It is posted on the
//! first progress tick (a quick answer needs none), edited when something
//! changed or every `REFRESH_EVERY` so the elapsed time moves, at most
//! once per tick, and deleted after the answer.

use crate::domain::MessageId;
use crate::format::{api_retry_line, progress_line, waiting_line};
use actix::SpawnHandle;
use std::time::{Duration, Instant};

/// Edits are also made this often with no new activity.
pub(super) const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// What a tick asks of Discord.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Tick {
    Post(String),
    Edit(MessageId, String),
    Nothing,
}

pub(super) struct StatusMessage {
    started: Instant,
    message: Option<MessageId>,
    /// The post has been asked for; its id may not be back yet.
    requested: bool,
    tool_count: usize,
    activity: Option<(String, Option<String>)>,
    /// The CLI is retrying Claude's API: attempt and the most it makes.
    api_retry: Option<(u32, u32)>,
    /// Tool calls waiting for an answer in Discord.
    waiting: usize,
    dirty: bool,
    last_edit: Instant,
    /// The actor's timer that calls `tick`.
    pub ticker: Option<SpawnHandle>,
}

impl StatusMessage {
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            message: None,
            requested: false,
            tool_count: 0,
            activity: None,
            api_retry: None,
            waiting: 0,
            dirty: false,
            last_edit: started,
            ticker: None,
        }
    }

    /// The posted message, once Discord returned its id.
    pub fn message(&self) -> Option<MessageId> {
        self.message
    }

    pub fn posted(&mut self, message: Option<MessageId>) {
        self.message = message;
    }

    pub fn tool_used(&mut self, name: String, target: Option<String>) {
        self.tool_count += 1;
        self.activity = Some((name, target));
        self.api_retry = None;
        self.dirty = true;
    }

    pub fn api_retrying(&mut self, attempt: u32, max_retries: u32) {
        self.api_retry = Some((attempt, max_retries));
        self.dirty = true;
    }

    /// A tool call waits for an answer in Discord.
    pub fn asking(&mut self) {
        self.waiting += 1;
        self.dirty = true;
    }

    /// An answer came back.
    pub fn answered(&mut self) {
        self.waiting = self.waiting.saturating_sub(1);
        self.dirty = true;
    }

    /// Claude is answering again after retries.
    pub fn api_answered(&mut self) {
        if self.api_retry.take().is_some() {
            self.dirty = true;
        }
    }

    /// One tick of the ticker, at `now`.
    pub fn tick(&mut self, now: Instant) -> Tick {
        let Some(message) = self.message else {
            if self.requested {
                return Tick::Nothing;
            }
            self.requested = true;
            return Tick::Post(self.text(now));
        };
        if !self.dirty && now.duration_since(self.last_edit) < REFRESH_EVERY {
            return Tick::Nothing;
        }
        self.dirty = false;
        self.last_edit = now;
        Tick::Edit(message, self.text(now))
    }

    fn text(&self, now: Instant) -> String {
        let elapsed = now.duration_since(self.started);
        if self.waiting > 0 {
            return waiting_line(self.waiting, elapsed);
        }
        if let Some((attempt, max)) = self.api_retry {
            return api_retry_line(attempt, max, elapsed);
        }
        let activity = self
            .activity
            .as_ref()
            .map(|(tool, target)| (tool.as_str(), target.as_deref()));
        progress_line(activity, now.duration_since(self.started), self.tool_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: MessageId = MessageId(77);

    fn posted_at(start: Instant) -> StatusMessage {
        let mut status = StatusMessage::new(start);
        assert!(matches!(status.tick(start), Tick::Post(_)));
        status.posted(Some(ID));
        status
    }

    #[test]
    fn the_first_tick_posts_once_even_before_the_id_is_back() {
        let start = Instant::now();
        let mut status = StatusMessage::new(start);
        assert!(matches!(status.tick(start), Tick::Post(_)));
        assert_eq!(status.tick(start + Duration::from_secs(2)), Tick::Nothing);
        assert_eq!(status.message(), None);
    }

    #[test]
    fn a_tool_makes_the_next_tick_edit_and_only_that_one() {
        let start = Instant::now();
        let mut status = posted_at(start);
        status.tool_used("Read".into(), Some("src/main.rs".into()));
        let now = start + Duration::from_secs(2);
        let Tick::Edit(message, text) = status.tick(now) else {
            panic!("expected an edit");
        };
        assert_eq!(message, ID);
        assert!(
            text.contains("Read") && text.contains("src/main.rs"),
            "{text}"
        );
        assert_eq!(status.tick(now + Duration::from_secs(2)), Tick::Nothing);
    }

    #[test]
    fn with_nothing_new_it_edits_every_refresh_so_time_moves() {
        let start = Instant::now();
        let mut status = posted_at(start);
        let early = start + REFRESH_EVERY - Duration::from_millis(1);
        assert_eq!(status.tick(early), Tick::Nothing);
        assert!(matches!(status.tick(start + REFRESH_EVERY), Tick::Edit(..)));
    }

    #[test]
    fn tools_are_counted() {
        let start = Instant::now();
        let mut status = posted_at(start);
        status.tool_used("Bash".into(), None);
        status.tool_used("Edit".into(), Some("a.rs".into()));
        let Tick::Edit(_, text) = status.tick(start + Duration::from_secs(4)) else {
            panic!("expected an edit");
        };
        assert_eq!(
            text,
            progress_line(Some(("Edit", Some("a.rs"))), Duration::from_secs(4), 2)
        );
    }

    #[test]
    fn api_retries_are_shown_until_claude_answers_again() {
        let start = Instant::now();
        let mut status = posted_at(start);
        status.api_retrying(3, 10);
        let Tick::Edit(_, text) = status.tick(start + Duration::from_secs(2)) else {
            panic!("expected an edit");
        };
        assert!(
            text.contains("busy") && text.contains("retry 3 of 10"),
            "{text}"
        );
        status.api_answered();
        let Tick::Edit(_, text) = status.tick(start + Duration::from_secs(4)) else {
            panic!("expected an edit");
        };
        assert!(!text.contains("retry"), "{text}");
    }

    #[test]
    fn a_waiting_approval_is_shown_until_it_is_answered() {
        let start = Instant::now();
        let mut status = posted_at(start);
        status.asking();
        let Tick::Edit(_, text) = status.tick(start + Duration::from_secs(2)) else {
            panic!("expected an edit");
        };
        assert!(
            text.contains("Waiting for approval of a tool call"),
            "{text}"
        );
        status.answered();
        let Tick::Edit(_, text) = status.tick(start + Duration::from_secs(4)) else {
            panic!("expected an edit");
        };
        assert!(text.starts_with("⏳ Working"), "{text}");
    }

    #[test]
    fn a_refused_post_is_not_asked_for_again() {
        let start = Instant::now();
        let mut status = StatusMessage::new(start);
        assert!(matches!(status.tick(start), Tick::Post(_)));
        status.posted(None);
        status.tool_used("Read".into(), None);
        assert_eq!(status.tick(start + Duration::from_secs(2)), Tick::Nothing);
    }
}
