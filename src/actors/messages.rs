//! Every message the actors exchange, in one place.

use crate::claude::{ApiTrouble, Progress, RunReport, RunSpec};
use crate::domain::{
    ApprovalId, ChannelId, Choice, ErrorId, Image, MessageId, ProjectName, PromptButton, RequestId,
    UserId,
};
use actix::{Message, Recipient};
use std::fmt;
use std::sync::Arc;

/// A file sent beside a message (a long answer, for instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAttachment {
    pub filename: String,
    pub body: Vec<u8>,
}

/// Something the pipeline asks Discord to do. The Discord actor carries it
/// out; tests replace it with a recorder.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "Result<Option<MessageId>, OutgoingError>")]
pub enum Outgoing {
    Typing {
        channel: ChannelId,
    },
    /// Returns the id of the posted message.
    Post {
        channel: ChannelId,
        content: String,
        reply_to: Option<MessageId>,
        attachment: Option<FileAttachment>,
        /// The reply notifies the user it replies to (and nobody else):
        /// the first message of an answer, an error or a refusal.
        notify: bool,
    },
    Edit {
        channel: ChannelId,
        message: MessageId,
        content: String,
    },
    Delete {
        channel: ChannelId,
        message: MessageId,
    },
    /// An approval prompt: a reply with rows of buttons. Returns the id
    /// of the posted message.
    Prompt {
        channel: ChannelId,
        content: String,
        reply_to: Option<MessageId>,
        approval: ApprovalId,
        rows: Vec<Vec<PromptButton>>,
    },
    /// A prompt that was answered (or not): new text, no buttons.
    ClosePrompt {
        channel: ChannelId,
        message: MessageId,
        content: String,
    },
}

impl Outgoing {
    pub fn channel(&self) -> ChannelId {
        match self {
            Self::Typing { channel }
            | Self::Post { channel, .. }
            | Self::Edit { channel, .. }
            | Self::Delete { channel, .. }
            | Self::Prompt { channel, .. }
            | Self::ClosePrompt { channel, .. } => *channel,
        }
    }
}

/// Why Discord did not take an `Outgoing`; detail is for the log only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("discord refused the request: {detail}")]
pub struct OutgoingError {
    pub detail: String,
}

/// Is this thread still open? Asked over REST for each thread with a
/// worktree at every sweep, as the gateway sends thread events only with
/// the GUILDS intent, which the bot does without.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "ThreadIs")]
pub struct AskThread(pub ChannelId);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadIs {
    Open,
    Archived,
    /// Deleted (Discord answers 404).
    Gone,
    /// Discord could not be asked.
    Unknown,
}

/// Begin renewing the typing indicator in a channel.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct StartTyping(pub ChannelId);

/// Stop renewing the typing indicator in a channel; stopping twice is harmless.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct StopTyping(pub ChannelId);

/// Renew typing in every active channel; sent by the TypingActor's own timer.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "usize")]
pub struct TypingTick;

/// The class of a failure; it picks the user text and is logged as `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Timeout,
    ClaudeError,
    ParseError,
    ConfigError,
    PermissionError,
    SessionError,
    QueueFull,
    DiscordError,
    /// A turn's record could not be stored (a full disk, say).
    StoreError,
    /// Claude's API was overloaded (529) after the CLI's retries.
    ApiOverloaded,
    /// Claude's API rate limited the account (429).
    ApiRateLimited,
    /// Claude's API refused the CLI's credentials (401, 403).
    ApiAuthentication,
    /// Claude's API failed otherwise (5xx).
    ApiUnavailable,
    /// The run reached its `--max-budget-usd`: what a daily budget left.
    BudgetReached,
}

impl From<ApiTrouble> for ErrorKind {
    fn from(trouble: ApiTrouble) -> Self {
        match trouble {
            ApiTrouble::Overloaded => Self::ApiOverloaded,
            ApiTrouble::RateLimited => Self::ApiRateLimited,
            ApiTrouble::Authentication => Self::ApiAuthentication,
            ApiTrouble::Unavailable => Self::ApiUnavailable,
        }
    }
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::ClaudeError => "claude_error",
            Self::ParseError => "parse_error",
            Self::ConfigError => "config_error",
            Self::PermissionError => "permission_error",
            Self::SessionError => "session_error",
            Self::QueueFull => "queue_full",
            Self::DiscordError => "discord_error",
            Self::StoreError => "store_error",
            Self::ApiOverloaded => "api_overloaded",
            Self::ApiRateLimited => "api_rate_limited",
            Self::ApiAuthentication => "api_authentication",
            Self::ApiUnavailable => "api_unavailable",
            Self::BudgetReached => "budget_reached",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure to log and turn into a user-safe message. `detail` is internal
/// (CLI stderr, error strings) and goes to the log only.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Reported")]
pub struct ReportError {
    pub kind: ErrorKind,
    pub channel: Option<ChannelId>,
    pub request: Option<RequestId>,
    pub detail: String,
}

/// What the ErrorReporter gives back: the id it logged under and the text
/// the user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub error_id: ErrorId,
    pub user_text: String,
}

/// Ask the pool to run the CLI. Events for this job go to `events`:
/// `Started` when it gets a slot, `Progress` while it runs, then exactly one
/// `Finished`, even when it is cancelled before it starts.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct RunJob {
    pub id: RequestId,
    pub spec: RunSpec,
    pub events: Recipient<JobEvent>,
    /// The session whose CLI process the turn may use and leave warm.
    pub warm: Option<ChannelId>,
}

/// What the pool tells a job's requester.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum JobEvent {
    Started {
        id: RequestId,
    },
    Progress {
        id: RequestId,
        progress: Progress,
    },
    Finished {
        id: RequestId,
        report: Box<RunReport>,
    },
}

/// Cancel a job whether it waits or runs; answers whether the pool knew it.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "bool")]
pub struct CancelJob(pub RequestId);

/// How busy the pool is.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "PoolStats")]
pub struct GetPoolStats;

#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub running: usize,
    pub waiting: usize,
    pub max_concurrent: usize,
    /// Idle CLI processes kept warm.
    pub warm: usize,
}

/// A job's task has ended and its slot is free, with the process it
/// leaves warm; the pool sends it to itself.
#[derive(Message)]
#[rtype(result = "()")]
pub struct JobDone {
    pub id: RequestId,
    pub live: Option<crate::claude::Live>,
}

/// Close the session's warm CLI process (its next turn starts a new one),
/// and keep none from its running turn.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct CloseWarm(pub ChannelId);

/// Whether the session has a CLI process kept warm.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "bool")]
pub struct IsWarm(pub ChannelId);

/// Shutdown: keep no more processes warm, and close the warm ones; the
/// reply comes when they have exited.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct CloseAllWarm;

/// A reload changed the pool's limits. Runs under way are never stopped:
/// a lower `max_concurrent` holds back new ones until enough have ended,
/// and the least recently used warm processes beyond `max_warm` close.
/// `warm_idle` applies to processes kept from now on.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct SetLimits {
    pub max_concurrent: usize,
    pub max_warm: usize,
    pub warm_idle: std::time::Duration,
}

/// A reload removed these projects: their sessions tell queued requests
/// so and drop them; a running one finishes.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct ProjectsRemoved(pub Arc<[ProjectName]>);

/// Read the configuration file again and put it in place if it is valid;
/// an invalid one is logged whole and changes nothing.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<Reloaded, crate::config::ConfigError>")]
pub struct Reload;

/// What a reload changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reloaded {
    pub projects: usize,
    pub added: Vec<ProjectName>,
    pub removed: Vec<ProjectName>,
    /// Changed keys that keep their running values until a restart.
    pub restart_needed: Vec<&'static str>,
}

/// An admin's edit of the projects from Discord: the file is changed,
/// then reloaded.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Reloaded, crate::config::edit::EditError>")]
pub struct EditProjects {
    pub edit: crate::config::edit::ProjectEdit,
    pub by: UserId,
}

/// A Discord message accepted for Claude: what the router hands a
/// channel's session, which runs it and answers it. The text is handed to
/// Claude and never logged or stored.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Request {
    pub id: RequestId,
    pub channel: ChannelId,
    pub project: ProjectName,
    pub user: UserId,
    /// The user's message, which the answer replies to.
    pub message: MessageId,
    pub prompt: String,
    /// Attached images, passed to Claude as image blocks.
    pub images: Vec<Image>,
    /// In a thread: its name (a worktree's branch is named after it).
    pub thread_name: Option<String>,
}

/// A request or command for one channel's session, numbered by the router
/// so that idle shutdown can tell whether anything reached the session
/// after it last went quiet.
#[derive(Debug, Clone)]
pub struct Routed<T> {
    pub seq: u64,
    pub inner: T,
}

impl Message for Routed<Request> {
    type Result = ();
}

impl Message for Routed<SessionCommand> {
    type Result = CommandReply;
}

/// What operators and users can ask of a channel's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    /// Cancel the running request, else the caller's latest queued one.
    Cancel {
        by: UserId,
        admin: bool,
    },
    /// Forget the Claude session id; earlier ids stay in `requests`.
    Reset,
    Status,
    /// A per-channel model override; `None` goes back to the project's.
    SetModel(Option<String>),
    /// A click on an approval prompt's button.
    Decide {
        approval: ApprovalId,
        choice: Choice,
        by: UserId,
        admin: bool,
    },
    /// Remove the thread's worktree and its branch, if nothing would be
    /// lost.
    RemoveWorktree,
    /// Look the thread up, and if it was archived or deleted, do as
    /// `RemoveWorktree` does. Sent by the worktree sweeper.
    SweepWorktree,
}

/// A command for the session of `channel`, through the router.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<CommandReply, SessionUnavailable>")]
pub struct ToSession {
    pub channel: ChannelId,
    /// The channel's project, for starting its session. `None` reaches
    /// only a session already alive: a prompt's button in a channel whose
    /// project a reload removed while its request ran.
    pub project: Option<ProjectName>,
    pub command: SessionCommand,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandReply {
    Cancel(CancelReply),
    Reset { had_session: bool },
    Status(SessionStatus),
    ModelSet { model: Option<String> },
    Decided(DecideReply),
    Worktree(WorktreeReply),
    Swept(Sweep),
}

/// Ends the worktree sweeps: sent as a shutdown begins, so that none
/// starts a removal the exit could cut short.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct StopSweeping;

/// What a worktree sweep found in one thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sweep {
    /// A request runs or waits, or there is no worktree: not looked up.
    Skipped,
    /// Open, or Discord could not say (`ThreadIs::Unknown`): kept.
    NotClosed(ThreadIs),
    /// Archived or deleted: what came of removing its worktree.
    Closed {
        thread: ThreadIs,
        removal: WorktreeReply,
    },
}

/// What came of `/worktree remove`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorktreeReply {
    Removed {
        branch: String,
    },
    /// Kept, and why (uncommitted changes, unpushed commits).
    Kept {
        branch: String,
        why: String,
    },
    /// A request runs or waits in the thread.
    Busy,
    NoWorktree,
    /// git failed; logged under this error id.
    Failed {
        error_id: ErrorId,
    },
}

/// What came of a click on an approval prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecideReply {
    /// Taken: the prompt now reads `content`, without buttons.
    Taken { content: String },
    /// Noted, but more answers are wanted (a question of several): the
    /// prompt now reads `content` and keeps its buttons.
    Noted { content: String },
    /// Someone other than the requester or an admin clicked.
    NotAllowed,
    /// The prompt's run has ended, or it was answered or expired.
    Gone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReply {
    /// The running request is being stopped; its channel will say so.
    Running,
    /// A queued request was dropped before it ran.
    Queued,
    Nothing,
    /// The running request belongs to someone else.
    NotAllowed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionStatus {
    pub project: ProjectName,
    /// The first 8 characters only: enough to tell sessions apart.
    pub session_short: Option<String>,
    pub message_count: i64,
    pub total_cost_usd: f64,
    pub queue_len: usize,
    pub running_for: Option<std::time::Duration>,
    pub model: Option<String>,
    /// Tool calls of the running request waiting for an answer.
    pub waiting_approvals: usize,
    /// The channel's CLI process is kept warm for its next message.
    pub warm: bool,
    /// The branch of the thread's worktree, when it has one.
    pub branch: Option<String>,
}

/// The session actor could not be reached (it was stopping); try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the channel's session is not available right now")]
pub struct SessionUnavailable;

/// A session has had nothing to do for its idle time.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct SessionIdle {
    pub channel: ChannelId,
    /// The last `seq` the session had handled when it went quiet.
    pub seq: u64,
}

/// Ask a session to stop; the router sends it only after an idle report
/// that nothing has overtaken.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct StopSession;

/// How many session actors are alive.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "usize")]
pub struct CountSessions;

/// Stop every session: no new requests, queued ones told and dropped,
/// running ones given `grace` to finish, then stopped and their channels
/// told. Answers once every channel has been dealt with.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "ShutdownSummary")]
pub struct Shutdown {
    pub grace: std::time::Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownSummary {
    /// Requests that finished within the grace period.
    pub finished: usize,
    /// Requests stopped when the grace period ran out.
    pub stopped: usize,
    /// Sessions whose posts were still waiting on Discord when the
    /// shutdown stopped waiting for them.
    pub undelivered: usize,
}

/// Sent to a session by the router on shutdown; answers, if it has a
/// request running or posts to deliver, with what to wait for.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Option<Draining>")]
pub struct Drain;

#[derive(Debug)]
pub struct Draining {
    /// Completes when nothing runs and every post is delivered.
    pub done: tokio::sync::oneshot::Receiver<()>,
    /// A request was running when the drain began.
    pub running: bool,
}

/// The grace period is over: stop the running request and say why.
/// Answers whether a request was running.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "bool")]
pub struct StopForShutdown;

/// Makes a session panic, to test supervision. Nothing a user sends can
/// produce it.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Crash;

/// Routes `Crash` to a channel's session (supervision tests).
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct CrashSession(pub ChannelId);
