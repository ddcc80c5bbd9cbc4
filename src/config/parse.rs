//! Turns the TOML text into a `Config`: syntax first (with line and column),
//! then each section and each project on its own, collecting every problem.

use super::error::{ConfigError, ConfigProblem, Place};
use super::fields::Fields;
use super::projects::{config_folder, projects, resolve_folder};
use super::settings::{
    API_IMAGE_BYTES, BudgetSettings, ClaudeSettings, Config, DiscordSettings, MetricsSettings,
    SessionSettings, Trigger,
};
use std::path::Path;
use std::time::Duration;
use toml::{Table, Value};

pub(super) const TOP_KEYS: [&str; 6] = [
    "claude", "discord", "sessions", "metrics", "budgets", "projects",
];
pub(super) const BUDGET_KEYS: [&str; 3] =
    ["daily_budget_usd", "user_daily_budget_usd", "admin_exempt"];
pub(super) const METRICS_KEYS: [&str; 1] = ["listen"];
pub(super) const CLAUDE_KEYS: [&str; 12] = [
    "binary",
    "timeout_secs",
    "max_concurrent",
    "model",
    "permission_mode",
    "allowed_tools",
    "max_output_bytes",
    "max_api_retries",
    "approvals",
    "approval_timeout_secs",
    "max_warm",
    "warm_secs",
];
pub(super) const DISCORD_KEYS: [&str; 11] = [
    "trigger",
    "allowed_users",
    "allowed_roles",
    "admin_users",
    "guild_id",
    "max_attachment_bytes",
    "max_image_bytes",
    "max_chunks",
    "request_timeout_secs",
    "notify_requester",
    "projects_root",
];
pub(super) const SESSION_KEYS: [&str; 4] = [
    "queue_size",
    "idle_timeout_secs",
    "shutdown_grace_secs",
    "worktree_sweep_secs",
];
pub(super) const PROJECT_KEYS: [&str; 15] = [
    "name",
    "channel_id",
    "path",
    "model",
    "system_prompt",
    "permission_mode",
    "allowed_tools",
    "allowed_users",
    "allowed_roles",
    "timeout_secs",
    "approvals",
    "approval_timeout_secs",
    "daily_budget_usd",
    "user_daily_budget_usd",
    "thread_worktrees",
];

pub(super) fn parse(text: &str, source: &Path) -> Result<Config, ConfigError> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        let place = match e.span() {
            Some(span) => line_and_column(text, span.start),
            None => Place::File,
        };
        ConfigProblem::new(source, place, None, e.message().trim().to_string())
    })?;

    let mut problems = Vec::new();
    Fields::new(&table, source, Place::TopLevel, &mut problems).reject_unknown_keys(&TOP_KEYS);

    let empty = Table::new();
    let mut table_of = |name| section(&table, name, &empty, source, &mut problems);
    let (claude_t, discord_t, sessions_t, metrics_t, budgets_t) = (
        table_of("claude"),
        table_of("discord"),
        table_of("sessions"),
        table_of("metrics"),
        table_of("budgets"),
    );
    let claude = claude(claude_t, source, &mut problems);
    let discord = discord(discord_t, source, &mut problems);
    let sessions = sessions(sessions_t, source, &mut problems);
    let metrics = metrics(metrics_t, source, &mut problems);
    let budgets = budgets(budgets_t, source, &mut problems);
    let projects = projects(table.get("projects"), source, &mut problems);

    if problems.is_empty() {
        Ok(Config {
            source: source.to_path_buf(),
            claude,
            discord,
            sessions,
            metrics,
            budgets,
            projects,
        })
    } else {
        Err(ConfigError { problems })
    }
}

fn section<'t>(
    table: &'t Table,
    name: &'static str,
    empty: &'t Table,
    file: &Path,
    problems: &mut Vec<ConfigProblem>,
) -> &'t Table {
    match table.get(name) {
        None => empty,
        Some(Value::Table(t)) => t,
        Some(other) => {
            let message = format!("must be a table ([{name}]), found {}", other.type_str());
            problems.push(ConfigProblem::new(
                file,
                Place::TopLevel,
                Some(name),
                message,
            ));
            empty
        }
    }
}

fn line_and_column(text: &str, offset: usize) -> Place {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Place::Position {
        line,
        column: Some(column),
    }
}

pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn size(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn claude(t: &Table, file: &Path, problems: &mut Vec<ConfigProblem>) -> ClaudeSettings {
    let d = ClaudeSettings::default();
    let mut f = Fields::new(t, file, Place::Section("claude"), problems);
    f.reject_unknown_keys(&CLAUDE_KEYS);
    ClaudeSettings {
        binary: f.string("binary").unwrap_or(d.binary),
        timeout: secs(f.number("timeout_secs", 1, d.timeout.as_secs())),
        max_concurrent: size(f.number("max_concurrent", 1, d.max_concurrent as u64)),
        model: f.string("model"),
        permission_mode: f.permission_mode("permission_mode"),
        allowed_tools: f.strings("allowed_tools").unwrap_or_default(),
        max_output_bytes: size(f.number("max_output_bytes", 1, d.max_output_bytes as u64)),
        max_api_retries: f
            .optional_number("max_api_retries", 0)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        approvals: f.approvals("approvals").unwrap_or(d.approvals),
        approval_timeout: secs(f.number("approval_timeout_secs", 1, d.approval_timeout.as_secs())),
        max_warm: size(f.number("max_warm", 0, d.max_warm as u64)),
        warm_idle: secs(f.number("warm_secs", 1, d.warm_idle.as_secs())),
    }
}

fn discord(t: &Table, file: &Path, problems: &mut Vec<ConfigProblem>) -> DiscordSettings {
    let d = DiscordSettings::default();
    let mut f = Fields::new(t, file, Place::Section("discord"), problems);
    f.reject_unknown_keys(&DISCORD_KEYS);
    let trigger = match f.string("trigger") {
        None => d.trigger,
        Some(s) => Trigger::parse(&s).unwrap_or_else(|| {
            let names = Trigger::NAMES.join(", ");
            f.problem(
                "trigger",
                format!("unknown trigger `{s}` (expected one of: {names})"),
            );
            d.trigger
        }),
    };
    DiscordSettings {
        trigger,
        allowed_users: f.ids("allowed_users"),
        allowed_roles: f.ids("allowed_roles"),
        admin_users: f.ids("admin_users"),
        guild_id: f.id("guild_id"),
        max_attachment_bytes: f.number("max_attachment_bytes", 0, d.max_attachment_bytes),
        max_image_bytes: image_limit(&mut f, d.max_image_bytes),
        max_chunks: size(f.number("max_chunks", 1, d.max_chunks as u64)),
        request_timeout: secs(f.number("request_timeout_secs", 1, d.request_timeout.as_secs())),
        notify_requester: f.boolean("notify_requester").unwrap_or(d.notify_requester),
        projects_root: f
            .string("projects_root")
            .and_then(|p| resolve_folder("projects_root", &p, &config_folder(file), &mut f)),
    }
}

fn sessions(t: &Table, file: &Path, problems: &mut Vec<ConfigProblem>) -> SessionSettings {
    let d = SessionSettings::default();
    let mut f = Fields::new(t, file, Place::Section("sessions"), problems);
    f.reject_unknown_keys(&SESSION_KEYS);
    SessionSettings {
        queue_size: size(f.number("queue_size", 1, d.queue_size as u64)),
        idle_timeout: secs(f.number("idle_timeout_secs", 1, d.idle_timeout.as_secs())),
        shutdown_grace: secs(f.number("shutdown_grace_secs", 0, d.shutdown_grace.as_secs())),
        worktree_sweep: secs(f.number("worktree_sweep_secs", 1, d.worktree_sweep.as_secs())),
    }
}

#[cfg(test)]
mod tests;

fn metrics(t: &Table, file: &Path, problems: &mut Vec<ConfigProblem>) -> MetricsSettings {
    let mut f = Fields::new(t, file, Place::Section("metrics"), problems);
    f.reject_unknown_keys(&METRICS_KEYS);
    let listen = f.string("listen").and_then(|text| match text.parse() {
        Ok(addr) => Some(addr),
        Err(_) => {
            let message = format!(
                "`{text}` is not an address and port, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\""
            );
            f.problem("listen", message);
            None
        }
    });
    MetricsSettings { listen }
}

fn budgets(t: &Table, file: &Path, problems: &mut Vec<ConfigProblem>) -> BudgetSettings {
    let mut f = Fields::new(t, file, Place::Section("budgets"), problems);
    f.reject_unknown_keys(&BUDGET_KEYS);
    BudgetSettings {
        daily_usd: f.dollars("daily_budget_usd"),
        user_daily_usd: f.dollars("user_daily_budget_usd"),
        admin_exempt: f.boolean("admin_exempt").unwrap_or(false),
    }
}

/// `max_image_bytes`, no more than Claude's API takes.
fn image_limit(f: &mut Fields, default: u64) -> u64 {
    let limit = f.number("max_image_bytes", 0, default);
    if limit <= API_IMAGE_BYTES {
        return limit;
    }
    f.problem(
        "max_image_bytes",
        format!(
            "must be at most {API_IMAGE_BYTES}, not {limit}: Claude's API takes an image of \
             at most 5 MiB once base64-encoded"
        ),
    );
    default
}
