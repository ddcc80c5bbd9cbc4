//! `check`: validates everything `run` needs and prints one line per
//! problem, so an operator can fix them all in one pass.

use super::small_runtime;
use crate::config::{Config, EnvSettings};
use crate::db::Db;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(env: &EnvSettings) -> ExitCode {
    let mut problems: Vec<String> = Vec::new();
    let mut summary: Vec<String> = Vec::new();

    let config = match Config::load_for(env) {
        Ok(config) => Some(config),
        Err(e) => {
            problems.extend(e.problems.iter().map(|p| p.to_string()));
            None
        }
    };
    if let Some(config) = &config {
        summary.push(describe_config(config));
        match find_executable(&config.claude.binary) {
            Ok(path) => summary.push(format!("claude binary: {}", path.display())),
            Err(why) => problems.push(why),
        }
    }
    if env.discord_token.is_none() {
        problems
            .push("DISCORD_TOKEN is not set: `run` needs the bot token (put it in .env)".into());
    }
    if let Err(e) = crate::telemetry::env_filter(&env.log_level, env.rust_log.as_deref()) {
        problems.push(e.to_string());
    }
    match check_database(&env.database_url) {
        Ok(line) => summary.push(line),
        Err(why) => problems.push(why),
    }

    for warning in config.iter().flat_map(Config::warnings) {
        println!("warning: {warning}");
    }
    if problems.is_empty() {
        for line in summary {
            println!("ok: {line}");
        }
        println!("all checks passed");
        ExitCode::SUCCESS
    } else {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
        eprintln!("{} problem(s) found", problems.len());
        ExitCode::FAILURE
    }
}

fn describe_config(config: &Config) -> String {
    format!(
        "config {}: {} project(s), at most {} Claude run(s) at once",
        config.source.display(),
        config.projects.len(),
        config.claude.max_concurrent
    )
}

fn check_database(url: &str) -> Result<String, String> {
    let rt = small_runtime().map_err(|e| format!("{e:#}"))?;
    rt.block_on(async {
        let db = Db::connect(url).await.map_err(|e| e.to_string())?;
        let sessions = db.list_sessions().await.map_err(|e| e.to_string())?.len();
        let requests = db.count_requests().await.map_err(|e| e.to_string())?;
        db.close().await;
        Ok(format!(
            "database {url}: {sessions} session(s), {requests} request(s)"
        ))
    })
}

/// Resolves the CLI the way a shell would: a name with no slash is looked
/// up in PATH; anything else must be an executable file.
pub fn find_executable(binary: &str) -> Result<PathBuf, String> {
    if binary.contains('/') {
        let path = Path::new(binary);
        return if is_executable(path) {
            Ok(path.to_path_buf())
        } else if path.exists() {
            Err(format!(
                "claude binary {binary} is not an executable file; fix [claude].binary or CLAUDE_BIN"
            ))
        } else {
            Err(format!(
                "claude binary {binary} does not exist; fix [claude].binary or CLAUDE_BIN"
            ))
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(binary))
        .find(|p| is_executable(p))
        .ok_or_else(|| {
            format!(
                "claude binary `{binary}` was not found in PATH; install the Claude Code CLI or set CLAUDE_BIN to its full path"
            )
        })
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
