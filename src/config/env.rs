//! Settings from the environment, with `./.env` filling in whatever the real
//! environment does not set. The token lives only here, never in the TOML.

use super::error::{ConfigError, ConfigProblem, Place};
use crate::domain::DiscordToken;
use std::path::{Path, PathBuf};

pub const DEFAULT_CONFIG_PATH: &str = "./coordinator.toml";
pub const DEFAULT_DATABASE_URL: &str = "sqlite:data/coordinator.db";
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// Debug is safe to log: `DiscordToken` redacts itself.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvSettings {
    pub discord_token: Option<DiscordToken>,
    pub discord_api_base: Option<String>,
    pub config_path: PathBuf,
    pub database_url: String,
    /// When set, overrides `[claude].binary`.
    pub claude_bin: Option<String>,
    pub log_level: String,
    pub rust_log: Option<String>,
    pub log_dir: Option<PathBuf>,
}

impl EnvSettings {
    /// Loads ./.env if present (a malformed .env is an error naming the file
    /// and line), then reads the variables. Variables already set win.
    /// Call it before other threads start: it may set process variables.
    pub fn load() -> Result<Self, ConfigError> {
        load_dotenv(Path::new(".env"))?;
        Ok(Self::from_lookup(|name| std::env::var(name).ok()))
    }

    /// Reads variables through `get` instead of the process environment.
    /// Empty or blank values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        Self {
            discord_token: var("DISCORD_TOKEN").map(|t| DiscordToken::new(t.trim())),
            discord_api_base: var("DISCORD_API_BASE"),
            config_path: var("COORDINATOR_CONFIG")
                .map_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH), PathBuf::from),
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            claude_bin: var("CLAUDE_BIN"),
            log_level: var("LOG_LEVEL").unwrap_or_else(|| DEFAULT_LOG_LEVEL.into()),
            rust_log: var("RUST_LOG"),
            log_dir: var("LOG_DIR").map(PathBuf::from),
        }
    }
}

/// Checks the whole file before setting anything, so a bad line never leaves
/// the environment half-loaded.
pub(super) fn load_dotenv(path: &Path) -> Result<(), ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            let message = format!("cannot be read: {e}");
            return Err(ConfigProblem::new(path, Place::File, None, message).into());
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    check_dotenv(path, text)?;
    dotenvy::from_read(text.as_bytes()).map_err(|e| {
        ConfigProblem::new(
            path,
            Place::File,
            None,
            format!("cannot be loaded: {}", describe(&e)),
        )
        .into()
    })
}

fn check_dotenv(path: &Path, text: &str) -> Result<(), ConfigError> {
    let mut problems = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(_) => {}
            Err(dotenvy::Error::LineParse(line, _)) => {
                problems.push(line_problem(path, text, &line))
            }
            Err(other) => {
                let message = format!("cannot be parsed: {}", describe(&other));
                problems.push(ConfigProblem::new(path, Place::File, None, message));
                break;
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError { problems })
    }
}

/// Names the line number and the variable, never the value: the bad line may
/// well hold the token. dotenvy reports the text it choked on (the whole line
/// or just its value), so the line is found by where that text ends a line.
fn line_problem(path: &Path, text: &str, bad: &str) -> ConfigProblem {
    let message = "cannot be parsed (expected NAME=value; quote values that contain spaces or #)";
    let Some(at) = locate(text, bad) else {
        return ConfigProblem::new(path, Place::File, None, message);
    };
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let place = Place::Position {
        line: text[..at].matches('\n').count() + 1,
        column: None,
    };
    let line = text[line_start..].lines().next().unwrap_or_default();
    let name = line
        .split_once('=')
        .map(|(name, _)| name.trim().trim_start_matches("export ").trim())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    ConfigProblem::new(path, place, name, message)
}

fn locate(text: &str, bad: &str) -> Option<usize> {
    let bad = bad.trim_end();
    if bad.trim().is_empty() {
        return None;
    }
    text.match_indices(bad).map(|(at, _)| at).find(|&at| {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let rest_of_line = text[at + bad.len()..]
            .split('\n')
            .next()
            .unwrap_or_default();
        rest_of_line.trim().is_empty() && !text[line_start..].trim_start().starts_with('#')
    })
}

/// dotenvy's own Display repeats the offending line, so only io errors are
/// shown in full.
fn describe(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::Io(io) => io.to_string(),
        _ => "malformed line".to_string(),
    }
}

#[cfg(test)]
mod tests;
