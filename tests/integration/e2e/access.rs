//! Who gets through: a user who may not run Claude gets one short reply;
//! bots, direct messages and unmapped channels get nothing.

use super::{Daemon, Options, replies_to};
use test_support::fake_discord::UserMessage;

#[tokio::test]
async fn a_denied_user_gets_one_short_reply_and_claude_never_runs() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.bob, "delete everything").await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert!(
        posts[0].content.contains("not allowed"),
        "{}",
        posts[0].content
    );
    assert!(posts[0].content.len() < 200);
    let record = d
        .wait_log(|r| r["msg"] == "user may not run Claude here")
        .await;
    assert_eq!(record["user_id"], d.bob);
    assert_eq!(record["channel_id"], d.alpha);

    // A permitted message afterwards proves the pipeline was live all along.
    let allowed = d.say(d.alpha, d.alice, "hello").await;
    d.reply_to(d.alpha, allowed).await;
    assert_eq!(d.cli.records().len(), 1, "only Alice's message ran");
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].user_id.get(), d.alice);
}

#[tokio::test]
async fn bots_direct_messages_and_unmapped_channels_are_ignored() {
    let d = Daemon::start(Options {
        log_level: Some("debug"),
        ..Options::default()
    })
    .await;
    let from_bot = UserMessage::new(d.alpha, d.bob, "FAKE:echo hi").mentioning_bot();
    d.fake.user_message(from_bot.sent_by_a_bot()).await;
    let dm = UserMessage::new(d.fake.new_id(), d.alice, "in private").mentioning_bot();
    d.fake.user_message(dm.in_dm()).await;
    d.say(d.unmapped, d.alice, "anyone here?").await;
    // Bot authors are dropped before the actor, so only this one is logged.
    d.wait_log(|r| r["msg"] == "message ignored" && r["why"] == "an unmapped channel")
        .await;

    let allowed = d.say(d.alpha, d.alice, "hello").await;
    d.reply_to(d.alpha, allowed).await;
    let requests = d.fake.requests();
    let posts: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .collect();
    assert!(
        posts
            .iter()
            .all(|r| r.path == format!("/channels/{}/messages", d.alpha)),
        "{posts:#?}"
    );
    assert!(
        d.fake
            .posted_messages(d.alpha)
            .iter()
            .filter_map(replies_to)
            .all(|to| to == allowed)
    );
    assert_eq!(d.cli.records().len(), 1, "only Alice's message ran");
    assert!(d.fake.posted_messages(d.unmapped).is_empty());
}

#[tokio::test]
async fn a_member_with_an_allowed_role_may_run_claude() {
    let d = Daemon::start(Options::default()).await;
    let carol = d.fake.new_id();
    let message = UserMessage::new(d.alpha, carol, "hello").mentioning_bot();
    let asked = d.fake.user_message(message.with_roles(&[d.role])).await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(posts[0].content.contains("all tests pass"), "{posts:#?}");
    assert_eq!(
        d.finished_requests(d.alpha, 1).await[0].user_id.get(),
        carol
    );
}

#[tokio::test]
async fn a_bare_mention_gets_a_hint_and_runs_nothing() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "  ").await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(posts[0].content.contains("Mention me with"), "{posts:#?}");
    assert!(d.cli.records().is_empty());
}

#[tokio::test]
async fn with_trigger_all_plain_messages_run_and_the_bots_own_posts_do_not() {
    let d = Daemon::start(Options {
        trigger_all: true,
        ..Options::default()
    })
    .await;
    let plain = UserMessage::new(d.alpha, d.alice, "no mention FAKE:echo");
    let asked = d.fake.user_message(plain).await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(posts[0].content.contains("no mention"), "{posts:#?}");
    d.finished_requests(d.alpha, 1).await;
    // The echoed status message and answer must not start runs of their own.
    let again = d.say(d.alpha, d.alice, "second").await;
    d.reply_to(d.alpha, again).await;
    assert_eq!(d.cli.turns().len(), 2);
}
