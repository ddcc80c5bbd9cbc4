//! Resume recovery: a stored session the CLI no longer knows must not fail
//! every later message, so the run is repeated once as a fresh session.

use super::outcome::{Outcome, RunReport};
use super::{Progress, RunSpec, run};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Like [`run`], but on `ResumeFailed` runs once more without `--resume`
/// and marks the report `context_lost`. `elapsed` covers both attempts.
pub async fn run_with_recovery(
    spec: &RunSpec,
    progress: &UnboundedSender<Progress>,
    cancel: &CancellationToken,
) -> RunReport {
    let first = run(spec, progress, cancel).await;
    if !matches!(first.outcome, Outcome::ResumeFailed { .. }) || spec.resume.is_none() {
        return first;
    }
    tracing::warn!(
        log_detail = %outcome_detail(&first.outcome),
        "the CLI could not resume the stored session; starting a fresh one"
    );
    let fresh = RunSpec {
        resume: None,
        ..spec.clone()
    };
    let mut second = run(&fresh, progress, cancel).await;
    second.context_lost = true;
    second.elapsed += first.elapsed;
    second
}

fn outcome_detail(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::ResumeFailed { log_detail } => log_detail,
        _ => "",
    }
}
