//! The Messages API failing under the real CLI: the user gets a short
//! answer with an error id that leads to the log and the request row, and
//! none of the CLI's own text (which names the API host); a stream that
//! breaks mid-answer is retried by the CLI and answered whole.

use super::World;
use crate::e2e::Options;
use test_support::fake_api::{ErrorKind, Reply};

/// The id inside "(error id `abcd1234`)".
fn error_id_in(text: &str) -> Option<&str> {
    let start = text.find("error id `")? + "error id `".len();
    text.get(start..start + 8)
}

#[tokio::test]
async fn an_api_error_is_answered_with_an_error_id_and_no_cli_text() {
    // No retries: the CLI's own backoff would take minutes.
    let env = [("CLAUDE_CODE_MAX_RETRIES", "0")];
    let Some(w) = World::start_with_env(Options::default(), &env).await else {
        return;
    };
    w.api.set_default(Reply::error(ErrorKind::Overloaded));
    let asked = w.d.say(w.d.alpha, w.d.alice, "hello").await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    let text = &posts[0].content;
    let id = error_id_in(text).unwrap_or_else(|| panic!("no error id in {text:?}"));
    for leak in ["127.0.0.1", "API Error", "inference gateway", "529"] {
        assert!(!text.contains(leak), "{leak:?} reached the user: {text}");
    }
    let rows = w.d.finished_requests(w.d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "failed");
    assert_eq!(rows[0].error_id.as_ref().map(|e| e.as_str()), Some(id));
    let record =
        w.d.wait_log(|r| r["msg"] == "request failed" && r["error_id"] == id)
            .await;
    assert_eq!(record["request_id"], rows[0].id.to_string());
    assert_eq!(w.api.message_calls().len(), 1, "no retry");
}

#[tokio::test]
async fn api_retries_show_in_the_status_and_the_kind_of_failure_in_the_answer() {
    // Three retries back off about 0.5 + 1 + 2 s: past the first tick.
    let options = Options {
        max_api_retries: Some(3),
        ..Options::default()
    };
    let Some(w) = World::start(options).await else {
        return;
    };
    w.api.set_default(Reply::error(ErrorKind::Overloaded));
    let asked = w.d.say(w.d.alpha, w.d.alice, "hello").await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    let text = &posts[0].content;
    assert!(
        text.contains("overloaded") && error_id_in(text).is_some(),
        "{text}"
    );
    assert!(w.api.message_calls().len() > 1, "the CLI retried");
    let status: Vec<String> =
        w.d.fake
            .requests()
            .iter()
            .filter_map(|r| r.json.as_ref()?["content"].as_str().map(str::to_string))
            .filter(|t| t.starts_with('⏳'))
            .collect();
    assert!(
        status
            .iter()
            .any(|t| t.contains("API is busy") && t.contains("of 3")),
        "{status:#?}"
    );
    let rows = w.d.finished_requests(w.d.alpha, 1).await;
    assert_eq!(rows[0].error_kind.as_deref(), Some("api_overloaded"));
}

#[tokio::test]
async fn a_stream_broken_mid_answer_is_retried_and_answered_whole() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    w.api
        .push(Reply::stream_error(ErrorKind::Overloaded, "The wh"));
    w.api.push(Reply::text("The whole answer."));
    let asked = w.d.say(w.d.alpha, w.d.alice, "hello").await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    assert_eq!(posts[0].content, "The whole answer.", "{posts:#?}");
    let calls = w.calls(2).await;
    assert!(calls[0].is_stream() && !calls[1].is_stream());
    let rows = w.d.finished_requests(w.d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "done");
}
