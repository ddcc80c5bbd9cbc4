//! The session pipeline wired for tests: the real router, sessions, worker
//! pool, typing and error actors, an in-memory store, the fake CLI behind
//! a wrapper script, and a recorder in place of Discord.

use crate::helpers::FakeCli;
use actix::prelude::*;
use claude_coordinator::actors::graph::{Timings, start_core};
use claude_coordinator::actors::messages::{
    CommandReply, Outgoing, Request, SessionCommand, ToSession,
};
use claude_coordinator::actors::recorder::{Recording, RecordingDiscord};
use claude_coordinator::actors::router::SessionRouter;
use claude_coordinator::actors::typing::TypingActor;
use claude_coordinator::config::{Config, ConfigSource};
use claude_coordinator::db::Db;
use claude_coordinator::domain::{
    ChannelId, MessageId, ProjectName, RequestId, RequestStatus, UserId,
};
use claude_coordinator::telemetry::metrics::Metrics;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use test_support::fake_claude;

pub const LIMIT: Duration = Duration::from_secs(30);
pub const ALICE: UserId = UserId(501);
pub const BOB: UserId = UserId(502);

static NEXT_MESSAGE: AtomicU64 = AtomicU64::new(90_000);

pub struct Pipeline {
    pub cli: FakeCli,
    pub db: Db,
    pub router: Addr<SessionRouter>,
    pub typing: Addr<TypingActor>,
    pub rec: Recording,
    pub metrics: Arc<Metrics>,
}

/// Writes an executable that runs the fake CLI with this test's folders, so
/// the product starts it by path exactly as it would start `claude`.
pub fn wrapper_script(cli: &FakeCli) -> PathBuf {
    let script = cli.dir("claude");
    let text = format!(
        "#!/bin/sh\nexport FAKE_CLAUDE_STATE_DIR='{}'\nexport FAKE_CLAUDE_RECORD_DIR='{}'\nexport FAKE_CLAUDE_COUNT_DIR='{}'\nexec '{}' \"$@\"\n",
        cli.dir("state").display(),
        cli.dir("records").display(),
        cli.dir("count").display(),
        fake_claude(),
    );
    std::fs::write(&script, text).expect("wrapper");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

pub fn config_text(binary: &Path, project: &Path, channels: &[u64]) -> String {
    let mut text = format!(
        "[claude]\nbinary = '{}'\nmax_concurrent = 4\n\n[discord]\nallowed_users = [\"{}\"]\n",
        binary.display(),
        ALICE.get()
    );
    for (i, channel) in channels.iter().enumerate() {
        text.push_str(&format!(
            "\n[[projects]]\nname = \"p{i}\"\nchannel_id = \"{channel}\"\npath = '{}'\n",
            project.display()
        ));
    }
    text
}

impl Pipeline {
    /// Channels 1 and 2 map to projects p0 and p1; `tune` adjusts the rest.
    pub async fn start(tune: impl FnOnce(&mut Config)) -> Pipeline {
        Self::start_with_db(tune, Db::in_memory().await.expect("db")).await
    }

    pub async fn start_with_db(tune: impl FnOnce(&mut Config), db: Db) -> Pipeline {
        Self::start_with_clock(tune, db, Timings::default().now).await
    }

    /// Also sets the clock the daily budgets reset by.
    pub async fn start_with_clock(
        tune: impl FnOnce(&mut Config),
        db: Db,
        now: fn() -> chrono::DateTime<chrono::Utc>,
    ) -> Pipeline {
        let cli = FakeCli::new();
        let binary = wrapper_script(&cli);
        let text = config_text(&binary, &cli.project(), &[1, 2]);
        let mut config =
            Config::from_toml_str(&text, &cli.dir("coordinator.toml")).expect("config");
        tune(&mut config);
        let source = ConfigSource::file(&config.source);
        let (discord, rec) = RecordingDiscord::new();
        let discord = discord.start();
        let threads = discord.clone().recipient();
        let discord = discord.recipient();
        let timings = Timings {
            progress_interval: Duration::from_millis(50),
            now,
            ..Timings::default()
        };
        let core = start_core(config.into(), source, db.clone(), discord, threads, timings);
        Pipeline {
            cli,
            db,
            router: core.router,
            typing: core.typing,
            rec,
            metrics: core.metrics,
        }
    }

    /// Sends a user's message into channel 1 or 2; returns its request id
    /// and message id.
    pub fn say(&self, channel: u64, user: UserId, prompt: &str) -> (RequestId, MessageId) {
        let id = RequestId::new();
        let message = MessageId(NEXT_MESSAGE.fetch_add(1, Ordering::Relaxed));
        self.router.do_send(Request {
            id,
            channel: ChannelId(channel),
            project: ProjectName::new(format!("p{}", channel - 1)),
            user,
            message,
            prompt: prompt.into(),
            images: Vec::new(),
            thread_name: None,
        });
        (id, message)
    }

    pub async fn command(&self, channel: u64, command: SessionCommand) -> CommandReply {
        self.router
            .send(ToSession {
                channel: ChannelId(channel),
                project: Some(ProjectName::new(format!("p{}", channel - 1))),
                command,
            })
            .await
            .expect("router")
            .expect("session")
    }

    /// Waits until `n` answers or errors have replied to user messages.
    pub async fn replies(&self, n: usize) -> Vec<Outgoing> {
        let events = self.rec.wait_for(LIMIT, |e| replies(e).len() >= n).await;
        replies(&events)
    }
}

/// Posts that reply to a user's message, in order.
pub fn replies(events: &[Outgoing]) -> Vec<Outgoing> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Outgoing::Post {
                    reply_to: Some(_),
                    ..
                }
            )
        })
        .cloned()
        .collect()
}

pub fn content(event: &Outgoing) -> &str {
    match event {
        Outgoing::Post { content, .. } | Outgoing::Edit { content, .. } => content,
        _ => "",
    }
}

pub fn reply_to(event: &Outgoing) -> Option<MessageId> {
    match event {
        Outgoing::Post { reply_to, .. } => *reply_to,
        _ => None,
    }
}

pub async fn wait_status(
    p: &Pipeline,
    id: claude_coordinator::domain::RequestId,
    want: RequestStatus,
) -> RequestStatus {
    let deadline = Instant::now() + LIMIT;
    loop {
        let status = p.db.request(id).await.unwrap().map(|r| r.status);
        if status == Some(want) {
            return want;
        }
        assert!(
            Instant::now() < deadline,
            "request {id} is {status:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
