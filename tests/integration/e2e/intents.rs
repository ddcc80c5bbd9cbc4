//! The daemon asks Discord only for what it reads: no GUILDS intent, so no
//! GUILD_CREATE carrying every channel and thread of the guild; messages in
//! threads still arrive and are answered, the parent coming from REST.

use super::{Daemon, Options};
use test_support::fake_discord::UserMessage;

const GUILD_MESSAGES: u64 = 1 << 9;
const MESSAGE_CONTENT: u64 = 1 << 15;

fn identified_intents(d: &Daemon) -> u64 {
    let identifies = d.fake.identifies();
    let last = identifies.last().expect("the daemon IDENTIFYed");
    last["intents"].as_u64().expect("IDENTIFY carries intents")
}

/// READY came, GUILD_CREATE never did, and the thread's channel was looked
/// up over REST without an error.
fn assert_no_guild_create_and_parent_from_rest(d: &Daemon) {
    let dispatched = d.fake.dispatched();
    assert_eq!(
        dispatched.first().map(String::as_str),
        Some("READY"),
        "{dispatched:?}"
    );
    assert!(
        !dispatched.iter().any(|e| e == "GUILD_CREATE"),
        "{dispatched:?}"
    );
    let requests = d.fake.requests();
    let lookup = format!("/channels/{}", d.thread);
    assert!(
        requests.iter().any(|r| r.is("GET", &lookup)),
        "{requests:#?}"
    );
    assert!(requests.iter().all(|r| r.status < 400), "{requests:#?}");
}

#[tokio::test]
async fn a_mention_in_a_thread_is_answered_without_the_guilds_intent_or_guild_create() {
    let d = Daemon::start(Options::default()).await;
    assert_eq!(identified_intents(&d), GUILD_MESSAGES);

    let asked = d.say(d.thread, d.alice, "FAKE:echo in the thread").await;
    let posts = d.reply_to(d.thread, asked).await;
    assert!(posts[0].content.contains("in the thread"), "{posts:#?}");
    let rows = d.finished_requests(d.thread, 1).await;
    assert_eq!(rows[0].project.as_str(), "alpha");
    assert_no_guild_create_and_parent_from_rest(&d);
}

#[tokio::test]
async fn with_trigger_all_a_plain_thread_message_is_answered_and_only_message_content_is_added() {
    let d = Daemon::start(Options {
        trigger_all: true,
        ..Options::default()
    })
    .await;
    assert_eq!(identified_intents(&d), GUILD_MESSAGES | MESSAGE_CONTENT);

    let plain = UserMessage::new(d.thread, d.alice, "FAKE:echo no mention here");
    let asked = d.fake.user_message(plain).await;
    let posts = d.reply_to(d.thread, asked).await;
    assert!(posts[0].content.contains("no mention here"), "{posts:#?}");
    assert_no_guild_create_and_parent_from_rest(&d);
}
