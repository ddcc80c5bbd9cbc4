//! Daily budgets in the pipeline against the fake CLI (each run costs
//! about $0.02): a spent budget refuses the next request before the CLI
//! runs, at the all-projects, project and user level, until 00:00 UTC.

use crate::pipeline_harness::{ALICE, BOB, Pipeline, content, wait_status};
use chrono::{DateTime, Duration, Utc};
use claude_coordinator::db::Db;
use claude_coordinator::domain::RequestStatus;
use std::sync::atomic::{AtomicI64, Ordering};

/// Sends `prompt` as the `nth` message (1-based, counting replies) and
/// returns the reply's text.
async fn ask(
    p: &Pipeline,
    channel: u64,
    user: claude_coordinator::domain::UserId,
    prompt: &str,
    nth: usize,
) -> String {
    p.say(channel, user, prompt);
    let replies = p.replies(nth).await;
    content(&replies[nth - 1]).to_string()
}

fn refused(text: &str) -> bool {
    text.starts_with("💸")
}

#[actix_rt::test]
async fn a_spent_all_projects_budget_refuses_every_project_before_the_cli_runs() {
    let p = Pipeline::start(|c| c.budgets.daily_usd = Some(0.01)).await;
    assert!(!refused(&ask(&p, 1, ALICE, "one", 1).await));
    let text = ask(&p, 2, ALICE, "two", 2).await;
    assert!(refused(&text), "{text}");
    assert!(
        text.contains("The daily budget of all projects is spent: $0.02 of $0.01"),
        "{text}"
    );
    assert!(text.contains("resets at 00:00 UTC"), "{text}");
    assert_eq!(
        p.cli.turns().len(),
        1,
        "the CLI did not run for the refused one"
    );
}

#[actix_rt::test]
async fn a_projects_own_budget_holds_only_that_project_and_replaces_the_global_one() {
    let p = Pipeline::start(|c| {
        c.budgets.daily_usd = Some(0.01);
        c.projects[0].daily_budget_usd = Some(0.01);
        c.projects[1].daily_budget_usd = Some(100.0);
    })
    .await;
    ask(&p, 1, ALICE, "one", 1).await;
    let text = ask(&p, 1, ALICE, "two", 2).await;
    assert!(
        text.contains("The daily budget of project p0 is spent"),
        "{text}"
    );
    let other = ask(&p, 2, ALICE, "three", 3).await;
    assert!(
        !refused(&other),
        "p1's own budget replaces the spent global one: {other}"
    );
}

#[actix_rt::test]
async fn a_users_budget_holds_that_user_in_that_project_only() {
    let p = Pipeline::start(|c| c.budgets.user_daily_usd = Some(0.01)).await;
    ask(&p, 1, ALICE, "one", 1).await;
    let text = ask(&p, 1, ALICE, "two", 2).await;
    assert!(
        text.contains("Your daily budget in project p0 is spent"),
        "{text}"
    );
    assert!(!refused(&ask(&p, 1, BOB, "bob's turn", 3).await));
    assert!(!refused(&ask(&p, 2, ALICE, "in p1", 4).await));
}

static SHIFT_SECS: AtomicI64 = AtomicI64::new(0);

fn shifted_clock() -> DateTime<Utc> {
    Utc::now() + Duration::seconds(SHIFT_SECS.load(Ordering::Relaxed))
}

#[actix_rt::test]
async fn a_spent_budget_is_fresh_again_after_midnight_utc() {
    let db = Db::in_memory().await.expect("db");
    let p =
        Pipeline::start_with_clock(|c| c.budgets.daily_usd = Some(0.01), db, shifted_clock).await;
    ask(&p, 1, ALICE, "one", 1).await;
    assert!(refused(&ask(&p, 1, ALICE, "two", 2).await));
    let now = Utc::now();
    let midnight = claude_coordinator::domain::start_of_utc_day(now) + Duration::days(1);
    SHIFT_SECS.store((midnight - now).num_seconds() + 1, Ordering::Relaxed);
    let text = ask(&p, 1, ALICE, "three", 3).await;
    assert!(!refused(&text), "a new day: {text}");
}

/// The `--max-budget-usd` of a recorded process, if it had one.
fn cap_of(record: &serde_json::Value) -> Option<f64> {
    let argv = record["argv"].as_array()?;
    argv.iter()
        .find_map(|a| a.as_str()?.strip_prefix("--max-budget-usd="))
        .and_then(|v| v.parse().ok())
}

#[actix_rt::test]
async fn a_run_is_capped_at_what_the_budget_leaves_and_told_when_it_reaches_it() {
    let p = Pipeline::start(|c| c.budgets.user_daily_usd = Some(0.03)).await;
    ask(&p, 1, ALICE, "one", 1).await;
    let records = p.cli.records();
    assert_eq!(cap_of(&records[0]), Some(0.03), "{records:?}");
    // The kept process, capped at 0.03 with 0.02 spent, takes the next turn
    // (what it has left is what the budget leaves) and passes its cap.
    let (second, _) = p.say(1, ALICE, "two");
    let replies = p.replies(2).await;
    let text = content(&replies[1]);
    assert!(
        text.contains("used up what today's budget had left"),
        "{text}"
    );
    assert_eq!(p.cli.records().len(), 1, "the warm process took it");
    assert_eq!(
        wait_status(&p, second, RequestStatus::Failed).await,
        RequestStatus::Failed
    );
    let row = p.db.request(second).await.unwrap().unwrap();
    assert_eq!(row.error_kind.as_deref(), Some("budget_reached"));
    assert!(
        row.cost_usd.is_some_and(|c| c > 0.0),
        "the call it made is counted"
    );
    assert!(refused(&ask(&p, 1, ALICE, "three", 3).await));
}

#[actix_rt::test]
async fn a_kept_process_capped_above_what_the_budget_now_leaves_is_restarted() {
    let p = Pipeline::start(|c| c.budgets.daily_usd = Some(0.5)).await;
    let (one, _) = p.say(1, ALICE, "one");
    p.replies(1).await;
    // Another project spends meanwhile, so channel 1's process is capped
    // above what the shared budget leaves.
    let (other, _) = p.say(2, ALICE, "elsewhere");
    p.replies(2).await;
    wait_status(&p, other, RequestStatus::Done).await;
    ask(&p, 1, ALICE, "two", 3).await;
    let records = p.cli.records();
    assert_eq!(records.len(), 3, "channel 1 got a new process: {records:?}");
    assert_eq!(cap_of(&records[0]), Some(0.5));
    let mut spent = 0.0;
    for id in [one, other] {
        spent += p.db.request(id).await.unwrap().unwrap().cost_usd.unwrap();
    }
    let cap = cap_of(&records[2]).expect("a cap");
    assert!((cap - (0.5 - spent)).abs() < 1e-5, "{cap} after {spent}");
    assert!(records[2]["argv"].to_string().contains("--resume"));
}
