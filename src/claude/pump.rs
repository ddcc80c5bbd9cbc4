//! Reading one turn's stdout: progress forwarded as it comes, the CLI's
//! tool requests handed to the controller, and the turn ended by its
//! result, a cancel (after the interrupt's grace), the timeout (paused
//! while an approval is awaited), the end of output or too much of it.

use super::control;
use super::controller::Controller;
use super::events::{ResultMessage, StreamEvent, parse_line, parse_line_in};
use super::pipes::{LineRead, next_line};
use super::targets::ProjectRoots;
use super::{Progress, RunSpec};
use crate::domain::ClaudeSessionId;
use std::process::ExitStatus;
use tokio::io::BufReader;
use tokio::process::{Child, ChildStdout};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

/// The id of the one interrupt a run may send.
const INTERRUPT_ID: &str = "coordinator-interrupt";

/// How reading stdout ended.
pub(super) enum Ending {
    Result(ResultMessage),
    /// The CLI ended the turn on a cancel's interrupt, with its result.
    Interrupted(ResultMessage),
    /// stdout closed (or the CLI exited and stdout drained) with no result.
    NoResult {
        exited: Option<ExitStatus>,
    },
    ReadFailed(std::io::Error),
    TooLarge,
    Timeout,
    Cancelled,
    /// A kept process did not begin the turn with its init line, within
    /// its answer deadline.
    Unanswered,
    /// A kept process closed between turns (never the end of a turn).
    Closed,
}

pub(super) struct Pump<'a> {
    pub child: &'a mut Child,
    pub spec: &'a RunSpec,
    pub progress: &'a UnboundedSender<Progress>,
    pub init_session: &'a mut Option<ClaudeSessionId>,
    pub roots: ProjectRoots,
    pub control: Controller,
    pub heard: bool,
}

impl Pump<'_> {
    pub async fn read(
        &mut self,
        reader: &mut BufReader<ChildStdout>,
        mut deadline: Instant,
        answer_by: Option<Instant>,
        cancel: &CancellationToken,
    ) -> Ending {
        let mut line = Vec::new();
        let mut budget = self.spec.max_output_bytes;
        let mut exited: Option<ExitStatus> = None;
        // Once the CLI exits, children holding stdout open get `kill_grace`
        // to let it drain.
        let mut drain_until = deadline;
        // After a cancel's interrupt, the CLI gets `kill_grace` to end the
        // turn with a result (and its cost).
        let mut interrupted_until: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled(), if interrupted_until.is_none() => {
                    if !self.control.send(control::interrupt(INTERRUPT_ID)) {
                        return Ending::Cancelled;
                    }
                    interrupted_until = Some(Instant::now() + self.spec.kill_grace);
                }
                _ = sleep_until(interrupted_until.unwrap_or(deadline)), if interrupted_until.is_some() => {
                    return Ending::Cancelled;
                }
                _ = sleep_until(drain_until), if exited.is_some() => return Ending::NoResult { exited },
                _ = sleep_until(answer_by.unwrap_or(deadline)), if answer_by.is_some() && !self.heard => {
                    return Ending::Unanswered;
                }
                // Time waiting for the approver does not count.
                _ = sleep_until(deadline), if !self.control.is_waiting() => return Ending::Timeout,
                Some(()) = self.control.next_answer() => {
                    if let Some(waited) = self.control.answered() {
                        deadline += waited;
                    }
                    let _ = self.progress.send(Progress::Answered);
                }
                status = self.child.wait(), if exited.is_none() => {
                    exited = status.ok();
                    drain_until = deadline.min(Instant::now() + self.spec.kill_grace);
                }
                read = next_line(reader, &mut line, &mut budget) => match read {
                    Ok(LineRead::Line) => {
                        // In a kept process, what comes before the turn's
                        // init was printed before the message: stale.
                        if answer_by.is_some() && !self.heard && !starts_turn(&line) {
                            return Ending::Unanswered;
                        }
                        self.heard = true;
                        if let Some(result) = self.handle(&line) {
                            return match interrupted_until {
                                Some(_) => Ending::Interrupted(result),
                                None => Ending::Result(result),
                            };
                        }
                        line.clear();
                    }
                    Ok(LineRead::Eof) => return Ending::NoResult { exited },
                    Ok(LineRead::OverBudget) => return Ending::TooLarge,
                    Err(e) => return Ending::ReadFailed(e),
                },
            }
        }
    }

    /// Forwards progress; returns the result once it arrives.
    fn handle(&mut self, line: &[u8]) -> Option<ResultMessage> {
        let text = String::from_utf8_lossy(line);
        for event in parse_line_in(&text, &self.roots) {
            let progress = match event {
                StreamEvent::Result(result) => return Some(result),
                StreamEvent::Progress(progress) => progress,
                StreamEvent::Control(request) => {
                    self.control.on_request(request, self.progress);
                    continue;
                }
            };
            if let Progress::Init { session_id, .. } = &progress {
                *self.init_session = Some(*session_id);
            }
            let _ = self.progress.send(progress);
        }
        None
    }
}

/// The line is the `system/init` the CLI prints as each turn begins.
fn starts_turn(line: &[u8]) -> bool {
    let mut events = parse_line(&String::from_utf8_lossy(line)).into_iter();
    matches!(
        events.next(),
        Some(StreamEvent::Progress(Progress::Init { .. }))
    )
}
