//! Resume recovery: a stored session the CLI no longer knows must not fail
//! every later message, so the run is repeated once as a fresh session.

use super::live::Live;
use super::outcome::{Outcome, RunReport};
use super::runner::run_keeping;
use super::{Progress, RunSpec};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Like [`run`](super::run), but on `ResumeFailed` runs once more without
/// `--resume` and marks the report `context_lost`. `elapsed` covers both
/// attempts.
pub async fn run_with_recovery(
    spec: &RunSpec,
    progress: &UnboundedSender<Progress>,
    cancel: &CancellationToken,
) -> RunReport {
    run_recovering(spec, progress, cancel, false).await.0
}

/// [`run_with_recovery`] in a new process that, with `keep`, is handed
/// back after a turn that succeeded.
pub(super) async fn run_recovering(
    spec: &RunSpec,
    progress: &UnboundedSender<Progress>,
    cancel: &CancellationToken,
    keep: bool,
) -> (RunReport, Option<Live>) {
    let first = run_keeping(spec, progress, cancel, keep).await;
    if !matches!(first.0.outcome, Outcome::ResumeFailed { .. }) || spec.resume.is_none() {
        return first;
    }
    tracing::warn!(
        log_detail = %outcome_detail(&first.0.outcome),
        "the CLI could not resume the stored session; starting a fresh one"
    );
    let fresh = RunSpec {
        resume: None,
        ..spec.clone()
    };
    let (mut second, live) = run_keeping(&fresh, progress, cancel, keep).await;
    second.context_lost = true;
    second.elapsed += first.0.elapsed;
    (second, live)
}

fn outcome_detail(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::ResumeFailed { log_detail } => log_detail,
        _ => "",
    }
}
