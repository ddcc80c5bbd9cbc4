//! Metrics as a scrape shows them: in the pipeline (the core's registry)
//! during and after runs, and from the real daemon's `/metrics` endpoint.

use crate::e2e::approvals::{answer, click, prompt};
use crate::e2e::{Daemon, Options, poll, poll_async};
use crate::pipeline_harness::{ALICE, Pipeline};

/// The value of the sample `series` (a name with its labels) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

const RUNNING: &str = "claude_coordinator_cli_running";
const WARM: &str = "claude_coordinator_cli_warm";
const QUEUED: &str = "claude_coordinator_queue_depth";
const SESSIONS: &str = "claude_coordinator_sessions_active";
const DONE_P0: &str = "claude_coordinator_requests_total{project=\"p0\",outcome=\"done\"}";
const COST_P0: &str = "claude_coordinator_cost_usd_total{project=\"p0\"}";

/// Waits until the scrape's `series` reads `value`; returns the scrape.
async fn until(p: &Pipeline, series: &str, value: f64) -> String {
    poll(
        || {
            let text = p.metrics.render();
            (sample(&text, series) == Some(value)).then_some(text)
        },
        series,
    )
    .await
}

#[actix_rt::test]
async fn a_scrape_follows_runs_their_queue_and_their_end() {
    let p = Pipeline::start(|_| {}).await;
    p.say(1, ALICE, "FAKE:slow=1000 one");
    let during = until(&p, RUNNING, 1.0).await;
    assert_eq!(sample(&during, DONE_P0), None, "nothing has ended yet");
    assert_eq!(sample(&during, SESSIONS), Some(1.0));
    p.say(1, ALICE, "two");
    until(&p, QUEUED, 1.0).await;
    p.replies(2).await;
    let after = until(&p, DONE_P0, 2.0).await;
    assert_eq!(sample(&after, QUEUED), Some(0.0));
    assert_eq!(sample(&after, RUNNING), Some(0.0));
    assert_eq!(sample(&after, WARM), Some(1.0), "{after}");
    assert!(sample(&after, COST_P0).is_some_and(|c| c > 0.0), "{after}");
    let fast = "claude_coordinator_request_duration_seconds_bucket{le=\"0.5\",project=\"p0\"}";
    let all = "claude_coordinator_request_duration_seconds_count{project=\"p0\"}";
    assert_eq!(sample(&after, all), Some(2.0));
    assert!(
        sample(&after, fast).is_some_and(|n| n < 2.0),
        "the slow one took over 1 s"
    );
}

#[actix_rt::test]
async fn a_failed_run_counts_as_failed() {
    let p = Pipeline::start(|_| {}).await;
    p.say(1, ALICE, "FAKE:error");
    p.replies(1).await;
    let failed = "claude_coordinator_requests_total{project=\"p0\",outcome=\"failed\"}";
    until(&p, failed, 1.0).await;
}

/// GETs `path` from the daemon's metrics endpoint: status, content type
/// and body.
async fn get(base: &str, path: &str) -> (u16, String, String) {
    let response = reqwest::get(format!("{base}{path}"))
        .await
        .expect("the endpoint answers");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_daemon_serves_metrics_that_move_with_a_run_and_a_decision() {
    let d = Daemon::start(Options {
        metrics_listen: Some("127.0.0.1:0"),
        ..Options::default()
    })
    .await;
    let record = d
        .wait_log(|r| {
            r["address"].is_string()
                && r["msg"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("metrics at"))
        })
        .await;
    let base = format!("http://{}", record["address"].as_str().unwrap());
    let (status, kind, before) = get(&base, "/metrics").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let build = format!(
        "claude_coordinator_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&before, &build), Some(1.0), "{before}");
    assert_eq!(sample(&before, RUNNING), Some(0.0));

    let asked = d
        .say(d.alpha, d.alice, "FAKE:deny FAKE:slow=300 tidy up")
        .await;
    let shown = prompt(&d, asked, 1).await;
    let (_, _, during) = get(&base, "/metrics").await;
    assert_eq!(sample(&during, RUNNING), Some(1.0), "{during}");
    click(&d, &shown, "Deny", d.alice).await;
    let write = prompt(&d, asked, 2).await;
    click(&d, &write, "Allow", d.alice).await;
    answer(&d, asked).await;
    d.delivered_requests(d.alpha, 1).await;
    let done = "claude_coordinator_requests_total{project=\"alpha\",outcome=\"done\"}";
    let after = poll_scrape(&base, done, 1.0).await;
    for decision in ["denied", "allowed"] {
        let series = format!("claude_coordinator_approvals_total{{decision=\"{decision}\"}}");
        assert_eq!(sample(&after, &series), Some(1.0), "{after}");
    }
    let ok = "claude_coordinator_discord_requests_total{outcome=\"ok\"}";
    assert!(sample(&after, ok).is_some_and(|n| n >= 3.0), "{after}");
    assert_eq!(sample(&after, WARM), Some(1.0));
    assert_eq!(get(&base, "/").await.0, 404);
}

async fn poll_scrape(base: &str, series: &str, value: f64) -> String {
    let what = format!("{series} to reach {value}");
    poll_async(
        || async {
            let (_, _, text) = get(base, "/metrics").await;
            (sample(&text, series) == Some(value)).then_some(text)
        },
        &what,
    )
    .await
}
