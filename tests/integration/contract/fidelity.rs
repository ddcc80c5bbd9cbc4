//! The fake CLI against the real one, scenario by scenario, where the
//! daemon's tests rely on the fake: the fields of init and result, how
//! denials are printed, message ids, cost over a resumed session, an
//! unknown --resume, API errors, SIGTERM and the tool shell it ends, and
//! the handling of arguments and empty input.

use super::cli::{Cli, Output};
use super::real_cli;
use crate::e2e::poll;
use crate::helpers::processes_in;
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use test_support::fake_api::{ErrorKind, FakeApi, Match, Reply};

/// The real CLI on a fresh fake API, or `None` when it is not installed.
async fn real() -> Option<(Cli, FakeApi)> {
    let bin = real_cli()?;
    let api = FakeApi::start().await;
    Some((Cli::real(bin, &api), api))
}

fn keys(line: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = line
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    keys.sort_unstable();
    keys
}

/// The JSON type of each named field, for comparing shapes.
fn kinds<'a>(line: &Value, fields: &[&'a str]) -> Vec<(&'a str, &'static str)> {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    fields.iter().map(|f| (*f, kind(&line[*f]))).collect()
}

#[tokio::test]
async fn the_fakes_init_and_result_lines_have_the_real_fields() {
    let Some((real, api)) = real().await else {
        return;
    };
    api.push(Reply::text("Done."));
    let (real, fake) = (
        real.run(&[], "hello").await,
        Cli::fake().run(&[], "hello").await,
    );
    for line in [Output::init, Output::result] {
        let (r, f) = (line(&real), line(&fake));
        let extra: Vec<&str> = keys(f).into_iter().filter(|k| r.get(k).is_none()).collect();
        assert!(extra.is_empty(), "the fake invents {extra:?}");
    }
    assert_eq!(real.init()["tools"], fake.init()["tools"]);
    let fields = [
        "subtype",
        "is_error",
        "result",
        "session_id",
        "total_cost_usd",
        "usage",
        "modelUsage",
        "model_usage_since_last_result",
        "permission_denials",
        "terminal_reason",
        "api_error_status",
        "num_turns",
        "duration_ms",
    ];
    assert_eq!(kinds(real.result(), &fields), kinds(fake.result(), &fields));
    assert_eq!(
        real.result()["terminal_reason"],
        fake.result()["terminal_reason"]
    );
}

/// The denial lines of a run, with the run's folder written `<cwd>`.
fn denial_lines(out: &Output) -> Vec<Value> {
    let cwd = out.init()["cwd"].as_str().unwrap_or_default().to_string();
    let keep = |l: &&Value| {
        l["subtype"] == "permission_denied" || l["type"] == "user" || l["type"] == "result"
    };
    let shape = |l: &Value| match l["type"].as_str() {
        Some("system") => json!(["denied", l["tool_name"], l["message"]]),
        Some("user") => json!([
            "result",
            l["message"]["content"][0]["is_error"],
            l["tool_result_meta"][0]["non_execution_kind"]
        ]),
        _ => json!(["end", l["permission_denials"].as_array().map(Vec::len)]),
    };
    let text = out
        .lines
        .iter()
        .filter(keep)
        .map(shape)
        .collect::<Value>()
        .to_string();
    serde_json::from_str(&text.replace(&cwd, "<cwd>")).unwrap_or_default()
}

#[tokio::test]
async fn denials_are_printed_as_the_real_cli_prints_them() {
    let Some((real, api)) = real().await else {
        return;
    };
    std::fs::create_dir(real.world.project().join("build")).expect("build");
    let rm = json!({"command": "rm -rf build", "description": "Remove the build folder"});
    let file = real.world.project().join("src/x.rs").display().to_string();
    let write = json!({"file_path": file, "content": "pub fn x() {}\n"});
    api.push(Reply::tool_use("Bash", rm));
    api.push_when(Match::tool_result(), Reply::tool_use("Write", write));
    api.push_when(Match::tool_result(), Reply::text("Neither was allowed."));
    let real = real.run(&[], "clean up").await;
    let fake = Cli::fake().run(&[], "FAKE:deny").await;
    assert_eq!(denial_lines(&real), denial_lines(&fake));
    assert_eq!(real.status.code(), fake.status.code());
}

/// True when assistant lines share a message id until a user line (a tool
/// result) ends that API message, and never after it.
fn one_id_per_api_message(out: &Output) -> bool {
    let mut groups: Vec<Vec<&Value>> = vec![vec![]];
    for line in &out.lines {
        if line["type"] == "user" {
            groups.push(vec![]);
        } else if line["type"] == "assistant"
            && let Some(group) = groups.last_mut()
        {
            group.push(&line["message"]["id"]);
        }
    }
    let ids: Vec<&Value> = groups.iter().filter_map(|g| g.first().copied()).collect();
    let unique = ids.iter().collect::<std::collections::HashSet<_>>().len() == ids.len();
    unique && groups.iter().all(|g| g.windows(2).all(|w| w[0] == w[1]))
}

#[tokio::test]
async fn blocks_of_one_api_message_share_its_id_in_both() {
    let Some((real, api)) = real().await else {
        return;
    };
    let file = real.world.project().join("main.rs");
    std::fs::write(&file, "fn main() {}\n").expect("main.rs");
    let read = json!({"file_path": file.display().to_string()});
    api.push(Reply::text_then_tool_use("Let me look.", "Read", read));
    api.push_when(Match::tool_result(), Reply::text("It is empty."));
    let real = real.run(&[], "what is in main.rs?").await;
    let fake = Cli::fake().run(&[], "FAKE:tools").await;
    assert_eq!(real.of("user").len(), 1, "{:#?}", real.lines);
    assert!(one_id_per_api_message(&real), "{:#?}", real.lines);
    assert!(one_id_per_api_message(&fake), "{:#?}", fake.lines);
}

#[tokio::test]
async fn cost_adds_up_over_a_resumed_session_in_both() {
    let Some((real, _api)) = real().await else {
        return;
    };
    for cli in [real, Cli::fake()] {
        let first = cli.run(&[], "one").await;
        let id = first.result()["session_id"]
            .as_str()
            .expect("id")
            .to_string();
        let second = cli.run(&["--resume", &id], "two").await;
        let total = |o: &Output| o.result()["total_cost_usd"].as_f64().unwrap_or(-1.0);
        let own = second.own_cost();
        assert!(own > 0.0 && (first.own_cost() - total(&first)).abs() < 1e-9);
        assert!(
            (total(&second) - (total(&first) + own)).abs() < 1e-9,
            "{:?}",
            second.result()
        );
    }
}

#[tokio::test]
async fn an_unknown_resume_reports_the_requested_session_in_both() {
    let Some((real, _api)) = real().await else {
        return;
    };
    let id = "0b6f3c1e-2a4d-4c5e-9f1a-7d2e3b4c5a6f";
    for cli in [real, Cli::fake()] {
        let out = cli.run(&["--resume", id], "hello").await;
        assert_eq!(out.status.code(), Some(1));
        assert!(out.lines.iter().all(|l| l["subtype"] != "init"));
        let result = out.result();
        assert_eq!(result["session_id"], id);
        assert_eq!(result["modelUsage"], json!({}));
        let errors = result["errors"].to_string();
        assert!(
            errors.contains("No conversation found with session ID"),
            "{errors}"
        );
    }
}

#[tokio::test]
async fn sigterm_ends_both_with_143_and_no_result_line() {
    let Some((real, api)) = real().await else {
        return;
    };
    api.push(Reply::slow_text(
        "one two three four",
        8,
        Duration::from_millis(400),
    ));
    for (cli, prompt) in [(real, "count slowly"), (Cli::fake(), "FAKE:hang")] {
        let mut running = cli.spawn(&[], prompt).await;
        assert!(running.read_until(|l| l["subtype"] == "init").await);
        // The real CLI is then streaming the answer; the fake is hanging.
        tokio::time::sleep(Duration::from_millis(700)).await;
        running.terminate();
        let out = running.finish().await;
        assert_eq!(out.status.code(), Some(143), "{prompt}: {:?}", out.status);
        assert!(out.of("result").is_empty(), "{prompt}: {:#?}", out.lines);
    }
}

/// An API-error run's lines after init, in a form both CLIs share: each
/// line's keys and the fields that say what went wrong, with the real
/// CLI's API host written as the fake's.
fn api_error_lines(out: &Output, host: &str) -> Vec<Value> {
    let text = |v: &Value| json!(v.as_str().map(|t| t.replace(host, "api.anthropic.com")));
    let line = |l: &Value| match l["type"].as_str() {
        Some("system") => json!([
            keys(l),
            l["subtype"],
            l["attempt"],
            l["max_retries"],
            l["error_status"],
            l["error"]
        ]),
        Some("assistant") => json!([
            keys(l),
            keys(&l["message"]),
            l["message"]["model"],
            text(&l["message"]["content"][0]["text"]),
            l["error"],
            l["is_api_error_message"],
            l["api_error_status"],
            l["api_error_type"]
        ]),
        Some("result") => json!([
            l["subtype"],
            l["is_error"],
            text(&l["result"]),
            l["terminal_reason"],
            l["stop_reason"],
            l["api_error_status"],
            l["api_error_type"],
            l["total_cost_usd"].as_f64(),
            l["modelUsage"],
            l["model_usage_since_last_result"]
        ]),
        _ => l.clone(),
    };
    out.lines
        .iter()
        .filter(|l| l["subtype"] != "init")
        .map(line)
        .collect()
}

/// Both CLIs, one retry allowed, on an API that always fails with `kind`.
async fn api_error_in_both(bin: &Path, kind: ErrorKind) -> (Vec<Value>, Vec<Value>) {
    let api = FakeApi::start().await;
    api.set_default(Reply::error(kind));
    let retries = [("CLAUDE_CODE_MAX_RETRIES", "1")];
    let real = Cli::real(bin.to_path_buf(), &api).with_env(&retries);
    let fake = Cli::fake().with_env(&retries);
    let word = format!("FAKE:api-error={}", kind.status());
    let (real, fake) = (real.run(&[], "hello").await, fake.run(&[], &word).await);
    assert_eq!((real.status.code(), fake.status.code()), (Some(1), Some(1)));
    let real_keys = keys(real.result());
    let extra: Vec<&str> = keys(fake.result())
        .into_iter()
        .filter(|k| !real_keys.contains(k))
        .collect();
    assert!(extra.is_empty(), "{kind:?}: the fake invents {extra:?}");
    let host = api.base_url().trim_start_matches("http://").to_string();
    (api_error_lines(&real, &host), api_error_lines(&fake, &host))
}

#[tokio::test]
async fn api_errors_are_retried_and_reported_as_the_real_cli_does() {
    let Some(bin) = real_cli() else {
        return;
    };
    let kinds = [
        ErrorKind::Overloaded,
        ErrorKind::RateLimit,
        ErrorKind::Api,
        ErrorKind::Authentication,
    ];
    let runs = join_all(kinds.map(|kind| api_error_in_both(&bin, kind))).await;
    for (kind, (real, fake)) in kinds.iter().zip(runs) {
        assert_eq!(
            real.len(),
            3,
            "{kind:?}: retry, synthetic line, result: {real:#?}"
        );
        assert_eq!(real, fake, "{kind:?}");
    }
}

#[tokio::test]
async fn an_api_error_on_a_resumed_session_keeps_its_totals_in_both() {
    let Some((real, api)) = real().await else {
        return;
    };
    api.push(Reply::text("Noted."));
    api.set_default(Reply::error(ErrorKind::Overloaded));
    let no_retries = [("CLAUDE_CODE_MAX_RETRIES", "0")];
    for (cli, prompt) in [(real, "again"), (Cli::fake(), "FAKE:api-error")] {
        let cli = cli.with_env(&no_retries);
        let first = cli.run(&[], "remember this").await;
        let id = first.result()["session_id"]
            .as_str()
            .expect("id")
            .to_string();
        let second = cli.run(&["--resume", &id], prompt).await;
        let total = |o: &Output| o.result()["total_cost_usd"].as_f64().unwrap_or(-1.0);
        assert!(total(&first) > 0.0 && (total(&second) - total(&first)).abs() < 1e-9);
        assert_eq!(second.result()["model_usage_since_last_result"], json!({}));
        assert_eq!(
            counters(second.result()),
            counters(first.result()),
            "{prompt}"
        );
    }
}

/// Each model's tokens and cost in a result's `modelUsage` (the real CLI
/// drops some descriptive keys from a resumed session's).
fn counters(result: &Value) -> Vec<(String, Value)> {
    let models = result["modelUsage"].as_object().into_iter().flatten();
    let counted = |u: &Value| json!([u["inputTokens"], u["outputTokens"], u["costUSD"].as_f64()]);
    models
        .map(|(model, u)| (model.clone(), counted(u)))
        .collect()
}

/// The processes in `dir` outside the session `sid`.
fn in_other_sessions(dir: &Path, sid: i32) -> Vec<i32> {
    let processes = processes_in(dir).into_iter();
    // SAFETY: getsid only reads the session of a pid (-1 once it is gone).
    processes
        .filter(|pid| unsafe { libc::getsid(*pid) } != sid)
        .collect()
}

#[tokio::test]
async fn a_tool_shell_has_its_own_session_and_sigterm_ends_it_in_both() {
    let Some((real, api)) = real().await else {
        return;
    };
    let wait = real.world.project().join("wait.sh");
    std::fs::write(&wait, "#!/bin/sh\nsleep 29.75\n").expect("wait.sh");
    let mode = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
    std::fs::set_permissions(&wait, mode).expect("chmod");
    api.push(Reply::tool_use(
        "Bash",
        json!({"command": "./wait.sh", "description": "Wait"}),
    ));
    let allow = ["--allowedTools=Bash(./wait.sh:*)"];
    for (cli, args, prompt) in [
        (real, &allow[..], "wait"),
        (Cli::fake(), &[][..], "FAKE:child FAKE:hang"),
    ] {
        let running = cli.spawn(args, prompt).await;
        let project = cli.world.project();
        // SAFETY: getsid only reads the session of our own child.
        let sid = unsafe { libc::getsid(running.pid()) };
        let shell = poll(
            || in_other_sessions(&project, sid).pop(),
            "a tool shell in its own session",
        )
        .await;
        running.terminate();
        let out = running.finish().await;
        assert_eq!(out.status.code(), Some(143), "{prompt}: {:?}", out.status);
        assert!(out.of("result").is_empty(), "{prompt}: {:#?}", out.lines);
        let gone = || (!processes_in(&project).contains(&shell)).then_some(());
        poll(gone, "the tool shell to end").await;
    }
}

/// The arguments and stdin of each case, all `FAKE:echo` prompts, so the
/// fake answers with the prompt it took.
const ARGUMENT_CASES: [(&[&str], &str); 9] = [
    (&["--permission-mode", "bogus"], "FAKE:echo hi"),
    (&["--permission-mode", "auto"], "FAKE:echo auto"),
    (&["--permission-mode=manual"], "FAKE:echo manual"),
    (&["--permission-mode", "default"], "FAKE:echo default"),
    (&[], ""),
    (&[], " \n\t "),
    (&["FAKE:echo", "two"], ""),
    (&[""], "FAKE:echo from stdin"),
    (
        &["--allowedTools", "Read", "--", "FAKE:echo after the dashes"],
        "",
    ),
];

#[tokio::test]
async fn arguments_and_empty_input_are_handled_as_the_real_cli_does() {
    let Some((real, api)) = real().await else {
        return;
    };
    let fake = Cli::fake();
    for (args, stdin) in ARGUMENT_CASES {
        let calls = api.message_calls().len();
        let (r, f) = (
            real.output(args, stdin).await,
            fake.output(args, stdin).await,
        );
        let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(
            (r.status.code(), stderr(&r)),
            (f.status.code(), stderr(&f)),
            "{args:?} {stdin:?}"
        );
        let asked = api
            .message_calls()
            .get(calls)
            .map(|c| c.last_user_texts().last().map(|t| t.to_string()));
        let answered = String::from_utf8_lossy(&f.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["type"] == "result")
            .map(|l| l["result"].as_str().map(str::to_string));
        assert_eq!(asked, answered, "the prompt taken from {args:?} {stdin:?}");
    }
}
