//! Faults at the edges (issue 12): a gateway that delivers a message
//! twice, a project whose attachments folder is a symlink, Discord
//! refusing, holding or losing the answer to a post, and (in `lifecycle`)
//! a second daemon on the same database.

use super::{Daemon, LIMIT, Options, replies_to};
use std::time::Duration;

#[tokio::test]
async fn a_replayed_message_runs_claude_once_also_after_a_restart() {
    let mut d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:slow=300 only once").await;
    // A RESUME replays what the dropped connection missed: while it runs,
    d.fake.replay_message(asked).await;
    d.reply_to(d.alpha, asked).await;
    // after it was answered,
    d.fake.replay_message(asked).await;
    // and to the next daemon, after a crash.
    d.crash_and_restart().await;
    d.fake.replay_message(asked).await;
    // The session handles its messages in order: once this one is
    // answered, every replay before it has been dealt with.
    let next = d.say(d.alpha, d.alice, "and this").await;
    d.reply_to(d.alpha, next).await;
    assert_eq!(d.cli.records().len(), 2, "Claude ran for each message once");
    let answers = d
        .fake
        .posted_messages(d.alpha)
        .into_iter()
        .filter(|m| replies_to(m) == Some(asked))
        .count();
    assert_eq!(answers, 1, "one answer to the replayed message");
}

#[tokio::test]
async fn an_attachment_is_never_written_through_a_symlink_in_the_project() {
    use test_support::fake_discord::UserMessage;
    let d = Daemon::start(Options::default()).await;
    let outside = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(outside.path(), d.cli.project().join(".claude-coordinator"))
        .expect("symlink");
    let message = UserMessage::new(d.alpha, d.alice, "read this")
        .mentioning_bot()
        .with_attachment("notes.md", "text/markdown", b"# Notes\n");
    let asked = d.fake.user_message(message).await;
    let posts = d.reply_to(d.alpha, asked).await;
    let refusal = posts
        .iter()
        .find(|p| p.content.contains("Not passed to Claude"))
        .unwrap_or_else(|| panic!("no refusal in {posts:#?}"));
    assert!(
        refusal.content.contains("`notes.md` could not be saved"),
        "{}",
        refusal.content
    );
    d.wait_log(|r| r["msg"] == "cannot save attachment").await;
    let written: Vec<_> = walk(outside.path());
    assert!(
        written.is_empty(),
        "written outside the project: {written:?}"
    );
    let record = super::poll(|| d.cli.records().first().cloned(), "Claude to run").await;
    let stdin = record["stdin"].as_str().unwrap_or_default().to_string();
    assert!(
        stdin.contains("read this"),
        "the text still reached Claude: {stdin}"
    );
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn a_gateway_frame_serenity_cannot_read_is_never_logged_with_its_text() {
    let d = Daemon::start(Options::default()).await;
    // A lone surrogate escape: valid to a sender, unreadable to serde_json.
    let frame = r#"{"op":0,"s":9000,"t":"MESSAGE_CREATE","d":{"id":"77","channel_id":"1","content":"private-marker-5f2c \ud800"}}"#;
    d.fake.send_text_frame(frame);
    // The shard handles frames in order: once this is answered, the bad
    // frame has been read (and any record of it written).
    let asked = d.say(d.alpha, d.alice, "after the bad frame").await;
    d.reply_to(d.alpha, asked).await;
    let output = d.all_output();
    assert!(
        !output.contains("private-marker-5f2c"),
        "the frame's text reached a log"
    );
}

#[tokio::test]
async fn a_token_refused_with_401_is_named_as_the_token_not_the_api_base() {
    let mut d = Daemon::start(Options::default()).await;
    assert!(d.stop().await.success());
    d.fake.fail_next("GET", "/gateway", 401);
    let mut again = d.command("run");
    again.stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(super::LIMIT, again.output())
        .await
        .expect("run gives up")
        .expect("run the daemon");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DISCORD_TOKEN") && stderr.contains("401"),
        "{stderr}"
    );
    assert!(!stderr.contains(d.fake.token()), "{stderr}");
}

#[tokio::test]
async fn an_answer_refused_once_with_a_5xx_or_a_429_is_posted_on_a_later_try() {
    let d = Daemon::start(Options::default()).await;
    let path = format!("/channels/{}/messages", d.alpha);
    for status in [500, 502, 429, 503] {
        d.fake.fail_next("POST", &path, status);
        let asked = d
            .say(d.alpha, d.alice, &format!("FAKE:echo try {status}"))
            .await;
        let posts = d.reply_to(d.alpha, asked).await;
        assert!(
            posts[0].content.contains(&format!("try {status}")),
            "{posts:#?}"
        );
    }
    let rows = d.finished_requests(d.alpha, 4).await;
    assert!(
        rows.iter().all(|r| r.status.to_string() == "done"),
        "{rows:?}"
    );
    let tries = d
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count();
    assert_eq!(tries, 8, "each answer: one refused try, one that landed");
    d.wait_log(|r| r["msg"] == "Discord request failed; trying again")
        .await;
}

#[tokio::test]
async fn an_answer_discord_refuses_for_good_is_told_to_the_user_and_recorded() {
    let d = Daemon::start(Options::default()).await;
    // 403 is final: no retry helps, so the answer cannot be posted.
    d.fake
        .fail_next("POST", &format!("/channels/{}/messages", d.alpha), 403);
    let asked = d.say(d.alpha, d.alice, "FAKE:echo zebra-42").await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(!posts[0].content.contains("zebra-42"), "{posts:#?}");
    assert!(
        posts[0]
            .content
            .contains("Discord refused part of the answer")
            && posts[0].content.contains("error id"),
        "{posts:#?}"
    );
    let rows = d.delivered_requests(d.alpha, 1).await;
    assert_eq!(rows[0].delivered, Some(false));
    assert!(rows[0].error_id.is_some());
    let ok = d.say(d.alpha, d.alice, "FAKE:echo next one").await;
    d.reply_to(d.alpha, ok).await;
    let rows = d.delivered_requests(d.alpha, 2).await;
    assert!(rows.iter().any(|r| r.delivered == Some(true)), "{rows:?}");
}

#[tokio::test]
async fn a_held_answer_blocks_neither_commands_nor_the_next_run_and_answers_keep_their_order() {
    use test_support::fake_discord::SlashCommand;
    let d = Daemon::start(Options::default()).await;
    let mut held = d
        .fake
        .hold_next("POST", &format!("/channels/{}/messages", d.alpha));
    let first = d.say(d.alpha, d.alice, "FAKE:echo first answer").await;
    held.reached(LIMIT).await;

    // The channel's session is not stuck behind the post:
    let status = d
        .fake
        .slash_command(SlashCommand::new("status", d.alpha, d.alice))
        .await;
    d.fake
        .wait_for(LIMIT, |_| !d.fake.interaction_replies(&status).is_empty())
        .await;
    let answered = d.fake.posted_messages(d.alpha);
    assert!(
        !answered.iter().any(|m| replies_to(m) == Some(first)),
        "/status waited for the held answer: {answered:#?}"
    );
    let second = d.say(d.alpha, d.alice, "FAKE:echo second answer").await;
    d.finished_requests(d.alpha, 2).await;
    assert_eq!(d.cli.turns().len(), 2, "the next message ran meanwhile");
    // but its answer waits for the one before it.
    let early = d.fake.posted_messages(d.alpha);
    assert!(
        !early.iter().any(|m| replies_to(m) == Some(second)),
        "{early:#?}"
    );

    held.release();
    let first_answer = d.reply_to(d.alpha, first).await[0].id;
    let second_answer = d.reply_to(d.alpha, second).await[0].id;
    assert!(first_answer < second_answer, "answers keep their order");
    let rows = d.delivered_requests(d.alpha, 2).await;
    assert!(rows.iter().all(|r| r.delivered == Some(true)), "{rows:?}");
}

#[tokio::test]
async fn an_answer_whose_reply_was_lost_is_tried_again_and_posted_once() {
    let d = Daemon::start(Options {
        request_timeout_secs: Some(1),
        ..Options::default()
    })
    .await;
    // Discord creates the message, but its answer never arrives: the
    // daemon's deadline ends the call and it tries again.
    let mut lost = d
        .fake
        .lose_next_answer("POST", &format!("/channels/{}/messages", d.alpha));
    let asked = d.say(d.alpha, d.alice, "FAKE:echo only-once-7").await;
    lost.reached(LIMIT).await;
    d.wait_log(|r| r["msg"] == "Discord request failed; trying again")
        .await;
    let rows = d.delivered_requests(d.alpha, 1).await;
    assert_eq!(rows[0].delivered, Some(true), "{rows:?}");
    let answers: Vec<_> = d
        .fake
        .posted_messages(d.alpha)
        .into_iter()
        .filter(|m| m.content.contains("only-once-7"))
        .collect();
    assert_eq!(
        answers.len(),
        1,
        "the retry posted no second copy: {answers:#?}"
    );
    assert_eq!(replies_to(&answers[0]), Some(asked));
}

#[tokio::test]
async fn shutdown_is_not_held_up_by_a_post_discord_never_answers() {
    let mut d = Daemon::start(Options::default()).await;
    let mut held = d
        .fake
        .hold_next("POST", &format!("/channels/{}/messages", d.alpha));
    d.say(d.alpha, d.alice, "FAKE:echo never delivered").await;
    held.reached(LIMIT).await;
    let began = std::time::Instant::now();
    let status = d.stop().await;
    let took = began.elapsed();
    assert!(status.success(), "{status:?}");
    // shutdown_grace_secs = 2; the 15 s deadline of the held call and its
    // retries would take far longer.
    assert!(took < Duration::from_secs(8), "stopping took {took:?}");
    d.wait_log(|r| {
        r["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("Discord did not take every post"))
    })
    .await;
    drop(held);
}
