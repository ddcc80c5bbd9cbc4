//! The contract tier: the real `claude-coordinator run` binary driving the
//! REAL Claude Code CLI (pinned in tests/real-cli), against the fake Discord
//! and the fake Messages API, so what the daemon relies on is checked
//! against the CLI it will meet in production. Every test skips with one
//! line on stderr when the CLI is not installed; under `CI=true` a missing
//! CLI fails instead.

mod answers;
mod approvals;
mod cli;
mod commands;
mod failures;
mod fidelity;
mod images;
mod runner;
mod tools;
mod warm;

use crate::e2e::{Claude, Daemon, LIMIT, Options, poll};
use crate::helpers::processes_in;
use std::io::Write;
use std::path::PathBuf;
use tempfile::TempDir;
use test_support::RealClaude;
use test_support::fake_api::{ApiRequest, FakeApi};
use test_support::fake_discord::SlashCommand;

/// A daemon running the real CLI, and the fake API that CLI talks to.
pub struct World {
    pub d: Daemon,
    pub api: FakeApi,
    /// The CLI's TMPDIR, so its sockets stay out of the shared /tmp.
    _tmp: TempDir,
}

impl World {
    /// `None` (after one skip line) when the real CLI is not installed.
    pub async fn start(options: Options) -> Option<World> {
        Self::start_with_env(options, &[]).await
    }

    /// Also passes `env` to the daemon, and through it to the CLI.
    pub async fn start_with_env(options: Options, env: &[(&str, &str)]) -> Option<World> {
        let binary = real_cli()?;
        let api = FakeApi::start().await;
        let tmp = tempfile::tempdir().expect("TMPDIR for the CLI");
        let (url, tmpdir) = (api.base_url(), tmp.path().display().to_string());
        let offline = [
            ("ANTHROPIC_BASE_URL", url.as_str()),
            ("ANTHROPIC_API_KEY", "test"),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
            ("TMPDIR", tmpdir.as_str()),
        ];
        let vars = offline.iter().chain(env);
        let vars = vars.map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let claude = Claude::Real { binary, env: vars };
        let d = Daemon::start(Options { claude, ..options }).await;
        Some(World { d, api, _tmp: tmp })
    }

    pub fn project(&self) -> PathBuf {
        self.d.cli.project()
    }

    /// Waits until the fake API has had `n` messages calls; returns them all.
    pub async fn calls(&self, n: usize) -> Vec<ApiRequest> {
        let arrived = self.api.wait_for_calls(n, LIMIT).await;
        let calls = self.api.message_calls();
        assert!(
            arrived,
            "waited {LIMIT:?} for {n} API calls, got {calls:#?}"
        );
        calls
    }

    /// Runs a slash command and waits for its first reply's text.
    pub async fn command(&self, command: SlashCommand) -> String {
        self.d.slash(command).await
    }

    /// Waits until nothing runs in the project folder any more.
    pub async fn nothing_runs_in_the_project(&self) {
        let project = self.project();
        poll(
            || processes_in(&project).is_empty().then_some(()),
            "every process in the project to end",
        )
        .await;
    }
}

/// The real CLI, or `None` after printing why this test is skipped
/// (straight to stderr, past libtest's capture). A failure under `CI=true`.
fn real_cli() -> Option<PathBuf> {
    let cli = RealClaude::locate();
    if cli.is_installed() {
        return Some(cli.path().to_path_buf());
    }
    let why = format!(
        "the real Claude Code CLI is not installed at {} \
         (run `npm ci` in tests/real-cli, or set CLAUDE_REAL_BIN)",
        cli.path().display()
    );
    let in_ci = std::env::var("CI").as_deref() == Ok("true");
    assert!(!in_ci, "{why}; with CI=true the contract tier must run");
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a contract test");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    None
}
