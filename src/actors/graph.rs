//! The core actor graph, built in one place: the daemon, the pipeline
//! tests and the benches all start it here, each handing in what stands
//! for Discord (the Discord actor, a recorder, a sink that drops every
//! post): where every `Outgoing` goes, and what says whether a thread is
//! open.

use super::claude_pool::{ClaudePool, WarmSettings};
use super::error_reporter::ErrorReporter;
use super::messages::{AskThread, Outgoing, ReportError};
use super::reloader::Reloader;
use super::router::SessionRouter;
use super::session::SessionDeps;
use super::sweeper::WorktreeSweeper;
use super::typing::{TYPING_INTERVAL, TypingActor};
use crate::config::{ConfigSource, SharedConfig};
use crate::db::Db;
use crate::telemetry::metrics::Metrics;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// How often things repeat while a request runs.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// How often typing is renewed (`TYPING_INTERVAL` in the daemon).
    pub typing_interval: Duration,
    /// The live status message is edited at most this often; Discord allows
    /// about five edits per five seconds per channel.
    pub progress_interval: Duration,
    /// How long a warm CLI process may take to start answering a message
    /// before it is replaced.
    pub warm_answer_within: Duration,
    /// The clock the daily budgets reset by (tests move it).
    pub now: fn() -> DateTime<Utc>,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            typing_interval: TYPING_INTERVAL,
            progress_interval: Duration::from_secs(2),
            warm_answer_within: WarmSettings::default().answer_within,
            now: Utc::now,
        }
    }
}

/// The handles of a started core.
pub struct Core {
    pub router: Addr<SessionRouter>,
    /// What every session shares, as the router hands it to them.
    pub deps: Arc<SessionDeps>,
    pub pool: Addr<ClaudePool>,
    pub typing: Addr<TypingActor>,
    pub errors: Recipient<ReportError>,
    pub metrics: Arc<Metrics>,
    pub reloader: Addr<Reloader>,
    pub sweeper: Addr<WorktreeSweeper>,
}

/// Starts the error reporter, the worker pool, typing, the session router,
/// the worktree sweeper and the reloader, which reads `source` again when
/// told. Call inside an actix System.
pub fn start_core(
    config: SharedConfig,
    source: ConfigSource,
    db: Db,
    discord: Recipient<Outgoing>,
    threads: Recipient<AskThread>,
    timings: Timings,
) -> Core {
    let errors = ErrorReporter.start().recipient();
    let metrics = Metrics::new();
    let claude = &config.current().claude;
    let warm = WarmSettings {
        max: claude.max_warm,
        idle: claude.warm_idle,
        answer_within: timings.warm_answer_within,
    };
    let pool = ClaudePool::new(claude.max_concurrent, warm, metrics.clone()).start();
    let typing = TypingActor::new(discord.clone(), timings.typing_interval).start();
    let deps = Arc::new(SessionDeps {
        config: config.clone(),
        db,
        run_job: pool.clone().recipient(),
        cancel_job: pool.clone().recipient(),
        close_warm: pool.clone().recipient(),
        is_warm: pool.clone().recipient(),
        start_typing: typing.clone().recipient(),
        stop_typing: typing.clone().recipient(),
        discord: discord.clone(),
        threads,
        errors: errors.clone(),
        progress_interval: timings.progress_interval,
        now: timings.now,
        metrics: metrics.clone(),
    });
    let router = SessionRouter::new(deps.clone()).start();
    let sweeper = WorktreeSweeper::new(config.clone(), router.clone().recipient(), discord).start();
    let reloader = Reloader::new(
        config,
        source,
        router.clone().recipient(),
        pool.clone().recipient(),
    )
    .start();
    Core {
        router,
        deps,
        pool,
        typing,
        errors,
        metrics,
        reloader,
        sweeper,
    }
}
