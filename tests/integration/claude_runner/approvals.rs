//! The runner's approver with the fake CLI: every refused call is handed
//! over and answered as decided, the wait does not count toward the run's
//! timeout, and an ask nobody answers is a denial.

use crate::helpers::FakeCli;
use claude_coordinator::claude::{
    Approver, Outcome, Permission, Progress, RunReport, RunSpec, run,
};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs `spec` with an approver that answers after `delay` (allowing), or
/// drops the question when `delay` is `None`.
async fn run_with(mut spec: RunSpec, delay: Option<Duration>) -> (RunReport, Vec<Progress>) {
    let (asks, mut asked) = mpsc::unbounded_channel();
    spec.approver = Some(Approver(asks));
    tokio::spawn(async move {
        while let Some(ask) = asked.recv().await {
            let Some(delay) = delay else {
                continue;
            };
            tokio::time::sleep(delay).await;
            let updated_input = ask.request.input.clone();
            let rule = None;
            let _ = ask.answer.send(Permission::Allow {
                updated_input,
                rule,
            });
        }
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let report = run(&spec, &tx, &CancellationToken::new()).await;
    drop(tx);
    let mut events = Vec::new();
    while let Some(p) = rx.recv().await {
        events.push(p);
    }
    (report, events)
}

#[tokio::test]
async fn waiting_for_the_approver_does_not_count_toward_the_timeout() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("FAKE:deny");
    spec.timeout = Duration::from_millis(800);
    // Two calls, each answered after longer than the whole timeout.
    let (report, events) = run_with(spec, Some(Duration::from_millis(1000))).await;
    let Outcome::Success(s) = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert!(
        report.elapsed > Duration::from_millis(1200),
        "{:?}",
        report.elapsed
    );
    assert!(
        s.permission_denials.is_empty(),
        "{:?}",
        s.permission_denials
    );
    let asked: Vec<&Progress> = events
        .iter()
        .filter(|p| matches!(p, Progress::Asking { .. } | Progress::Answered))
        .collect();
    assert_eq!(
        asked,
        [
            &Progress::Asking {
                tool: "Bash".into()
            },
            &Progress::Answered,
            &Progress::Asking {
                tool: "Write".into()
            },
            &Progress::Answered
        ]
    );
}

#[tokio::test]
async fn a_question_the_approver_drops_is_denied() {
    let fake = FakeCli::new();
    let (report, _) = run_with(fake.spec("FAKE:deny"), None).await;
    let Outcome::Success(s) = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    let tools: Vec<&str> = s
        .permission_denials
        .iter()
        .map(|d| d.tool_name.as_str())
        .collect();
    assert_eq!(tools, ["Bash", "Write"]);
}

#[tokio::test]
async fn without_an_approver_refused_calls_are_denied_at_once() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("FAKE:deny");
    spec.approver = None;
    let (tx, _rx) = mpsc::unbounded_channel();
    let report = run(&spec, &tx, &CancellationToken::new()).await;
    let Outcome::Success(s) = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(s.permission_denials.len(), 2);
}
