//! The product's runner (`claude::run_with_recovery`, `claude::run_turn`)
//! on the real CLI, without the daemon: a stale session id recovers as a
//! fresh session, a session resumes from another folder, and a kept
//! process takes turn after turn.

use super::cli::Cli;
use super::real_cli;
use crate::helpers::run_collecting;
use claude_coordinator::claude::{Outcome, Progress, run_turn};
use claude_coordinator::domain::ClaudeSessionId;
use std::time::Duration;
use test_support::fake_api::{FakeApi, Reply};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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

/// Three turns through `claude::run_turn`, the process kept between them:
/// whether each was warm, the session ids, each turn's own cost, and the
/// init lines seen (one per turn).
async fn three_kept_turns(cli: &Cli) -> (Vec<bool>, Vec<ClaudeSessionId>, Vec<f64>, usize) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let within = Duration::from_secs(10);
    let (mut live, mut resume) = (None, None);
    let (mut warm, mut sessions, mut costs) = (Vec::new(), Vec::new(), Vec::new());
    for prompt in ["one", "two", "three"] {
        let mut spec = cli.spec(&cli.world.project(), prompt);
        spec.resume = resume;
        let (report, kept) = run_turn(&spec, live.take(), true, within, &tx, &cancel).await;
        let Outcome::Success(s) = report.outcome else {
            panic!("{:?}", report.outcome);
        };
        warm.push(report.warm);
        sessions.push(s.session_id);
        costs.push(s.cost_usd);
        resume = Some(s.session_id);
        live = kept;
    }
    if let Some(live) = live {
        live.close().await;
    }
    drop(tx);
    let mut inits = 0;
    while let Some(progress) = rx.recv().await {
        inits += usize::from(matches!(progress, Progress::Init { .. }));
    }
    (warm, sessions, costs, inits)
}

/// The fake CLI takes several turns per process as the real one does.
#[tokio::test]
async fn a_kept_process_takes_turn_after_turn_in_the_real_cli_as_in_the_fake() {
    let Some(bin) = real_cli() else {
        return;
    };
    let api = FakeApi::start().await;
    for (cli, which) in [(Cli::real(bin, &api), "real"), (Cli::fake(), "fake")] {
        let (warm, sessions, costs, inits) = three_kept_turns(&cli).await;
        assert_eq!(warm, [false, true, true], "{which}");
        assert!(
            sessions.iter().all(|s| *s == sessions[0]),
            "{which}: {sessions:?}"
        );
        let own = costs
            .iter()
            .all(|c| *c > 0.0 && (c / costs[0] - 1.0).abs() < 0.2);
        assert!(
            own,
            "{which}: each turn's own cost, not the total: {costs:?}"
        );
        assert_eq!(inits, 3, "{which}: one init per turn");
    }
    assert_eq!(api.message_calls().len(), 3);
}
