//! The typed configuration: global `[claude]`, `[discord]` and `[sessions]`
//! settings, the projects, and the rules that combine them (effective
//! per-project values, who may run Claude, who is an admin).

use crate::domain::{ChannelId, GuildId, PermissionMode, ProjectName, RoleId, UserId};
use std::path::PathBuf;
use std::time::Duration;

/// A loaded, validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it came from.
    pub source: PathBuf,
    pub claude: ClaudeSettings,
    pub discord: DiscordSettings,
    pub sessions: SessionSettings,
    pub metrics: MetricsSettings,
    pub budgets: BudgetSettings,
    pub projects: Vec<Project>,
}

/// `[budgets]`: daily spending caps; none by default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetSettings {
    /// All projects together, per UTC day.
    pub daily_usd: Option<f64>,
    /// Each user in each project, per UTC day.
    pub user_daily_usd: Option<f64>,
    /// Admins are not held to any budget.
    pub admin_exempt: bool,
}

/// `[metrics]`: where `GET /metrics` is served; unset, nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClaudeSettings {
    pub binary: String,
    pub timeout: Duration,
    pub max_concurrent: usize,
    pub model: Option<String>,
    pub permission_mode: Option<PermissionMode>,
    pub allowed_tools: Vec<String>,
    pub max_output_bytes: usize,
    /// How often the CLI retries a failing API call
    /// (`CLAUDE_CODE_MAX_RETRIES`); `None` keeps the CLI's own 10.
    pub max_api_retries: Option<u32>,
    pub approvals: Approvals,
    /// How long an approval prompt waits before the call is denied.
    pub approval_timeout: Duration,
    /// At most this many idle CLI processes are kept alive between turns,
    /// across the daemon; 0 starts a process for every message.
    pub max_warm: usize,
    /// A kept process idle this long is closed (`warm_secs`).
    pub warm_idle: Duration,
}

/// Who decides on a tool call that `allowed_tools` and the permission mode
/// do not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Approvals {
    /// The requester (or an admin), with buttons in Discord.
    #[default]
    Discord,
    /// Nobody: the call is denied, and listed after the answer.
    Off,
}

impl Approvals {
    pub const NAMES: [&'static str; 2] = ["discord", "off"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "discord" => Some(Self::Discord),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

impl Default for ClaudeSettings {
    fn default() -> Self {
        Self {
            binary: "claude".into(),
            timeout: Duration::from_secs(300),
            max_concurrent: 3,
            model: None,
            permission_mode: None,
            allowed_tools: Vec::new(),
            max_output_bytes: 16 * 1024 * 1024,
            max_api_retries: None,
            approvals: Approvals::Discord,
            approval_timeout: Duration::from_secs(600),
            max_warm: 4,
            warm_idle: Duration::from_secs(600),
        }
    }
}

/// Which messages in a mapped channel reach Claude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trigger {
    /// Only messages that mention the bot.
    #[default]
    Mention,
    /// Every message from a permitted user.
    All,
}

impl Trigger {
    pub const NAMES: [&'static str; 2] = ["mention", "all"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mention" => Some(Self::Mention),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

/// The largest image Claude's API takes: it checks the base64 text against
/// 5 MiB, which is 3.75 MiB of image. A larger one would fail at the API,
/// and the CLI can keep it in the session's history, failing later turns.
pub const API_IMAGE_BYTES: u64 = 5 * 1024 * 1024 / 4 * 3;

#[derive(Debug, Clone, PartialEq)]
pub struct DiscordSettings {
    pub trigger: Trigger,
    pub allowed_users: Vec<UserId>,
    pub allowed_roles: Vec<RoleId>,
    pub admin_users: Vec<UserId>,
    pub guild_id: Option<GuildId>,
    pub max_attachment_bytes: u64,
    /// The cap of one attached image (`max_attachment_bytes` is that of a
    /// text file).
    pub max_image_bytes: u64,
    pub max_chunks: usize,
    /// The deadline of one Discord REST call, connect included.
    pub request_timeout: Duration,
    /// The first message of an answer (or error, or refusal) notifies the
    /// user it replies to.
    pub notify_requester: bool,
    /// The folder `/add-project` may map folders under (canonical); unset,
    /// the command is disabled.
    pub projects_root: Option<PathBuf>,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        Self {
            trigger: Trigger::Mention,
            allowed_users: Vec::new(),
            allowed_roles: Vec::new(),
            admin_users: Vec::new(),
            guild_id: None,
            max_attachment_bytes: 1024 * 1024,
            max_image_bytes: API_IMAGE_BYTES,
            max_chunks: 4,
            request_timeout: Duration::from_secs(15),
            notify_requester: true,
            projects_root: None,
        }
    }
}

impl DiscordSettings {
    pub fn is_admin(&self, user: UserId) -> bool {
        self.admin_users.contains(&user)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionSettings {
    pub queue_size: usize,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
    /// How often the worktrees of threads are checked for a thread since
    /// archived or deleted.
    pub worktree_sweep: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            queue_size: 5,
            idle_timeout: Duration::from_secs(900),
            shutdown_grace: Duration::from_secs(60),
            worktree_sweep: Duration::from_secs(3600),
        }
    }
}

/// One Discord channel mapped to one project folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub name: ProjectName,
    pub channel_id: ChannelId,
    /// Always absolute; relative paths in the file are resolved against the
    /// config file's folder.
    pub path: PathBuf,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub permission_mode: Option<PermissionMode>,
    /// When set, replaces the global list rather than adding to it.
    pub allowed_tools: Option<Vec<String>>,
    /// Added to the global `[discord]` lists.
    pub allowed_users: Vec<UserId>,
    pub allowed_roles: Vec<RoleId>,
    pub timeout: Option<Duration>,
    pub approvals: Option<Approvals>,
    pub approval_timeout: Option<Duration>,
    /// This project's own daily budget; replaces `[budgets]
    /// daily_budget_usd` for its requests.
    pub daily_budget_usd: Option<f64>,
    /// Replaces `[budgets] user_daily_budget_usd` here.
    pub user_daily_budget_usd: Option<f64>,
    /// Each thread under the channel works in its own git worktree.
    pub thread_worktrees: bool,
}

impl Project {
    pub fn effective_model<'a>(&'a self, c: &'a ClaudeSettings) -> Option<&'a str> {
        self.model.as_deref().or(c.model.as_deref())
    }

    pub fn effective_timeout(&self, c: &ClaudeSettings) -> Duration {
        self.timeout.unwrap_or(c.timeout)
    }

    pub fn effective_approvals(&self, c: &ClaudeSettings) -> Approvals {
        self.approvals.unwrap_or(c.approvals)
    }

    pub fn effective_approval_timeout(&self, c: &ClaudeSettings) -> Duration {
        self.approval_timeout.unwrap_or(c.approval_timeout)
    }

    pub fn effective_permission_mode(&self, c: &ClaudeSettings) -> Option<PermissionMode> {
        self.permission_mode.or(c.permission_mode)
    }

    pub fn effective_allowed_tools<'a>(&'a self, c: &'a ClaudeSettings) -> &'a [String] {
        self.allowed_tools.as_deref().unwrap_or(&c.allowed_tools)
    }

    /// Deny by default: a user must be listed, or hold a listed role,
    /// globally or for this project.
    pub fn is_user_allowed(&self, d: &DiscordSettings, user: UserId, roles: &[RoleId]) -> bool {
        let listed = d.allowed_users.contains(&user) || self.allowed_users.contains(&user);
        let has_role = roles
            .iter()
            .any(|r| d.allowed_roles.contains(r) || self.allowed_roles.contains(r));
        listed || has_role
    }

    /// Whether anybody at all could pass `is_user_allowed` here.
    pub fn admits_anyone(&self, d: &DiscordSettings) -> bool {
        !(d.allowed_users.is_empty()
            && d.allowed_roles.is_empty()
            && self.allowed_users.is_empty()
            && self.allowed_roles.is_empty())
    }
}

impl Config {
    /// The project mapped to this channel. For a thread, pass its parent.
    pub fn project_for_channel(&self, id: ChannelId) -> Option<&Project> {
        self.projects.iter().find(|p| p.channel_id == id)
    }

    pub fn project_named(&self, name: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.name.as_str() == name)
    }
}

#[cfg(test)]
mod tests;
