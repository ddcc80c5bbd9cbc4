//! Resuming: known sessions continue, unknown ones recover as fresh ones.

use crate::helpers::{FakeCli, run_collecting};
use claude_coordinator::claude::{Outcome, Progress};
use claude_coordinator::domain::ClaudeSessionId;

async fn first_session(fake: &FakeCli) -> ClaudeSessionId {
    let (report, _) = run_collecting(&fake.spec("hi"), false).await;
    report.outcome.session_id().expect("a session")
}

#[tokio::test]
async fn resuming_a_known_session_keeps_its_id() {
    let fake = FakeCli::new();
    let id = first_session(&fake).await;
    let mut spec = fake.spec("again");
    spec.resume = Some(id);
    let (report, events) = run_collecting(&spec, true).await;
    assert!(!report.context_lost);
    assert!(
        matches!(&report.outcome, Outcome::Success(s) if s.session_id == id),
        "{:?}",
        report.outcome
    );
    assert!(matches!(events.first(), Some(Progress::Init { session_id, .. }) if *session_id == id));
    let argv = fake.records()[1]["argv"].to_string();
    assert!(argv.contains(&format!("\"--resume\",\"{id}\"")));
}

#[tokio::test]
async fn an_unknown_session_fails_to_resume_without_recovery() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("hi");
    spec.resume = Some(ClaudeSessionId::new_random());
    let (report, _) = run_collecting(&spec, false).await;
    assert!(
        matches!(&report.outcome, Outcome::ResumeFailed { log_detail } if log_detail.contains("No conversation found"))
    );
    assert_eq!(report.exit_code, Some(1));
}

#[tokio::test]
async fn an_unknown_session_recovers_as_a_fresh_one_that_can_be_resumed() {
    let fake = FakeCli::new();
    let stale = ClaudeSessionId::new_random();
    let mut spec = fake.spec("FAKE:echo carry on");
    spec.resume = Some(stale);
    let (report, _) = run_collecting(&spec, true).await;
    assert!(report.context_lost);
    let Outcome::Success(s) = report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert_ne!(s.session_id, stale);
    assert_eq!(s.text, "FAKE:echo carry on");
    let records = fake.records();
    assert_eq!(records.len(), 2);
    assert!(!records[1]["argv"].to_string().contains("--resume"));
    spec.resume = Some(s.session_id);
    let (again, _) = run_collecting(&spec, true).await;
    assert!(!again.context_lost);
    assert_eq!(again.outcome.session_id(), Some(s.session_id));
}

/// As the real CLI does (contract::runner checks it there): sessions are
/// not scoped to a folder.
#[tokio::test]
async fn a_session_resumes_from_another_folder_with_its_history() {
    let (here, there) = (FakeCli::new(), FakeCli::new());
    let (first, _) = run_collecting(&there.spec("remember KIWI"), false).await;
    let id = first.outcome.session_id().expect("a session");
    let mut spec = here.spec("FAKE:recall");
    // One CLI state (as one HOME holds), two folders.
    spec.extra_env.retain(|(k, _)| k != "FAKE_CLAUDE_STATE_DIR");
    spec.extra_env.push((
        "FAKE_CLAUDE_STATE_DIR".into(),
        there.dir("state").to_string_lossy().into_owned(),
    ));
    spec.resume = Some(id);
    let (report, _) = run_collecting(&spec, false).await;
    let Outcome::Success(s) = report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(s.session_id, id);
    assert!(s.text.contains("remember KIWI"), "{}", s.text);
}

#[tokio::test]
async fn the_session_id_comes_from_the_latest_run_when_the_cli_forks() {
    let fake = FakeCli::new();
    let id = first_session(&fake).await;
    let mut spec = fake.spec("FAKE:fork");
    spec.resume = Some(id);
    let (report, events) = run_collecting(&spec, true).await;
    let new_id = report.outcome.session_id().expect("a session");
    assert_ne!(new_id, id);
    assert!(!report.context_lost);
    assert!(
        matches!(events.first(), Some(Progress::Init { session_id, .. }) if *session_id == new_id)
    );
}

fn init_model(events: &[Progress]) -> String {
    match events.first() {
        Some(Progress::Init { model, .. }) => model.clone(),
        other => panic!("no init first: {other:?}"),
    }
}

/// As the real CLI does: a resume without --model stays on the session's
/// last model, and `--model default` goes back.
#[tokio::test]
async fn a_resumed_session_keeps_its_last_model_until_told_otherwise() {
    let fake = FakeCli::new();
    let (first, default) = run_collecting(&fake.spec("hi"), false).await;
    let mut spec = fake.spec("again");
    spec.model = Some("haiku".into());
    spec.resume = first.outcome.session_id();
    let (_, haiku) = run_collecting(&spec, false).await;
    assert_ne!(init_model(&haiku), init_model(&default));
    spec.model = None;
    let (_, kept) = run_collecting(&spec, false).await;
    assert_eq!(init_model(&kept), init_model(&haiku));
    spec.model = Some("default".into());
    let (_, back) = run_collecting(&spec, false).await;
    assert_eq!(init_model(&back), init_model(&default));
}
