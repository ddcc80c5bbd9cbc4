//! The daemon's life: check what `run` needs, start logging, open the
//! store, start the actors and the Discord client, wait for SIGINT or
//! SIGTERM (or the gateway failing), and stop cleanly.

use crate::actors::claude_pool::ClaudePool;
use crate::actors::discord::DiscordActor;
use crate::actors::error_reporter::ErrorReporter;
use crate::actors::messages::{Announce, BeginShutdown, Shutdown};
use crate::actors::router::SessionRouter;
use crate::actors::session::SessionDeps;
use crate::actors::typing::{TYPING_INTERVAL, TypingActor};
use crate::cli::load_config;
use crate::config::{Config, EnvSettings};
use crate::db::Db;
use crate::discord::client::{self, ClientSetup};
use crate::telemetry::{self, LogSettings};
use actix::prelude::*;
use anyhow::{Context as _, anyhow};
use std::sync::Arc;
use std::time::Duration;

/// How often a running request's status message may be edited; Discord
/// allows about five edits per five seconds per channel.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(2);

/// How often freed heap pages go back to the kernel whatever the daemon
/// is doing (see `memory::release_every`).
const RELEASE_MEMORY_EVERY: Duration = Duration::from_secs(30);

/// The actors of a running daemon.
pub struct App {
    pub config: Arc<Config>,
    pub db: Db,
    pub discord: Addr<DiscordActor>,
    pub router: Addr<SessionRouter>,
    pub pool: Addr<ClaudePool>,
}

impl App {
    /// Starts the actors. Call inside an actix System.
    pub fn start(config: Arc<Config>, db: Db) -> App {
        let errors = ErrorReporter.start().recipient();
        let pool = ClaudePool::new(config.claude.max_concurrent).start();
        // The Discord actor and the sessions need each other's addresses.
        let discord_ctx = Context::<DiscordActor>::new();
        let outbox = discord_ctx.address().recipient();
        let typing = TypingActor::new(outbox.clone(), TYPING_INTERVAL).start();
        let deps = SessionDeps {
            config: config.clone(),
            db: db.clone(),
            run_job: pool.clone().recipient(),
            cancel_job: pool.clone().recipient(),
            start_typing: typing.clone().recipient(),
            stop_typing: typing.recipient(),
            outbox,
            errors: errors.clone(),
            progress_interval: PROGRESS_INTERVAL,
        };
        let router = SessionRouter::new(deps).start();
        let discord = discord_ctx.run(DiscordActor::new(config.clone(), router.clone(), errors));
        App {
            config,
            db,
            discord,
            router,
            pool,
        }
    }
}

/// `claude-coordinator run`: blocks until a shutdown signal.
pub fn run_blocking(env: EnvSettings) -> anyhow::Result<()> {
    let token = env.discord_token.clone().ok_or_else(|| {
        anyhow!("DISCORD_TOKEN is not set; put the bot token in .env or the environment")
    })?;
    let config = Arc::new(load_config(&env)?);
    let (_log_guard, log_file) = telemetry::init(
        "claude-coordinator",
        &LogSettings {
            level: env.log_level.clone(),
            rust_log: env.rust_log.clone(),
            dir: env.log_dir.clone(),
        },
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let system = actix_rt::System::with_tokio_rt(move || runtime);
    system.block_on(async move {
        keep_config_on_sighup()?;
        let db = Db::connect(&env.database_url).await?;
        let app = App::start(config.clone(), db.clone());
        announce_interrupted(&db, &app.discord).await?;
        let mut client = client::build(ClientSetup {
            token: &token,
            api_base: env.discord_api_base.as_deref(),
            config: config.clone(),
            db: db.clone(),
            discord: app.discord.clone(),
            router: app.router.clone(),
        })
        .await?;
        tokio::spawn(crate::memory::release_every(RELEASE_MEMORY_EVERY));
        let shards = client.shard_manager.clone();
        let mut gateway = tokio::spawn(async move { client.start().await });
        tracing::info!(
            projects = config.projects.len(),
            log_file = %log_file.display(),
            "claude-coordinator is running; stop it with Ctrl-C or SIGTERM"
        );
        let outcome = tokio::select! {
            signal = shutdown_signal() => signal.map(|signal| {
                tracing::info!(signal, "shutting down");
            }),
            ended = &mut gateway => Err(gateway_error(ended)),
        };
        app.discord.do_send(BeginShutdown);
        let grace = config.sessions.shutdown_grace;
        let summary = app
            .router
            .send(Shutdown { grace })
            .await
            .unwrap_or_default();
        tracing::info!(
            finished = summary.finished,
            stopped = summary.stopped,
            "requests settled; closing"
        );
        shards.shutdown_all().await;
        db.close().await;
        outcome
    })
}

/// Requests left queued or running by a crash (kill -9, power loss) are
/// marked interrupted, and each affected channel is told once.
async fn announce_interrupted(db: &Db, discord: &Addr<DiscordActor>) -> anyhow::Result<()> {
    let interrupted = db.interrupt_unfinished().await?;
    let channels: std::collections::BTreeSet<_> = interrupted.iter().map(|(_, c)| *c).collect();
    if !interrupted.is_empty() {
        tracing::warn!(
            requests = interrupted.len(),
            channels = channels.len(),
            "requests were interrupted by the last stop"
        );
    }
    for channel in channels {
        discord.do_send(Announce {
            channel,
            content: INTERRUPTED_NOTICE.into(),
        });
    }
    Ok(())
}

const INTERRUPTED_NOTICE: &str = "⚠️ The bot stopped while a request here was queued or running, \
     so it was not finished. Please send it again.";

fn gateway_error(ended: Result<serenity::Result<()>, tokio::task::JoinError>) -> anyhow::Error {
    use serenity::gateway::GatewayError;
    let error = match ended {
        Ok(Ok(())) => return anyhow!("the Discord connection ended"),
        Ok(Err(e)) => e,
        Err(e) => return anyhow!("the Discord client stopped: {e}"),
    };
    let hint = match &error {
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            "Discord rejected DISCORD_TOKEN; copy the bot token again from the developer portal"
        }
        serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => {
            "Discord refused the Message Content intent: enable it under Bot → Privileged Gateway Intents, or use trigger = \"mention\""
        }
        _ => "check the network and DISCORD_API_BASE",
    };
    tracing::error!(error = %error, "Discord connection failed");
    anyhow!("cannot stay connected to Discord ({error}); {hint}")
}

/// The configuration is read once, at start. SIGHUP (which would end the
/// process by default) only says so in the log; restart to apply edits.
fn keep_config_on_sighup() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::warn!(
                "SIGHUP received: the configuration is read only at start; restart the daemon to apply changes"
            );
        }
    });
    Ok(())
}

async fn shutdown_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
