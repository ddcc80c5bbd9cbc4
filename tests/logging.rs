//! The pipeline's log records, in a test binary of their own. tracing
//! caches process-wide whether a callsite is enabled: a test thread with no
//! subscriber that reaches a callsite first while this test sets its own
//! can leave it disabled, and the request's span fields then go missing
//! from its records. Alone in its process, the test is not exposed to that.

#[allow(dead_code)]
#[path = "integration/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "integration/pipeline_harness.rs"]
mod pipeline_harness;

use claude_coordinator::domain::RequestStatus;
use pipeline_harness::{ALICE, LIMIT, Pipeline, content, wait_status};
use std::time::{Duration, Instant};

/// Captures this test thread's log records (the test runtime is
/// single-threaded, so the pool's tasks log here too).
fn capture_logs() -> (
    claude_coordinator::telemetry::CapturedLogs,
    tracing::subscriber::DefaultGuard,
) {
    use claude_coordinator::telemetry::{CapturedLogs, env_filter, get_subscriber};
    let logs = CapturedLogs::default();
    let filter = env_filter("info", None).unwrap();
    let guard =
        tracing::subscriber::set_default(get_subscriber("test", filter, logs.clone(), false));
    // A callsite first hit by a test thread without a subscriber, while this
    // one registered, can keep a cached "never"; recompute them all.
    tracing::callsite::rebuild_interest_cache();
    (logs, guard)
}

fn records_with_msg(
    logs: &claude_coordinator::telemetry::CapturedLogs,
    msg: &str,
) -> Vec<serde_json::Value> {
    logs.lines()
        .into_iter()
        .filter(|l| l["msg"] == msg)
        .collect()
}

/// One test for both records: a second thread-local subscriber in a
/// parallel test makes tracing's shared callsite cache unreliable.
#[actix_rt::test]
async fn requests_and_failures_are_logged_with_their_ids_and_never_their_text() {
    let (logs, _guard) = capture_logs();
    let p = Pipeline::start(|_| {}).await;
    let (id, _) = p.say(1, ALICE, "FAKE:echo FAKE:tools confidential-words-xyz");
    p.replies(1).await;
    assert!(wait_delivered(&p, id).await);
    let records = records_with_msg(&logs, "request finished");
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r["channel_id"], 1);
    assert_eq!(r["request_id"], id.to_string());
    assert_eq!(r["project"], "p0");
    assert_eq!(r["outcome"], "success");
    assert!(r["duration_ms"].as_i64().is_some());
    assert!(r["claude_duration_ms"].as_u64().is_some());
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0);
    assert!(r["chunks"].as_u64().unwrap() >= 1);
    assert_eq!(r["delivered"], true);

    let (failed, _) = p.say(2, ALICE, "FAKE:error private-prompt-words");
    let got = p.replies(2).await;
    assert_eq!(
        wait_status(&p, failed, RequestStatus::Failed).await,
        RequestStatus::Failed
    );
    let failures = records_with_msg(&logs, "request failed");
    assert_eq!(failures.len(), 1, "{}", logs.text());
    let f = &failures[0];
    let error_id = f["error_id"].as_str().unwrap();
    assert!(content(&got[1]).contains(error_id));
    assert_eq!(f["kind"], "claude_error");
    assert_eq!(f["channel_id"], 2);
    assert_eq!(f["request_id"], failed.to_string());
    assert_eq!(f["level"], 50);
    let text = logs.text();
    assert!(!text.contains("confidential-words-xyz") && !text.contains("private-prompt-words"));
}

/// Waits until the request's row notes its delivery: its answer is out
/// and its `request finished` record logged.
async fn wait_delivered(p: &Pipeline, id: claude_coordinator::domain::RequestId) -> bool {
    let deadline = Instant::now() + LIMIT;
    loop {
        let row = p.db.request(id).await.unwrap();
        if let Some(delivered) = row.and_then(|r| r.delivered) {
            return delivered;
        }
        assert!(
            Instant::now() < deadline,
            "request {id} never noted its delivery"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
