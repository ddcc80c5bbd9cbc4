//! The daemon's end: SIGTERM stops `run` with exit 0 after saying so in
//! bot.log, and neither the token nor message text reached any log.

use super::{Daemon, LIMIT, Options, poll, replies_to};
use crate::helpers::process_is_gone;

#[tokio::test]
async fn sigterm_stops_run_with_exit_zero_and_logs_carry_no_token_or_prompt() {
    let mut d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "secret plans for FAKE:echo").await;
    d.reply_to(d.alpha, asked).await;
    let asked = d.say(d.alpha, d.bob, "bob wants in").await;
    d.reply_to(d.alpha, asked).await;

    let status = d.stop().await;
    assert!(status.success(), "{status:?}");
    let records = d.log_records();
    assert!(
        records
            .iter()
            .any(|r| r["msg"] == "shutting down" && r["signal"] == "SIGTERM")
    );
    assert!(records.iter().any(|r| r["msg"] == "request finished"));
    let output = d.all_output();
    assert!(!output.contains(d.fake.token()), "the token reached a log");
    assert!(
        !output.contains("fake-bot-token"),
        "part of the token reached a log"
    );
    for prompt in ["secret plans", "bob wants in"] {
        assert!(!output.contains(prompt), "{prompt:?} reached a log");
    }
}

#[tokio::test]
async fn sigterm_during_a_run_tells_the_channel_and_marks_the_request_interrupted() {
    let mut d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "forever FAKE:hang").await;
    let pid = poll(
        || d.cli.records().first()?["pid"].as_i64(),
        "the fake CLI to start",
    )
    .await;

    let status = d.stop().await;
    assert!(status.success(), "{status:?}");
    let posts = d.fake.posted_messages(d.alpha);
    let told = posts
        .iter()
        .find(|m| replies_to(m) == Some(asked))
        .unwrap_or_else(|| panic!("no reply before exit: {posts:#?}"));
    assert!(told.content.contains("restarting"), "{}", told.content);
    let rows = d.requests(d.alpha).await;
    assert_eq!(rows[0].status.to_string(), "interrupted");
    assert!(
        process_is_gone(pid as i32).await,
        "the fake CLI outlived the daemon"
    );
}

#[tokio::test]
async fn after_a_crash_the_restarted_daemon_tells_the_channel_and_keeps_working() {
    let mut d = Daemon::start(Options::default()).await;
    d.say(d.alpha, d.alice, "forever FAKE:hang").await;
    poll(|| d.cli.records().first().cloned(), "the fake CLI to start").await;

    d.crash_and_restart().await;
    d.fake
        .wait_for(LIMIT, |_| {
            d.fake
                .posted_messages(d.alpha)
                .iter()
                .any(|m| m.content.contains("was not finished"))
        })
        .await;
    let rows = d.requests(d.alpha).await;
    assert_eq!(rows[0].status.to_string(), "interrupted");

    let asked = d.say(d.alpha, d.alice, "are you back?").await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(posts[0].content.contains("all tests pass"), "{posts:#?}");
    let notices = d
        .fake
        .posted_messages(d.alpha)
        .into_iter()
        .filter(|m| m.content.contains("was not finished"))
        .count();
    assert_eq!(notices, 1, "the channel is told once");
}

#[tokio::test]
async fn a_second_daemon_on_the_same_database_exits_at_once_and_the_first_carries_on() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:slow=1500 long one").await;
    poll(
        || d.cli.records().first().map(|_| ()),
        "the first run to start",
    )
    .await;
    let mut second = d.command("run");
    second.stdin(std::process::Stdio::null());
    let output = tokio::time::timeout(LIMIT, second.output())
        .await
        .expect("the second daemon exits")
        .expect("run the second daemon");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let db = d.cli.dir("coordinator.db").display().to_string();
    let pid = d.pid().expect("the first daemon's pid");
    assert!(stderr.contains(&db), "{stderr}");
    assert!(stderr.contains(&format!("pid {pid}")), "{stderr}");
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(!posts[0].content.contains("stopped"), "{posts:#?}");
    assert_eq!(d.cli.records().len(), 1, "only the first daemon ran Claude");
    let sessions = d.command("sessions").output().await.expect("sessions");
    assert!(sessions.status.success(), "{sessions:?}");
}
