//! The control protocol on the real CLI, through the product's runner: a
//! call the CLI's rules refuse is handed to the run's approver, an allow
//! runs the input the approver gave, a deny tells Claude why and is listed,
//! and a cancel interrupts the turn, whose result still carries its cost.

use super::cli::Cli;
use super::real_cli;
use crate::e2e::poll;
use claude_coordinator::claude::{Approver, Ask, Outcome, Permission, RunReport, RunSpec, run};
use serde_json::json;
use test_support::fake_api::{FakeApi, Match, Reply};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs `spec` with an approver that answers every call with `decide`;
/// returns the report and the calls it was asked about.
async fn run_approving(
    mut spec: RunSpec,
    decide: impl Fn(&Ask) -> Permission + Send + 'static,
) -> (RunReport, Vec<(String, serde_json::Value)>) {
    let (asks, mut asked) = mpsc::unbounded_channel();
    spec.approver = Some(Approver(asks));
    let approver = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(ask) = asked.recv().await {
            let permission = decide(&ask);
            seen.push((ask.request.tool_name.clone(), ask.request.input.clone()));
            let _ = ask.answer.send(permission);
        }
        seen
    });
    let (progress, _events) = mpsc::unbounded_channel();
    let report = run(&spec, &progress, &CancellationToken::new()).await;
    drop(spec);
    (report, approver.await.expect("approver"))
}

fn touch(name: &str) -> serde_json::Value {
    json!({"command": format!("touch {name}"), "description": "Create a file"})
}

#[tokio::test]
async fn an_allowed_call_runs_the_input_the_approver_gave() {
    let Some(bin) = real_cli() else {
        return;
    };
    let api = FakeApi::start().await;
    api.push(Reply::tool_use("Bash", touch("asked-for")));
    api.push_when(Match::tool_result(), Reply::text("Created."));
    let cli = Cli::real(bin, &api);
    let project = cli.world.project();
    let spec = cli.spec(&project, "create a file");
    let (report, asked) = run_approving(spec, |ask| {
        let mut input = ask.request.input.clone();
        input["command"] = json!("touch instead");
        Permission::Allow {
            updated_input: input,
            rule: None,
        }
    })
    .await;
    let Outcome::Success(s) = report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(s.text, "Created.");
    assert!(
        s.permission_denials.is_empty(),
        "{:?}",
        s.permission_denials
    );
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(
        (asked[0].0.as_str(), &asked[0].1["command"]),
        ("Bash", &json!("touch asked-for"))
    );
    assert!(project.join("instead").exists(), "the approver's input ran");
    assert!(!project.join("asked-for").exists());
}

#[tokio::test]
async fn a_denied_call_tells_claude_why_and_is_listed() {
    let Some(bin) = real_cli() else {
        return;
    };
    let api = FakeApi::start().await;
    api.push(Reply::tool_use("Bash", touch("x")));
    api.push_when(Match::tool_result(), Reply::text("I may not."));
    let cli = Cli::real(bin, &api);
    let project = cli.world.project();
    let spec = cli.spec(&project, "create x");
    let (report, _) = run_approving(spec, |_| Permission::Deny {
        message: "denied by alice-77".into(),
    })
    .await;
    let Outcome::Success(s) = report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(s.text, "I may not.");
    assert_eq!(s.permission_denials.len(), 1, "{:?}", s.permission_denials);
    assert_eq!(s.permission_denials[0].tool_name, "Bash");
    assert!(!project.join("x").exists(), "the denied command ran");
    let calls = api.message_calls();
    let told = calls[1].last_tool_results()[0].to_string();
    assert!(told.contains("denied by alice-77"), "{told}");
}

#[tokio::test]
async fn a_cancel_interrupts_the_turn_and_its_cost_is_kept() {
    let Some(bin) = real_cli() else {
        return;
    };
    let api = FakeApi::start().await;
    let cli = Cli::real(bin, &api);
    let project = cli.world.project();
    super::tools::script(&project, "wait.sh", "sleep 32.5");
    let call = json!({"command": "./wait.sh", "description": "Wait"});
    api.push(Reply::tool_use("Bash", call));
    let mut spec = cli.spec(&project, "wait a while");
    spec.allowed_tools = vec!["Bash(./wait.sh:*)".into()];
    let cancel = CancellationToken::new();
    let (progress, _events) = mpsc::unbounded_channel();
    let running = run(&spec, &progress, &cancel);
    let sleeping = async {
        poll(|| sleep_pid(&project), "the tool's sleep to start").await;
        cancel.cancel();
    };
    let (report, ()) = tokio::join!(running, sleeping);
    let Outcome::Cancelled {
        cost: Some((cost, _)),
        session_id: Some(_),
    } = report.outcome
    else {
        panic!("not ended by the interrupt: {:?}", report.outcome);
    };
    assert!(cost > 0.0, "{cost}");
    poll(
        || sleep_pid(&project).is_none().then_some(()),
        "the tool's sleep to end",
    )
    .await;
}

fn sleep_pid(project: &std::path::Path) -> Option<i32> {
    crate::helpers::processes_in(project)
        .into_iter()
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains("32.5")
        })
}

/// The calls asked about (tool and input keys) and the denials listed.
fn asked_shape(report: &RunReport, asked: &[(String, serde_json::Value)]) -> serde_json::Value {
    let calls: Vec<serde_json::Value> = asked
        .iter()
        .map(|(tool, input)| {
            let mut keys: Vec<&String> = input
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .collect();
            keys.sort();
            json!([tool, keys])
        })
        .collect();
    let denied = match &report.outcome {
        Outcome::Success(s) => s.permission_denials.len(),
        other => panic!("{other:?}"),
    };
    json!({"asked": calls, "denied": denied})
}

#[tokio::test]
async fn the_fake_asks_about_refused_calls_as_the_real_cli_does() {
    let Some(bin) = real_cli() else {
        return;
    };
    let api = FakeApi::start().await;
    let real = Cli::real(bin, &api);
    let project = real.world.project();
    std::fs::create_dir(project.join("build")).expect("build");
    let rm = json!({"command": "rm -rf build", "description": "Remove the build folder"});
    let file = project.join("src/x.rs").display().to_string();
    let write = json!({"file_path": file, "content": "pub fn x() {}\n"});
    api.push(Reply::tool_use("Bash", rm));
    api.push_when(Match::tool_result(), Reply::tool_use("Write", write));
    api.push_when(Match::tool_result(), Reply::text("Neither was allowed."));
    let deny = |_: &Ask| Permission::Deny {
        message: "no".into(),
    };
    let (real_report, real_asked) = run_approving(real.spec(&project, "clean up"), deny).await;
    let fake = Cli::fake();
    let spec = fake.spec(&fake.world.project(), "FAKE:deny");
    let (fake_report, fake_asked) = run_approving(spec, deny).await;
    assert_eq!(
        asked_shape(&real_report, &real_asked),
        asked_shape(&fake_report, &fake_asked)
    );
}

#[tokio::test]
async fn a_command_allowed_in_discord_runs_under_the_real_cli() {
    use crate::e2e::Options;
    use crate::e2e::approvals::{answer, click, prompt};
    let Some(w) = super::World::start(Options::default()).await else {
        return;
    };
    w.api.push(Reply::tool_use("Bash", touch("from-discord")));
    w.api
        .push_when(Match::tool_result(), Reply::text("Created it."));
    let asked = w.d.say(w.d.alpha, w.d.alice, "create a file").await;
    let shown = prompt(&w.d, asked, 1).await;
    assert!(
        shown.content.contains("touch from-discord"),
        "{}",
        shown.content
    );
    click(&w.d, &shown, "Allow", w.d.alice).await;
    let text = answer(&w.d, asked).await;
    assert!(text.contains("Created it."), "{text}");
    assert!(!text.contains("🚫"), "nothing was denied: {text}");
    assert!(w.project().join("from-discord").exists());
}

#[tokio::test]
async fn allow_for_this_session_holds_in_the_turn_and_the_next_one_of_the_live_cli() {
    session_rule_holds(None).await;
}

#[tokio::test]
async fn allow_for_this_session_holds_in_the_next_process_of_the_real_cli() {
    session_rule_holds(Some(0)).await;
}

/// "Allow for this session" covers the same call later in the turn and
/// in the session's next turn: in the live CLI (which was told the rule),
/// or with `max_warm` 0 in a new process (given it by `--allowedTools`).
async fn session_rule_holds(max_warm: Option<usize>) {
    use crate::e2e::Options;
    use crate::e2e::approvals::{answer, click, prompt};
    let options = Options {
        max_warm,
        ..Options::default()
    };
    let Some(w) = super::World::start(options).await else {
        return;
    };
    let asked_about = |asked: u64| {
        w.d.fake
            .posted_messages(w.d.alpha)
            .into_iter()
            .filter(|m| crate::e2e::replies_to(m) == Some(asked) && m.content.starts_with("🔐"))
            .count()
    };
    // One turn: `touch x`, allowed for the session, then `touch x` again.
    w.api.push(Reply::tool_use("Bash", touch("x")));
    w.api
        .push_when(Match::tool_result(), Reply::tool_use("Bash", touch("x")));
    w.api.push_when(Match::tool_result(), Reply::text("Twice."));
    let first = w.d.say(w.d.alpha, w.d.alice, "touch x twice").await;
    let shown = prompt(&w.d, first, 1).await;
    click(&w.d, &shown, "Allow for this session", w.d.alice).await;
    assert!(answer(&w.d, first).await.contains("Twice."));
    assert_eq!(
        asked_about(first),
        1,
        "the same call in the same turn was not asked about"
    );

    // The next turn: `touch x` runs, `touch y` is asked.
    w.api.push(Reply::tool_use("Bash", touch("x")));
    w.api
        .push_when(Match::tool_result(), Reply::tool_use("Bash", touch("y")));
    w.api
        .push_when(Match::tool_result(), Reply::text("Done both."));
    let second = w.d.say(w.d.alpha, w.d.alice, "again, and y").await;
    let other = prompt(&w.d, second, 1).await;
    assert!(other.content.contains("touch y"), "{}", other.content);
    click(&w.d, &other, "Allow", w.d.alice).await;
    assert!(answer(&w.d, second).await.contains("Done both."));
    assert_eq!(asked_about(second), 1);
    assert!(w.project().join("y").exists());
}

#[tokio::test]
async fn a_question_answered_in_discord_reaches_the_model_through_the_real_cli() {
    use crate::e2e::Options;
    use crate::e2e::approvals::click;
    let Some(w) = super::World::start(Options::default()).await else {
        return;
    };
    let question = json!({"questions": [{
        "question": "Which database should I use?", "header": "Database", "multiSelect": false,
        "options": [{"label": "SQLite", "description": "One file"},
                    {"label": "Postgres", "description": "A server"}]}]});
    w.api.push(Reply::tool_use("AskUserQuestion", question));
    w.api
        .push_when(Match::tool_result(), Reply::text("Postgres it is."));
    let asked = w.d.say(w.d.alpha, w.d.alice, "set up a database").await;
    let shown = crate::e2e::approvals::prompt_with(&w.d, asked, "❓").await;
    click(&w.d, &shown, "Postgres", w.d.alice).await;
    let calls = w.calls(2).await;
    let told = calls[1].last_tool_results()[0].to_string();
    assert!(
        told.contains("Postgres"),
        "the model was told the answer: {told}"
    );
    assert!(!told.contains("did not answer"), "{told}");
}

#[tokio::test]
async fn a_plan_approved_in_discord_lets_the_real_cli_start_work() {
    use crate::e2e::Options;
    use crate::e2e::approvals::click;
    let options = Options {
        permission_mode: Some("plan"),
        ..Options::default()
    };
    let Some(w) = super::World::start(options).await else {
        return;
    };
    let plan = json!({"plan": "1. Read the parser\n2. Fix the off-by-one"});
    w.api.push(Reply::tool_use("ExitPlanMode", plan));
    w.api
        .push_when(Match::tool_result(), Reply::text("Starting on it."));
    let asked = w.d.say(w.d.alpha, w.d.alice, "plan the fix").await;
    // In plan mode the CLI sends the text of the plan file it keeps (none
    // was written here), not the model's `plan`.
    let shown = crate::e2e::approvals::prompt_with(&w.d, asked, "📋").await;
    assert!(
        shown.content.contains("it wrote no plan"),
        "{}",
        shown.content
    );
    click(&w.d, &shown, "Approve", w.d.alice).await;
    let calls = w.calls(2).await;
    let result = &calls[1].last_tool_results()[0];
    assert_ne!(result["is_error"], true, "{result}");
    w.d.fake
        .wait_for(crate::e2e::LIMIT, |_| {
            w.d.fake
                .posted_messages(w.d.alpha)
                .iter()
                .any(|m| crate::e2e::replies_to(m) == Some(asked) && m.content == "Starting on it.")
        })
        .await;
}

#[tokio::test]
async fn cancel_while_the_real_cli_waits_for_an_answer_ends_the_turn_with_its_cost() {
    use crate::e2e::Options;
    use crate::e2e::approvals::prompt;
    use test_support::fake_discord::SlashCommand;
    let Some(w) = super::World::start(Options::default()).await else {
        return;
    };
    w.api.push(Reply::tool_use("Bash", touch("never")));
    let asked = w.d.say(w.d.alpha, w.d.alice, "create never").await;
    let shown = prompt(&w.d, asked, 1).await;
    let reply = w
        .command(SlashCommand::new("cancel", w.d.alpha, w.d.alice))
        .await;
    assert!(reply.contains("Cancelling"), "{reply}");
    let rows = w.d.finished_requests(w.d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "cancelled");
    assert!(rows[0].cost_usd.is_some_and(|c| c > 0.0), "{rows:?}");
    w.d.fake
        .wait_for(crate::e2e::LIMIT, |_| {
            w.d.fake
                .posted_messages(w.d.alpha)
                .iter()
                .any(|m| m.id == shown.id && m.components.is_empty())
        })
        .await;
    assert!(!w.project().join("never").exists());
}

#[tokio::test]
async fn a_multi_select_answer_reaches_the_real_cli_comma_separated() {
    use crate::e2e::Options;
    use crate::e2e::approvals::click;
    let Some(w) = super::World::start(Options::default()).await else {
        return;
    };
    let question = json!({"questions": [{
        "question": "Which checks should run?", "header": "Checks", "multiSelect": true,
        "options": [{"label": "fmt", "description": ""}, {"label": "clippy", "description": ""},
                    {"label": "tests", "description": ""}]}]});
    w.api.push(Reply::tool_use("AskUserQuestion", question));
    w.api
        .push_when(Match::tool_result(), Reply::text("Running those."));
    let asked = w.d.say(w.d.alpha, w.d.alice, "set up checks").await;
    let shown = crate::e2e::approvals::prompt_with(&w.d, asked, "❓").await;
    for label in ["tests", "fmt"] {
        let noted = click(&w.d, &shown, label, w.d.alice).await;
        assert!(
            noted.body["components"].is_null(),
            "the buttons stay: {noted:?}"
        );
    }
    click(&w.d, &shown, "Done", w.d.alice).await;
    let calls = w.calls(2).await;
    let told = calls[1].last_tool_results()[0].to_string();
    assert!(told.contains("fmt, tests"), "{told}");
}
