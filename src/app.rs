//! The daemon's life: check what `run` needs, start logging, open the
//! store, start the actors and the Discord client, wait for the shutdown
//! future (SIGINT or SIGTERM in `run`) or the gateway failing, and stop
//! cleanly.

use crate::actors::graph::{Core, Timings, start_core};
use crate::actors::messages::{CloseAllWarm, Outgoing, Shutdown};
use crate::config::{Config, EnvSettings};
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
use std::sync::Arc;
use std::time::Duration;

/// How often freed heap pages go back to the kernel whatever the daemon
/// is doing (see `memory::release_every`).
const RELEASE_MEMORY_EVERY: Duration = Duration::from_secs(30);

/// How long the warm CLI processes of runs that ended during the shutdown
/// get to exit: stdin closed, then the group ended (within 2 × 5 s).
const WARM_CLOSE_WAIT: Duration = Duration::from_secs(11);

/// The actors of a running daemon: the core and the Discord actor that is
/// its outbox.
pub struct App {
    pub config: Arc<Config>,
    pub db: Db,
    pub discord: Addr<DiscordActor>,
    pub core: Core,
}

impl App {
    /// Starts the actors. Call inside an actix System.
    pub fn start(config: Arc<Config>, db: Db) -> App {
        // The Discord actor and the core need each other's addresses.
        let discord_ctx = Context::<DiscordActor>::new();
        let outbox = discord_ctx.address().recipient();
        let core = start_core(config.clone(), db.clone(), outbox, Timings::default());
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

/// What `serve` needs from the process: the token, the environment and
/// the loaded configuration.
pub struct Daemon {
    pub token: DiscordToken,
    pub env: EnvSettings,
    pub config: Arc<Config>,
}

/// `claude-coordinator run`: blocks until SIGINT or SIGTERM.
pub fn run_blocking(env: EnvSettings) -> anyhow::Result<()> {
    let token = env.discord_token.clone().ok_or_else(|| {
        anyhow!("DISCORD_TOKEN is not set; put the bot token in .env or the environment")
    })?;
    let config = Arc::new(Config::load_for(&env)?);
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
        keep_config_on_sighup()?;
        let shutdown = shutdown_signal()?;
        let daemon = Daemon { token, env, config };
        serve(daemon, shutdown).await
    })
}

/// Runs the daemon until `shutdown` completes (or the gateway fails), then
/// settles every request and closes. Call inside an actix System.
pub async fn serve(daemon: Daemon, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let Daemon { token, env, config } = daemon;
    for warning in config.warnings() {
        tracing::warn!(warning = %warning, "configuration");
    }
    // Before anything touches the store: a second daemon must not mark
    // the first one's requests interrupted.
    let _lock = Db::lock_for_daemon(&env.database_url)?;
    let db = Db::connect(&env.database_url).await?;
    let app = App::start(config.clone(), db.clone());
    announce_interrupted(&db, &app.discord).await?;
    let mut client = client::build(ClientSetup {
        token: &token,
        api_base: env.discord_api_base.as_deref(),
        config: config.clone(),
        db: db.clone(),
        discord: app.discord.clone(),
        router: app.core.router.clone(),
    })
    .await?;
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
    app.discord.do_send(BeginShutdown);
    let grace = config.sessions.shutdown_grace;
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
    shards.shutdown_all().await;
    db.close().await;
    outcome
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
