//! One CLI run: spawn, send the prompt as a stream-json user message,
//! stream stdout into progress events, answer the CLI's tool requests
//! (`controller`), close stdin after the result, interrupt on cancel, stop
//! the process group on timeout, a cancel the CLI does not end, or
//! oversized output, and always reap.

use super::control;
use super::controller::Controller;
use super::events::{ResultMessage, StreamEvent, parse_line, parse_line_in};
use super::live::Live;
use super::outcome::{Outcome, RunReport, classify, interrupted, stderr_says_unknown_session};
use super::pipes::{LineRead, collect_stderr, feed_stdin, next_line};
use super::process::{ProcessGroup, exit_code, spawn};
use super::sweep::new_tag;
use super::targets::ProjectRoots;
use super::{Progress, RunSpec};
use crate::domain::ClaudeSessionId;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::io::{AsyncBufRead, BufReader};
use tokio::process::{Child, ChildStdout};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;
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
    /// A kept process did not begin the turn with its init line, within
    /// its answer deadline.
    Unanswered,
    /// A kept process closed between turns (never the end of a turn).
    Closed,
}

/// Runs the CLI once. Progress goes to `progress` (a closed receiver is
/// fine); `cancel` stops the run and reports `Cancelled`.
pub async fn run(
    spec: &RunSpec,
    progress: &UnboundedSender<Progress>,
    cancel: &CancellationToken,
) -> RunReport {
    run_keeping(spec, progress, cancel, false).await.0
}

/// Runs one turn in a new process. With `keep`, a turn that succeeded
/// leaves its process running, waiting for the next user message, and
/// hands it back.
pub(super) async fn run_keeping(
    spec: &RunSpec,
    progress: &UnboundedSender<Progress>,
    cancel: &CancellationToken,
    keep: bool,
) -> (RunReport, Option<Live>) {
    let started = Instant::now();
    if cancel.is_cancelled() {
        return (
            report(started, Outcome::cancelled(), None, String::new()),
            None,
        );
    }
    let mut proc = match Proc::start(spec) {
        Ok(proc) => proc,
        Err(e) => {
            return (
                report(started, spawn_error(spec, &e), None, String::new()),
                None,
            );
        }
    };
    let turn = proc.turn(spec, progress, cancel, None).await;
    let resumed = spec.resume.is_some();
    proc.conclude(turn, spec, keep, resumed, started).await
}

fn report(
    started: Instant,
    outcome: Outcome,
    exit_code: Option<i32>,
    stderr_tail: String,
) -> RunReport {
    RunReport {
        outcome,
        context_lost: false,
        warm: false,
        elapsed: started.elapsed(),
        exit_code,
        stderr_tail,
    }
}

/// One CLI process and its three pipes.
pub(super) struct Proc {
    child: Child,
    group: ProcessGroup,
    /// Lines for stdin; dropping it (and the turn's clones) closes stdin.
    stdin: Option<UnboundedSender<String>>,
    stdout: Option<BufReader<ChildStdout>>,
    stderr: JoinHandle<String>,
}

/// What one turn read.
pub(super) struct Turn {
    ending: Ending,
    init_session: Option<ClaudeSessionId>,
    /// The CLI printed at least one line in this turn.
    pub heard: bool,
}

impl Proc {
    fn start(spec: &RunSpec) -> std::io::Result<Proc> {
        let tag = new_tag();
        let mut child = spawn(spec, &tag)?;
        let group = ProcessGroup::of(&child, tag);
        let (stdin, lines) = mpsc::unbounded_channel();
        feed_stdin(child.stdin.take(), lines);
        let stderr = collect_stderr(child.stderr.take(), spec.max_stderr_bytes);
        let stdout = child.stdout.take().map(BufReader::new);
        Ok(Proc {
            child,
            group,
            stdin: Some(stdin),
            stdout,
            stderr,
        })
    }

    /// Sends the prompt as a user message and reads until its result. With
    /// `answer_within`, a CLI that prints nothing in that time ends the
    /// turn as `Unanswered`.
    pub(super) async fn turn(
        &mut self,
        spec: &RunSpec,
        progress: &UnboundedSender<Progress>,
        cancel: &CancellationToken,
        answer_within: Option<Duration>,
    ) -> Turn {
        let started = Instant::now();
        let mut init_session = None;
        let sent = self
            .stdin
            .as_ref()
            .is_some_and(|s| s.send(control::user_message(&spec.prompt)).is_ok());
        let (Some(stdin), Some(stdout), true) = (self.stdin.clone(), self.stdout.as_mut(), sent)
        else {
            let ending = Ending::NoResult { exited: None };
            return Turn {
                ending,
                init_session,
                heard: false,
            };
        };
        let ended = CancellationToken::new();
        let mut pump = Pump {
            child: &mut self.child,
            spec,
            progress,
            init_session: &mut init_session,
            roots: ProjectRoots::of(&spec.cwd),
            control: Controller::new(stdin, spec.approver.clone(), ended.clone()),
            heard: false,
        };
        let deadline = started + spec.timeout;
        let answer_by = answer_within.map(|within| started + within);
        let ending = pump.read(stdout, deadline, answer_by, cancel).await;
        let heard = pump.heard;
        ended.cancel();
        Turn {
            ending,
            init_session,
            heard,
        }
    }

    /// After a turn: keeps the process (with `keep`, after a success) or
    /// ends it, and says how the run went.
    pub(super) async fn conclude(
        self,
        turn: Turn,
        spec: &RunSpec,
        keep: bool,
        resumed: bool,
        started: Instant,
    ) -> (RunReport, Option<Live>) {
        let Turn {
            ending,
            init_session,
            ..
        } = turn;
        let ending = match ending {
            Ending::Result(result) if keep => {
                let outcome = classify(result, resumed, init_session);
                if let Outcome::Success(success) = &outcome {
                    let live = Live::new(self, spec, success.session_id);
                    return (report(started, outcome, None, String::new()), Some(live));
                }
                let (exit, stderr_tail) = self
                    .end(&Ending::NoResult { exited: None }, spec.kill_grace)
                    .await;
                return (report(started, outcome, exit, stderr_tail), None);
            }
            other => other,
        };
        let (exit, stderr_tail) = self.end(&ending, spec.kill_grace).await;
        let outcome = decide(ending, resumed, init_session, &stderr_tail, exit);
        (report(started, outcome, exit, stderr_tail), None)
    }

    /// Closes stdin, brings the CLI down as the ending requires, reaps it
    /// and its group, and returns its exit code and stderr's tail.
    async fn end(mut self, ending: &Ending, grace: Duration) -> (Option<i32>, String) {
        self.stdin = None;
        self.stdout = None;
        let (status, by_itself) = stop(&mut self.child, &self.group, ending, grace).await;
        // Whatever the CLI left running goes too; that also closes the stderr
        // pipe those children inherited.
        let clean = by_itself && matches!(ending, Ending::Result(_) | Ending::Closed);
        self.group.finish(clean);
        let stderr_tail = timeout(grace, self.stderr)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        (status.and_then(exit_code), stderr_tail)
    }

    /// Closes a process between turns: stdin first, then the group.
    pub(super) async fn close(self, grace: Duration) {
        self.end(&Ending::Closed, grace).await;
    }

    /// Ends a process that did not take its turn as it should: at once,
    /// before it acts on the message.
    pub(super) async fn abandon(self, grace: Duration) {
        self.end(&Ending::Unanswered, grace).await;
    }

    /// Still running, and nothing printed since its last turn.
    pub(super) fn is_idle(&mut self) -> bool {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return false;
        }
        let Some(stdout) = self.stdout.as_mut() else {
            return false;
        };
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        // Pending means nothing to read; bytes, end of file or an error
        // mean the process is no longer where its last result left it.
        std::pin::Pin::new(stdout)
            .poll_fill_buf(&mut cx)
            .is_pending()
    }
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
    heard: bool,
}

impl Pump<'_> {
    async fn read(
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
        | Ending::Closed
        | Ending::ReadFailed(_) => match timeout(grace, child.wait()).await {
            Ok(status) => (status.ok(), true),
            Err(_) => (group.terminate(child, grace).await, false),
        },
        Ending::TooLarge | Ending::Timeout | Ending::Cancelled | Ending::Unanswered => {
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
        Ending::Unanswered | Ending::Closed => Outcome::ParseError {
            log_detail: "the kept CLI process did not answer".into(),
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
