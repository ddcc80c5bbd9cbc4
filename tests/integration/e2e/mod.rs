//! End to end: the real `claude-coordinator run` binary as a subprocess,
//! talking to the fake Discord over loopback and running the fake CLI
//! through a wrapper script. Each test gets its own fake, daemon, config,
//! database and log folder; the daemon is SIGKILLed on drop.

mod access;
pub mod approvals;
mod attachments;
mod commands;
mod daemon;
mod failures;
mod faults;
mod files;
mod intents;
mod lifecycle;
mod mentions;
mod messages;
mod projects;
mod records;
mod reload;
mod soak;
mod warm;
mod worktrees;

pub use daemon::{Claude, Daemon, Options};

use crate::helpers::FakeCli;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_support::fake_discord::{PostedMessage, RecordedRequest};

pub const LIMIT: Duration = Duration::from_secs(20);
pub const COMMAND_COUNT: usize = 11;

/// The message id a post replies to.
pub fn replies_to(m: &PostedMessage) -> Option<u64> {
    let id = m.message_reference.as_ref()?.get("message_id")?;
    id.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| id.as_u64())
}

/// Discord's "ping nobody" as serenity sends it.
pub fn no_pings() -> Value {
    json!({"parse": [], "roles": [], "users": []})
}

/// Discord's "ping nobody but the user replied to", as serenity sends it.
pub fn notifies_requester() -> Value {
    json!({"parse": [], "roles": [], "users": [], "replied_user": true})
}

/// Every message the bot sent or edited (posts, edits, interaction replies
/// and follow-ups) carried empty allowed_mentions; a post that replies to
/// a message may notify only its author.
pub fn assert_pings_nobody(requests: &[RecordedRequest]) {
    for r in requests {
        let body = match (r.method.as_str(), &r.json) {
            ("POST" | "PATCH", Some(body)) if r.path.ends_with("/callback") => &body["data"],
            ("POST" | "PATCH", Some(body))
                if r.path.contains("/messages") || r.path.starts_with("/webhooks/") =>
            {
                body
            }
            _ => continue,
        };
        let replies = r.method == "POST" && !body["message_reference"].is_null();
        let mentions = &body["allowed_mentions"];
        assert!(
            *mentions == no_pings() || (replies && *mentions == notifies_requester()),
            "{} {} carried {body}",
            r.method,
            r.path
        );
    }
}

/// The argv of every fake CLI run, oldest first.
pub fn argvs(cli: &FakeCli) -> Vec<Vec<String>> {
    cli.records()
        .iter()
        .map(|r| serde_json::from_value(r["argv"].clone()).expect("argv"))
        .collect()
}

pub fn resume_of(argv: &[String]) -> Option<&str> {
    let i = argv.iter().position(|a| a == "--resume")?;
    argv.get(i + 1).map(String::as_str)
}

/// Waits until the process `pid` has exited (or is a zombie nobody reaps).
pub async fn exited(pid: i64) {
    let status = format!("/proc/{pid}/status");
    poll(
        || {
            let text = std::fs::read_to_string(&status).unwrap_or_default();
            (text.is_empty() || text.contains("zombie")).then_some(())
        },
        "the process to exit",
    )
    .await;
}

/// Polls `probe` every 20 ms until it yields, panicking after `LIMIT`.
pub async fn poll<T>(mut probe: impl FnMut() -> Option<T>, what: &str) -> T {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {LIMIT:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn poll_async<T, F: Future<Output = Option<T>>>(probe: impl Fn() -> F, what: &str) -> T {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {LIMIT:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
