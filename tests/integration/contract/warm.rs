//! Warm sessions on the real CLI: one live process answers a channel's
//! messages with the conversation's history, `/model` and `/reset` restart
//! it, a killed one is replaced with `--resume`, the least recently used
//! goes past `max_warm`, and SIGTERM leaves nothing running.

use super::World;
use crate::e2e::{Daemon, Options, poll};
use crate::helpers::processes_in;
use std::path::Path;
use test_support::fake_api::Reply;
use test_support::fake_discord::SlashCommand;

/// The one process working in `dir`, once there is exactly one.
async fn the_process_in(dir: &Path) -> i32 {
    poll(
        || match processes_in(dir)[..] {
            [pid] => Some(pid),
            _ => None,
        },
        "one CLI process in the folder",
    )
    .await
}

/// Whether each of the first `n` requests went to a live CLI, from their
/// "request finished" records.
async fn warm_turns(d: &Daemon, n: usize) -> Vec<bool> {
    poll(
        || {
            let finished: Vec<bool> = d
                .log_records()
                .iter()
                .filter(|r| r["msg"] == "request finished")
                .map(|r| r["warm"] == true)
                .collect();
            (finished.len() >= n).then_some(finished)
        },
        "the requests' finished records",
    )
    .await
}

#[tokio::test]
async fn one_live_cli_answers_a_channels_messages_with_their_history() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    for reply in ["Noted: MANGO.", "Still MANGO.", "It was MANGO."] {
        w.api.push(Reply::text(reply));
    }
    w.d.ask(w.d.alpha, "remember MANGO").await;
    let pid = the_process_in(&w.project()).await;
    w.d.ask(w.d.alpha, "and now?").await;
    assert_eq!(w.d.ask(w.d.alpha, "which fruit?").await, "It was MANGO.");
    assert_eq!(the_process_in(&w.project()).await, pid, "the same process");
    let calls = w.calls(3).await;
    assert!(calls[2].texts_of("user").contains(&"remember MANGO"));
    assert_eq!(calls[2].session_id(), calls[0].session_id());
    let rows = w.d.delivered_requests(w.d.alpha, 3).await;
    let costs: Vec<f64> = rows.iter().map(|r| r.cost_usd.unwrap()).collect();
    // The CLI's total_cost_usd doubles and triples; each turn is recorded alone.
    assert!(
        costs.iter().all(|c| (c / costs[0] - 1.0).abs() < 0.2),
        "{costs:?}"
    );
    assert_eq!(warm_turns(&w.d, 3).await, [false, true, true]);
    let status = w
        .command(SlashCommand::new("status", w.d.alpha, w.d.alice))
        .await;
    assert!(status.contains("Claude warm"), "{status}");
}

#[tokio::test]
async fn model_and_reset_restart_the_live_cli() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    w.d.ask(w.d.alpha, "remember KIWI").await;
    let first = the_process_in(&w.project()).await;
    let set = SlashCommand::new("model", w.d.alpha, w.d.admin).string_option("name", "haiku");
    w.command(set).await;
    w.d.ask(w.d.alpha, "which fruit?").await;
    let second = the_process_in(&w.project()).await;
    assert_ne!(second, first);
    let calls = w.calls(2).await;
    assert_eq!(calls[1].model(), Some("claude-haiku-5-5"));
    assert!(calls[1].texts_of("user").contains(&"remember KIWI"));

    w.command(SlashCommand::new("reset", w.d.alpha, w.d.admin))
        .await;
    w.d.ask(w.d.alpha, "hello again").await;
    assert_ne!(the_process_in(&w.project()).await, second);
    let calls = w.calls(3).await;
    assert_ne!(calls[2].session_id(), calls[0].session_id());
    assert!(!calls[2].texts_of("user").contains(&"remember KIWI"));
    assert_eq!(warm_turns(&w.d, 3).await, [false, false, false]);
}

#[tokio::test]
async fn a_live_cli_killed_between_messages_is_replaced_and_the_message_answered() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    w.api.push(Reply::text("Noted: LIME."));
    w.api.push(Reply::text("It was LIME."));
    w.d.ask(w.d.alpha, "remember LIME").await;
    let pid = the_process_in(&w.project()).await;
    // SAFETY: kill(2) of the CLI this test's daemon started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    w.nothing_runs_in_the_project().await;
    assert_eq!(w.d.ask(w.d.alpha, "which fruit?").await, "It was LIME.");
    let calls = w.calls(2).await;
    assert!(calls[1].texts_of("user").contains(&"remember LIME"));
    assert_eq!(warm_turns(&w.d, 2).await, [false, false]);
}

#[tokio::test]
async fn past_max_warm_the_least_recently_used_live_cli_is_closed() {
    let Some(w) = World::start(Options {
        max_warm: Some(1),
        ..Options::default()
    })
    .await
    else {
        return;
    };
    w.d.ask(w.d.alpha, "one").await;
    the_process_in(&w.project()).await;
    w.d.ask(w.d.beta, "two").await;
    w.nothing_runs_in_the_project().await;
    the_process_in(&w.d.cli.dir("project-beta")).await;
}

#[tokio::test]
async fn an_idle_live_cli_exits_after_warm_secs_and_the_next_message_resumes() {
    let Some(w) = World::start(Options {
        warm_secs: Some(1),
        ..Options::default()
    })
    .await
    else {
        return;
    };
    w.api.push(Reply::text("Noted: FIG."));
    w.api.push(Reply::text("It was FIG."));
    w.d.ask(w.d.alpha, "remember FIG").await;
    w.nothing_runs_in_the_project().await;
    assert_eq!(w.d.ask(w.d.alpha, "which fruit?").await, "It was FIG.");
    assert_eq!(warm_turns(&w.d, 2).await, [false, false]);
}

#[tokio::test]
async fn sigterm_ends_every_live_cli_and_after_a_restart_the_session_resumes() {
    let Some(mut w) = World::start(Options::default()).await else {
        return;
    };
    w.api.push(Reply::text("Noted: PEAR."));
    w.api.push(Reply::text("Hello, beta."));
    w.api.push(Reply::text("It was PEAR."));
    w.d.ask(w.d.alpha, "remember PEAR").await;
    w.d.ask(w.d.beta, "hello").await;
    the_process_in(&w.project()).await;
    let status = w.d.stop_and_restart().await;
    assert!(status.success(), "{status:?}");
    assert!(
        processes_in(&w.project()).is_empty(),
        "nothing outlived the daemon"
    );
    assert!(processes_in(&w.d.cli.dir("project-beta")).is_empty());
    assert_eq!(w.d.ask(w.d.alpha, "which fruit?").await, "It was PEAR.");
}

/// The real CLI takes `--max-budget-usd=` glued, caps the live process
/// over its turns, and reports reaching it as the daemon expects.
#[tokio::test]
async fn the_real_cli_stops_a_turn_at_what_the_budget_leaves() {
    let Some(w) = World::start(Options {
        budgets: Some("user_daily_budget_usd = 0.008"),
        ..Options::default()
    })
    .await
    else {
        return;
    };
    w.d.ask(w.d.alpha, "one").await;
    let text = w.d.ask(w.d.alpha, "two").await;
    assert!(
        text.contains("used up what today's budget had left"),
        "{text}"
    );
    assert_eq!(
        warm_turns(&w.d, 2).await,
        [false, true],
        "the kept process ran it"
    );
    let rows = w.d.delivered_requests(w.d.alpha, 2).await;
    assert_eq!(rows[1].error_kind.as_deref(), Some("budget_reached"));
    assert!(w.d.ask(w.d.alpha, "three").await.starts_with("💸"));
    assert_eq!(w.calls(2).await.len(), 2, "the refused one made no call");
}
