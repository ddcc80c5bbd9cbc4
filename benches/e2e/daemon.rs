//! One real `claude-coordinator run` process in a temp dir, wired to a fake
//! Discord on loopback (never without DISCORD_API_BASE) and the fake CLI:
//! config, database, logs, spawn, readiness, RSS, SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use test_support::fake_claude;
use test_support::fake_discord::FakeDiscord;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_claude-coordinator");
const LIMIT: Duration = Duration::from_secs(60);

/// What differs between the daemons a bench run starts.
pub struct Setup {
    /// Channels mapped to projects, each with its own folder.
    pub channels: Vec<u64>,
    pub user: u64,
    pub max_concurrent: usize,
    pub queue_size: usize,
    pub idle_timeout_secs: u64,
    /// The CLI to run; the fake CLI when `None`.
    pub binary: Option<PathBuf>,
    /// `[claude]` lines beyond the above (`max_warm`, `warm_secs`).
    pub claude_extra: String,
}

pub struct Daemon {
    child: Option<Child>,
    pub pid: i32,
    pub db_url: String,
    pub dir: PathBuf,
}

/// The temp dir of one daemon: config, folders, database, logs.
pub fn prepare(dir: &Path, fake: &FakeDiscord, setup: &Setup) -> PathBuf {
    let cli = match &setup.binary {
        Some(binary) => binary.display().to_string(),
        None => fake_claude().to_string(),
    };
    let mut config = format!(
        "[claude]\nbinary = '{cli}'\nmax_concurrent = {}\n{}\n\
         [discord]\nallowed_users = [\"{}\"]\nguild_id = \"{}\"\n\n\
         [sessions]\nqueue_size = {}\nidle_timeout_secs = {}\nshutdown_grace_secs = 2\n",
        setup.max_concurrent,
        setup.claude_extra,
        setup.user,
        fake.guild_id(),
        setup.queue_size,
        setup.idle_timeout_secs,
    );
    for (i, channel) in setup.channels.iter().enumerate() {
        let folder = dir.join(format!("project-{i}"));
        std::fs::create_dir_all(&folder).expect("project folder");
        config.push_str(&format!(
            "\n[[projects]]\nname = \"p{i}\"\nchannel_id = \"{channel}\"\npath = '{}'\n",
            folder.display()
        ));
    }
    let path = dir.join("coordinator.toml");
    std::fs::write(&path, config).expect("write the config");
    path
}

impl Daemon {
    /// Spawns the daemon and returns once the fake saw READY and the slash
    /// commands registered, with the time that took.
    pub async fn start(dir: &Path, fake: &FakeDiscord) -> (Daemon, Duration) {
        Self::start_with_env(dir, fake, &[]).await
    }

    /// `start`, with `env` added to the daemon's (and so its CLI's)
    /// environment.
    pub async fn start_with_env(
        dir: &Path,
        fake: &FakeDiscord,
        env: &[(String, String)],
    ) -> (Daemon, Duration) {
        let db_url = format!("sqlite://{}", dir.join("coordinator.db").display());
        let started = Instant::now();
        // For profiling runs only: E2E_DAEMON_WRAPPER="heaptrack -o /tmp/x"
        // runs the daemon under a tool; E2E_DAEMON_ENV="K=V;K=V" adds variables.
        let wrapper = std::env::var("E2E_DAEMON_WRAPPER").unwrap_or_default();
        let mut argv: Vec<String> = wrapper.split_whitespace().map(String::from).collect();
        argv.push(BIN.into());
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]).env_clear();
        for pair in std::env::var("E2E_DAEMON_ENV")
            .unwrap_or_default()
            .split(';')
        {
            if let Some((k, v)) = pair.split_once('=') {
                command.env(k, v);
            }
        }
        let child = command
            .envs(env.iter().map(|(k, v)| (k, v)))
            .arg("run")
            .current_dir(dir)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("COORDINATOR_CONFIG", dir.join("coordinator.toml"))
            .env("DATABASE_URL", &db_url)
            .env("LOG_DIR", dir.join("logs"))
            // E2E_LOG_LEVEL (profiling) runs the daemon at another level.
            .env(
                "LOG_LEVEL",
                std::env::var("E2E_LOG_LEVEL").unwrap_or_else(|_| "warn".into()),
            )
            .env("DISCORD_TOKEN", fake.token())
            // Never without this: serenity would otherwise reach discord.com.
            .env("DISCORD_API_BASE", fake.api_base())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("stdout.txt")).expect("stdout file"))
            .stderr(std::fs::File::create(dir.join("stderr.txt")).expect("stderr file"))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn the daemon");
        let mut pid = child.id().expect("daemon pid") as i32;
        fake.wait_ready(LIMIT).await;
        if !wrapper.is_empty() {
            pid = descendant_named(pid, "claude-coordina").expect("the daemon under the wrapper");
        }
        fake.wait_for(LIMIT, |_| !fake.registered_commands().is_empty())
            .await;
        let ready = started.elapsed();
        let daemon = Daemon {
            child: Some(child),
            pid,
            db_url,
            dir: dir.to_path_buf(),
        };
        (daemon, ready)
    }

    pub fn rss_kib(&self) -> u64 {
        status_kib(self.pid, "VmRSS:")
    }

    pub fn peak_rss_kib(&self) -> u64 {
        status_kib(self.pid, "VmHWM:")
    }

    /// SIGTERM, then waits (bounded) for the exit; panics with the daemon's
    /// stderr if it does not stop or fails.
    pub async fn stop(mut self) {
        let mut child = self.child.take().expect("running");
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
        let status = tokio::time::timeout(LIMIT, child.wait())
            .await
            .expect("the daemon stops after SIGTERM")
            .expect("exit status");
        let stderr = std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default();
        assert!(status.success(), "daemon exited {status}: {stderr}");
    }
}

/// The first process below `pid` whose comm starts with `name`.
fn descendant_named(pid: i32, name: &str) -> Option<i32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .find_map(|c: i32| {
            let comm = std::fs::read_to_string(format!("/proc/{c}/comm")).unwrap_or_default();
            if comm.starts_with(name) {
                Some(c)
            } else {
                descendant_named(c, name)
            }
        })
}

fn status_kib(pid: i32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("daemon status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a kB value")
}
