//! The fake CLI behaves like the real one where the runner relies on it:
//! argument errors, the json output forms, and API retries.

use crate::helpers::FakeCli;
use claude_coordinator::claude::parse_json_output;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use test_support::fake_claude;

fn fake(fake: &FakeCli, args: &[&str], stdin: &str) -> Output {
    fake_with_env(fake, args, stdin, &[])
}

fn fake_with_env(fake: &FakeCli, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(fake_claude())
        .args(args)
        .current_dir(fake.project())
        .env("FAKE_CLAUDE_STATE_DIR", fake.dir("state"))
        .env_remove("CLAUDE_CODE_MAX_RETRIES")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the fake");
    let mut input = child.stdin.take().expect("stdin");
    // A fake that exits on an argument error never reads: EPIPE is fine.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().expect("wait")
}

#[test]
fn the_fake_cli_rejects_stream_json_without_verbose_like_the_real_one() {
    let out = fake(
        &FakeCli::new(),
        &["-p", "--output-format", "stream-json"],
        "hello",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error: When using --print, --output-format=stream-json requires --verbose"
    );
}

#[test]
fn json_output_in_both_forms_parses_to_the_same_answer() {
    let world = FakeCli::new();
    let single = fake(&world, &["-p", "--output-format=json"], "FAKE:echo one");
    let array = fake(
        &world,
        &["-p", "--output-format", "json", "--verbose"],
        "FAKE:echo one",
    );
    assert!(String::from_utf8_lossy(&array.stdout).starts_with('['));
    for out in [single, array] {
        let result = parse_json_output(&String::from_utf8_lossy(&out.stdout)).expect("a result");
        assert_eq!(result.result.as_deref(), Some("FAKE:echo one"));
        assert!(!result.is_error && result.session_id.is_some());
    }
}

#[test]
fn a_variadic_flag_swallows_a_positional_prompt_as_in_the_real_cli() {
    let out = fake(
        &FakeCli::new(),
        &["-p", "--allowedTools", "Read", "FAKE:echo hi"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Input must be provided"));
}

#[test]
fn unknown_options_are_fatal() {
    let out = fake(&FakeCli::new(), &["-p", "--frobnicate"], "hi");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option '--frobnicate'"));
}

/// The `system/api_retry` lines a `FAKE:api-error` run prints, then
/// whether a `<synthetic>` assistant line followed.
fn retries(env: &[(&str, &str)]) -> (usize, bool) {
    let args = ["-p", "--output-format", "stream-json", "--verbose"];
    let out = fake_with_env(&FakeCli::new(), &args, "FAKE:api-error=429", env);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let retries = lines.iter().filter(|l| l["subtype"] == "api_retry").count();
    let synthetic = lines.iter().any(|l| l["message"]["model"] == "<synthetic>");
    (retries, synthetic)
}

#[test]
fn api_errors_are_retried_as_often_as_claude_code_max_retries_says() {
    assert_eq!(retries(&[]), (10, true), "the real CLI's default");
    assert_eq!(retries(&[("CLAUDE_CODE_MAX_RETRIES", "3")]), (3, true));
    assert_eq!(retries(&[("CLAUDE_CODE_MAX_RETRIES", "0")]), (0, true));
}
