//! The pipeline under test and its phases: the real router, sessions, pool,
//! typing and error actors on a temp-file store, a null discord in place of
//! Discord, and the ways the bench drives them.

use super::{BATCH, FIRST, ROUND_TRIPS, SESSIONS};
use actix::prelude::*;
use claude_coordinator::actors::graph::{Timings, start_core};
use claude_coordinator::actors::messages::{
    AskThread, CommandReply, Outgoing, OutgoingError, Request, Routed, SessionCommand, ThreadIs,
    ToSession,
};
use claude_coordinator::actors::router::SessionRouter;
use claude_coordinator::actors::session::{SessionActor, SessionDeps};
use claude_coordinator::config::{Config, ConfigSource};
use claude_coordinator::db::Db;
use claude_coordinator::domain::{ChannelId, MessageId, ProjectName, RequestId, UserId};
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_support::fake_claude;
use tokio::sync::mpsc;

/// Stands in for Discord: hands out message ids and reports every reply
/// to a user's message (answer or error) on `replies`.
struct NullDiscord {
    next_id: u64,
    replies: mpsc::UnboundedSender<bool>,
}

impl Actor for NullDiscord {
    type Context = Context<Self>;
}

impl Handler<AskThread> for NullDiscord {
    type Result = MessageResult<AskThread>;

    fn handle(&mut self, _: AskThread, _: &mut Self::Context) -> Self::Result {
        MessageResult(ThreadIs::Open)
    }
}

impl Handler<Outgoing> for NullDiscord {
    type Result = Result<Option<MessageId>, OutgoingError>;

    fn handle(&mut self, msg: Outgoing, _: &mut Self::Context) -> Self::Result {
        let Outgoing::Post {
            reply_to, content, ..
        } = &msg
        else {
            return Ok(None);
        };
        if reply_to.is_some() {
            let _ = self.replies.send(content.contains("error id"));
        }
        self.next_id += 1;
        Ok(Some(MessageId(self.next_id)))
    }
}

pub struct Bench {
    pub router: Addr<SessionRouter>,
    /// The same dependencies, for a session started without the router.
    pub deps: Arc<SessionDeps>,
    pub db: Db,
    pub replies: mpsc::UnboundedReceiver<bool>,
    pub dir: tempfile::TempDir,
}

pub async fn start() -> Bench {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    std::fs::create_dir(&project).expect("project dir");
    let fake = fake_claude();
    let text = format!(
        "[claude]\nbinary = '{fake}'\nmax_concurrent = 8\nmax_warm = 0\n\n[discord]\nallowed_users = [\"501\"]\n\n\
[sessions]\nidle_timeout_secs = 36000\n\n[[projects]]\nname = \"p0\"\nchannel_id = \"1\"\npath = '{}'\n",
        project.display()
    );
    let config =
        Config::from_toml_str(&text, &dir.path().join("coordinator.toml")).expect("config");
    let source = ConfigSource::file(&config.source);
    let url = format!("sqlite://{}", dir.path().join("coordinator.db").display());
    let db = Db::connect(&url).await.expect("db");
    let (tx, replies) = mpsc::unbounded_channel();
    let discord = NullDiscord {
        next_id: 1_000,
        replies: tx,
    }
    .start();
    let threads = discord.clone().recipient();
    let discord = discord.recipient();
    let timings = Timings {
        progress_interval: Duration::from_secs(1),
        ..Timings::default()
    };
    let core = start_core(config.into(), source, db.clone(), discord, threads, timings);
    Bench {
        router: core.router,
        deps: core.deps,
        db,
        replies,
        dir,
    }
}

pub fn project() -> ProjectName {
    ProjectName::new("p0")
}

pub fn status(channel: u64) -> ToSession {
    ToSession {
        channel: ChannelId(channel),
        project: Some(project()),
        command: SessionCommand::Status,
    }
}

/// One Status per channel makes the router start its actor, which loads or
/// creates the SQLite row before it answers.
pub async fn bring_to_life(router: &Addr<SessionRouter>, first: u64) -> Duration {
    let started = Instant::now();
    for batch in (first..first + SESSIONS).step_by(BATCH as usize) {
        let sends: Vec<_> = (batch..batch + BATCH)
            .map(|c| actix::spawn(router.send(status(c))))
            .collect();
        for send in sends {
            let reply = send.await.expect("send task");
            assert!(
                matches!(reply, Ok(Ok(CommandReply::Status(_)))),
                "{reply:?}"
            );
        }
    }
    started.elapsed()
}

/// The same rows written without actors: SQLite's share of the growth.
pub async fn rows_only(db: &Db, first: u64, count: u64) {
    for batch in (first..first + count).step_by(BATCH as usize) {
        let writes: Vec<_> = (batch..(batch + BATCH).min(first + count))
            .map(|c| {
                let db = db.clone();
                actix::spawn(async move { db.ensure_session(ChannelId(c), &project()).await })
            })
            .collect();
        for write in writes {
            write.await.expect("write task").expect("session row");
        }
    }
}

/// Lets pool and connection housekeeping finish before RSS is read.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

pub struct Stats {
    pub mean: f64,
    pub p50: f64,
    pub p99: f64,
}

pub fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| us(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    Stats {
        mean: samples.iter().map(|d| us(*d)).sum::<f64>() / samples.len() as f64,
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// Status round trips to random live channels through the router,
/// interleaved with the same command sent straight to one session actor.
pub async fn round_trips(bench: &Bench) -> (Stats, Stats) {
    let direct = SessionActor::new(
        ChannelId(1),
        project(),
        bench.deps.clone(),
        bench.router.clone().recipient(),
    )
    .start();
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let (mut routed, mut straight) = (Vec::new(), Vec::new());
    for seq in 0..ROUND_TRIPS as u64 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let started = Instant::now();
        let reply = bench.router.send(status(FIRST + rng % SESSIONS)).await;
        routed.push(started.elapsed());
        assert!(matches!(reply, Ok(Ok(CommandReply::Status(_)))));
        let command = Routed {
            seq,
            inner: SessionCommand::Status,
        };
        let started = Instant::now();
        let reply = direct.send(command).await;
        straight.push(started.elapsed());
        assert!(matches!(reply, Ok(CommandReply::Status(_))));
    }
    (stats(routed), stats(straight))
}

fn submit(bench: &Bench, round: u64, i: u64) {
    bench.router.do_send(Request {
        id: RequestId::new(),
        channel: ChannelId(FIRST + i),
        project: project(),
        user: UserId(501),
        message: MessageId(round * 100_000_000 + i),
        prompt: "Summarise the README in one sentence.".into(),
        images: Vec::new(),
        thread_name: None,
    });
}

/// One more real request per live channel, answered at once by the fake
/// CLI, with at most `in_flight` unanswered; returns the wall time and how
/// many replies were errors. `round` counts from 1.
pub async fn one_request_each(bench: &mut Bench, round: u64, in_flight: u64) -> (Duration, usize) {
    let started = Instant::now();
    let mut sent = 0;
    while sent < in_flight.min(SESSIONS) {
        submit(bench, round, sent);
        sent += 1;
    }
    let mut errors = 0;
    for _ in 0..SESSIONS {
        let reply = tokio::time::timeout(Duration::from_secs(600), bench.replies.recv());
        match reply.await {
            Ok(Some(error)) => errors += usize::from(error),
            _ => panic!("replies stopped coming"),
        }
        if sent < SESSIONS {
            submit(bench, round, sent);
            sent += 1;
        }
    }
    let elapsed = started.elapsed();
    // The request row is closed last, after the answer is posted.
    while finished(&bench.db).await < (round * SESSIONS) as i64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (elapsed, errors)
}

pub async fn finished(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM requests WHERE status NOT IN ('queued', 'running')")
        .fetch_one(db.pool())
        .await
        .expect("finished count")
}
