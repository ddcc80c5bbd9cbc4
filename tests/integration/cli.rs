//! The real binary, run as a subprocess: `check`, `sessions`, `run`, and
//! clear errors on bad input.

use claude_coordinator::db::Db;
use claude_coordinator::domain::{ChannelId, ProjectName};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;
use test_support::fake_claude;

const BIN: &str = env!("CARGO_BIN_EXE_claude-coordinator");
const TOKEN: &str = "MTIz.secret-token-value.abc";

/// A folder with a valid config, a project folder and a database path; the
/// binary runs with it as cwd and a clean environment.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("project")).unwrap();
        let sandbox = Self { dir };
        sandbox.write_config(
            r#"
[discord]
allowed_users = ["111"]

[[projects]]
name = "demo"
channel_id = "222"
path = "project"
"#,
        );
        sandbox
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write_config(&self, text: &str) {
        std::fs::write(self.path().join("coordinator.toml"), text).unwrap();
    }

    fn db_url(&self) -> String {
        format!("sqlite://{}", self.path().join("data/test.db").display())
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("DISCORD_TOKEN", TOKEN)
            .env("CLAUDE_BIN", fake_claude())
            .env("DATABASE_URL", self.db_url())
            .env("LOG_DIR", self.path().join("logs"));
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_clean_failure(out: &Output) {
    assert!(!out.status.success(), "expected failure: {out:?}");
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(!all.contains("panicked"), "{all}");
    assert!(!all.contains("backtrace"), "{all}");
    assert!(!all.contains(TOKEN), "{all}");
}

#[test]
fn check_passes_on_a_good_setup_and_summarises_it() {
    let sb = Sandbox::new();
    let out = sb.run(&["check"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("1 project(s)"), "{stdout}");
    assert!(stdout.contains("fake-claude"), "{stdout}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    assert!(!stdout.contains(TOKEN));
}

#[test]
fn check_reports_a_missing_config_file_by_path() {
    let sb = Sandbox::new();
    let out = sb.run(&["check", "--config", "nowhere.toml"]);
    assert_clean_failure(&out);
    assert!(text(&out.stderr).contains("nowhere.toml"), "{out:?}");
}

#[test]
fn check_reports_malformed_toml_with_line_and_column() {
    let sb = Sandbox::new();
    sb.write_config("[claude]\ntimeout_secs = = 3\n");
    let out = sb.run(&["check"]);
    assert_clean_failure(&out);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("coordinator.toml"), "{stderr}");
    assert!(stderr.contains("line 2, column"), "{stderr}");
}

#[test]
fn check_lists_every_problem_on_its_own_line() {
    let sb = Sandbox::new();
    sb.write_config(
        r#"
[claude]
timeout_secs = 0
colour = "blue"

[[projects]]
name = "a"
channel_id = "not-a-number"
path = "missing-folder"
"#,
    );
    let out = Sandbox::command(&sb, &["check"])
        .env("CLAUDE_BIN", "/nonexistent/claude")
        .output()
        .unwrap();
    assert_clean_failure(&out);
    let stderr = text(&out.stderr);
    let errors: Vec<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert!(errors.len() >= 4, "{stderr}");
    for needle in ["timeout_secs", "colour", "channel_id", "missing-folder"] {
        assert!(
            errors.iter().any(|l| l.contains(needle)),
            "no line names {needle}: {stderr}"
        );
    }
    assert!(stderr.contains("problem(s) found"), "{stderr}");
}

#[test]
fn check_names_a_claude_binary_that_is_missing() {
    let sb = Sandbox::new();
    let out = sb
        .command(&["check"])
        .env("CLAUDE_BIN", "claude-that-does-not-exist")
        .output()
        .unwrap();
    assert_clean_failure(&out);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("claude-that-does-not-exist"), "{stderr}");
    assert!(stderr.contains("CLAUDE_BIN"), "{stderr}");
}

#[test]
fn check_refuses_a_claude_binary_that_is_not_executable() {
    let sb = Sandbox::new();
    let plain = sb.path().join("claude");
    std::fs::write(&plain, "not a program").unwrap();
    let out = sb
        .command(&["check"])
        .env("CLAUDE_BIN", &plain)
        .output()
        .unwrap();
    assert_clean_failure(&out);
    assert!(text(&out.stderr).contains("not an executable"), "{out:?}");
}

#[test]
fn check_warns_when_nobody_may_run_claude() {
    let sb = Sandbox::new();
    sb.write_config("[[projects]]\nname = \"demo\"\nchannel_id = 222\npath = \"project\"\n");
    let out = sb.run(&["check"]);
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains("warning:"), "{out:?}");
}

#[test]
fn check_warns_about_a_metrics_address_others_can_reach_and_still_passes() {
    let sb = Sandbox::new();
    sb.write_config(
        "[discord]\nallowed_users = [\"1\"]\n[metrics]\nlisten = \"0.0.0.0:9464\"\n\
         [[projects]]\nname = \"demo\"\nchannel_id = 222\npath = \"project\"\n",
    );
    let out = sb.run(&["check"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("warning: [metrics] listen = \"0.0.0.0:9464\" is not a loopback address"),
        "{out:?}"
    );
}

#[test]
fn check_reports_an_unusable_database_path() {
    let sb = Sandbox::new();
    std::fs::write(sb.path().join("blocker"), "a file, not a folder").unwrap();
    let url = format!("sqlite://{}", sb.path().join("blocker/db.sqlite").display());
    let out = sb
        .command(&["check"])
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    assert_clean_failure(&out);
    assert!(text(&out.stderr).contains("blocker"), "{out:?}");
}

#[test]
fn check_requires_the_token() {
    let sb = Sandbox::new();
    let out = sb
        .command(&["check"])
        .env_remove("DISCORD_TOKEN")
        .output()
        .unwrap();
    assert_clean_failure(&out);
    assert!(text(&out.stderr).contains("DISCORD_TOKEN"), "{out:?}");
}

#[test]
fn run_without_a_token_says_so_and_exits_non_zero() {
    let sb = Sandbox::new();
    let out = sb
        .command(&["run"])
        .env_remove("DISCORD_TOKEN")
        .output()
        .unwrap();
    assert_clean_failure(&out);
    assert!(
        text(&out.stderr).contains("DISCORD_TOKEN is not set"),
        "{out:?}"
    );
}

#[test]
fn run_with_a_broken_config_exits_non_zero_with_the_problem() {
    let sb = Sandbox::new();
    sb.write_config("[[projects]]\nname = 5\n");
    let out = sb.run(&["run"]);
    assert_clean_failure(&out);
    assert!(text(&out.stderr).contains("name"), "{out:?}");
}

#[test]
fn check_and_run_refuse_thread_worktrees_on_a_folder_that_is_not_a_git_repository() {
    let sb = Sandbox::new();
    sb.write_config(
        "[discord]\nallowed_users = [\"111\"]\n\n[[projects]]\nname = \"demo\"\n\
         channel_id = \"222\"\npath = \"project\"\nthread_worktrees = true\n",
    );
    for sub in ["check", "run"] {
        let out = sb.run(&[sub]);
        assert_clean_failure(&out);
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("thread_worktrees") && stderr.contains("git repository"),
            "{sub}: {stderr}"
        );
    }
}

#[test]
fn sessions_lists_stored_sessions_as_json_and_as_a_table() {
    let sb = Sandbox::new();
    let empty = sb.run(&["sessions", "--json"]);
    assert!(empty.status.success(), "{empty:?}");
    let parsed: serde_json::Value = serde_json::from_slice(&empty.stdout).unwrap();
    assert_eq!(parsed, serde_json::json!([]));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = Db::connect(&sb.db_url()).await.unwrap();
        db.ensure_session(ChannelId(987654321), &ProjectName::new("demo"))
            .await
            .unwrap();
        db.close().await;
    });

    let json = sb.run(&["sessions", "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed[0]["channel_id"], "987654321");
    assert_eq!(parsed[0]["project"], "demo");
    assert_eq!(parsed[0]["message_count"], 0);

    let table = text(&sb.run(&["sessions"]).stdout);
    assert!(
        table.contains("987654321") && table.contains("demo"),
        "{table}"
    );
}

#[test]
fn version_prints_the_crate_version() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn run_refuses_an_api_base_that_does_not_answer_instead_of_falling_back_to_discord() {
    let sb = Sandbox::new();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let out = sb
        .command(&["run"])
        .env("DISCORD_API_BASE", &base)
        .output()
        .unwrap();
    assert_clean_failure(&out);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("DISCORD_API_BASE"), "{stderr}");
    let log = std::fs::read_to_string(log_file(sb.path())).unwrap_or_default();
    assert!(!log.contains("gateway.discord.gg"), "{log}");
}

fn log_file(root: &Path) -> PathBuf {
    root.join("logs").join("bot.log")
}

#[test]
fn check_refuses_a_system_prompt_too_long_for_the_command_line() {
    let sb = Sandbox::new();
    let long = "be brief. ".repeat(20 * 1024);
    sb.write_config(&format!(
        "[discord]\nallowed_users = [\"111\"]\n\n[[projects]]\nname = \"demo\"\nchannel_id = \"222\"\npath = \"project\"\nsystem_prompt = \"{long}\"\n"
    ));
    let out = sb.run(&["check"]);
    assert_clean_failure(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("system_prompt") && stderr.contains("command-line argument"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("be brief. be brief."),
        "the prompt itself is not echoed"
    );
}
