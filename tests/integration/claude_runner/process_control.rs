//! Timeouts, cancel, dropped futures, lingering CLIs and output limits: the
//! CLI and everything it started must be gone afterwards. `FAKE:child`
//! starts a tool shell in a session of its own, as the real CLI does: the
//! CLI's SIGTERM handler ends it, but a signal to the CLI's process group
//! does not reach it.

use crate::helpers::{FakeCli, Helper, group_is_gone, helper_pid, process_is_gone, run_collecting};
use claude_coordinator::claude::{Outcome, Progress, RunSpec, run};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn recorded_pgid(fake: &FakeCli) -> i32 {
    let pid = fake.record()["pid"].as_i64().expect("pid recorded");
    i32::try_from(pid).expect("pid fits")
}

fn announced_helper(events: &[Progress]) -> i32 {
    events
        .iter()
        .find_map(|e| match e {
            Progress::Text(t) => helper_pid(t),
            _ => None,
        })
        .expect("the fake announced its helper")
}

/// Runs with a watcher that cancels as soon as the helper is announced.
async fn run_cancelled_after_helper(spec: &RunSpec) -> (Outcome, Option<i32>, i32, Duration) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let watcher = tokio::spawn(async move {
        let mut helper = 0;
        while let Some(p) = rx.recv().await {
            if let Progress::Text(t) = &p
                && let Some(pid) = helper_pid(t)
            {
                helper = pid;
                trigger.cancel();
            }
        }
        helper
    });
    let report = run(spec, &tx, &cancel).await;
    drop(tx);
    let helper = watcher.await.expect("watcher");
    (report.outcome, report.exit_code, helper, report.elapsed)
}

#[tokio::test]
async fn a_hanging_cli_that_ignores_sigterm_is_killed_within_timeout_and_grace() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("FAKE:hang-ignore-term");
    spec.timeout = Duration::from_secs(1);
    let (report, _) = run_collecting(&spec, false).await;
    assert_eq!(report.outcome, Outcome::Timeout);
    assert_eq!(report.exit_code, Some(128 + libc::SIGKILL));
    assert!(report.elapsed >= spec.timeout);
    assert!(
        report.elapsed < spec.timeout + spec.kill_grace + Duration::from_secs(1),
        "{:?}",
        report.elapsed
    );
    assert!(
        group_is_gone(recorded_pgid(&fake)).await,
        "the process group survived"
    );
}

#[tokio::test]
async fn a_cli_killed_for_ignoring_sigterm_leaves_no_tool_shell() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("FAKE:child FAKE:hang-ignore-term");
    spec.timeout = Duration::from_secs(1);
    let (report, events) = run_collecting(&spec, false).await;
    assert_eq!(report.outcome, Outcome::Timeout);
    let shell = Helper(announced_helper(&events));
    assert!(process_is_gone(shell.0).await, "the tool shell survived");
}

#[tokio::test]
async fn a_hanging_cli_stops_on_sigterm_at_the_timeout() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("FAKE:hang");
    spec.timeout = Duration::from_millis(500);
    let (report, _) = run_collecting(&spec, false).await;
    assert_eq!(
        (report.outcome, report.exit_code),
        (Outcome::Timeout, Some(128 + libc::SIGTERM))
    );
    assert!(report.elapsed < spec.timeout + spec.kill_grace);
    assert!(group_is_gone(recorded_pgid(&fake)).await);
}

#[tokio::test]
async fn a_cancel_interrupts_the_turn_records_its_cost_and_leaves_no_children() {
    let fake = FakeCli::new();
    let spec = fake.spec("FAKE:child FAKE:hang");
    let (outcome, _, helper, elapsed) = run_cancelled_after_helper(&spec).await;
    let Outcome::Cancelled {
        cost: Some((cost, _)),
        session_id: Some(_),
    } = outcome
    else {
        panic!("not ended by the interrupt: {outcome:?}");
    };
    assert!(cost > 0.0);
    assert!(elapsed < Duration::from_secs(10));
    assert!(group_is_gone(recorded_pgid(&fake)).await);
    assert!(process_is_gone(helper).await);
}

#[tokio::test]
async fn a_cli_that_ignores_the_interrupt_is_killed_after_the_grace() {
    let fake = FakeCli::new();
    let spec = fake.spec("FAKE:child FAKE:hang-ignore-term");
    let (outcome, exit_code, helper, elapsed) = run_cancelled_after_helper(&spec).await;
    assert_eq!(
        (outcome, exit_code),
        (Outcome::cancelled(), Some(128 + libc::SIGKILL))
    );
    // The interrupt's grace, then SIGTERM's.
    assert!(elapsed < 2 * spec.kill_grace + Duration::from_secs(5));
    assert!(group_is_gone(recorded_pgid(&fake)).await);
    assert!(process_is_gone(helper).await);
}

#[tokio::test]
async fn a_run_cancelled_before_it_starts_spawns_nothing() {
    let fake = FakeCli::new();
    let (tx, _rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let report = run(&fake.spec("hi"), &tx, &cancel).await;
    assert_eq!(report.outcome, Outcome::cancelled());
    assert!(fake.records().is_empty());
}

/// Runs `spec` until the fake announces its helper's pid, then drops the
/// run future; returns that pid.
async fn drop_the_run_once_the_helper_runs(spec: &RunSpec) -> i32 {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    tokio::select! {
        report = run(spec, &tx, &cancel) => panic!("the hang ended: {report:?}"),
        helper = async {
            loop {
                if let Some(Progress::Text(t)) = rx.recv().await
                    && let Some(pid) = helper_pid(&t)
                {
                    break pid;
                }
            }
        } => helper,
    }
}

#[tokio::test]
async fn dropping_the_run_future_kills_the_whole_group() {
    let fake = FakeCli::new();
    let shell = Helper(drop_the_run_once_the_helper_runs(&fake.spec("FAKE:child FAKE:hang")).await);
    assert!(group_is_gone(recorded_pgid(&fake)).await);
    drop(shell);
}

#[tokio::test]
async fn dropping_the_run_future_leaves_no_tool_shell() {
    let fake = FakeCli::new();
    let shell = Helper(drop_the_run_once_the_helper_runs(&fake.spec("FAKE:child FAKE:hang")).await);
    assert!(process_is_gone(shell.0).await, "the tool shell survived");
}

#[tokio::test]
async fn a_cli_that_lingers_after_its_result_still_succeeds_promptly() {
    let fake = FakeCli::new();
    let spec = fake.spec("FAKE:linger");
    let (report, _) = run_collecting(&spec, false).await;
    assert!(
        matches!(report.outcome, Outcome::Success(_)),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.exit_code, Some(128 + libc::SIGTERM));
    assert!(
        report.elapsed < Duration::from_secs(5),
        "{:?}",
        report.elapsed
    );
    assert!(group_is_gone(recorded_pgid(&fake)).await);
}

#[tokio::test]
async fn a_cli_that_exits_without_result_while_a_child_holds_stdout_ends_promptly() {
    let fake = FakeCli::new();
    let (report, events) = run_collecting(&fake.spec("FAKE:child FAKE:no-result"), false).await;
    assert!(
        matches!(report.outcome, Outcome::ParseError { .. }),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.exit_code, Some(0));
    assert!(
        report.elapsed < Duration::from_secs(5),
        "{:?}",
        report.elapsed
    );
    drop(Helper(announced_helper(&events)));
}

#[tokio::test]
async fn a_cli_that_exits_without_ending_its_tool_shell_leaves_none_behind() {
    let fake = FakeCli::new();
    let (_, events) = run_collecting(&fake.spec("FAKE:child FAKE:no-result"), false).await;
    let shell = Helper(announced_helper(&events));
    assert!(process_is_gone(shell.0).await, "the tool shell survived");
}

/// The real CLI waits for a background shell after its result; the
/// runner's SIGTERM then makes the CLI end it.
#[tokio::test]
async fn a_finished_run_leaves_no_children_behind() {
    let fake = FakeCli::new();
    let (report, events) = run_collecting(&fake.spec("FAKE:child"), false).await;
    assert!(
        matches!(report.outcome, Outcome::Success(_)),
        "{:?}",
        report.outcome
    );
    assert!(process_is_gone(announced_helper(&events)).await);
}

#[tokio::test]
async fn output_over_the_cap_stops_the_run() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("FAKE:huge=100000");
    spec.max_output_bytes = 64 * 1024;
    assert_eq!(
        run_collecting(&spec, false).await.0.outcome,
        Outcome::OutputTooLarge
    );
    spec.max_output_bytes = 1024 * 1024;
    assert!(matches!(
        run_collecting(&spec, false).await.0.outcome,
        Outcome::Success(_)
    ));
}

#[tokio::test]
async fn an_endless_line_without_newline_hits_the_cap_not_the_timeout() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("FAKE:huge-line=50000000");
    spec.max_output_bytes = 1024 * 1024;
    let (report, _) = run_collecting(&spec, false).await;
    assert_eq!(report.outcome, Outcome::OutputTooLarge);
    assert!(report.elapsed < Duration::from_secs(10));
    assert!(group_is_gone(recorded_pgid(&fake)).await);
}

#[tokio::test]
async fn the_live_count_shows_sequential_and_parallel_runs() {
    let sequential = FakeCli::new();
    for _ in 0..2 {
        run_collecting(&sequential.spec("hi"), false).await;
    }
    assert_eq!(sequential.max_concurrency(), 1);
    let parallel = FakeCli::new();
    let spec = parallel.spec("FAKE:slow=1500");
    let (a, b, c) = tokio::join!(
        run_collecting(&spec, false),
        run_collecting(&spec, false),
        run_collecting(&spec, false)
    );
    assert!(
        [a, b, c]
            .iter()
            .all(|(r, _)| matches!(r.outcome, Outcome::Success(_)))
    );
    assert_eq!(parallel.max_concurrency(), 3);
}
