//! The daemon's life: check what `run` needs, start logging, open the
//! store, start the actors, wait for SIGINT or SIGTERM, and stop cleanly.

use crate::actors::error_reporter::ErrorReporter;
use crate::cli::load_config;
use crate::config::{Config, EnvSettings};
use crate::db::Db;
use crate::telemetry::{self, LogSettings};
use actix::prelude::*;
use anyhow::{Context as _, anyhow};

/// What a running daemon holds; dropping it stops nothing by itself.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub errors: Addr<ErrorReporter>,
}

impl App {
    /// Opens the store and starts the actors. Call inside an actix System.
    pub async fn start(config: Config, database_url: &str) -> anyhow::Result<App> {
        let db = Db::connect(database_url).await?;
        let errors = ErrorReporter.start();
        Ok(App { config, db, errors })
    }

    pub async fn stop(self) {
        self.db.close().await;
    }
}

/// `claude-coordinator run`: blocks until a shutdown signal.
pub fn run_blocking(env: EnvSettings) -> anyhow::Result<()> {
    if env.discord_token.is_none() {
        return Err(anyhow!(
            "DISCORD_TOKEN is not set; put the bot token in .env or the environment"
        ));
    }
    let config = load_config(&env)?;
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
        let app = App::start(config, &env.database_url).await?;
        tracing::info!(
            projects = app.config.projects.len(),
            log_file = %log_file.display(),
            "claude-coordinator is running; stop it with Ctrl-C or SIGTERM"
        );
        let signal = shutdown_signal().await?;
        tracing::info!(signal, "shutting down");
        app.stop().await;
        Ok(())
    })
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
