//! Tools under the real CLI: a tool use shown in the status message, a
//! denied tool listed after the answer, and cancel (by interrupt, keeping
//! the cost) and timeout ending the CLI together with the tool shell it
//! started (in a session of its own).

use super::World;
use crate::e2e::{Options, poll};
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use test_support::fake_api::{Match, Reply};
use test_support::fake_discord::SlashCommand;

/// Every text the bot posted or edited into a status message.
fn status_texts(w: &World) -> Vec<String> {
    w.d.fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/channels/") && r.path.contains("/messages"))
        .filter_map(|r| r.json.as_ref()?["content"].as_str().map(str::to_string))
        .filter(|text| text.starts_with('⏳'))
        .collect()
}

/// A Read of `src/main.rs` (by absolute path, as the model sends it), then
/// an answer slow enough for the status message's first tick.
async fn read_then_slow_answer(w: &World) -> Vec<String> {
    let project = w.project();
    std::fs::create_dir(project.join("src")).expect("src");
    std::fs::write(project.join("src/main.rs"), "fn main() {}\n").expect("main.rs");
    let path = project.join("src/main.rs").display().to_string();
    w.api
        .push(Reply::tool_use("Read", json!({"file_path": path})));
    let slow = Reply::slow_text("It does nothing yet.", 8, Duration::from_millis(500));
    w.api.push_when(Match::tool_result(), slow);
    let asked = w.d.say(w.d.alpha, w.d.alice, "what does main do?").await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    assert!(
        posts[0].content.contains("It does nothing yet."),
        "{posts:#?}"
    );
    let calls = w.calls(2).await;
    let results = calls[1].last_tool_results();
    let read = results[0]["content"].as_str().unwrap_or_default();
    assert!(
        read.contains("fn main() {}"),
        "the Read failed: {results:?}"
    );
    status_texts(w)
}

#[tokio::test]
async fn a_tool_use_is_shown_in_the_status_message() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    let texts = read_then_slow_answer(&w).await;
    assert!(
        texts
            .iter()
            .any(|t| t.contains("now: Read") && t.contains("main.rs")),
        "{texts:#?}"
    );
}

#[tokio::test]
async fn the_status_message_names_files_relative_to_the_project() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    let texts = read_then_slow_answer(&w).await;
    let host = w.project().display().to_string();
    assert!(texts.iter().all(|t| !t.contains(&host)), "{texts:#?}");
    assert!(
        texts.iter().any(|t| t.contains("`src/main.rs`")),
        "{texts:#?}"
    );
}

#[tokio::test]
async fn a_denied_tool_is_listed_after_the_answer() {
    let Some(w) = World::start(approvals_off()).await else {
        return;
    };
    let touch = json!({"command": "touch x", "description": "Create x"});
    w.api.push(Reply::tool_use("Bash", touch));
    let answer = Reply::text("I was not allowed to create x.");
    w.api.push_when(Match::tool_result(), answer);
    let asked = w.d.say(w.d.alpha, w.d.alice, "create x").await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    let text = &posts[0].content;
    let (answer_at, note_at) = (text.find("I was not allowed"), text.find("🚫"));
    assert!(answer_at < note_at && answer_at.is_some(), "{text}");
    assert!(text.contains("Bash") && text.contains("touch x"), "{text}");
    assert!(!w.project().join("x").exists(), "the denied command ran");
    let calls = w.calls(2).await;
    assert_eq!(calls[1].last_tool_results()[0]["is_error"], true);
}

#[tokio::test]
async fn a_denied_write_is_named_by_its_project_path() {
    let Some(w) = World::start(approvals_off()).await else {
        return;
    };
    let path = w.project().join("src/new.rs").display().to_string();
    let write = json!({"file_path": path, "content": "fn new() {}\n"});
    w.api.push(Reply::tool_use("Write", write));
    w.api
        .push_when(Match::tool_result(), Reply::text("Not allowed."));
    let asked = w.d.say(w.d.alpha, w.d.alice, "write src/new.rs").await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    let text = &posts[0].content;
    assert!(text.contains("🚫") && text.contains("src/new.rs"), "{text}");
    assert!(
        !text.contains("📝"),
        "a denied Write changed nothing: {text}"
    );
    let host = w.project().display().to_string();
    assert!(!text.contains(&host), "{text}");
}

/// With `approvals = "off"` a refused call is denied and listed.
fn approvals_off() -> Options {
    Options {
        approvals: Some("off"),
        ..Options::default()
    }
}

/// A Bash tool call of `./wait.sh` (allowed by rule) that sleeps; returns
/// once the sleep runs, with the message id.
async fn start_a_sleeping_tool(w: &World) -> u64 {
    // The CLI refuses a standalone `sleep`, so it hides in a script.
    script(&w.project(), "wait.sh", "sleep 31.25");
    let call = json!({"command": "./wait.sh", "description": "Wait"});
    w.api.push(Reply::tool_use("Bash", call));
    let asked = w.d.say(w.d.alpha, w.d.alice, "wait a while").await;
    poll(|| sleep_pid(w), "the tool's sleep to start").await;
    asked
}

/// The pid of the tool's `sleep`, if it runs.
fn sleep_pid(w: &World) -> Option<i32> {
    crate::helpers::processes_in(&w.project())
        .into_iter()
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains("31.25")
        })
}

fn sleeping_tool_options() -> Options {
    Options {
        allowed_tools: vec!["Bash(./wait.sh:*)".into()],
        ..Options::default()
    }
}

#[tokio::test]
async fn cancel_ends_the_cli_and_its_tool_shell() {
    let Some(w) = World::start(sleeping_tool_options()).await else {
        return;
    };
    let asked = start_a_sleeping_tool(&w).await;
    let reply = w
        .command(SlashCommand::new("cancel", w.d.alpha, w.d.alice))
        .await;
    assert!(reply.contains("Cancelling"), "{reply}");
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    assert!(posts[0].content.contains("Cancelled"), "{posts:#?}");
    let rows = w.d.finished_requests(w.d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "cancelled");
    // Ended by the interrupt: the result said what the turn cost.
    assert!(rows[0].cost_usd.is_some_and(|c| c > 0.0), "{rows:?}");
    w.nothing_runs_in_the_project().await;
}

#[tokio::test]
async fn a_timeout_ends_the_cli_and_its_tool_shell() {
    let options = Options {
        alpha_timeout_secs: Some(6),
        ..sleeping_tool_options()
    };
    let Some(w) = World::start(options).await else {
        return;
    };
    let asked = start_a_sleeping_tool(&w).await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    assert!(posts[0].content.contains("took too long"), "{posts:#?}");
    let rows = w.d.finished_requests(w.d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "timeout");
    w.nothing_runs_in_the_project().await;
}

/// Writes an executable script into the project.
pub(super) fn script(project: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = project.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write the script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test]
async fn a_file_the_real_cli_wrote_is_listed_after_the_answer() {
    let Some(w) = World::start(Options {
        permission_mode: Some("acceptEdits"),
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let path = w.project().join("src/new.rs").display().to_string();
    let write = json!({"file_path": path, "content": "fn new() {}\n"});
    w.api.push(Reply::tool_use("Write", write));
    w.api
        .push_when(Match::tool_result(), Reply::text("Written."));
    let asked = w.d.say(w.d.alpha, w.d.alice, "write src/new.rs").await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    assert_eq!(
        posts[0].content, "Written.\n\n📝 Changed: `src/new.rs`.",
        "{posts:#?}"
    );
    assert!(w.project().join("src/new.rs").exists());
}
