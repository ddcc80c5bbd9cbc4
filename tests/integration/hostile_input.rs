//! Odd and hostile input through the real session pipeline: huge and
//! bursty messages, broken CLI output, a vanished project folder and a
//! read-only database. Every case ends in an answer or a clear reply.

use crate::pipeline_harness::{ALICE, LIMIT, Pipeline, content, replies, reply_to};
use claude_coordinator::actors::messages::Outgoing;
use claude_coordinator::db::Db;
use claude_coordinator::domain::MessageId;
use std::collections::HashMap;

/// The one reply (other than a queue notice) to each message.
fn final_replies(events: &[Outgoing]) -> HashMap<MessageId, Vec<String>> {
    let mut by_message: HashMap<MessageId, Vec<String>> = HashMap::new();
    for e in replies(events) {
        if !content(&e).starts_with("⏳ Queued") {
            by_message
                .entry(reply_to(&e).unwrap())
                .or_default()
                .push(content(&e).to_string());
        }
    }
    by_message
}

async fn only_reply(p: &Pipeline, prompt: &str) -> String {
    let (_, message) = p.say(1, ALICE, prompt);
    let events = p
        .rec
        .wait_for(LIMIT, |e| final_replies(e).contains_key(&message))
        .await;
    final_replies(&events).remove(&message).unwrap().join("\n")
}

#[actix_rt::test]
async fn a_4000_character_message_reaches_claude_whole() {
    let p = Pipeline::start(|_| {}).await;
    let prompt = format!("FAKE:echo {}", "é".repeat(3990));
    only_reply(&p, &prompt).await;
    assert_eq!(p.cli.record()["stdin"], prompt.as_str());
}

#[actix_rt::test]
async fn fifty_messages_in_one_second_each_get_exactly_one_final_reply() {
    let p = Pipeline::start(|c| c.sessions.queue_size = 5).await;
    let first = p.say(1, ALICE, "FAKE:slow=500 first").1;
    let rest: Vec<_> = (1..50)
        .map(|i| p.say(1, ALICE, &format!("message {i}")).1)
        .collect();
    let events = p
        .rec
        .wait_for(LIMIT, |e| final_replies(e).len() == 50)
        .await;
    let finals = final_replies(&events);
    assert!(finals.values().all(|r| r.len() == 1), "{finals:?}");
    let refused = finals
        .values()
        .filter(|r| r[0].contains("queue is full"))
        .count();
    assert_eq!(refused, 44, "1 running + 5 queued are answered");
    assert!(!finals[&first][0].contains("queue is full"));
    assert!(
        rest[..5]
            .iter()
            .all(|m| !finals[m][0].contains("queue is full"))
    );
    assert_eq!(p.cli.turns().len(), 6);
}

#[actix_rt::test]
async fn a_hundred_megabytes_of_output_is_stopped_and_reported() {
    let p = Pipeline::start(|_| {}).await;
    let reply = only_reply(&p, "FAKE:huge=104857600").await;
    assert!(reply.contains("error id"), "{reply}");
}

#[actix_rt::test]
async fn a_cli_that_exits_without_a_result_is_reported() {
    let p = Pipeline::start(|_| {}).await;
    let reply = only_reply(&p, "FAKE:no-result").await;
    assert!(
        reply.contains("could not be read") && reply.contains("error id"),
        "{reply}"
    );
}

#[actix_rt::test]
async fn invalid_utf8_and_stdout_left_open_still_give_answers() {
    let p = Pipeline::start(|_| {}).await;
    for prompt in ["FAKE:invalid-utf8", "FAKE:linger"] {
        let reply = only_reply(&p, prompt).await;
        assert!(!reply.contains("error id"), "{prompt}: {reply}");
    }
}

#[actix_rt::test]
async fn a_deleted_project_folder_is_a_configuration_error() {
    let p = Pipeline::start(|_| {}).await;
    std::fs::remove_dir_all(p.cli.project()).unwrap();
    let reply = only_reply(&p, "hello").await;
    assert!(reply.contains("not set up correctly"), "{reply}");
    assert!(!reply.contains(&p.cli.project().display().to_string()));
}

#[actix_rt::test]
async fn a_read_only_database_is_reported_not_silent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
        .close()
        .await;
    let read_only = Db::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap();
    let p = Pipeline::start_with_db(|_| {}, read_only).await;
    let reply = only_reply(&p, "hello").await;
    assert!(
        reply.contains("session could not be loaded or saved"),
        "{reply}"
    );
    assert!(reply.contains("error id"), "{reply}");
}
