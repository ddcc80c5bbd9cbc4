//! Faults at the edges (issue 12): a gateway that delivers a message
//! twice, and a second daemon on the same database (in `lifecycle`).

use super::{Daemon, Options, replies_to};

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
