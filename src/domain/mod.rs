//! Domain newtypes shared by every layer: Discord snowflakes, Claude session
//! ids, request and error ids, the secret bot token, and attached images.

mod image;
mod inside;

pub use image::{Image, ImageKind};
pub use inside::{Outside, resolve_inside, tame_file_name};

/// Where a message's attached files are saved, in its working folder.
pub const ATTACHMENT_DIR: &str = ".claude-coordinator/attachments";

use serde::{Deserialize, Deserializer, de};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Why a string is not a Discord snowflake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Discord id (expected a positive integer such as 123456789012345678)")]
pub struct InvalidSnowflake(pub String);

fn parse_snowflake(s: &str) -> Result<u64, InvalidSnowflake> {
    match s.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(InvalidSnowflake(s.to_string())),
    }
}

macro_rules! snowflake {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u64);

        impl $name {
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidSnowflake;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_snowflake(s).map(Self)
            }
        }

        /// Accepts a snowflake written as a string or as an integer.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Int(i64),
                    Text(String),
                }
                let text = match Raw::deserialize(d)? {
                    Raw::Int(n) => n.to_string(),
                    Raw::Text(s) => s,
                };
                text.parse().map_err(de::Error::custom)
            }
        }
    };
}

snowflake!(
    /// A Discord channel or thread id.
    ChannelId
);
snowflake!(
    /// A Discord user id.
    UserId
);
snowflake!(
    /// A Discord role id.
    RoleId
);
snowflake!(
    /// A Discord guild (server) id.
    GuildId
);
snowflake!(
    /// A Discord message id.
    MessageId
);

/// A Claude Code session id; always a UUID, checked before it reaches `--resume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaudeSessionId(Uuid);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Claude session id (expected a UUID)")]
pub struct InvalidSessionId(pub String);

impl ClaudeSessionId {
    pub fn parse(s: &str) -> Result<Self, InvalidSessionId> {
        Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| InvalidSessionId(s.to_string()))
    }

    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The first 8 characters, enough for a person to tell sessions apart.
    pub fn short(&self) -> String {
        self.0.simple().to_string()[..8].to_string()
    }
}

impl fmt::Display for ClaudeSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// One relayed message; logged and stored, never shown with its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(Uuid);

impl RequestId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(Self)
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// An 8-character id that ties a user-facing error message to its log record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorId(String);

impl ErrorId {
    pub fn new() -> Self {
        Self(Uuid::new_v4().simple().to_string()[..8].to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl Default for ErrorId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ErrorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A project's name from the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The CLI's `--permission-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermissionMode {
    Default,
    AcceptEdits,
    Auto,
    Manual,
    Plan,
    BypassPermissions,
    DontAsk,
}

impl PermissionMode {
    /// The choices of `--permission-mode` in the CLI 2.1.
    pub const ALL: [PermissionMode; 7] = [
        Self::Default,
        Self::AcceptEdits,
        Self::Auto,
        Self::Manual,
        Self::Plan,
        Self::BypassPermissions,
        Self::DontAsk,
    ];

    pub fn as_cli_arg(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::AcceptEdits => "acceptEdits",
            Self::Auto => "auto",
            Self::Manual => "manual",
            Self::Plan => "plan",
            Self::BypassPermissions => "bypassPermissions",
            Self::DontAsk => "dontAsk",
        }
    }
}

impl FromStr for PermissionMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_cli_arg() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|m| m.as_cli_arg()).collect();
                format!(
                    "unknown permission mode `{s}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for PermissionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_cli_arg())
    }
}

/// The Discord bot token. Debug and Display never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct DiscordToken(String);

impl DiscordToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The only way to read the token; call it where it is handed to serenity.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DiscordToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DiscordToken([REDACTED])")
    }
}

impl fmt::Display for DiscordToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// What a run's recorded cost covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CostBasis {
    /// The run's own cost: the CLI's `model_usage_since_last_result`, or
    /// the total of a session that this run started.
    Run,
    /// Only the session's running total was known (a CLI without the
    /// per-run figure, after `--resume`): it includes earlier runs.
    SessionTotal,
}

impl CostBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::SessionTotal => "session_total",
        }
    }
}

impl FromStr for CostBasis {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "run" => Ok(Self::Run),
            "session_total" => Ok(Self::SessionTotal),
            other => Err(format!("unknown cost basis `{other}`")),
        }
    }
}

/// The life of one row in `requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
    Timeout,
    Interrupted,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Timeout => "timeout",
            Self::Interrupted => "interrupted",
        }
    }
}

impl FromStr for RequestStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "timeout" => Self::Timeout,
            "interrupted" => Self::Interrupted,
            other => return Err(format!("unknown request status `{other}`")),
        })
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 00:00 UTC of `now`'s day, when the daily budgets reset.
pub fn start_of_utc_day(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc()
}

/// What was spent since a moment (00:00 UTC, for the daily budgets):
/// everyone's, one project's, and one user's in that project.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    pub all_usd: f64,
    pub project_usd: f64,
    pub user_usd: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_parse_from_strings_and_integers() {
        #[derive(Deserialize)]
        struct T {
            a: ChannelId,
            b: ChannelId,
        }
        let t: T = toml::from_str("a = \"123\"\nb = 456").unwrap();
        assert_eq!((t.a, t.b), (ChannelId(123), ChannelId(456)));
        assert!(toml::from_str::<T>("a = \"x1\"\nb = 1").is_err());
        assert!("0".parse::<UserId>().is_err());
        assert!("-5".parse::<UserId>().is_err());
    }

    #[test]
    fn token_is_never_displayed() {
        let t = DiscordToken::new("super-secret-token");
        assert!(!format!("{t:?} {t}").contains("super-secret"));
        assert_eq!(t.expose_secret(), "super-secret-token");
    }

    #[test]
    fn session_ids_must_be_uuids() {
        assert!(ClaudeSessionId::parse("--dangerously-skip-permissions").is_err());
        let id = ClaudeSessionId::parse("6f1c2a4e-0b7d-4c1e-9a55-3c2d1e0f9a88").unwrap();
        assert_eq!(id.to_string(), "6f1c2a4e-0b7d-4c1e-9a55-3c2d1e0f9a88");
        assert_eq!(id.short(), "6f1c2a4e");
    }

    #[test]
    fn error_ids_are_eight_characters_and_differ() {
        let (a, b) = (ErrorId::new(), ErrorId::new());
        assert_eq!(a.as_str().len(), 8);
        assert_ne!(a, b);
    }

    #[test]
    fn permission_modes_round_trip() {
        for m in PermissionMode::ALL {
            assert_eq!(m.as_cli_arg().parse::<PermissionMode>(), Ok(m));
        }
        assert!(
            "yolo"
                .parse::<PermissionMode>()
                .unwrap_err()
                .contains("acceptEdits")
        );
    }
}

/// The answer a button of an approval prompt gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Choice {
    /// Allow the call; for a plan, approve it.
    Allow,
    /// Allow this exact call for the rest of the channel's Claude session.
    AllowForSession,
    /// Deny the call; for a plan, send it back to planning.
    Deny,
    /// Option `option` of question `question` (both counted from 0); on a
    /// multi-select question it toggles the option.
    Pick { question: u8, option: u8 },
    /// "Done" on multi-select question `question`.
    Submit { question: u8 },
}

impl Choice {
    /// A tool call's buttons, in order.
    pub const TOOL: [Choice; 3] = [Choice::Allow, Choice::AllowForSession, Choice::Deny];

    pub fn as_str(self) -> String {
        match self {
            Self::Allow => "allow".into(),
            Self::AllowForSession => "session".into(),
            Self::Deny => "deny".into(),
            Self::Pick { question, option } => format!("q{question}o{option}"),
            Self::Submit { question } => format!("q{question}d"),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Self::Allow),
            "session" => Some(Self::AllowForSession),
            "deny" => Some(Self::Deny),
            _ => {
                if let Some(q) = s.strip_prefix('q').and_then(|r| r.strip_suffix('d')) {
                    let question = q.parse().ok()?;
                    return (question < 4).then_some(Self::Submit { question });
                }
                let (q, o) = s.strip_prefix('q')?.split_once('o')?;
                let (question, option) = (q.parse().ok()?, o.parse().ok()?);
                (question < 4 && option < 4).then_some(Self::Pick { question, option })
            }
        }
    }
}

/// One button of a prompt: what it answers and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptButton {
    pub choice: Choice,
    pub label: String,
}

/// One approval prompt: a tool call waiting for a user's answer in
/// Discord. Its buttons carry it, so it must be short and unguessable
/// enough not to collide (a random UUID, 32 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApprovalId(String);

impl ApprovalId {
    const PREFIX: &'static str = "approval";

    pub fn new() -> Self {
        Self(Uuid::new_v4().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The button id of `choice` on this prompt (under Discord's 100).
    pub fn button(&self, choice: Choice) -> String {
        format!("{}:{}:{}", Self::PREFIX, self.0, choice.as_str())
    }

    /// Reads a button id back; `None` for a button that is not a prompt's.
    pub fn parse_button(id: &str) -> Option<(ApprovalId, Choice)> {
        let mut parts = id.split(':');
        let (prefix, approval, choice) = (parts.next()?, parts.next()?, parts.next()?);
        let hex = approval.len() == 32 && approval.bytes().all(|b| b.is_ascii_hexdigit());
        (prefix == Self::PREFIX && hex && parts.next().is_none())
            .then(|| Choice::parse(choice).map(|c| (ApprovalId(approval.to_string()), c)))
            .flatten()
    }
}

impl Default for ApprovalId {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod approval_tests {
    use super::*;

    #[test]
    fn a_button_id_reads_back_as_its_prompt_and_choice() {
        let approval = ApprovalId::new();
        let picks = [
            Choice::Pick {
                question: 0,
                option: 3,
            },
            Choice::Pick {
                question: 3,
                option: 0,
            },
            Choice::Submit { question: 2 },
        ];
        for choice in Choice::TOOL.into_iter().chain(picks) {
            let button = approval.button(choice);
            assert!(button.len() <= 100, "{button}");
            assert_eq!(
                ApprovalId::parse_button(&button),
                Some((approval.clone(), choice))
            );
        }
    }

    #[test]
    fn other_button_ids_are_not_prompts() {
        let approval = ApprovalId::new();
        let good = approval.button(Choice::Deny);
        for id in [
            "approval:xyz:deny".to_string(),
            format!("other:{}:deny", approval.as_str()),
            format!("{good}:extra"),
            good.replace("deny", "maybe"),
            good.replace("deny", "q4o0"),
            good.replace("deny", "q0"),
            String::new(),
        ] {
            assert_eq!(ApprovalId::parse_button(&id), None, "{id}");
        }
    }
}
