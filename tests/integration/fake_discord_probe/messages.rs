//! Probes: messages in, typing and replies out, edits, deletions, uploads,
//! downloads, injected errors and the MESSAGE_CONTENT rule.

use super::harness::{Seen, start};
use test_support::fake_discord::UserMessage;

#[tokio::test]
async fn a_mention_reaches_the_handler_which_types_and_replies_without_pinging_anyone() {
    let mut run = start().await;
    let (author, role) = (run.fake.new_id(), run.fake.new_id());
    run.fake
        .user_message(
            UserMessage::new(run.channel, author, "ignore me")
                .mentioning_bot()
                .sent_by_a_bot(),
        )
        .await;
    run.next("the other bot's message", |s| {
        matches!(
            s,
            Seen::Message {
                author_is_bot: true,
                ..
            }
        )
    })
    .await;
    let hello = UserMessage::new(run.channel, author, "hello")
        .mentioning_bot()
        .with_roles(&[role]);
    let asked = run.fake.user_message(hello).await;
    let seen = run
        .next("the mention", |s| {
            matches!(
                s,
                Seen::Message {
                    author_is_bot: false,
                    ..
                }
            )
        })
        .await;
    assert!(matches!(seen, Seen::Message { roles, .. } if roles == [role]));
    let Seen::Replied(reply) = run
        .next("the reply", |s| matches!(s, Seen::Replied(_)))
        .await
    else {
        unreachable!()
    };
    let reply_id = reply.expect("the reply was posted");
    assert_eq!(run.fake.typing_count(run.channel), 1);
    let posted = run.fake.posted_messages(run.channel);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].id, reply_id);
    assert_eq!(
        posted[0].content,
        format!("echo: <@{}> hello", run.fake.bot_user_id())
    );
    assert_eq!(
        posted[0].allowed_mentions,
        Some(serde_json::json!({ "parse": [], "roles": [], "users": [] }))
    );
    assert_eq!(
        posted[0]
            .message_reference
            .as_ref()
            .map(|r| r["message_id"].clone()),
        Some(asked.to_string().into())
    );
    let bearer = format!("Bot {}", run.fake.token());
    let requests = run.fake.requests();
    assert!(
        requests
            .iter()
            .filter(|r| r.path != "/gateway")
            .all(|r| r.authorization.as_deref() == Some(&*bearer))
    );
    assert!(
        requests.iter().all(|r| r.status < 400),
        "nothing unexpected was called: {requests:#?}"
    );
    let own = run
        .next("the bot's own message echoed", |s| {
            matches!(
                s,
                Seen::Message {
                    author_is_bot: true,
                    ..
                }
            )
        })
        .await;
    assert!(matches!(own, Seen::Message { content, .. } if content.starts_with("echo: ")));
    run.stop().await;
}

#[tokio::test]
async fn edits_deletions_and_uploads_are_reflected_in_posted_messages() {
    let mut run = start().await;
    let author = run.fake.new_id();
    run.fake
        .user_message(UserMessage::new(run.channel, author, "edit this").mentioning_bot())
        .await;
    run.next("the edited reply", |s| matches!(s, Seen::Replied(Ok(_))))
        .await;
    run.fake
        .user_message(UserMessage::new(run.channel, author, "delete this").mentioning_bot())
        .await;
    run.next("the deleted reply", |s| matches!(s, Seen::Replied(Ok(_))))
        .await;
    run.fake
        .user_message(UserMessage::new(run.channel, author, "send a file").mentioning_bot())
        .await;
    run.next("the upload", |s| matches!(s, Seen::Replied(Ok(_))))
        .await;
    let posted = run.fake.posted_messages(run.channel);
    assert_eq!(
        (
            posted[0].content.as_str(),
            posted[0].edits,
            posted[0].deleted
        ),
        ("edited answer", 1, false)
    );
    assert!(posted[1].deleted);
    assert_eq!(posted[2].attachments.len(), 1);
    assert_eq!(posted[2].attachments[0].filename, "answer.md");
    assert_eq!(posted[2].attachments[0].bytes, b"whole answer");
    assert_eq!(
        posted[2].allowed_mentions,
        Some(serde_json::json!({ "parse": [], "roles": [], "users": [] })),
        "payload_json was read"
    );
    run.stop().await;
}

#[tokio::test]
async fn an_injected_403_comes_back_to_the_handler_as_an_error() {
    let mut run = start().await;
    run.fake
        .fail_next("POST", &format!("/channels/{}/messages", run.channel), 403);
    let author = run.fake.new_id();
    run.fake
        .user_message(UserMessage::new(run.channel, author, "hi").mentioning_bot())
        .await;
    let Seen::Replied(reply) = run
        .next("the failed reply", |s| matches!(s, Seen::Replied(_)))
        .await
    else {
        unreachable!()
    };
    let error = reply.expect_err("the 403 surfaced");
    assert!(error.contains("Missing Permissions"), "{error}");
    assert!(run.fake.posted_messages(run.channel).is_empty());
    run.stop().await;
}

#[tokio::test]
async fn without_message_content_intent_only_mentions_and_dms_carry_text_and_attachments_download()
{
    let mut run = start().await;
    let author = run.fake.new_id();
    run.fake
        .user_message(UserMessage::new(run.channel, author, "chatter"))
        .await;
    let chatter = run
        .next("the plain message", |s| {
            matches!(
                s,
                Seen::Message {
                    author_is_bot: false,
                    ..
                }
            )
        })
        .await;
    assert!(matches!(chatter, Seen::Message { content, .. } if content.is_empty()));
    let dm = run.fake.new_id();
    let message = UserMessage::new(dm, author, "private")
        .in_dm()
        .with_attachment("notes.txt", "text/plain", b"bytes!");
    run.fake.user_message(message).await;
    let seen = run
        .next("the DM", |s| {
            matches!(
                s,
                Seen::Message {
                    author_is_bot: false,
                    ..
                }
            )
        })
        .await;
    let Seen::Message {
        content,
        attachment,
        ..
    } = seen
    else {
        unreachable!()
    };
    assert_eq!(
        (content.as_str(), attachment.as_deref()),
        ("private", Some(&b"bytes!"[..]))
    );
    run.stop().await;
}

#[tokio::test]
async fn a_post_with_an_enforced_nonce_seen_before_returns_the_first_message() {
    use serenity::all::{ChannelId, CreateMessage, Nonce};
    let run = start().await;
    let channel = ChannelId::new(run.channel);
    let post = |enforce: bool| {
        CreateMessage::new()
            .content("once")
            .nonce(Nonce::String("n-1".into()))
            .enforce_nonce(enforce)
    };
    let first = channel.send_message(&run.http, post(true)).await.unwrap();
    let again = channel.send_message(&run.http, post(true)).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(run.fake.posted_messages(run.channel).len(), 1);
    // Without `enforce_nonce` Discord does not deduplicate.
    let other = channel.send_message(&run.http, post(false)).await.unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(run.fake.posted_messages(run.channel).len(), 2);
}

#[tokio::test]
async fn the_daemons_thread_lookup_sees_archived_unarchived_by_a_post_and_deleted() {
    use claude_coordinator::actors::messages::ThreadIs;
    use claude_coordinator::discord::rest::thread_state;
    use claude_coordinator::domain::ChannelId;
    use serenity::all::CreateMessage;
    let run = start().await;
    let thread = ChannelId(run.thread);
    assert_eq!(thread_state(&run.http, thread).await, ThreadIs::Open);
    run.fake.archive_thread(run.thread);
    assert_eq!(thread_state(&run.http, thread).await, ThreadIs::Archived);
    serenity::all::ChannelId::new(run.thread)
        .send_message(&run.http, CreateMessage::new().content("back"))
        .await
        .unwrap();
    assert!(!run.fake.is_archived(run.thread), "a post unarchives it");
    assert_eq!(thread_state(&run.http, thread).await, ThreadIs::Open);
    run.fake.delete_channel(run.thread);
    assert_eq!(thread_state(&run.http, thread).await, ThreadIs::Gone);
}
