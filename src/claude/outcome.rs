//! How a run ended, and the rules that turn the CLI's result object into it.

use super::events::ResultMessage;
use crate::domain::{ClaudeSessionId, CostBasis};
use std::time::Duration;

/// What the CLI says when `--resume` names a session it does not know.
const UNKNOWN_SESSION: &str = "No conversation found with session ID";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

/// A tool call the permission mode refused; the run still succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionDenial {
    pub tool_name: String,
    /// e.g. `Bash(rm -rf build)` or `Write(src/x.rs)`.
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Success {
    pub text: String,
    pub session_id: ClaudeSessionId,
    /// What this run cost, as far as the CLI said (see `cost_basis`).
    pub cost_usd: f64,
    pub cost_basis: CostBasis,
    pub duration_ms: u64,
    pub num_turns: u32,
    pub usage: Usage,
    pub permission_denials: Vec<PermissionDenial>,
}

/// Why Claude's API refused the run, in the terms users are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiTrouble {
    /// 529: the API is overloaded.
    Overloaded,
    /// 429: this account is rate limited.
    RateLimited,
    /// 401 or 403: the CLI's credentials were refused.
    Authentication,
    /// Any other status (5xx), or none given.
    Unavailable,
}

impl ApiTrouble {
    pub fn of_status(status: u16) -> Self {
        match status {
            529 => Self::Overloaded,
            429 => Self::RateLimited,
            401 | 403 => Self::Authentication,
            _ => Self::Unavailable,
        }
    }
}

/// `log_detail` fields carry CLI text or paths: for logs, never for users.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success(Success),
    ClaudeError {
        subtype: String,
        log_detail: String,
        session_id: Option<ClaudeSessionId>,
        cost_usd: f64,
        cost_basis: CostBasis,
        duration_ms: Option<u64>,
        /// Set when the run ended on an API error (after the CLI's retries).
        api: Option<ApiTrouble>,
    },
    ResumeFailed {
        log_detail: String,
    },
    Timeout,
    /// Stopped by a cancel. When the CLI ended the turn itself on the
    /// interrupt, its result said what the run had cost.
    Cancelled {
        cost: Option<(f64, CostBasis)>,
        session_id: Option<ClaudeSessionId>,
    },
    /// The CLI ended without a usable result line.
    ParseError {
        log_detail: String,
    },
    /// The binary is missing, not executable, or the folder is gone.
    SpawnError {
        log_detail: String,
    },
    OutputTooLarge,
}

impl Outcome {
    /// A cancel that left no result: the CLI was killed, or never ran.
    pub fn cancelled() -> Self {
        Self::Cancelled {
            cost: None,
            session_id: None,
        }
    }

    /// The session to store for the next message, if this run left one.
    pub fn session_id(&self) -> Option<ClaudeSessionId> {
        match self {
            Self::Success(s) => Some(s.session_id),
            Self::ClaudeError { session_id, .. } | Self::Cancelled { session_id, .. } => {
                *session_id
            }
            _ => None,
        }
    }

    /// A stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Success(_) => "success",
            Self::ClaudeError { .. } => "claude_error",
            Self::ResumeFailed { .. } => "resume_failed",
            Self::Timeout => "timeout",
            Self::Cancelled { .. } => "cancelled",
            Self::ParseError { .. } => "parse_error",
            Self::SpawnError { .. } => "spawn_error",
            Self::OutputTooLarge => "output_too_large",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub outcome: Outcome,
    /// The stored session could not be resumed and a fresh one was started.
    pub context_lost: bool,
    /// The turn was written to a kept process: no spawn, no `--resume`.
    pub warm: bool,
    pub elapsed: Duration,
    pub exit_code: Option<i32>,
    /// The end of the CLI's stderr; for logs only.
    pub stderr_tail: String,
}

/// A cancel the CLI ended itself, on the interrupt: its result carries
/// the cost (`error_during_execution`, `aborted_streaming` or
/// `aborted_tools`).
pub fn interrupted(
    result: &ResultMessage,
    resume_requested: bool,
    init_session: Option<ClaudeSessionId>,
) -> Outcome {
    Outcome::Cancelled {
        cost: Some(run_cost(result, resume_requested)),
        session_id: result.session_id.or(init_session),
    }
}

/// Classifies a result object. API and auth failures arrive as subtype
/// `success` with `is_error` set, so both fields are checked.
pub fn classify(
    result: ResultMessage,
    resume_requested: bool,
    init_session: Option<ClaudeSessionId>,
) -> Outcome {
    let mut details = result.errors.clone();
    details.extend(result.result.clone());
    let log_detail = details.join("; ");
    if resume_requested && details.iter().any(|d| d.contains(UNKNOWN_SESSION)) {
        return Outcome::ResumeFailed { log_detail };
    }
    let session_id = result.session_id.or(init_session);
    let (cost_usd, cost_basis) = run_cost(&result, resume_requested);
    if result.is_error || result.subtype != "success" {
        return Outcome::ClaudeError {
            subtype: result.subtype,
            log_detail,
            session_id,
            cost_usd,
            cost_basis,
            duration_ms: result.duration_ms,
            api: result.api_error_status.map(ApiTrouble::of_status),
        };
    }
    let Some(session_id) = session_id else {
        return Outcome::ParseError {
            log_detail: "result line without a session id".into(),
        };
    };
    Outcome::Success(Success {
        text: result.result.unwrap_or_default(),
        session_id,
        cost_usd,
        cost_basis,
        duration_ms: result.duration_ms.unwrap_or(0),
        num_turns: result.num_turns,
        usage: result.usage,
        permission_denials: result.permission_denials,
    })
}

/// The run's own cost. After `--resume` the CLI's `total_cost_usd` is the
/// whole session's, so the per-run figure is used when there is one; a run
/// that started its session has the two equal; otherwise only the total
/// is known and is recorded as such.
fn run_cost(result: &ResultMessage, resumed: bool) -> (f64, CostBasis) {
    match result.run_cost_usd {
        Some(own) => (own, CostBasis::Run),
        None if !resumed => (result.cost_usd, CostBasis::Run),
        None => (result.cost_usd, CostBasis::SessionTotal),
    }
}

/// Older CLIs print the unknown-session error on stderr with no JSON at all.
pub(super) fn stderr_says_unknown_session(stderr: &str) -> bool {
    stderr.contains(UNKNOWN_SESSION)
}
