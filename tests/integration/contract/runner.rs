//! The product's runner (`claude::run_with_recovery`) on the real CLI,
//! without the daemon: a stale session id recovers as a fresh session, and
//! a session resumes from another folder.

use super::cli::Cli;
use super::real_cli;
use crate::helpers::run_collecting;
use claude_coordinator::claude::Outcome;
use claude_coordinator::domain::ClaudeSessionId;
use test_support::fake_api::{FakeApi, Reply};

#[tokio::test]
async fn a_stale_session_id_recovers_as_a_fresh_session() {
    let Some(bin) = real_cli() else {
        return;
    };
    let api = FakeApi::start().await;
    api.push(Reply::text("Fresh start."));
    let cli = Cli::real(bin, &api);
    let mut spec = cli.spec(&cli.world.project(), "carry on");
    let stale = ClaudeSessionId::new_random();
    spec.resume = Some(stale);
    let (report, _) = run_collecting(&spec, true).await;
    assert!(report.context_lost);
    let Outcome::Success(s) = report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_ne!(s.session_id, stale);
    assert_eq!(s.text, "Fresh start.");
    let calls = api.message_calls();
    assert_eq!(calls.len(), 1, "the stale resume made no API call");
    assert_eq!(
        calls[0].session_id(),
        Some(s.session_id.to_string().as_str())
    );
}

/// The fake CLI's twin is claude_runner::resume's test of the same name.
#[tokio::test]
async fn a_session_resumes_from_another_folder_with_its_history() {
    let Some(bin) = real_cli() else {
        return;
    };
    let api = FakeApi::start().await;
    let cli = Cli::real(bin, &api);
    let (here, there) = (cli.world.project(), cli.world.dir("project-elsewhere"));
    std::fs::create_dir(&there).expect("second folder");
    let (first, _) = run_collecting(&cli.spec(&here, "remember KIWI"), true).await;
    let id = first.outcome.session_id().expect("a session");
    let mut spec = cli.spec(&there, "which fruit?");
    spec.resume = Some(id);
    let (second, _) = run_collecting(&spec, true).await;
    assert!(!second.context_lost, "{:?}", second.outcome);
    assert_eq!(second.outcome.session_id(), Some(id));
    let calls = api.message_calls();
    assert!(calls[1].texts_of("user").contains(&"remember KIWI"));
}
