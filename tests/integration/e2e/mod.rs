//! End to end: the real `claude-coordinator run` binary as a subprocess,
//! talking to the fake Discord over loopback and running the fake CLI
//! through a wrapper script. Each test gets its own fake, daemon, config,
//! database and log folder; the daemon is SIGKILLed on drop.

mod access;
mod attachments;
mod commands;
mod failures;
mod lifecycle;
mod mentions;
mod messages;

use crate::fake_discord::{FakeDiscord, PostedMessage, RecordedRequest, UserMessage};
use crate::helpers::FakeCli;
use crate::pipeline_harness::wrapper_script;
use claude_coordinator::db::{Db, RequestRow};
use claude_coordinator::domain::RequestId;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_claude-coordinator");
pub const LIMIT: Duration = Duration::from_secs(20);
pub const COMMAND_COUNT: usize = 7;

/// What a test may change about the daemon's setup.
#[derive(Default)]
pub struct Options {
    /// `timeout_secs` of project alpha.
    pub alpha_timeout_secs: Option<u64>,
    pub max_attachment_bytes: Option<u64>,
    pub log_level: Option<&'static str>,
}

/// A running daemon and its world. Channels alpha and beta map to projects
/// of the same names; `thread` is a public thread under alpha; `unmapped`
/// maps to nothing. Alice may run Claude, Bob may not, Admin is an admin.
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
    db_url: String,
}

impl Daemon {
    pub async fn start(options: Options) -> Daemon {
        let fake = FakeDiscord::start().await;
        let [alpha, beta, thread, unmapped, alice, bob, admin] = [(); 7].map(|()| fake.new_id());
        fake.add_channel(alpha, "alpha");
        fake.add_channel(beta, "beta");
        fake.add_thread(thread, alpha);
        fake.add_channel(unmapped, "elsewhere");
        let cli = FakeCli::new();
        std::fs::create_dir(cli.dir("project-beta")).expect("beta folder");
        let wrapper = wrapper_script(&cli);
        let timeout = options
            .alpha_timeout_secs
            .map_or(String::new(), |s| format!("timeout_secs = {s}\n"));
        let attachment_limit = options
            .max_attachment_bytes
            .map_or(String::new(), |b| format!("max_attachment_bytes = {b}\n"));
        let config = format!(
            "[claude]\nbinary = '{wrapper}'\nmax_concurrent = 4\n\n\
             [discord]\nallowed_users = [\"{alice}\", \"{admin}\"]\nadmin_users = [\"{admin}\"]\n\
             guild_id = \"{guild}\"\n{attachment_limit}\n\
             [sessions]\nshutdown_grace_secs = 2\n\n\
             [[projects]]\nname = \"alpha\"\nchannel_id = \"{alpha}\"\npath = '{alpha_dir}'\n{timeout}\n\
             [[projects]]\nname = \"beta\"\nchannel_id = \"{beta}\"\npath = '{beta_dir}'\n",
            wrapper = wrapper.display(),
            guild = fake.guild_id(),
            alpha_dir = cli.project().display(),
            beta_dir = cli.dir("project-beta").display(),
        );
        let config_path = cli.dir("coordinator.toml");
        std::fs::write(&config_path, config).expect("config");
        let db_url = format!("sqlite://{}", cli.dir("coordinator.db").display());
        let mut command = Command::new(BIN);
        command
            .arg("run")
            .current_dir(cli.dir("."))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", cli.dir("."))
            .env("COORDINATOR_CONFIG", &config_path)
            .env("CLAUDE_BIN", &wrapper)
            .env("DATABASE_URL", &db_url)
            .env("LOG_DIR", cli.dir("logs"))
            .env("LOG_LEVEL", options.log_level.unwrap_or("info"))
            .env("DISCORD_TOKEN", fake.token())
            // Never without this: serenity would otherwise reach discord.com.
            .env("DISCORD_API_BASE", fake.api_base())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(cli.dir("stdout.txt")).expect("stdout file"))
            .stderr(std::fs::File::create(cli.dir("stderr.txt")).expect("stderr file"))
            .kill_on_drop(true);
        let child = command.spawn().expect("spawn the daemon");
        let daemon = Daemon {
            fake,
            cli,
            child: Some(child),
            alpha,
            beta,
            thread,
            unmapped,
            alice,
            bob,
            admin,
            db_url,
        };
        daemon.fake.wait_ready(LIMIT).await;
        daemon
            .fake
            .wait_for(LIMIT, |_| {
                daemon.fake.registered_commands().len() == COMMAND_COUNT
            })
            .await;
        daemon
            .wait_log(|r| r["msg"] == "connected to Discord")
            .await;
        daemon
    }

    /// Alice (or `author`) mentions the bot in `channel`; returns the message id.
    pub async fn say(&self, channel: u64, author: u64, text: &str) -> u64 {
        self.fake
            .user_message(UserMessage::new(channel, author, text).mentioning_bot())
            .await
    }

    /// Waits until a bot post in `channel` replies to `message`; returns it
    /// and every post in the channel after it.
    pub async fn reply_to(&self, channel: u64, message: u64) -> Vec<PostedMessage> {
        self.fake
            .wait_for(LIMIT, |_| {
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

    /// Every JSON record of bot.log so far.
    pub fn log_records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.cli.dir("logs/bot.log")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Polls bot.log (bounded) until a record matches; returns it.
    pub async fn wait_log(&self, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + LIMIT;
        loop {
            let records = self.log_records();
            if let Some(found) = records.iter().find(|r| pred(r)) {
                return found.clone();
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = records.iter().map(Value::to_string).collect();
                panic!("waited {LIMIT:?} for a log record; bot.log: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn db(&self) -> Db {
        Db::connect(&self.db_url)
            .await
            .expect("open the daemon's db")
    }

    /// The request rows of `channel`, oldest first.
    pub async fn requests(&self, channel: u64) -> Vec<RequestRow> {
        let db = self.db().await;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM requests WHERE channel_id = ? ORDER BY created_at, rowid",
        )
        .bind(channel.to_string())
        .fetch_all(db.pool())
        .await
        .expect("request ids");
        let mut rows = Vec::new();
        for id in ids {
            let id = RequestId::parse(&id).expect("request id");
            rows.push(db.request(id).await.expect("row").expect("row exists"));
        }
        db.close().await;
        rows
    }

    /// Polls the database (bounded) until `channel` has `n` finished requests.
    pub async fn finished_requests(&self, channel: u64, n: usize) -> Vec<RequestRow> {
        poll_async(
            || async {
                let rows = self.requests(channel).await;
                let done = rows.iter().filter(|r| r.finished_at.is_some()).count();
                (done >= n).then_some(rows)
            },
            "finished requests",
        )
        .await
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

    /// Everything the daemon wrote: bot.log (and rotations), stdout, stderr.
    pub fn all_output(&self) -> String {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.cli.dir("logs"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.push(self.cli.dir("stdout.txt"));
        paths.push(self.cli.dir("stderr.txt"));
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.start_kill();
        }
        // A hung fake CLI outlives a SIGKILLed daemon; kill the ones that ran.
        for record in self.cli.records() {
            if let Some(pid) = record["pid"].as_i64() {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmdline).contains("fake-claude") {
                    // SAFETY: the pid was just checked to be a fake CLI.
                    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                }
            }
        }
    }
}

/// The message id a post replies to.
pub fn replies_to(m: &PostedMessage) -> Option<u64> {
    let id = m.message_reference.as_ref()?.get("message_id")?;
    id.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| id.as_u64())
}

/// Discord's "ping nobody" as serenity sends it.
pub fn no_pings() -> Value {
    json!({"parse": [], "roles": [], "users": []})
}

/// Every message the bot sent or edited (posts, edits, interaction replies
/// and follow-ups) carried empty allowed_mentions.
pub fn assert_pings_nobody(requests: &[RecordedRequest]) {
    for r in requests {
        let body = match (r.method.as_str(), &r.json) {
            ("POST" | "PATCH", Some(body)) if r.path.ends_with("/callback") => &body["data"],
            ("POST" | "PATCH", Some(body))
                if r.path.contains("/messages") || r.path.starts_with("/webhooks/") =>
            {
                body
            }
            _ => continue,
        };
        assert_eq!(
            body["allowed_mentions"],
            no_pings(),
            "{} {} carried {body}",
            r.method,
            r.path
        );
    }
}

/// The argv of every fake CLI run, oldest first.
pub fn argvs(cli: &FakeCli) -> Vec<Vec<String>> {
    cli.records()
        .iter()
        .map(|r| serde_json::from_value(r["argv"].clone()).expect("argv"))
        .collect()
}

pub fn resume_of(argv: &[String]) -> Option<&str> {
    let i = argv.iter().position(|a| a == "--resume")?;
    argv.get(i + 1).map(String::as_str)
}

/// Polls `probe` every 20 ms until it yields, panicking after `LIMIT`.
pub async fn poll<T>(mut probe: impl FnMut() -> Option<T>, what: &str) -> T {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {LIMIT:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn poll_async<T, F: Future<Output = Option<T>>>(probe: impl Fn() -> F, what: &str) -> T {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {LIMIT:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
