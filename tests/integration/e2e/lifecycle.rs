//! The daemon's end: SIGTERM stops `run` with exit 0 after saying so in
//! bot.log, and neither the token nor message text reached any log.

use super::{Daemon, Options};

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
