//! The fake CLI behaves like the real one where the runner relies on it:
//! argument errors and the json output forms.

use crate::helpers::FakeCli;
use claude_coordinator::claude::parse_json_output;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use test_support::fake_claude;

fn fake(fake: &FakeCli, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(fake_claude())
        .args(args)
        .current_dir(fake.project())
        .env("FAKE_CLAUDE_STATE_DIR", fake.dir("state"))
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
