//! Mentions become Claude runs: typing, the status message, the reply,
//! resumed sessions, chunked answers, parallel channels and threads.

use super::{
    Daemon, Options, argvs, assert_pings_nobody, no_pings, notifies_requester, replies_to,
    resume_of,
};

#[tokio::test]
async fn a_mention_gets_typing_a_status_message_and_a_reply_that_notifies_only_the_requester() {
    let d = Daemon::start(Options::default()).await;
    // Long enough for the status message, which waits for the first 2 s tick.
    let asked = d
        .say(d.alpha, d.alice, "FAKE:slow=2500 what does main do?")
        .await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(posts[0].content.contains("all tests pass"), "{posts:?}");
    assert_eq!(posts[0].allowed_mentions, Some(notifies_requester()));
    let reference = posts[0].message_reference.clone().unwrap_or_default();
    assert_eq!(reference["fail_if_not_exists"], false, "{reference}");
    assert!(d.fake.typing_count(d.alpha) >= 1);

    let all = d.fake.posted_messages(d.alpha);
    let status = all
        .iter()
        .find(|m| m.content.starts_with("⏳"))
        .expect("a status message was posted");
    assert_eq!(replies_to(status), None);
    d.wait_discord("the status message's deletion", || {
        d.fake
            .posted_messages(d.alpha)
            .iter()
            .any(|m| m.id == status.id && m.deleted)
    })
    .await;
    let requests = d.fake.requests();
    assert!(requests.iter().all(|r| r.status < 400), "{requests:#?}");
    assert_pings_nobody(&requests);

    let record = d.cli.record();
    assert!(
        record["cwd"]
            .as_str()
            .unwrap_or_default()
            .ends_with("project")
    );
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "done");
    assert_eq!(rows[0].user_id.get(), d.alice);
    d.wait_log(|r| r["msg"] == "request finished").await;
    let output = d.all_output();
    assert!(
        !output.contains("what does main do"),
        "the prompt reached a log"
    );
}

#[tokio::test]
async fn the_second_message_resumes_the_first_ones_session() {
    let d = Daemon::start(Options {
        max_warm: Some(0),
        ..Options::default()
    })
    .await;
    let first = d.say(d.alpha, d.alice, "remember 7").await;
    d.reply_to(d.alpha, first).await;
    let rows = d.finished_requests(d.alpha, 1).await;
    let session = rows[0].session_id_returned.expect("a session id came back");

    let second = d
        .say(d.alpha, d.alice, "what did I ask you to remember?")
        .await;
    d.reply_to(d.alpha, second).await;
    let argv = argvs(&d.cli);
    assert_eq!(argv.len(), 2);
    assert_eq!(resume_of(&argv[0]), None);
    assert_eq!(resume_of(&argv[1]), Some(session.to_string().as_str()));
}

#[tokio::test]
async fn a_long_answer_is_split_into_messages_under_the_limit() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "explain FAKE:long=6000").await;
    d.delivered_requests(d.alpha, 1).await;
    let posts: Vec<_> = d
        .reply_to(d.alpha, asked)
        .await
        .into_iter()
        .filter(|m| !m.content.starts_with("⏳"))
        .collect();
    assert!(posts.len() >= 3, "{posts:#?}");
    assert!(posts.iter().all(|m| m.content.chars().count() <= 2000));
    assert!(posts[1..].iter().all(|m| replies_to(m).is_none()));
    let quiet = posts[1..]
        .iter()
        .all(|m| m.allowed_mentions == Some(no_pings()));
    assert!(quiet, "only the first part notifies: {posts:#?}");
    let total: usize = posts.iter().map(|m| m.content.chars().count()).sum();
    assert!(total >= 5900, "{total}");
    assert!(d.fake.requests().iter().all(|r| r.status < 400));
}

#[tokio::test]
async fn an_answer_too_long_for_a_few_messages_is_sent_as_a_file() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "everything FAKE:long=20000").await;
    let posts = d.reply_to(d.alpha, asked).await;
    let file = &posts[0].attachments;
    assert_eq!(file.len(), 1, "{posts:#?}");
    assert_eq!(file[0].bytes.len(), 20000);
    assert!(posts[0].content.chars().count() <= 2000);
    assert_eq!(posts[0].allowed_mentions, Some(notifies_requester()));
    d.delivered_requests(d.alpha, 1).await;
    let answers = d.fake.posted_messages(d.alpha);
    let answers: Vec<_> = answers
        .iter()
        .filter(|m| !m.content.starts_with("⏳"))
        .collect();
    assert_eq!(answers.len(), 1, "{answers:#?}");
    assert!(d.fake.requests().iter().all(|r| r.status < 400));
}

#[tokio::test]
async fn a_slow_answer_keeps_typing_until_it_is_posted() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "think FAKE:slow=9000").await;
    d.reply_to(d.alpha, asked).await;
    assert!(
        d.fake.typing_count(d.alpha) >= 2,
        "{}",
        d.fake.typing_count(d.alpha)
    );
}

#[tokio::test]
async fn two_channels_run_at_the_same_time() {
    let d = Daemon::start(Options::default()).await;
    let a = d.say(d.alpha, d.alice, "one FAKE:slow=1500").await;
    let b = d.say(d.beta, d.alice, "two FAKE:slow=1500").await;
    d.reply_to(d.alpha, a).await;
    d.reply_to(d.beta, b).await;
    assert_eq!(d.cli.max_concurrency(), 2);
    let cwds: Vec<String> = d
        .cli
        .records()
        .iter()
        .map(|r| r["cwd"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(cwds.iter().any(|c| c.ends_with("project-beta")), "{cwds:?}");
}

#[tokio::test]
async fn a_thread_under_a_mapped_channel_has_its_own_session_in_the_same_folder() {
    let d = Daemon::start(Options::default()).await;
    let in_channel = d.say(d.alpha, d.alice, "hello channel").await;
    d.reply_to(d.alpha, in_channel).await;
    let in_thread = d.say(d.thread, d.alice, "hello thread").await;
    d.reply_to(d.thread, in_thread).await;

    let channel_rows = d.finished_requests(d.alpha, 1).await;
    let thread_rows = d.finished_requests(d.thread, 1).await;
    assert_eq!(thread_rows[0].project.as_str(), "alpha");
    assert_ne!(
        channel_rows[0].session_id_returned,
        thread_rows[0].session_id_returned
    );
    let argv = argvs(&d.cli);
    assert_eq!(resume_of(&argv[1]), None, "the thread starts fresh");
    let records = d.cli.records();
    assert_eq!(records[0]["cwd"], records[1]["cwd"]);
    let db = d.db().await;
    let session = db
        .session(claude_coordinator::domain::ChannelId(d.thread))
        .await
        .expect("db")
        .expect("the thread has a session row");
    assert_eq!(session.project.as_str(), "alpha");
}

#[tokio::test]
async fn a_refusal_notifies_its_author_and_a_queue_notice_notifies_nobody() {
    let d = Daemon::start(Options::default()).await;
    let refused = d.say(d.alpha, d.bob, "let me in").await;
    let reply = &d.reply_to(d.alpha, refused).await[0];
    assert_eq!(
        reply.allowed_mentions,
        Some(notifies_requester()),
        "{reply:?}"
    );

    let first = d.say(d.alpha, d.alice, "FAKE:slow=1500 one").await;
    let second = d.say(d.alpha, d.alice, "two").await;
    let queued = &d.reply_to(d.alpha, second).await[0];
    assert!(queued.content.starts_with("⏳ Queued"), "{queued:?}");
    assert_eq!(queued.allowed_mentions, Some(no_pings()));
    let answer = &d.reply_to(d.alpha, first).await[0];
    assert_eq!(answer.allowed_mentions, Some(notifies_requester()));
}

#[tokio::test]
async fn with_notify_requester_off_every_reply_pings_nobody() {
    let d = Daemon::start(Options {
        notify_requester: Some(false),
        ..Options::default()
    })
    .await;
    let asked = d.say(d.alpha, d.alice, "hello").await;
    let refused = d.say(d.alpha, d.bob, "let me in").await;
    for message in [asked, refused] {
        let reply = &d.reply_to(d.alpha, message).await[0];
        assert_eq!(reply.allowed_mentions, Some(no_pings()), "{reply:?}");
    }
}
