//! Warm CLI processes in the pool, against the fake CLI (which takes one
//! turn per user message, as the real one does): a session's next turn
//! goes to its kept process, the set is bounded and expires, and a process
//! that died, hung or wrote between turns is replaced with the turn
//! answered.

use crate::claude_pool::{Harness, finished};
use crate::e2e::{exited, poll};
use claude_coordinator::actors::claude_pool::WarmSettings;
use claude_coordinator::actors::messages::{
    CloseAllWarm, CloseWarm, GetPoolStats, IsWarm, SetLimits,
};
use claude_coordinator::claude::{Outcome, RunReport, Success};
use claude_coordinator::domain::{ChannelId, ClaudeSessionId};
use std::time::Duration;

fn warm(max: usize) -> WarmSettings {
    WarmSettings {
        max,
        idle: Duration::from_secs(600),
        answer_within: Duration::from_millis(500),
    }
}

const ONE: ChannelId = ChannelId(1);
const TWO: ChannelId = ChannelId(2);
const THREE: ChannelId = ChannelId(3);

/// Runs one turn of `channel`'s session and returns its report.
async fn turn(
    h: &mut Harness,
    channel: ChannelId,
    prompt: &str,
    resume: Option<ClaudeSessionId>,
) -> RunReport {
    let mut spec = h.cli.spec(prompt);
    spec.resume = resume;
    h.submit_spec(spec, Some(channel));
    let events = h.until_finished(1).await;
    finished(&events)[0].1.clone()
}

fn success(report: &RunReport) -> &Success {
    match &report.outcome {
        Outcome::Success(s) => s,
        other => panic!("expected a success, got {other:?}"),
    }
}

/// The pool's warm count; the `cli_warm` metric says the same.
async fn warm_count(h: &Harness) -> usize {
    let warm = h.pool.send(GetPoolStats).await.unwrap().warm;
    let metric = format!("claude_coordinator_cli_warm {warm}");
    assert!(h.metrics.render().lines().any(|l| l == metric), "{metric}");
    warm
}

/// Waits until exactly `n` fake CLIs run.
async fn live_becomes(h: &Harness, n: usize) {
    poll(
        || (h.cli.live_now() == n).then_some(()),
        "the number of running CLIs",
    )
    .await;
}

#[actix_rt::test]
async fn a_sessions_next_turns_go_to_its_warm_process() {
    let mut h = Harness::with_warm(1, warm(4));
    let first = turn(&mut h, ONE, "hello", None).await;
    let session = success(&first).session_id;
    assert!(!first.warm);
    assert_eq!(warm_count(&h).await, 1);
    assert!(h.pool.send(IsWarm(ONE)).await.unwrap());
    for prompt in ["second FAKE:recall", "third"] {
        let next = turn(&mut h, ONE, prompt, Some(session)).await;
        assert!(next.warm, "{next:?}");
        assert_eq!(success(&next).session_id, session);
    }
    let records = h.cli.records();
    assert_eq!(records.len(), 1, "one spawn for three turns");
    assert_eq!(records[0]["turns"].as_array().unwrap().len(), 3);
    live_becomes(&h, 1).await;
}

#[actix_rt::test]
async fn a_warm_turn_records_its_own_cost_not_the_sessions_total() {
    let mut h = Harness::with_warm(1, warm(4));
    let first = turn(&mut h, ONE, "hello", None).await;
    let session = success(&first).session_id;
    let next = turn(&mut h, ONE, "again", Some(session)).await;
    assert!(next.warm);
    let (one, two) = (success(&first).cost_usd, success(&next).cost_usd);
    assert!(one > 0.0 && (two - one).abs() < 1e-9, "{one} then {two}");
}

#[actix_rt::test]
async fn past_max_warm_the_least_recently_used_process_is_closed() {
    let mut h = Harness::with_warm(1, warm(2));
    let mut sessions = Vec::new();
    for channel in [ONE, TWO, THREE] {
        let report = turn(&mut h, channel, "hello", None).await;
        sessions.push(success(&report).session_id);
    }
    assert_eq!(warm_count(&h).await, 2);
    assert!(!h.pool.send(IsWarm(ONE)).await.unwrap());
    live_becomes(&h, 2).await;
    let again = turn(&mut h, ONE, "back", Some(sessions[0])).await;
    assert!(!again.warm, "channel one's process was closed");
    let latest = turn(&mut h, THREE, "still here", Some(sessions[2])).await;
    assert!(latest.warm);
    assert_eq!(h.cli.records().len(), 4);
}

#[actix_rt::test]
async fn an_idle_warm_process_is_closed_after_its_idle_time() {
    let settings = WarmSettings {
        idle: Duration::from_millis(300),
        ..warm(4)
    };
    let mut h = Harness::with_warm(1, settings);
    let first = turn(&mut h, ONE, "hello", None).await;
    assert_eq!(warm_count(&h).await, 1);
    live_becomes(&h, 0).await;
    assert_eq!(warm_count(&h).await, 0);
    let next = turn(&mut h, ONE, "later", Some(success(&first).session_id)).await;
    assert!(!next.warm);
    let argv = &h.cli.records()[1]["argv"];
    assert!(argv.to_string().contains("--resume"), "{argv}");
}

#[actix_rt::test]
async fn max_warm_zero_keeps_no_process() {
    let mut h = Harness::with_warm(1, warm(0));
    let first = turn(&mut h, ONE, "hello", None).await;
    live_becomes(&h, 0).await;
    let next = turn(&mut h, ONE, "again", Some(success(&first).session_id)).await;
    assert!(!next.warm);
    assert_eq!(h.cli.records().len(), 2);
}

#[actix_rt::test]
async fn a_warm_process_holds_no_run_slot() {
    let mut h = Harness::with_warm(1, warm(4));
    turn(&mut h, ONE, "hello", None).await;
    // One slot, and channel one's process stays warm while two runs.
    let other = turn(&mut h, TWO, "hi", None).await;
    success(&other);
    assert_eq!(warm_count(&h).await, 2);
}

#[actix_rt::test]
async fn a_turn_started_differently_gets_a_new_process_and_the_old_one_closes() {
    let mut h = Harness::with_warm(1, warm(4));
    let first = turn(&mut h, ONE, "hello", None).await;
    let mut spec = h.cli.spec("on haiku now");
    spec.resume = Some(success(&first).session_id);
    spec.model = Some("haiku".into());
    h.submit_spec(spec, Some(ONE));
    let events = h.until_finished(1).await;
    let report = finished(&events)[0].1;
    assert!(!report.warm);
    success(report);
    let argv = h.cli.records()[1]["argv"].to_string();
    assert!(
        argv.contains("--model=haiku") && argv.contains("--resume"),
        "{argv}"
    );
    live_becomes(&h, 1).await;
}

#[actix_rt::test]
async fn close_warm_ends_the_sessions_process() {
    let mut h = Harness::with_warm(1, warm(4));
    turn(&mut h, ONE, "hello", None).await;
    h.pool.send(CloseWarm(ONE)).await.unwrap();
    assert!(!h.pool.send(IsWarm(ONE)).await.unwrap());
    live_becomes(&h, 0).await;
}

#[actix_rt::test]
async fn close_all_warm_returns_once_every_process_exited_and_keeps_no_more() {
    let mut h = Harness::with_warm(2, warm(4));
    turn(&mut h, ONE, "hello", None).await;
    turn(&mut h, TWO, "hello", None).await;
    h.pool.send(CloseAllWarm).await.unwrap();
    assert_eq!(h.cli.live_now(), 0, "closed before the reply");
    turn(&mut h, THREE, "after", None).await;
    assert_eq!(warm_count(&h).await, 0);
    live_becomes(&h, 0).await;
}

#[actix_rt::test]
async fn a_warm_process_killed_between_turns_is_replaced_and_the_turn_answered() {
    let mut h = Harness::with_warm(1, warm(4));
    let first = turn(&mut h, ONE, "hello", None).await;
    let pid = h.cli.records()[0]["pid"].as_i64().unwrap();
    // SAFETY: kill(2) of the fake CLI this test started.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    exited(pid).await;
    let session = success(&first).session_id;
    let next = turn(&mut h, ONE, "are you there FAKE:echo", Some(session)).await;
    assert!(!next.warm);
    assert_eq!(success(&next).text, "are you there FAKE:echo");
    assert_eq!(success(&next).session_id, session);
    let records = h.cli.records();
    assert_eq!(records.len(), 2);
    assert!(
        records[1]["argv"]
            .to_string()
            .contains(&session.to_string())
    );
}

#[actix_rt::test]
async fn a_warm_process_that_stopped_answering_is_replaced_and_the_turn_answered() {
    let mut h = Harness::with_warm(1, warm(4));
    // The process keeps running after this result but takes no more turns.
    let first = turn(&mut h, ONE, "hello FAKE:linger", None).await;
    let session = success(&first).session_id;
    let next = turn(&mut h, ONE, "still there FAKE:echo", Some(session)).await;
    assert!(!next.warm);
    assert_eq!(success(&next).text, "still there FAKE:echo");
    let records = h.cli.records();
    assert_eq!(records.len(), 2);
    // Ended by its group's signals (so it logs no end of its own).
    exited(records[0]["pid"].as_i64().unwrap()).await;
}

/// A first turn that leaves a stray result behind (`ghost`), then a second:
/// its answer must be its own, from a new process.
async fn after_a_stray_result(ghost: &str) {
    let mut h = Harness::with_warm(1, warm(4));
    let first = turn(&mut h, ONE, &format!("hello FAKE:{ghost}"), None).await;
    let session = success(&first).session_id;
    let next = turn(&mut h, ONE, "the real question FAKE:echo", Some(session)).await;
    assert_eq!(success(&next).text, "the real question FAKE:echo");
    assert!(!next.warm);
    assert_eq!(h.cli.records().len(), 2);
}

#[actix_rt::test]
async fn a_warm_process_that_wrote_between_turns_is_replaced_not_believed() {
    after_a_stray_result("ghost").await;
}

/// The stray result comes 300 ms later: after the next message is written,
/// before that turn's init.
#[actix_rt::test]
async fn a_stray_line_that_comes_after_the_next_message_is_not_taken_for_its_answer() {
    after_a_stray_result("ghost=300").await;
}

#[actix_rt::test]
async fn a_failed_turn_keeps_no_process() {
    let mut h = Harness::with_warm(1, warm(4));
    let report = turn(&mut h, ONE, "FAKE:error", None).await;
    assert!(matches!(report.outcome, Outcome::ClaudeError { .. }));
    assert_eq!(warm_count(&h).await, 0);
    live_becomes(&h, 0).await;
}

#[actix_rt::test]
async fn a_lower_max_warm_from_a_reload_closes_the_least_recently_used() {
    let mut h = Harness::with_warm(1, warm(3));
    for channel in [ONE, TWO, THREE] {
        turn(&mut h, channel, "hello", None).await;
    }
    live_becomes(&h, 3).await;
    h.pool.do_send(SetLimits {
        max_concurrent: 1,
        max_warm: 1,
        warm_idle: Duration::from_secs(600),
    });
    live_becomes(&h, 1).await;
    assert_eq!(warm_count(&h).await, 1);
    assert!(h.pool.send(IsWarm(THREE)).await.unwrap());
}

#[actix_rt::test]
async fn a_higher_max_concurrent_from_a_reload_starts_waiting_jobs_at_once() {
    let mut h = Harness::with_warm(1, warm(0));
    h.submit_spec(h.cli.spec("FAKE:gate=1 one"), None);
    h.submit_spec(h.cli.spec("FAKE:gate=1 two"), None);
    live_becomes(&h, 1).await;
    let stats = h.pool.send(GetPoolStats).await.unwrap();
    assert_eq!((stats.running, stats.waiting), (1, 1));
    h.pool.do_send(SetLimits {
        max_concurrent: 2,
        max_warm: 0,
        warm_idle: Duration::from_secs(600),
    });
    live_becomes(&h, 2).await;
    std::fs::write(h.cli.dir("state").join("gate-1"), "").unwrap();
    assert_eq!(finished(&h.until_finished(2).await).len(), 2);
}
