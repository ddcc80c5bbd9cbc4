//! ErrorReporter: gives every failure an 8-character id, logs the full
//! failure as one bunyan record, and returns the text the user may see.
//! The user text never carries paths, stack traces, session ids or CLI
//! output: only what happened, what to do, and the id.
//!
//! Handles: `ReportError`.

use super::messages::{ErrorKind, ReportError, Reported};
use crate::domain::ErrorId;
use actix::prelude::*;

#[derive(Default)]
pub struct ErrorReporter;

impl Actor for ErrorReporter {
    type Context = Context<Self>;
}

impl Handler<ReportError> for ErrorReporter {
    type Result = MessageResult<ReportError>;

    fn handle(&mut self, report: ReportError, _: &mut Self::Context) -> Self::Result {
        MessageResult(report_error(&report))
    }
}

/// The reporter's work without the mailbox, for callers that are not actors.
pub fn report_error(report: &ReportError) -> Reported {
    let error_id = ErrorId::new();
    tracing::error!(
        error_id = %error_id,
        kind = %report.kind,
        channel_id = report.channel.map(|c| c.get()),
        request_id = report.request.map(|r| r.to_string()),
        detail = %report.detail,
        "request failed"
    );
    let user_text = user_text(report.kind, &error_id);
    Reported {
        error_id,
        user_text,
    }
}

/// What happened and what to do, in words a channel member can act on.
pub fn user_text(kind: ErrorKind, id: &ErrorId) -> String {
    let body = match kind {
        ErrorKind::Timeout => {
            "Claude took too long and the run was stopped. Try a smaller request, \
             or ask an admin to raise the project's timeout."
        }
        ErrorKind::ClaudeError => {
            "Claude reported an error and could not finish. Try again in a moment; \
             if it keeps happening, give an admin the error id."
        }
        ErrorKind::ParseError => {
            "Claude's reply could not be read, so nothing was posted. Try again; \
             if it keeps happening, give an admin the error id."
        }
        ErrorKind::ConfigError => {
            "This channel's project is not set up correctly, so Claude could not run. \
             Ask an admin to run `claude-coordinator check`."
        }
        ErrorKind::PermissionError => "You are not allowed to run Claude in this channel.",
        ErrorKind::SessionError => {
            "This channel's session could not be loaded or saved. Try again; \
             if it keeps happening, ask an admin to look at the bot's logs."
        }
        ErrorKind::QueueFull => {
            "This channel's queue is full. Wait for the running requests to finish, \
             or use /cancel, then send your message again."
        }
        ErrorKind::DiscordError => {
            "Discord refused part of the answer. Check the bot's permissions in this \
             channel, then try again."
        }
        ErrorKind::StoreError => {
            "The bot could not save this turn in its history, so its records will miss it. \
             If it keeps happening, give an admin the error id."
        }
        ErrorKind::ApiOverloaded => {
            "Claude's API is overloaded right now, so this was not answered. \
             Try again in a few minutes."
        }
        ErrorKind::ApiRateLimited => {
            "Claude's API is rate limiting this bot's account right now. \
             Try again later, or ask an admin about the account's limits."
        }
        ErrorKind::ApiAuthentication => {
            "Claude's API refused the bot's credentials, so nothing can run. \
             An admin needs to log the Claude CLI in again."
        }
        ErrorKind::ApiUnavailable => {
            "Claude's API failed (a server error), so this was not answered. \
             Try again in a moment."
        }
        ErrorKind::BudgetReached => {
            "This run used up what today's budget had left, so Claude stopped before \
             finishing. /cost shows the budgets; they reset at 00:00 UTC."
        }
    };
    format!("⚠️ {body} (error id `{id}`)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChannelId, RequestId};

    const ALL: [ErrorKind; 14] = [
        ErrorKind::Timeout,
        ErrorKind::ClaudeError,
        ErrorKind::ParseError,
        ErrorKind::ConfigError,
        ErrorKind::PermissionError,
        ErrorKind::SessionError,
        ErrorKind::QueueFull,
        ErrorKind::DiscordError,
        ErrorKind::StoreError,
        ErrorKind::ApiOverloaded,
        ErrorKind::ApiRateLimited,
        ErrorKind::ApiAuthentication,
        ErrorKind::ApiUnavailable,
        ErrorKind::BudgetReached,
    ];

    fn hostile_report(kind: ErrorKind) -> ReportError {
        ReportError {
            kind,
            channel: Some(ChannelId(42)),
            request: Some(RequestId::new()),
            detail: "spawn /usr/local/bin/claude failed at src/claude/runner.rs:88: \
                     No conversation found with session ID: 6f1c2a4e-0b7d-4c1e-9a55-3c2d1e0f9a88 \
                     stack backtrace: 0: std::panicking"
                .into(),
        }
    }

    #[test]
    fn user_text_never_leaks_internals() {
        let forbidden = [
            "/usr",
            "/home",
            "/srv",
            ".rs",
            "src/",
            "backtrace",
            "panicked",
            "6f1c2a4e",
            "session ID",
            "No conversation",
            "stderr",
            "Error:",
            "at line",
        ];
        for kind in ALL {
            let reported = report_error(&hostile_report(kind));
            for f in forbidden {
                assert!(
                    !reported.user_text.contains(f),
                    "{kind}: user text {:?} contains {f:?}",
                    reported.user_text
                );
            }
        }
    }

    #[test]
    fn user_text_carries_the_error_id() {
        for kind in ALL {
            let reported = report_error(&hostile_report(kind));
            assert_eq!(reported.error_id.as_str().len(), 8);
            assert!(reported.user_text.contains(reported.error_id.as_str()));
        }
    }

    #[test]
    fn every_failure_gets_a_fresh_id() {
        let a = report_error(&hostile_report(ErrorKind::Timeout));
        let b = report_error(&hostile_report(ErrorKind::Timeout));
        assert_ne!(a.error_id, b.error_id);
    }

    #[actix_rt::test]
    async fn the_actor_answers_with_the_report() {
        let addr = ErrorReporter.start();
        let reported = addr
            .send(hostile_report(ErrorKind::QueueFull))
            .await
            .unwrap();
        assert!(reported.user_text.contains("queue is full"));
    }
}
