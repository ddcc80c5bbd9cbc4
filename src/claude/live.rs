//! Kept processes: after a turn's result the CLI waits on stdin for the
//! next user message, so a session's next turn can be written to the same
//! process (about 0.05 s) instead of a new one started with `--resume`
//! (about 0.8 s). A kept process serves only a turn that would start the
//! CLI the same way (`Shape`) on the session it holds; one that died,
//! printed between turns or does not answer is replaced by a new process,
//! and the message goes there.

use super::recovery::run_recovering;
use super::runner::{Proc, success_of};
use super::{Progress, RunReport, RunSpec};
use crate::domain::{ClaudeSessionId, PermissionMode};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What the CLI takes for "its own default model" on `--model`.
const DEFAULT_MODEL: &str = "default";

/// A CLI process between turns, holding one Claude session.
pub struct Live {
    proc: Proc,
    held: Held,
}

/// What a kept process was started with and holds now.
struct Held {
    shape: Shape,
    session: ClaudeSessionId,
    grace: Duration,
    /// Its `--max-budget-usd`, less what its turns cost so far.
    budget_left: Option<f64>,
}

/// Two budget amounts this close are the same (costs are recorded to
/// about 1e-6 dollars).
const SAME_AMOUNT: f64 = 1e-6;

/// Everything fixed when the CLI starts; a turn whose spec differs needs
/// a new process. Session rules are left out: the process was told them.
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    binary: String,
    cwd: PathBuf,
    model: String,
    permission_mode: Option<PermissionMode>,
    allowed_tools: Vec<String>,
    append_system_prompt: Option<String>,
    extra_env: Vec<(String, String)>,
}

impl Shape {
    fn of(spec: &RunSpec) -> Self {
        Self {
            binary: spec.binary.clone(),
            cwd: spec.cwd.clone(),
            model: spec.model.clone().unwrap_or_else(|| DEFAULT_MODEL.into()),
            permission_mode: spec.permission_mode,
            allowed_tools: spec.allowed_tools.clone(),
            append_system_prompt: spec.append_system_prompt.clone(),
            extra_env: spec.extra_env.clone(),
        }
    }
}

impl Live {
    pub(super) fn new(proc: Proc, spec: &RunSpec, session: ClaudeSessionId, cost_usd: f64) -> Self {
        let held = Held {
            shape: Shape::of(spec),
            session,
            grace: spec.kill_grace,
            budget_left: spec.max_budget_usd,
        };
        Self { proc, held }.spent(cost_usd)
    }

    /// After a turn in this process that cost `cost_usd`.
    fn spent(mut self, cost_usd: f64) -> Self {
        let held = &mut self.held;
        held.budget_left = held.budget_left.map(|left| left - cost_usd);
        self
    }

    /// A turn of `spec` may be written to this process: it would start the
    /// same, on this session, and what its budget cap leaves is the turn's
    /// (the CLI's cap covers all of a process's turns, and cannot change).
    pub fn fits(&self, spec: &RunSpec) -> bool {
        let held = &self.held;
        let budget = match (spec.max_budget_usd, held.budget_left) {
            (None, None) => true,
            (Some(wanted), Some(left)) => (wanted - left).abs() < SAME_AMOUNT,
            _ => false,
        };
        budget && spec.resume == Some(held.session) && held.shape == Shape::of(spec)
    }

    /// Closes stdin (the CLI then exits by itself), waits up to the grace,
    /// then ends the process group; always reaps.
    pub async fn close(self) {
        self.proc.close(self.held.grace).await;
    }

    /// Writes the turn to this process. `None` when the process did not
    /// take it (it was gone, printed something else first, or did not
    /// begin the turn within `answer_within`); it is then ended, and the
    /// turn can go to a new process.
    async fn turn(
        mut self,
        spec: &RunSpec,
        progress: &UnboundedSender<Progress>,
        cancel: &CancellationToken,
        answer_within: Duration,
        keep: bool,
    ) -> Option<(RunReport, Option<Live>)> {
        let started = Instant::now();
        let turn = self
            .proc
            .turn(spec, progress, cancel, Some(answer_within))
            .await;
        if !turn.heard && !cancel.is_cancelled() {
            tokio::spawn(self.proc.abandon(self.held.grace));
            return None;
        }
        let Live { proc, held } = self;
        let (mut report, kept) = proc.conclude(turn, spec, keep, true, started).await;
        report.warm = true;
        let live = kept
            .zip(success_of(&report))
            .map(|(proc, (_, cost))| Live { proc, held }.spent(cost));
        Some((report, live))
    }
}

/// Runs a session's turn: in `live` when it fits the spec and is idle,
/// else in a new process (retried once as a fresh session if the stored
/// one cannot be resumed). With `keep`, the process of a turn that
/// succeeded is handed back for the next one.
pub async fn run_turn(
    spec: &RunSpec,
    live: Option<Live>,
    keep: bool,
    answer_within: Duration,
    progress: &UnboundedSender<Progress>,
    cancel: &CancellationToken,
) -> (RunReport, Option<Live>) {
    if let Some(mut live) = live {
        if !live.fits(spec) {
            tokio::spawn(live.close());
        } else if !live.proc.is_idle() {
            tracing::warn!("the kept CLI process ended or wrote between turns; starting a new one");
            tokio::spawn(live.close());
        } else if let Some(done) = live.turn(spec, progress, cancel, answer_within, keep).await {
            return done;
        } else {
            tracing::warn!("the kept CLI process did not take the message; starting a new one");
        }
    }
    run_recovering(spec, progress, cancel, keep).await
}
