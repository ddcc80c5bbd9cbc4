//! One CLI run: spawn, send the prompt as a stream-json user message,
//! stream stdout into progress events, answer the CLI's tool requests
//! (`controller`), close stdin after the result, interrupt on cancel, stop
//! the process group on timeout, a cancel the CLI does not end, or
//! oversized output, and always reap.

use super::control;
use super::controller::Controller;
use super::events::{ResultMessage, StreamEvent, parse_line_in};
use super::outcome::{Outcome, RunReport, classify, interrupted, stderr_says_unknown_session};
use super::pipes::{LineRead, collect_stderr, feed_stdin, next_line};
use super::process::{ProcessGroup, exit_code, spawn};
use super::sweep::new_tag;
use super::targets::ProjectRoots;
use super::{Progress, RunSpec};
use crate::domain::ClaudeSessionId;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::io::BufReader;
use tokio::process::{Child, ChildStdout};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

/// The id of the one interrupt a run may send.
const INTERRUPT_ID: &str = "coordinator-interrupt";

/// How reading stdout ended.
enum Ending {
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
}

/// Runs the CLI once. Progress goes to `progress` (a closed receiver is
/// fine); `cancel` stops the run and reports `Cancelled`.
pub async fn run(
    spec: &RunSpec,
    progress: &UnboundedSender<Progress>,
    cancel: &CancellationToken,
) -> RunReport {
    let started = Instant::now();
    let report = |outcome, exit_code, stderr_tail| RunReport {
        outcome,
        context_lost: false,
        elapsed: started.elapsed(),
        exit_code,
        stderr_tail,
    };
    if cancel.is_cancelled() {
        return report(Outcome::cancelled(), None, String::new());
    }
    let tag = new_tag();
    let mut child = match spawn(spec, &tag) {
        Ok(child) => child,
        Err(e) => return report(spawn_error(spec, &e), None, String::new()),
    };
    let mut group = ProcessGroup::of(&child, tag);
    let (stdin, lines) = mpsc::unbounded_channel();
    let _ = stdin.send(control::user_message(&spec.prompt));
    feed_stdin(child.stdin.take(), lines);
    let ended = CancellationToken::new();
    let stderr = collect_stderr(child.stderr.take(), spec.max_stderr_bytes);
    let mut init_session = None;
    let deadline = started + spec.timeout;
    let ending = match child.stdout.take() {
        Some(stdout) => {
            let mut pump = Pump {
                child: &mut child,
                spec,
                progress,
                init_session: &mut init_session,
                roots: ProjectRoots::of(&spec.cwd),
                control: Controller::new(stdin, spec.approver.clone(), ended.clone()),
            };
            // Dropping the pump drops stdin's sender: the CLI sees EOF.
            pump.read(stdout, deadline, cancel).await
        }
        None => Ending::NoResult { exited: None },
    };
    ended.cancel();
    let (status, by_itself) = stop(&mut child, &group, &ending, spec.kill_grace).await;
    // Whatever the CLI left running goes too; that also closes the stderr
    // pipe those children inherited.
    group.finish(by_itself && matches!(ending, Ending::Result(_)));
    let stderr_tail = timeout(spec.kill_grace, stderr)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let exit = status.and_then(exit_code);
    let resumed = spec.resume.is_some();
    let outcome = decide(ending, resumed, init_session, &stderr_tail, exit);
    report(outcome, exit, stderr_tail)
}

fn spawn_error(spec: &RunSpec, e: &std::io::Error) -> Outcome {
    let log_detail = format!(
        "cannot start `{}` in {}: {e}",
        spec.binary,
        spec.cwd.display()
    );
    Outcome::SpawnError { log_detail }
}

struct Pump<'a> {
    child: &'a mut Child,
    spec: &'a RunSpec,
    progress: &'a UnboundedSender<Progress>,
    init_session: &'a mut Option<ClaudeSessionId>,
    roots: ProjectRoots,
    control: Controller,
}

impl Pump<'_> {
    async fn read(
        &mut self,
        stdout: ChildStdout,
        mut deadline: Instant,
        cancel: &CancellationToken,
    ) -> Ending {
        let mut reader = BufReader::new(stdout);
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
                read = next_line(&mut reader, &mut line, &mut budget) => match read {
                    Ok(LineRead::Line) => {
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

/// Brings the CLI down as the ending requires and reaps it, and says
/// whether it exited by itself (not by our signals). After a result or end
/// of output it gets `grace` to exit on its own: the CLI sometimes lingers
/// after its result.
async fn stop(
    child: &mut Child,
    group: &ProcessGroup,
    ending: &Ending,
    grace: Duration,
) -> (Option<ExitStatus>, bool) {
    match ending {
        Ending::NoResult {
            exited: Some(status),
        } => (Some(*status), true),
        Ending::Result(_)
        | Ending::Interrupted(_)
        | Ending::NoResult { exited: None }
        | Ending::ReadFailed(_) => match timeout(grace, child.wait()).await {
            Ok(status) => (status.ok(), true),
            Err(_) => (group.terminate(child, grace).await, false),
        },
        Ending::TooLarge | Ending::Timeout | Ending::Cancelled => {
            (group.terminate(child, grace).await, false)
        }
    }
}

fn decide(
    ending: Ending,
    resume_requested: bool,
    init_session: Option<ClaudeSessionId>,
    stderr: &str,
    exit: Option<i32>,
) -> Outcome {
    match ending {
        Ending::Result(result) => classify(result, resume_requested, init_session),
        Ending::Interrupted(result) => interrupted(&result, resume_requested, init_session),
        Ending::TooLarge => Outcome::OutputTooLarge,
        Ending::Timeout => Outcome::Timeout,
        Ending::Cancelled => Outcome::cancelled(),
        Ending::ReadFailed(e) => Outcome::ParseError {
            log_detail: format!("reading the CLI output failed: {e}"),
        },
        Ending::NoResult { .. } if resume_requested && stderr_says_unknown_session(stderr) => {
            Outcome::ResumeFailed {
                log_detail: stderr.trim().to_string(),
            }
        }
        Ending::NoResult { .. } => Outcome::ParseError {
            log_detail: format!("the CLI ended without a result line (exit code {exit:?})"),
        },
    }
}
