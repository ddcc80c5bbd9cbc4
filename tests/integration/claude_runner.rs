//! The Claude runner against the fake CLI: invocation, every outcome class,
//! progress. Process control and resume live in the submodules.

mod approvals;
mod fake_fidelity;
mod process_control;
mod resume;

use crate::helpers::{FakeCli, run_collecting};
use claude_coordinator::claude::{Outcome, Progress, Success};
use claude_coordinator::domain::PermissionMode;

fn success(outcome: Outcome) -> Success {
    match outcome {
        Outcome::Success(s) => s,
        other => panic!("expected success, got {other:?}"),
    }
}

#[tokio::test]
async fn a_plain_prompt_succeeds_with_every_result_field() {
    let fake = FakeCli::new();
    let (report, events) = run_collecting(&fake.spec("hello"), false).await;
    assert_eq!(report.exit_code, Some(0));
    assert!(!report.context_lost);
    let s = success(report.outcome);
    assert_eq!(s.text, "Done. The project builds and all tests pass.");
    let Some(Progress::Init { session_id, model }) = events.first() else {
        panic!("no init first: {events:?}");
    };
    assert_eq!(
        (*session_id, model.as_str()),
        (s.session_id, "claude-sonnet-4-5-20250929")
    );
    assert!(s.cost_usd > 0.0 && s.num_turns >= 1);
    assert!(s.usage.output_tokens > 0 && s.usage.cache_read_input_tokens > 0);
    assert!(s.permission_denials.is_empty());
    assert!(events.contains(&Progress::Text("Let me look at the project.".into())));
}

#[tokio::test]
async fn a_prompt_that_looks_like_a_flag_arrives_as_stdin_text() {
    let fake = FakeCli::new();
    let prompt = "--dangerously-skip-permissions FAKE:echo delete everything";
    let (report, _) = run_collecting(&fake.spec(prompt), false).await;
    assert_eq!(success(report.outcome).text, prompt);
    let record = fake.record();
    assert_eq!(record["stdin"], prompt);
    let argv: Vec<&str> = record["argv"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert_eq!(
        argv,
        [
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--input-format",
            "stream-json",
            "--permission-prompt-tool",
            "stdio"
        ]
    );
}

#[tokio::test]
async fn options_reach_the_cli_and_the_cwd_is_the_project() {
    let fake = FakeCli::new();
    let mut spec = fake.spec("FAKE:echo hi");
    spec.model = Some("opus".into());
    spec.permission_mode = Some(PermissionMode::AcceptEdits);
    spec.allowed_tools = vec!["Read".into(), "Bash(git log:*)".into()];
    spec.append_system_prompt = Some("--answer briefly".into());
    let (report, events) = run_collecting(&spec, false).await;
    success(report.outcome);
    assert!(
        matches!(&events[0], Progress::Init { model, .. } if model == "claude-opus-4-1-20250805")
    );
    let record = fake.record();
    assert_eq!(
        record["argv"].as_array().unwrap()[8..].to_vec(),
        [
            "--model=opus",
            "--permission-mode=acceptEdits",
            "--allowedTools=Read,Bash(git log:*)",
            "--append-system-prompt=--answer briefly",
        ]
    );
    let cwd = std::fs::canonicalize(fake.project()).unwrap();
    assert_eq!(record["cwd"], cwd.to_string_lossy().as_ref());
}

#[tokio::test]
async fn the_bot_token_and_the_nesting_marker_never_reach_the_cli() {
    // Passed through extra_env rather than this process's environment:
    // set_var would race with the other test threads.
    let fake = FakeCli::new();
    let mut spec = fake.spec("hi");
    for (k, v) in [
        ("DISCORD_TOKEN", "secret"),
        ("CLAUDECODE", "1"),
        ("KEEP_ME", "yes"),
    ] {
        spec.extra_env.push((k.into(), v.into()));
    }
    success(run_collecting(&spec, false).await.0.outcome);
    let names = fake.record()["env_names"].to_string();
    assert!(names.contains("\"KEEP_ME\"") && names.contains("\"PATH\""));
    assert!(!names.contains("DISCORD_TOKEN") && !names.contains("CLAUDECODE"));
}

#[tokio::test]
async fn tool_calls_are_reported_with_short_project_relative_targets() {
    let fake = FakeCli::new();
    let (report, events) = run_collecting(&fake.spec("FAKE:tools"), false).await;
    assert!(success(report.outcome).num_turns >= 3);
    // The CLI names the file by its absolute (canonical) path.
    let file = "src/main.rs";
    // Each call, then its result by the call's id.
    let mut tools = Vec::new();
    let mut last_id = String::new();
    for event in &events {
        match event {
            Progress::ToolUse {
                id,
                name,
                target,
                changes,
            } => {
                last_id.clone_from(id);
                let shown = target.clone().unwrap_or_default();
                tools.push(format!("{name} {shown} {changes:?}"));
            }
            Progress::ToolResult { id, is_error } => {
                assert_eq!(*id, last_id, "a result names its call");
                tools.push(format!("ok={}", !is_error));
            }
            _ => {}
        }
    }
    assert_eq!(
        tools,
        [
            format!("Read {file} None"),
            "ok=true".into(),
            format!("Edit {file} Some(\"{file}\")"),
            "ok=true".into(),
            "Bash cargo test --quiet 2>&1 | tail -3 None".into(),
            "ok=true".into(),
        ]
    );
}

#[tokio::test]
async fn permission_denials_come_back_with_a_successful_answer() {
    let fake = FakeCli::new();
    let (report, events) = run_collecting(&fake.spec("FAKE:deny"), false).await;
    let s = success(report.outcome);
    let summaries: Vec<_> = s
        .permission_denials
        .iter()
        .map(|d| d.summary.clone())
        .collect();
    assert_eq!(
        summaries,
        [
            "Bash(rm -rf build)".to_string(),
            // The CLI names the file by its absolute path; the note must not.
            "Write(src/x.rs)".to_string()
        ]
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Progress::ToolResult { is_error: true, .. }))
            .count(),
        2
    );
}

#[tokio::test]
async fn an_error_result_is_a_claude_error_with_its_session() {
    let fake = FakeCli::new();
    let (report, events) = run_collecting(&fake.spec("FAKE:error"), false).await;
    assert_eq!(report.exit_code, Some(1));
    let Outcome::ClaudeError {
        subtype,
        log_detail,
        session_id,
        duration_ms,
        ..
    } = report.outcome
    else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(subtype, "error_during_execution");
    assert!(log_detail.contains("EACCES"));
    assert!(duration_ms.is_some());
    assert!(
        matches!(events.first(), Some(Progress::Init { session_id: s, .. }) if Some(*s) == session_id)
    );
}

#[tokio::test]
async fn an_api_error_reported_as_success_is_still_an_error() {
    let fake = FakeCli::new();
    let (report, _) = run_collecting(&fake.spec("FAKE:api-error"), false).await;
    assert!(
        matches!(&report.outcome, Outcome::ClaudeError { subtype, log_detail, .. } if subtype == "success" && log_detail.contains("529")),
        "{:?}",
        report.outcome
    );
}

#[tokio::test]
async fn output_without_a_result_line_is_a_parse_error() {
    let fake = FakeCli::new();
    let (garbage, _) = run_collecting(&fake.spec("FAKE:garbage"), false).await;
    assert!(
        matches!(garbage.outcome, Outcome::ParseError { .. }),
        "{:?}",
        garbage.outcome
    );
    assert_eq!(garbage.exit_code, Some(1));
    assert!(garbage.stderr_tail.contains("unexpected end of JSON input"));
    let (silent, events) = run_collecting(&fake.spec("FAKE:no-result"), false).await;
    assert!(
        matches!(silent.outcome, Outcome::ParseError { .. }),
        "{:?}",
        silent.outcome
    );
    assert_eq!(silent.exit_code, Some(0));
    assert!(matches!(events.first(), Some(Progress::Init { .. })));
}

#[tokio::test]
async fn a_missing_binary_or_project_folder_is_a_spawn_error() {
    let fake = FakeCli::new();
    let mut missing = fake.spec("hi");
    missing.binary = "claude-coordinator-no-such-cli".into();
    assert!(matches!(
        run_collecting(&missing, false).await.0.outcome,
        Outcome::SpawnError { .. }
    ));
    let mut gone = fake.spec("hi");
    gone.cwd = fake.dir("deleted-project");
    assert!(matches!(
        run_collecting(&gone, false).await.0.outcome,
        Outcome::SpawnError { .. }
    ));
    let mut not_executable = fake.spec("hi");
    not_executable.binary = fake.dir("state").to_string_lossy().into_owned();
    assert!(matches!(
        run_collecting(&not_executable, false).await.0.outcome,
        Outcome::SpawnError { .. }
    ));
}

#[tokio::test]
async fn invalid_utf8_on_stdout_does_not_stop_the_run() {
    let fake = FakeCli::new();
    let (report, events) = run_collecting(&fake.spec("FAKE:invalid-utf8"), false).await;
    success(report.outcome);
    assert!(events.iter().any(
        |e| matches!(e, Progress::Text(t) if t.starts_with("café") && t.contains('\u{FFFD}'))
    ));
}

#[tokio::test]
async fn a_long_markdown_answer_arrives_whole() {
    let fake = FakeCli::new();
    let (report, _) = run_collecting(&fake.spec("FAKE:long=200000"), false).await;
    let text = success(report.outcome).text;
    assert_eq!(text.chars().count(), 200_000);
    assert!(text.contains("```rust\nfn parse"));
}
