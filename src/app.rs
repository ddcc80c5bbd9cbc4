//! The daemon's life: check what `run` needs, start logging, open the
//! store, start the actors and the Discord client, reload the
//! configuration on each reload request (SIGHUP in `run`), wait for the
//! shutdown future (SIGINT or SIGTERM in `run`) or the gateway failing,
//! and stop cleanly.

use crate::actors::graph::{Core, Timings, start_core};
use crate::actors::messages::{CloseAllWarm, Outgoing, Reload, Shutdown, StopSweeping};
use crate::actors::reloader::Reloader;
use crate::config::{Config, ConfigSource, EnvSettings, SharedConfig};
use crate::db::Db;
use crate::discord::actor::DiscordActor;
use crate::discord::client::{self, ClientSetup};
use crate::discord::messages::{Announce, BeginShutdown};
use crate::domain::DiscordToken;
use crate::telemetry::metrics::{self, MetricsServer};
use crate::telemetry::{self, LogSettings};
use actix::prelude::*;
use anyhow::{Context as _, anyhow};
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often freed heap pages go back to the kernel whatever the daemon
/// is doing (see `memory::release_every`).
const RELEASE_MEMORY_EVERY: Duration = Duration::from_secs(30);

/// How long the warm CLI processes of runs that ended during the shutdown
/// get to exit: stdin closed, then the group ended (within 2 × 5 s).
const WARM_CLOSE_WAIT: Duration = Duration::from_secs(11);

/// The actors of a running daemon: the core and the Discord actor that
/// takes its posts.
pub struct App {
    pub config: SharedConfig,
    pub db: Db,
    pub discord: Addr<DiscordActor>,
    pub core: Core,
}

impl App {
    /// Starts the actors. Call inside an actix System.
    pub fn start(config: SharedConfig, source: ConfigSource, db: Db) -> App {
        // The Discord actor and the core need each other's addresses.
        let discord_ctx = Context::<DiscordActor>::new();
        let (discord, threads) = (
            discord_ctx.address().recipient(),
            discord_ctx.address().recipient(),
        );
        let timings = Timings::default();
        let core = start_core(
            config.clone(),
            source,
            db.clone(),
            discord,
            threads,
            timings,
        );
        let actor = DiscordActor::new(
            config.clone(),
            core.router.clone(),
            core.errors.clone(),
            core.metrics.clone(),
        );
        let discord = discord_ctx.run(actor);
        App {
            config,
            db,
            discord,
            core,
        }
    }
}

/// What `serve` needs from the process: the token, the environment, the
/// loaded configuration, and a message each time it is to be reloaded.
pub struct Daemon {
    pub token: DiscordToken,
    pub env: EnvSettings,
    pub config: Config,
    pub reloads: mpsc::UnboundedReceiver<()>,
}

/// `claude-coordinator run`: blocks until SIGINT or SIGTERM.
pub fn run_blocking(env: EnvSettings) -> anyhow::Result<()> {
    let token = env.discord_token.clone().ok_or_else(|| {
        anyhow!("DISCORD_TOKEN is not set; put the bot token in .env or the environment")
    })?;
    let config = Config::load_for(&env)?;
    let (_log_guard, log_file) = telemetry::init(
        "claude-coordinator",
        &LogSettings {
            level: env.log_level.clone(),
            rust_log: env.rust_log.clone(),
            dir: env.log_dir.clone(),
        },
    )?;
    tracing::info!(log_file = %log_file.display(), "logging to file");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let system = actix_rt::System::with_tokio_rt(move || runtime);
    system.block_on(async move {
        let reloads = reload_signal()?;
        let shutdown = shutdown_signal()?;
        let daemon = Daemon {
            token,
            env,
            config,
            reloads,
        };
        serve(daemon, shutdown).await
    })
}

/// Runs the daemon until `shutdown` completes (or the gateway fails), then
/// settles every request and closes. Call inside an actix System.
pub async fn serve(daemon: Daemon, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let Daemon {
        token,
        env,
        config,
        reloads,
    } = daemon;
    for warning in config.warnings() {
        tracing::warn!(warning = %warning, "configuration");
    }
    // Before anything touches the store: a second daemon must not mark
    // the first one's requests interrupted.
    let _lock = Db::lock_for_daemon(&env.database_url)?;
    let db = Db::connect(&env.database_url).await?;
    let shared = SharedConfig::new(config.clone());
    let app = App::start(shared.clone(), ConfigSource::from_env(&env), db.clone());
    announce_interrupted(&db, &app.discord).await?;
    let mut client = client::build(ClientSetup {
        token: &token,
        api_base: env.discord_api_base.as_deref(),
        config: shared.clone(),
        db: db.clone(),
        discord: app.discord.clone(),
        router: app.core.router.clone(),
        reloader: app.core.reloader.clone(),
    })
    .await?;
    tokio::spawn(reload_on(reloads, app.core.reloader.clone()));
    let _metrics = serve_metrics(&config, &app).await?;
    tokio::spawn(crate::memory::release_every(RELEASE_MEMORY_EVERY));
    let shards = client.shard_manager.clone();
    let mut gateway = tokio::spawn(async move { client.start().await });
    tracing::info!(
        projects = config.projects.len(),
        "claude-coordinator is running; stop it with Ctrl-C or SIGTERM"
    );
    let outcome = tokio::select! {
        () = shutdown => Ok(()),
        ended = &mut gateway => Err(gateway_error(ended)),
    };
    settle(&app, shared.current().sessions.shutdown_grace).await;
    shards.shutdown_all().await;
    db.close().await;
    outcome
}

/// Turns new requests away, stops the worktree sweeps, gives running
/// requests `grace` to finish, and closes every warm CLI process.
async fn settle(app: &App, grace: Duration) {
    app.discord.do_send(BeginShutdown);
    app.core.sweeper.do_send(StopSweeping);
    // Idle warm processes close while the sessions drain.
    let pool = app.core.pool.clone();
    let (summary, _) = tokio::join!(
        app.core.router.send(Shutdown { grace }),
        tokio::time::timeout(grace, pool.send(CloseAllWarm)),
    );
    let summary = summary.unwrap_or_default();
    // Then those of the runs that just ended.
    if tokio::time::timeout(WARM_CLOSE_WAIT, pool.send(CloseAllWarm))
        .await
        .is_err()
    {
        tracing::warn!("warm CLI processes did not close in time; they were killed");
    }
    tracing::info!(
        finished = summary.finished,
        stopped = summary.stopped,
        "requests settled; closing"
    );
    if summary.undelivered > 0 {
        tracing::warn!(
            channels = summary.undelivered,
            "Discord did not take every post before the shutdown deadline; those posts are lost"
        );
    }
}

/// The scrape endpoint, when `[metrics] listen` is set; it stops when the
/// handle is dropped.
async fn serve_metrics(config: &Config, app: &App) -> anyhow::Result<Option<MetricsServer>> {
    let Some(listen) = config.metrics.listen else {
        return Ok(None);
    };
    let server = metrics::serve(listen, app.core.metrics.clone())
        .await
        .with_context(|| format!("cannot serve metrics on [metrics] listen = \"{listen}\""))?;
    tracing::info!(address = %server.addr, "metrics at http://{}/metrics", server.addr);
    Ok(Some(server))
}

/// Requests left queued or running by a crash (kill -9, power loss) are
/// marked interrupted, and each affected channel is told once; approval
/// prompts it left open are marked expired and lose their buttons.
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
        discord.do_send(Announce(Outgoing::Post {
            channel,
            content: INTERRUPTED_NOTICE.into(),
            reply_to: None,
            attachment: None,
            notify: false,
        }));
    }
    for stale in db.expire_open_approvals().await? {
        let content = format!(
            "🔐 Claude wanted to use **{}** (`{}`).\n\n⌛ Expired: the bot restarted before anyone answered.",
            stale.tool, stale.summary
        );
        discord.do_send(Announce(Outgoing::ClosePrompt {
            channel: stale.channel,
            message: stale.message,
            content,
        }));
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

/// SIGHUP (which would end the process by default) asks for a reload;
/// listening starts now, so one sent while the daemon starts is kept.
fn reload_signal() -> anyhow::Result<mpsc::UnboundedReceiver<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!(signal = "SIGHUP", "reloading the configuration");
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

/// Reloads once per request; the reloader logs what came of it.
async fn reload_on(mut reloads: mpsc::UnboundedReceiver<()>, reloader: Addr<Reloader>) {
    while reloads.recv().await.is_some() {
        let _ = reloader.send(Reload).await;
    }
}

/// Listens for SIGTERM and SIGINT now, so a signal sent while the daemon
/// starts is not missed; the future completes on the first of them.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        let signal = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal, "shutting down");
    })
}
