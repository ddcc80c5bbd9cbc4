//! Which records are kept: LOG_LEVEL or RUST_LOG, with chatty dependencies
//! held to warnings unless the operator's directive names them.

use std::str::FromStr;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use super::TelemetryError;

/// Targets whose debug output floods the log (gateway heartbeats, HTTP
/// frames, every SQL statement). They stay at `warn` or quieter by default.
pub const NOISY_TARGETS: &[&str] = &[
    "serenity",
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "mio",
    "want",
    "sqlx::query",
];

const LEVEL_NAMES: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

/// Builds the filter. `level` is LOG_LEVEL (a bare level name); `rust_log`,
/// when set and non-empty, replaces it as the full directive string.
///
/// `level` is checked even when `rust_log` wins, so a typo in LOG_LEVEL is
/// never silently ignored.
pub fn env_filter(level: &str, rust_log: Option<&str>) -> Result<EnvFilter, TelemetryError> {
    let level_filter = parse_level(level)?;
    let user = match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        Some(directives) => {
            check_directives(directives)?;
            directives.to_owned()
        }
        None => level_filter.to_string().to_lowercase(),
    };
    let directives = with_quiet_noisy_targets(&user);
    EnvFilter::builder()
        .parse(&directives)
        .map_err(|e| TelemetryError::InvalidRustLog {
            value: user,
            reason: e.to_string(),
        })
}

fn parse_level(level: &str) -> Result<LevelFilter, TelemetryError> {
    let trimmed = level.trim();
    if !LEVEL_NAMES.contains(&trimmed.to_ascii_lowercase().as_str()) {
        return Err(TelemetryError::InvalidLevel {
            value: level.to_owned(),
        });
    }
    LevelFilter::from_str(trimmed).map_err(|_| TelemetryError::InvalidLevel {
        value: level.to_owned(),
    })
}

fn check_directives(directives: &str) -> Result<(), TelemetryError> {
    EnvFilter::builder()
        .parse(directives)
        .map(drop)
        .map_err(|e| TelemetryError::InvalidRustLog {
            value: directives.to_owned(),
            reason: e.to_string(),
        })
}

/// Appends `target=<level>` for every noisy target the user did not name,
/// where `<level>` is `warn` or the user's default level if that is quieter.
/// Without a default level unnamed targets are already off, so nothing is added.
fn with_quiet_noisy_targets(user: &str) -> String {
    let parts: Vec<&str> = user
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let Some(default_level) = parts.iter().rev().find_map(|p| bare_level(p)) else {
        return user.to_owned();
    };
    let noisy_level = default_level.min(LevelFilter::WARN);
    let named: Vec<&str> = parts.iter().filter_map(|p| directive_target(p)).collect();
    let mut directives = user.to_owned();
    for noisy in NOISY_TARGETS {
        if !named.iter().any(|target| overlaps(target, noisy)) {
            directives.push_str(&format!(",{noisy}={noisy_level}"));
        }
    }
    directives
}

fn bare_level(directive: &str) -> Option<LevelFilter> {
    if directive.contains(['=', '[']) {
        return None;
    }
    LevelFilter::from_str(directive).ok()
}

fn directive_target(directive: &str) -> Option<&str> {
    let end = directive.find(['=', '[']).unwrap_or(directive.len());
    let target = directive[..end].trim();
    (!target.is_empty() && bare_level(target).is_none()).then_some(target)
}

/// True when one target is the other or a module inside it, so that a user's
/// `sqlx=debug` is not overridden by our more specific `sqlx::query=warn`.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |inner: &str, outer: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with("::"))
    };
    inside(a, b) || inside(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{CapturedLogs, get_subscriber};

    fn kept_targets(filter: EnvFilter, emit: impl FnOnce()) -> Vec<String> {
        let logs = CapturedLogs::default();
        let subscriber = get_subscriber("test", filter, logs.clone(), false);
        tracing::subscriber::with_default(subscriber, emit);
        logs.lines()
            .iter()
            .map(|l| format!("{}:{}", l["target"].as_str().unwrap_or(""), l["level"]))
            .collect()
    }

    fn emit_mixture() {
        tracing::debug!(target: "serenity::gateway::shard", "heartbeat");
        tracing::info!(target: "serenity::http", "request");
        tracing::warn!(target: "serenity::http", "rate limited");
        tracing::debug!(target: "claude_coordinator::session", "queued");
        tracing::info!(target: "claude_coordinator::session", "answered");
        tracing::info!(target: "sqlx::query", "select 1");
    }

    #[test]
    fn serenity_debug_and_info_are_dropped_by_default_but_its_warnings_are_kept() {
        let kept = kept_targets(env_filter("info", None).unwrap(), emit_mixture);
        assert_eq!(
            kept,
            vec!["serenity::http:40", "claude_coordinator::session:30"]
        );
    }

    #[test]
    fn a_quieter_log_level_also_silences_noisy_warnings() {
        let kept = kept_targets(env_filter("error", None).unwrap(), emit_mixture);
        assert!(kept.is_empty(), "{kept:?}");
    }

    #[test]
    fn rust_log_wins_over_log_level_and_can_unmute_a_noisy_target() {
        let filter = env_filter("error", Some("debug,serenity=debug")).unwrap();
        let kept = kept_targets(filter, emit_mixture);
        assert_eq!(kept.len(), 5, "{kept:?}");
        assert!(kept.contains(&"serenity::gateway::shard:20".to_owned()));
        assert!(!kept.contains(&"sqlx::query:30".to_owned()));
    }

    #[test]
    fn a_bare_rust_log_level_keeps_noisy_targets_quiet() {
        let kept = kept_targets(env_filter("info", Some("debug")).unwrap(), emit_mixture);
        assert_eq!(
            kept,
            vec![
                "serenity::http:40",
                "claude_coordinator::session:20",
                "claude_coordinator::session:30"
            ]
        );
    }

    #[test]
    fn naming_a_parent_module_unmutes_its_noisy_child() {
        let kept = kept_targets(env_filter("info", Some("warn,sqlx=info")).unwrap(), || {
            tracing::info!(target: "sqlx::query", "select 1");
        });
        assert_eq!(kept, vec!["sqlx::query:30"]);
    }

    #[test]
    fn an_invalid_log_level_is_a_clear_error() {
        let err = env_filter("loud", None).unwrap_err();
        assert!(matches!(err, TelemetryError::InvalidLevel { .. }));
        let message = err.to_string();
        assert!(message.contains("LOG_LEVEL `loud`"), "{message}");
        assert!(
            message.contains("trace, debug, info, warn, error"),
            "{message}"
        );
    }

    #[test]
    fn log_level_is_case_insensitive() {
        assert!(env_filter(" DEBUG ", None).is_ok());
    }

    #[test]
    fn an_invalid_rust_log_directive_is_a_clear_error() {
        let err = env_filter("info", Some("serenity=loud")).unwrap_err();
        assert!(matches!(err, TelemetryError::InvalidRustLog { .. }));
        assert!(
            err.to_string().contains("RUST_LOG `serenity=loud`"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_rust_log_falls_back_to_log_level() {
        let kept = kept_targets(env_filter("debug", Some("  ")).unwrap(), emit_mixture);
        assert!(kept.contains(&"claude_coordinator::session:20".to_owned()));
    }
}
