use super::*;

/// The value of the sample line that starts with `name{labels}` or `name `.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
fn a_fresh_registry_shows_the_build_and_zero_gauges() {
    let text = Metrics::new().render();
    let version = env!("CARGO_PKG_VERSION");
    let build = format!("claude_coordinator_build_info{{version=\"{version}\"}}");
    assert_eq!(sample(&text, &build), Some(1.0), "{text}");
    for gauge in ["queue_depth", "cli_running", "cli_warm", "sessions_active"] {
        let name = format!("claude_coordinator_{gauge}");
        assert_eq!(sample(&text, &name), Some(0.0), "{name} in {text}");
    }
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn a_finished_request_counts_its_outcome_duration_and_cost_by_project() {
    let m = Metrics::new();
    m.request_finished("alpha", "done", Duration::from_millis(700), 0.25);
    m.request_finished("alpha", "done", Duration::from_secs(40), 0.5);
    m.request_finished("beta", "failed", Duration::from_secs(2), 0.0);
    let text = m.render();
    let done = "claude_coordinator_requests_total{project=\"alpha\",outcome=\"done\"}";
    assert_eq!(sample(&text, done), Some(2.0), "{text}");
    let failed = "claude_coordinator_requests_total{project=\"beta\",outcome=\"failed\"}";
    assert_eq!(sample(&text, failed), Some(1.0));
    let cost = "claude_coordinator_cost_usd_total{project=\"alpha\"}";
    assert_eq!(sample(&text, cost), Some(0.75));
    let bucket = "claude_coordinator_request_duration_seconds_bucket{le=\"1.0\",project=\"alpha\"}";
    assert_eq!(sample(&text, bucket), Some(1.0), "{text}");
    let count = "claude_coordinator_request_duration_seconds_count{project=\"alpha\"}";
    assert_eq!(sample(&text, count), Some(2.0));
}

#[test]
fn gauges_follow_the_pool_the_router_and_the_queues() {
    let m = Metrics::new();
    m.set_cli(2, 3);
    m.set_sessions(5);
    m.queue_changed(4);
    m.queue_changed(-1);
    m.discord_request(DiscordOutcome::Retried);
    m.discord_request(DiscordOutcome::Ok);
    m.approval("denied");
    let text = m.render();
    assert_eq!(sample(&text, "claude_coordinator_cli_running"), Some(2.0));
    assert_eq!(sample(&text, "claude_coordinator_cli_warm"), Some(3.0));
    assert_eq!(
        sample(&text, "claude_coordinator_sessions_active"),
        Some(5.0)
    );
    assert_eq!(sample(&text, "claude_coordinator_queue_depth"), Some(3.0));
    let retried = "claude_coordinator_discord_requests_total{outcome=\"retried\"}";
    assert_eq!(sample(&text, retried), Some(1.0));
    let denied = "claude_coordinator_approvals_total{decision=\"denied\"}";
    assert_eq!(sample(&text, denied), Some(1.0));
}
