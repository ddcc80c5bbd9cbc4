//! Runs that go wrong: Claude's error answered with an id that leads to the
//! log record and the request row; a run past its timeout is stopped.

use super::{Daemon, Options};
use crate::helpers::process_is_gone;

/// The id inside "(error id `abcd1234`)".
fn error_id_in(text: &str) -> Option<&str> {
    let start = text.find("error id `")? + "error id `".len();
    text.get(start..start + 8)
}

#[tokio::test]
async fn a_claude_error_is_answered_with_an_id_found_in_the_log_and_the_row() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "break FAKE:error").await;
    let posts = d.reply_to(d.alpha, asked).await;
    let id = error_id_in(&posts[0].content)
        .unwrap_or_else(|| panic!("no error id in {:?}", posts[0].content))
        .to_string();
    assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
    assert!(!posts[0].content.contains("EACCES"), "no CLI output leaks");

    let record = d
        .wait_log(|r| r["msg"] == "request failed" && r["error_id"] == id.as_str())
        .await;
    assert_eq!(record["channel_id"], d.alpha);
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "failed");
    assert_eq!(
        rows[0].error_id.as_ref().map(|e| e.as_str()),
        Some(id.as_str())
    );
    assert_eq!(record["request_id"], rows[0].id.to_string());
}

#[tokio::test]
async fn a_run_past_the_project_timeout_is_stopped_and_said_to_take_too_long() {
    let d = Daemon::start(Options {
        alpha_timeout_secs: Some(1),
        ..Options::default()
    })
    .await;
    let asked = d.say(d.alpha, d.alice, "forever FAKE:hang").await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(
        posts[0].content.contains("took too long"),
        "{}",
        posts[0].content
    );
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "timeout");
    let pid = d.cli.record()["pid"].as_i64().expect("the fake CLI's pid") as i32;
    assert!(
        process_is_gone(pid).await,
        "the fake CLI {pid} is still alive"
    );
}

#[tokio::test]
async fn a_refused_status_message_or_typing_does_not_stop_the_answer() {
    let d = Daemon::start(Options::default()).await;
    let typing = format!("/channels/{}/typing", d.alpha);
    d.fake.fail_next("POST", &typing, 403);
    d.fake
        .fail_next("POST", &format!("/channels/{}/messages", d.alpha), 403);
    // Slow enough for a status message: it is the post that is refused.
    let asked = d.say(d.alpha, d.alice, "FAKE:slow=2500 hello").await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(posts[0].content.contains("all tests pass"), "{posts:#?}");
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "done");

    d.wait_log(|r| r["msg"] == "request finished").await;
    d.wait_log(|r| r["msg"] == "request failed").await;
    d.wait_log(|r| r["msg"] == "Discord refused a request" && r["what"] == "typing")
        .await;
    let failures: Vec<_> = d
        .log_records()
        .into_iter()
        .filter(|r| r["msg"] == "request failed")
        .collect();
    assert_eq!(
        failures.len(),
        1,
        "one error id for the refused post, none for typing: {:#?}",
        d.log_records()
    );
    assert_eq!(failures[0]["kind"], "discord_error");
}
