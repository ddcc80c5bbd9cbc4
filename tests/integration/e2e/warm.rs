//! Warm sessions through the real daemon and the fake CLI: one process
//! answers a channel's messages one after another, `/model` and `/reset`
//! close it, it expires, a killed one is replaced, and SIGTERM or a
//! restart leaves nothing running.

use super::{Daemon, Options, argvs, exited, resume_of};
use crate::helpers::processes_in;
use test_support::fake_discord::SlashCommand;

async fn status(d: &Daemon) -> String {
    d.slash(SlashCommand::new("status", d.alpha, d.alice)).await
}

fn pid_of(d: &Daemon, process: usize) -> i64 {
    d.cli.records()[process]["pid"].as_i64().expect("pid")
}

#[tokio::test]
async fn a_channels_messages_are_answered_by_one_cli_process_and_status_says_warm() {
    let d = Daemon::start(Options::default()).await;
    assert!(d.ask(d.alpha, "one FAKE:echo").await.contains("one"));
    let text = status(&d).await;
    assert!(text.contains("Claude warm"), "{text}");
    assert!(d.ask(d.alpha, "two FAKE:echo").await.contains("two"));
    let recalled = d.ask(d.alpha, "three FAKE:recall").await;
    assert!(
        recalled.contains("one FAKE:echo | two FAKE:echo"),
        "{recalled}"
    );
    assert_eq!(d.cli.records().len(), 1, "one spawn for three messages");
    let rows = d.delivered_requests(d.alpha, 3).await;
    let session = rows[0].session_id_returned;
    assert!(rows.iter().all(|r| r.session_id_returned == session));
    let costs: Vec<f64> = rows.iter().map(|r| r.cost_usd.unwrap()).collect();
    // The session's running total would double and triple.
    let own = costs.iter().all(|c| (c / costs[0] - 1.0).abs() < 0.1);
    assert!(own, "each turn's own cost: {costs:?}");
    let warm_logged = d
        .log_records()
        .iter()
        .filter(|r| r["msg"] == "request finished" && r["warm"] == true)
        .count();
    assert_eq!(warm_logged, 2);
}

#[tokio::test]
async fn model_and_reset_close_the_warm_process_and_the_next_message_starts_a_new_one() {
    let d = Daemon::start(Options::default()).await;
    d.ask(d.alpha, "one").await;
    let set = SlashCommand::new("model", d.alpha, d.admin).string_option("name", "haiku");
    d.slash(set).await;
    exited(pid_of(&d, 0)).await;
    assert!(!status(&d).await.contains("Claude warm"));
    d.ask(d.alpha, "two").await;
    let argv = argvs(&d.cli);
    assert_eq!(argv.len(), 2);
    assert!(argv[1].contains(&"--model=haiku".to_string()), "{argv:?}");
    assert!(
        resume_of(&argv[1]).is_some(),
        "the session goes on: {argv:?}"
    );

    d.slash(SlashCommand::new("reset", d.alpha, d.admin)).await;
    exited(pid_of(&d, 1)).await;
    d.ask(d.alpha, "three").await;
    let argv = argvs(&d.cli);
    assert_eq!(argv.len(), 3);
    assert_eq!(resume_of(&argv[2]), None, "a new conversation: {argv:?}");
}

#[tokio::test]
async fn an_idle_warm_process_is_closed_after_warm_secs() {
    let d = Daemon::start(Options {
        warm_secs: Some(1),
        ..Options::default()
    })
    .await;
    d.ask(d.alpha, "one").await;
    exited(pid_of(&d, 0)).await;
    assert!(!status(&d).await.contains("Claude warm"));
    d.ask(d.alpha, "two").await;
    let argv = argvs(&d.cli);
    assert_eq!(argv.len(), 2);
    assert!(resume_of(&argv[1]).is_some(), "{argv:?}");
}

#[tokio::test]
async fn a_warm_process_killed_between_messages_is_replaced_and_the_message_answered() {
    let d = Daemon::start(Options::default()).await;
    d.ask(d.alpha, "one").await;
    let pid = pid_of(&d, 0);
    // SAFETY: kill(2) of the fake CLI this test's daemon started.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    exited(pid).await;
    assert!(
        d.ask(d.alpha, "still there? FAKE:echo")
            .await
            .contains("still there?")
    );
    let argv = argvs(&d.cli);
    assert_eq!(argv.len(), 2);
    let rows = d.delivered_requests(d.alpha, 2).await;
    let first_session = rows[0].session_id_returned.map(|s| s.to_string());
    assert_eq!(resume_of(&argv[1]), first_session.as_deref());
    assert_eq!(rows[1].status.to_string(), "done");
}

#[tokio::test]
async fn sigterm_closes_every_warm_process_and_a_restart_resumes_cold() {
    let mut d = Daemon::start(Options::default()).await;
    d.ask(d.alpha, "one").await;
    let in_beta = d.say(d.beta, d.alice, "beta one").await;
    d.reply_to(d.beta, in_beta).await;
    assert_eq!(d.cli.records().len(), 2);
    assert!(
        !processes_in(&d.cli.project()).is_empty(),
        "alpha's CLI is warm"
    );
    let status = d.stop_and_restart().await;
    assert!(status.success(), "{status:?}");
    for process in 0..2 {
        exited(pid_of(&d, process)).await;
    }
    assert!(processes_in(&d.cli.project()).is_empty());
    assert!(processes_in(&d.cli.dir("project-beta")).is_empty());
    d.ask(d.alpha, "after the restart").await;
    let argv = argvs(&d.cli);
    assert_eq!(argv.len(), 3);
    assert!(resume_of(&argv[2]).is_some(), "{argv:?}");
}
