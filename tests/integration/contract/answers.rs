//! Answers from the real CLI: a mention answered, the next message resumed
//! with its history, a thread's own session, a long answer chunked, and the
//! cost of each run recorded.

use super::World;
use crate::e2e::{Options, replies_to};
use test_support::fake_api::Reply;
use test_support::fake_discord::SlashCommand;

fn is_status(content: &str) -> bool {
    content.starts_with('⏳')
}

#[tokio::test]
async fn a_mention_is_answered_with_the_real_clis_result() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    w.api.push(Reply::text("Main prints a greeting."));
    let asked = w.d.say(w.d.alpha, w.d.alice, "what does main do?").await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    assert_eq!(posts[0].content, "Main prints a greeting.", "{posts:#?}");
    let rows = w.d.finished_requests(w.d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "done");
    let calls = w.calls(1).await;
    assert_eq!(calls.len(), 1, "one turn, one API call");
    assert_eq!(
        calls[0].last_user_texts().last(),
        Some(&"what does main do?")
    );
    let session = rows[0].session_id_returned.expect("a session id");
    assert_eq!(calls[0].session_id(), Some(session.to_string().as_str()));
}

#[tokio::test]
async fn the_next_message_resumes_the_session_with_its_history() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    w.api.push(Reply::text("Noted: PAPAYA."));
    w.api.push(Reply::text("The word was PAPAYA."));
    let first = w.d.say(w.d.alpha, w.d.alice, "remember PAPAYA").await;
    w.d.reply_to(w.d.alpha, first).await;
    let second = w.d.say(w.d.alpha, w.d.alice, "which word?").await;
    let posts = w.d.reply_to(w.d.alpha, second).await;
    assert_eq!(posts[0].content, "The word was PAPAYA.");
    let calls = w.calls(2).await;
    assert_eq!(calls[1].session_id(), calls[0].session_id());
    assert!(calls[1].texts_of("user").contains(&"remember PAPAYA"));
    assert!(calls[1].texts_of("assistant").contains(&"Noted: PAPAYA."));
    assert_eq!(calls[1].last_user_texts().last(), Some(&"which word?"));
}

#[tokio::test]
async fn a_thread_keeps_its_own_session_beside_the_channels() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    let (alpha, thread, alice) = (w.d.alpha, w.d.thread, w.d.alice);
    for (channel, text) in [(alpha, "channel one"), (thread, "thread one")] {
        let asked = w.d.say(channel, alice, text).await;
        w.d.reply_to(channel, asked).await;
    }
    let again = w.d.say(alpha, alice, "channel two").await;
    w.d.reply_to(alpha, again).await;
    let calls = w.calls(3).await;
    let texts = |i: usize| calls[i].texts_of("user");
    assert!(!texts(1).contains(&"channel one"), "{:?}", texts(1));
    assert_ne!(calls[1].session_id(), calls[0].session_id());
    assert_eq!(calls[2].session_id(), calls[0].session_id());
    assert!(texts(2).contains(&"channel one"), "{:?}", texts(2));
    assert!(!texts(2).contains(&"thread one"), "{:?}", texts(2));
    let thread_rows = w.d.finished_requests(thread, 1).await;
    assert_eq!(thread_rows[0].project.as_str(), "alpha");
}

#[tokio::test]
async fn a_long_answer_is_split_into_messages_under_the_limit() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    let paragraphs: Vec<String> = (0..60)
        .map(|i| format!("Paragraph {i}: {}", "word ".repeat(18).trim_end()))
        .collect();
    let answer = paragraphs.join("\n\n");
    w.api.push(Reply::text(&answer).pieces(12));
    let asked = w.d.say(w.d.alpha, w.d.alice, "explain everything").await;
    w.d.delivered_requests(w.d.alpha, 1).await;
    let posts: Vec<_> =
        w.d.reply_to(w.d.alpha, asked)
            .await
            .into_iter()
            .filter(|m| !is_status(&m.content))
            .collect();
    assert!(posts.len() >= 3, "{} chars in {posts:#?}", answer.len());
    assert!(posts.iter().all(|m| m.content.chars().count() <= 2000));
    assert!(posts[1..].iter().all(|m| replies_to(m).is_none()));
    let joined: String = posts.iter().map(|m| m.content.as_str()).collect();
    for paragraph in &paragraphs {
        assert!(
            joined.contains(paragraph.as_str()),
            "{paragraph} is missing"
        );
    }
}

#[tokio::test]
async fn the_cost_of_a_run_is_recorded_and_shown_by_cost() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    let asked = w.d.say(w.d.alpha, w.d.alice, "hello").await;
    w.d.reply_to(w.d.alpha, asked).await;
    let rows = w.d.finished_requests(w.d.alpha, 1).await;
    let cost = rows[0].cost_usd.expect("a cost");
    assert!(cost > 0.0, "{cost}");
    let text = w
        .command(SlashCommand::new("cost", w.d.alpha, w.d.alice))
        .await;
    assert!(
        text.contains(&format!("This channel: ${cost:.4} over 1 request(s)")),
        "{text}"
    );
}

/// The real CLI's `total_cost_usd` is the session's running total, so a
/// resumed run must not be recorded with it.
#[tokio::test]
async fn a_resumed_run_is_recorded_with_its_own_cost() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    for text in ["one", "two"] {
        let asked = w.d.say(w.d.alpha, w.d.alice, text).await;
        w.d.reply_to(w.d.alpha, asked).await;
    }
    let rows = w.d.finished_requests(w.d.alpha, 2).await;
    let costs: Vec<f64> = rows.iter().filter_map(|r| r.cost_usd).collect();
    // Same usage, same model: each run costs the same.
    assert_eq!(costs.len(), 2);
    assert!((costs[1] - costs[0]).abs() < 1e-9, "{costs:?}");
}
