//! Tests of `init`, which sets process-wide state: each case runs in a child
//! copy of this test binary so no global subscriber leaks into other tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::Ordering;

use super::*;

const CHILD_DIR_VAR: &str = "CLAUDE_COORDINATOR_TELEMETRY_CHILD_DIR";

fn run_child(test: &str, dir: &Path) -> Output {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--ignored", "--nocapture"])
        .env(CHILD_DIR_VAR, dir)
        .env_remove("RUST_LOG")
        .env_remove("LOG_LEVEL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{test} failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("1 passed"), "{test} did not run:\n{stdout}");
    output
}

fn child_dir() -> PathBuf {
    PathBuf::from(std::env::var_os(CHILD_DIR_VAR).expect("run by its parent test"))
}

fn settings_in(dir: &Path) -> LogSettings {
    LogSettings {
        dir: Some(dir.join("logs")),
        ..LogSettings::default()
    }
}

#[test]
fn init_writes_json_to_the_file_and_text_to_stderr_and_a_second_call_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_child("telemetry::tests::child_inits_twice", dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("from the child"),
        "no console text:\n{stderr}"
    );

    let written = std::fs::read_to_string(dir.path().join("logs").join(LOG_FILE_NAME)).unwrap();
    let records: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&str> = records.iter().map(|r| r["msg"].as_str().unwrap()).collect();
    assert_eq!(messages, vec!["from the child", "from the log crate"]);
    assert_eq!(records[0]["name"], "claude-coordinator");
    assert_eq!(records[0]["request_id"], "r-1");
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_inits_twice() {
    let dir = child_dir();
    let settings = settings_in(&dir);
    let (guard, path) = init("claude-coordinator", &settings).unwrap();
    assert_eq!(path, dir.join("logs").join(LOG_FILE_NAME));
    tracing::info!(request_id = "r-1", "from the child");
    tracing::debug!("below the level");
    tracing::info!(target: "serenity::gateway", "noisy");
    log::info!("from the log crate");
    log::debug!("log record below the level");
    assert!(matches!(
        init("claude-coordinator", &settings),
        Err(TelemetryError::AlreadyInitialized)
    ));
    drop(guard);
}

#[test]
fn init_after_another_global_subscriber_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    run_child(
        "telemetry::tests::child_inits_after_someone_else",
        dir.path(),
    );
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_inits_after_someone_else() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry()).unwrap();
    let err = init("claude-coordinator", &settings_in(&child_dir())).unwrap_err();
    assert!(matches!(err, TelemetryError::AlreadyInitialized), "{err:?}");
}

#[test]
fn init_with_an_uncreatable_log_dir_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("regular-file");
    std::fs::write(&blocker, "x").unwrap();
    let err = init("claude-coordinator", &settings_in(&blocker)).unwrap_err();
    assert!(matches!(err, TelemetryError::CreateDir { .. }), "{err:?}");
    assert!(!INITIALIZED.load(Ordering::SeqCst));
}

#[test]
fn init_with_an_invalid_level_is_an_error_before_touching_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let settings = LogSettings {
        level: "loud".to_owned(),
        ..settings_in(dir.path())
    };
    let err = init("claude-coordinator", &settings).unwrap_err();
    assert!(matches!(err, TelemetryError::InvalidLevel { .. }));
    assert!(!dir.path().join("logs").exists());
}

#[test]
fn default_settings_log_at_info_to_the_default_folder() {
    let settings = LogSettings::default();
    assert_eq!(settings.level, "info");
    assert_eq!(settings.rust_log, None);
    assert_eq!(settings.dir, None);
}
