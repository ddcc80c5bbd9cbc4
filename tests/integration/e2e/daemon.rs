//! One daemon per test: the fake Discord with its channels, the fake CLI's
//! folders (or a real CLI), a config and database in a temp dir, and
//! `claude-coordinator run` as a child that is SIGKILLed on drop, with every
//! process still working in its folders; plus readers for its log and
//! database.

use super::{COMMAND_COUNT, LIMIT, poll, replies_to};
use crate::helpers::{FakeCli, processes_in};
use crate::pipeline_harness::wrapper_script;
use std::path::PathBuf;
use std::process::Stdio;
use test_support::fake_discord::{FakeDiscord, PostedMessage, SlashCommand, UserMessage};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_claude-coordinator");

/// Which `claude` the daemon runs.
#[derive(Default)]
pub enum Claude {
    /// The fake CLI behind a wrapper script; `Daemon::cli` reads its records.
    #[default]
    Fake,
    /// This binary, with these variables added to the daemon's environment
    /// (the daemon passes its environment on to the CLI).
    Real {
        binary: PathBuf,
        env: Vec<(String, String)>,
    },
}

/// What a test may change about the daemon's setup.
#[derive(Default)]
pub struct Options {
    pub claude: Claude,
    /// `[claude].allowed_tools`.
    pub allowed_tools: Vec<String>,
    /// `timeout_secs` of project alpha.
    pub alpha_timeout_secs: Option<u64>,
    pub max_attachment_bytes: Option<u64>,
    pub max_image_bytes: Option<u64>,
    pub log_level: Option<&'static str>,
    /// `trigger = "all"` instead of mentions only.
    pub trigger_all: bool,
    /// More threads under alpha, each its own session (`Daemon::threads`).
    pub extra_threads: usize,
    pub queue_size: Option<usize>,
    pub max_concurrent: Option<usize>,
    /// `[claude].max_api_retries`.
    pub max_api_retries: Option<u32>,
    /// `[discord].request_timeout_secs`.
    pub request_timeout_secs: Option<u64>,
    /// `[claude].approvals` ("discord" by default).
    pub approvals: Option<&'static str>,
    /// `[claude].approval_timeout_secs`.
    pub approval_timeout_secs: Option<u64>,
    /// `[claude].permission_mode`.
    pub permission_mode: Option<&'static str>,
    /// `[claude].max_warm` (default 4).
    pub max_warm: Option<usize>,
    /// `[claude].warm_secs`.
    pub warm_secs: Option<u64>,
    /// `[discord].notify_requester` (default true).
    pub notify_requester: Option<bool>,
    /// `[metrics].listen`.
    pub metrics_listen: Option<&'static str>,
    /// The `[budgets]` section's lines, as written.
    pub budgets: Option<&'static str>,
    /// `[discord].projects_root` at `Daemon::projects_root()`.
    pub projects_root: bool,
    /// Alpha's folder is a git repository (one commit) and its threads
    /// get worktrees.
    pub thread_worktrees: bool,
    /// `[sessions].worktree_sweep_secs`.
    pub worktree_sweep_secs: Option<u64>,
    /// The daemon's `git` is a wrapper that `Daemon::hold_git` can stop.
    pub gated_git: bool,
}

/// A running daemon and its world. Channels alpha and beta map to projects
/// of the same names; `thread` is a public thread under alpha; `unmapped`
/// maps to nothing. Alice may run Claude, Bob may not, Admin is an admin,
/// and so may anyone holding `role`.
pub struct Daemon {
    pub fake: FakeDiscord,
    pub cli: FakeCli,
    child: Option<Child>,
    pub alpha: u64,
    pub beta: u64,
    pub thread: u64,
    pub unmapped: u64,
    pub alice: u64,
    pub bob: u64,
    pub admin: u64,
    /// Members with this role may run Claude.
    pub role: u64,
    /// `Options::extra_threads` threads under alpha.
    pub threads: Vec<u64>,
    pub(super) db_url: String,
    log_level: &'static str,
    claude_bin: PathBuf,
    claude_env: Vec<(String, String)>,
}

impl Daemon {
    pub async fn start(options: Options) -> Daemon {
        let fake = FakeDiscord::start().await;
        let [alpha, beta, thread, unmapped, alice, bob, admin, role] =
            [(); 8].map(|()| fake.new_id());
        fake.add_role(role, "developers");
        fake.add_channel(alpha, "alpha");
        fake.add_channel(beta, "beta");
        fake.add_thread(thread, alpha);
        fake.add_channel(unmapped, "elsewhere");
        let threads: Vec<u64> = (0..options.extra_threads).map(|_| fake.new_id()).collect();
        for t in &threads {
            fake.add_thread(*t, alpha);
        }
        let cli = FakeCli::new();
        std::fs::create_dir(cli.dir("project-beta")).expect("beta folder");
        if options.gated_git {
            gated_git(&cli);
        }
        let (claude_bin, claude_env) = match options.claude {
            Claude::Fake => (wrapper_script(&cli), Vec::new()),
            Claude::Real { binary, env } => (binary, env),
        };
        let mut timeout = options
            .alpha_timeout_secs
            .map_or(String::new(), |s| format!("timeout_secs = {s}\n"));
        if options.thread_worktrees {
            git_repository(&cli.project());
            timeout.push_str("thread_worktrees = true\n");
        }
        let attachment_limit = options
            .max_attachment_bytes
            .map_or(String::new(), |b| format!("max_attachment_bytes = {b}\n"))
            + &options
                .max_image_bytes
                .map_or(String::new(), |b| format!("max_image_bytes = {b}\n"));
        let request_timeout = options
            .request_timeout_secs
            .map_or(String::new(), |s| format!("request_timeout_secs = {s}\n"))
            + &options
                .notify_requester
                .map_or(String::new(), |n| format!("notify_requester = {n}\n"))
            + &(if options.projects_root {
                let root = cli.dir("root");
                std::fs::create_dir(&root).expect("projects root");
                format!("projects_root = '{}'\n", root.display())
            } else {
                String::new()
            });
        let config = format!(
            "[claude]\nbinary = '{binary}'\nmax_concurrent = {max_concurrent}\n{tools}{retries}\n\
             [discord]\nallowed_users = [\"{alice}\", \"{admin}\"]\nadmin_users = [\"{admin}\"]\n\
             allowed_roles = [\"{role}\"]\n{trigger}\
             guild_id = \"{guild}\"\n{attachment_limit}{request_timeout}\n\
             [sessions]\nshutdown_grace_secs = 2\nqueue_size = {queue_size}\n{sweep}\n{metrics}\
             [[projects]]\nname = \"alpha\"\nchannel_id = \"{alpha}\"\npath = '{alpha_dir}'\n{timeout}\n\
             [[projects]]\nname = \"beta\"\nchannel_id = \"{beta}\"\npath = '{beta_dir}'\n",
            binary = claude_bin.display(),
            tools = allowed_tools_line(&options.allowed_tools),
            retries = [
                options
                    .max_api_retries
                    .map(|n| format!("max_api_retries = {n}\n")),
                options.approvals.map(|a| format!("approvals = \"{a}\"\n")),
                options
                    .approval_timeout_secs
                    .map(|s| format!("approval_timeout_secs = {s}\n")),
                options
                    .permission_mode
                    .map(|m| format!("permission_mode = \"{m}\"\n")),
                options.max_warm.map(|n| format!("max_warm = {n}\n")),
                options.warm_secs.map(|s| format!("warm_secs = {s}\n")),
            ]
            .into_iter()
            .flatten()
            .collect::<String>(),
            max_concurrent = options.max_concurrent.unwrap_or(4),
            metrics = options.metrics_listen.map_or(String::new(), |l| format!(
                "[metrics]\nlisten = \"{l}\"\n\n"
            )) + &options
                .budgets
                .map_or(String::new(), |b| format!("[budgets]\n{b}\n\n")),
            queue_size = options.queue_size.unwrap_or(5),
            sweep = options
                .worktree_sweep_secs
                .map_or(String::new(), |s| format!("worktree_sweep_secs = {s}\n")),
            trigger = if options.trigger_all {
                "trigger = \"all\"\n"
            } else {
                ""
            },
            guild = fake.guild_id(),
            alpha_dir = cli.project().display(),
            beta_dir = cli.dir("project-beta").display(),
        );
        std::fs::write(cli.dir("coordinator.toml"), config).expect("config");
        let db_url = format!("sqlite://{}", cli.dir("coordinator.db").display());
        let mut daemon = Daemon {
            fake,
            cli,
            child: None,
            alpha,
            beta,
            thread,
            unmapped,
            alice,
            bob,
            admin,
            role,
            threads,
            db_url,
            log_level: options.log_level.unwrap_or("info"),
            claude_bin,
            claude_env,
        };
        daemon.spawn().await;
        daemon
    }

    /// Starts `run` and waits until it is connected and its commands are
    /// registered.
    async fn spawn(&mut self) {
        let connected_before = self.connections();
        let identified_before = self.fake.identifies().len();
        let output = |name: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.cli.dir(name))
                .expect("output file")
        };
        let mut command = self.command("run");
        command
            .stdin(Stdio::null())
            .stdout(output("stdout.txt"))
            .stderr(output("stderr.txt"))
            .kill_on_drop(true);
        self.child = Some(command.spawn().expect("spawn the daemon"));
        self.fake
            .wait_for(LIMIT, |_| self.fake.identifies().len() > identified_before)
            .await;
        self.fake.wait_ready(LIMIT).await;
        self.fake
            .wait_for(LIMIT, |_| {
                self.fake.registered_commands().len() == COMMAND_COUNT
            })
            .await;
        poll(
            || (self.connections() > connected_before).then_some(()),
            "the daemon to connect",
        )
        .await;
    }

    /// The binary with this daemon's environment, ready to run `sub`.
    pub fn command(&self, sub: &str) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg(sub)
            .current_dir(self.cli.dir("."))
            .env_clear()
            .env("PATH", self.path())
            .env("HOME", self.cli.dir("."))
            .env("COORDINATOR_CONFIG", self.cli.dir("coordinator.toml"))
            .env("CLAUDE_BIN", &self.claude_bin)
            .envs(self.claude_env.iter().map(|(k, v)| (k, v)))
            .env("DATABASE_URL", &self.db_url)
            .env("LOG_DIR", self.cli.dir("logs"))
            .env("LOG_LEVEL", self.log_level)
            .env("DISCORD_TOKEN", self.fake.token())
            // Never without this: serenity would otherwise reach discord.com.
            .env("DISCORD_API_BASE", self.fake.api_base());
        command
    }

    /// The test's PATH, behind the gated git's folder if there is one.
    fn path(&self) -> std::ffi::OsString {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let gated = self.cli.dir("bin");
        if !gated.is_dir() {
            return inherited;
        }
        let mut path = gated.into_os_string();
        path.push(":");
        path.push(inherited);
        path
    }

    /// From now on each git command of the daemon waits for `release_git`.
    pub fn hold_git(&self) {
        std::fs::write(self.cli.dir("git-hold"), "").expect("hold git");
    }

    /// Until a git command is waiting.
    pub async fn git_held(&self) {
        let held = self.cli.dir("git-held");
        poll(|| held.exists().then_some(()), "a held git command").await;
    }

    pub fn release_git(&self) {
        std::fs::write(self.cli.dir("git-go"), "").expect("release git");
    }

    /// The configuration file the daemon reads.
    pub fn config_path(&self) -> PathBuf {
        self.cli.dir("coordinator.toml")
    }

    /// `Options::projects_root`'s folder.
    pub fn projects_root(&self) -> PathBuf {
        self.cli.dir("root")
    }

    /// Sends SIGHUP and waits for the reload's record: "configuration
    /// reloaded" or "configuration not reloaded; ...". Returns it.
    pub async fn reload(&self) -> serde_json::Value {
        let seen = self.reload_records().len();
        self.signal(libc::SIGHUP);
        poll(
            || self.reload_records().get(seen).cloned(),
            "the reload's log record",
        )
        .await
    }

    fn reload_records(&self) -> Vec<serde_json::Value> {
        self.log_records()
            .into_iter()
            .filter(|r| {
                r["msg"].as_str().is_some_and(|m| {
                    m.starts_with("configuration reloaded")
                        || m.starts_with("configuration not reloaded")
                })
            })
            .collect()
    }

    /// The running daemon's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    fn connections(&self) -> usize {
        let records = self.log_records();
        records
            .iter()
            .filter(|r| r["msg"] == "connected to Discord")
            .count()
    }

    /// SIGKILLs the daemon, as a crash or power loss would, and starts it
    /// again on the same config, database and fake Discord.
    pub async fn crash_and_restart(&mut self) {
        let mut child = self.child.take().expect("daemon running");
        child.kill().await.expect("SIGKILL the daemon");
        self.spawn().await;
    }

    /// Alice (or `author`) mentions the bot in `channel`; returns the message id.
    pub async fn say(&self, channel: u64, author: u64, text: &str) -> u64 {
        self.fake
            .user_message(UserMessage::new(channel, author, text).mentioning_bot())
            .await
    }

    /// Alice mentions the bot in `channel` with `text`; returns the text of
    /// the first reply.
    pub async fn ask(&self, channel: u64, text: &str) -> String {
        let asked = self.say(channel, self.alice, text).await;
        self.reply_to(channel, asked).await[0].content.clone()
    }

    /// Waits until a bot post in `channel` replies to `message`; returns it
    /// and every post in the channel after it.
    pub async fn reply_to(&self, channel: u64, message: u64) -> Vec<PostedMessage> {
        self.wait_discord("a reply", || {
            self.fake
                .posted_messages(channel)
                .iter()
                .any(|m| replies_to(m) == Some(message))
        })
        .await;
        let posted = self.fake.posted_messages(channel);
        let first = posted
            .iter()
            .position(|m| replies_to(m) == Some(message))
            .unwrap_or_default();
        posted[first..].to_vec()
    }

    /// Awaits a change in the fake Discord until `done` holds; when `LIMIT`
    /// passes, panics naming `what`, with the daemon's log messages on the
    /// first line and then every request the fake recorded.
    pub async fn wait_discord(&self, what: &str, done: impl Fn() -> bool) {
        let Err(requests) = self.fake.try_wait_for(LIMIT, |_| done()).await else {
            return;
        };
        let log: Vec<String> = self
            .log_records()
            .iter()
            .map(|r| format!("{} {}", r["msg"], r["channel_id"]))
            .collect();
        let requests: Vec<String> = requests.iter().map(|r| r.summary()).collect();
        panic!(
            "{what}: not within {LIMIT:?}; the daemon logged: {}\nrequests: {requests:#?}",
            log.join(" | ")
        );
    }

    /// Runs a slash command and waits for its first reply's text.
    pub async fn slash(&self, command: SlashCommand) -> String {
        let handle = self.fake.slash_command(command).await;
        self.wait_discord("a slash command's reply", || {
            !self.fake.interaction_replies(&handle).is_empty()
        })
        .await;
        let first = self.fake.interaction_replies(&handle).remove(0);
        first.content().unwrap_or_default().to_string()
    }

    /// SIGTERM, then the daemon starts again on the same config, database
    /// and fake Discord; returns how the first one exited.
    pub async fn stop_and_restart(&mut self) -> std::process::ExitStatus {
        let status = self.stop().await;
        self.spawn().await;
        status
    }

    /// Sends a signal to the running daemon.
    pub fn signal(&self, signal: i32) {
        let pid = self
            .child
            .as_ref()
            .and_then(Child::id)
            .expect("daemon running");
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(pid as i32, signal) };
    }

    /// The daemon's resident memory in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        let pid = self
            .child
            .as_ref()
            .and_then(Child::id)
            .expect("daemon running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS of the daemon")
    }

    /// SIGTERM, then the exit status (bounded).
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("daemon still running");
        let pid = child.id().expect("daemon pid") as i32;
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        tokio::time::timeout(LIMIT, child.wait())
            .await
            .expect("daemon stops within the limit")
            .expect("daemon exit status")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.start_kill();
        }
        // A hung CLI, or a tool shell it started, outlives a SIGKILLed
        // daemon; kill whatever still works in this test's folders.
        for pid in processes_in(&self.cli.dir(".")) {
            // SAFETY: the pid works inside this test's own temp dir.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// `allowed_tools = [...]`, or nothing for none.
fn allowed_tools_line(tools: &[String]) -> String {
    if tools.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = tools
        .iter()
        .map(|t| serde_json::Value::from(t.as_str()).to_string())
        .collect();
    format!("allowed_tools = [{}]\n", quoted.join(", "))
}

/// Makes `dir` a git repository with one commit on `main`.
pub fn git_repository(dir: &std::path::Path) {
    std::fs::write(dir.join("README.md"), "alpha\n").expect("readme");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=Test",
            "commit",
            "-q",
            "-m",
            "first",
        ],
    ] {
        git(dir, args);
    }
}

/// Runs git in `dir`; its stdout.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `bin/git`: the real git, but while `git-hold` exists each call marks
/// `git-held` and waits for `git-go`.
fn gated_git(cli: &FakeCli) {
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .expect("find git");
    let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
    let dir = cli.dir(".");
    let script = format!(
        "#!/bin/sh\nif [ -e '{d}/git-hold' ]; then\n  : > '{d}/git-held'\n  \
         while [ ! -e '{d}/git-go' ]; do sleep 0.02; done\nfi\nexec '{real}' \"$@\"\n",
        d = dir.display()
    );
    std::fs::create_dir_all(cli.dir("bin")).expect("bin folder");
    let wrapper = cli.dir("bin/git");
    std::fs::write(&wrapper, script).expect("git wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
