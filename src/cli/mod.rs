//! The command line: `run`, `check`, `sessions`. Every failure ends in one
//! readable message on stderr and a non-zero exit; never a panic or a
//! backtrace.

mod check;
mod sessions;

use crate::config::EnvSettings;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "claude-coordinator", version, about, long_about = None)]
pub struct Cli {
    /// The configuration file (default: $COORDINATOR_CONFIG, else ./coordinator.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: connect to Discord and relay messages to Claude.
    Run,
    /// Check the configuration, the database and the claude binary.
    Check,
    /// List the stored channel sessions.
    Sessions {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line and runs the command; the whole of `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = match EnvSettings::load() {
        Ok(env) => with_config_flag(env, cli.config.clone()),
        Err(e) => return fail(&anyhow::Error::from(e)),
    };
    let outcome = match cli.command {
        Command::Run => crate::app::run_blocking(env),
        Command::Check => return check::run(&env),
        Command::Sessions { json } => sessions::run(&env, json),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn with_config_flag(mut env: EnvSettings, flag: Option<PathBuf>) -> EnvSettings {
    if let Some(path) = flag {
        env.config_path = path;
    }
    env
}

fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", describe(error));
    ExitCode::FAILURE
}

/// The error and its causes on one line, skipping a cause whose text the
/// message before it already quotes (many errors embed their source).
pub fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let line = cause.to_string();
        if !text.contains(&line) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&line);
        }
    }
    text
}

/// A runtime for the short commands; the daemon builds its own.
fn small_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot open db.sqlite: {0}")]
    struct Embeds(#[source] std::io::Error);

    #[test]
    fn a_cause_already_quoted_is_not_repeated() {
        let io = std::io::Error::other("disk full");
        let e = anyhow::Error::from(Embeds(io)).context("starting");
        assert_eq!(describe(&e), "starting: cannot open db.sqlite: disk full");
    }
}
