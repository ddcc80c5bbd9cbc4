//! Runs the Claude Code CLI headless (`-p`, stream-json in and out, tool
//! approvals over stdio) and turns its output into progress events and
//! one typed outcome.
//!
//! `args` builds the argv, `control` speaks the control protocol, `events`
//! parses stream-json lines, `outcome` classifies the result, `runner` owns
//! the child process, `pump` reads a turn of its output, `live` keeps it
//! between a session's turns and
//! `recovery` retries a failed resume without the stale session.

mod args;
mod calls;
mod control;
mod controller;
mod events;
mod live;
mod outcome;
mod pipes;
mod process;
mod pump;
mod recovery;
mod runner;
mod slash;
mod strays;
mod targets;

pub use args::{BASE_ARGS, build_args};
pub use calls::describe_call;
pub use control::{Approver, Ask, ControlRequest, Permission, Rule, ToolRequest};
pub use events::{
    JsonOutputError, ResultMessage, StreamEvent, parse_json_output, parse_line, parse_line_in,
};
pub use live::{Live, run_turn};
pub use outcome::{ApiTrouble, Outcome, PermissionDenial, RunReport, Success, Usage, classify};
pub use recovery::run_with_recovery;
pub use runner::run;
pub use slash::{Slash, classify as classify_slash};
pub use targets::{ProjectRoots, tool_target};

use crate::domain::{ClaudeSessionId, Image, PermissionMode};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variables the CLI must never see: the bot token, and the
/// marker that makes the CLI believe it is nested inside another session.
pub const FORBIDDEN_ENV: [&str; 2] = ["DISCORD_TOKEN", "CLAUDECODE"];

/// Everything one CLI run needs. Cheap to clone and `Send`, so a worker
/// task can own it. Its `Debug` leaves out the prompt and env values.
#[derive(Clone)]
pub struct RunSpec {
    /// A name looked up in `PATH`, or a path.
    pub binary: String,
    /// The project folder; the CLI scopes sessions by it.
    pub cwd: PathBuf,
    /// Sent on stdin, never in argv.
    pub prompt: String,
    /// Sent on stdin after the prompt, each as an image block.
    pub images: Vec<Image>,
    pub resume: Option<ClaudeSessionId>,
    pub model: Option<String>,
    pub permission_mode: Option<PermissionMode>,
    pub allowed_tools: Vec<String>,
    /// Rules the session's approvers allowed "for this session", passed
    /// with `allowed_tools` to a new process of that session; a kept
    /// process already holds them.
    pub session_rules: Vec<String>,
    pub append_system_prompt: Option<String>,
    /// `--max-budget-usd`: what the process may spend, over all its turns.
    pub max_budget_usd: Option<f64>,
    pub timeout: Duration,
    /// How long the CLI gets between SIGTERM and SIGKILL, and how long it may
    /// linger after its result line.
    pub kill_grace: Duration,
    pub max_output_bytes: usize,
    pub max_stderr_bytes: usize,
    /// Added to the inherited environment; `FORBIDDEN_ENV` is removed even
    /// from here.
    pub extra_env: Vec<(String, String)>,
    /// Where calls the CLI's rules would not allow go for approval; with
    /// none they are denied at once, and listed after the answer.
    pub approver: Option<Approver>,
}

impl RunSpec {
    /// A spec with the default limits: 10 min timeout, 5 s grace, 16 MiB of
    /// stdout, 64 KiB of stderr.
    pub fn new(
        binary: impl Into<String>,
        cwd: impl Into<PathBuf>,
        prompt: impl Into<String>,
    ) -> Self {
        Self {
            binary: binary.into(),
            cwd: cwd.into(),
            prompt: prompt.into(),
            images: Vec::new(),
            resume: None,
            model: None,
            permission_mode: None,
            allowed_tools: Vec::new(),
            session_rules: Vec::new(),
            append_system_prompt: None,
            max_budget_usd: None,
            timeout: Duration::from_secs(600),
            kill_grace: Duration::from_secs(5),
            max_output_bytes: 16 * 1024 * 1024,
            max_stderr_bytes: 64 * 1024,
            extra_env: Vec::new(),
            approver: None,
        }
    }
}

impl fmt::Debug for RunSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Vec<_> = self.extra_env.iter().map(|(k, _)| k).collect();
        f.debug_struct("RunSpec")
            .field("binary", &self.binary)
            .field("cwd", &self.cwd)
            .field("prompt_bytes", &self.prompt.len())
            .field("resume", &self.resume)
            .field("model", &self.model)
            .field("permission_mode", &self.permission_mode)
            .field("allowed_tools", &self.allowed_tools)
            .field("session_rules", &self.session_rules)
            .field("append_system_prompt", &self.append_system_prompt.is_some())
            .field("max_budget_usd", &self.max_budget_usd)
            .field("timeout", &self.timeout)
            .field("kill_grace", &self.kill_grace)
            .field("max_output_bytes", &self.max_output_bytes)
            .field("max_stderr_bytes", &self.max_stderr_bytes)
            .field("extra_env", &env_names)
            .field("approver", &self.approver.is_some())
            .finish()
    }
}

/// What the CLI is doing, forwarded while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Init {
        session_id: ClaudeSessionId,
        model: String,
    },
    Text(String),
    /// `target` is short: a file path, the first line of a command, a
    /// pattern or a URL. `changes` is the file a Write, Edit or
    /// NotebookEdit call writes, relative to the folder, when inside it.
    ToolUse {
        id: String,
        name: String,
        target: Option<String>,
        changes: Option<String>,
    },
    /// The result of the call `id`.
    ToolResult {
        id: String,
        is_error: bool,
    },
    /// The CLI is retrying a failed API call (`system/api_retry`).
    ApiRetry {
        attempt: u32,
        max_retries: u32,
    },
    /// A call of `tool` waits for the approver; the run's timeout is
    /// paused while any does.
    Asking {
        tool: String,
    },
    /// The approver answered a call.
    Answered,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;
    use tokio_util::sync::CancellationToken;

    #[test]
    fn the_run_future_can_move_to_a_worker_task() {
        fn is_send<T: Send>(_: &T) {}
        let spec = RunSpec::new("claude", "/tmp", "hi");
        let (tx, _rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        is_send(&spec);
        is_send(&run_with_recovery(&spec, &tx, &cancel));
    }

    #[test]
    fn debug_output_hides_the_prompt_and_env_values() {
        let mut spec = RunSpec::new("claude", "/tmp", "my secret plan");
        spec.extra_env.push(("API_KEY".into(), "sk-123".into()));
        let shown = format!("{spec:?}");
        assert!(!shown.contains("secret plan") && !shown.contains("sk-123"));
        assert!(shown.contains("API_KEY") && shown.contains("prompt_bytes: 14"));
    }
}
