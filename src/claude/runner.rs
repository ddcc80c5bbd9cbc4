//! One CLI process (`Proc`) and its turns: spawn, send the prompt as a
//! stream-json user message, stream stdout into progress events, answer
//! the CLI's tool requests (`controller`), interrupt on cancel, stop the
//! process group on timeout, a cancel the CLI does not end, or oversized
//! output. After a result the process is either kept for the session's
//! next turn (`live`) or its stdin is closed and it is reaped.

use super::control;
use super::controller::Controller;
use super::live::Live;
use super::outcome::{Outcome, RunReport, classify, interrupted, stderr_says_unknown_session};
use super::pipes::{collect_stderr, feed_stdin};
use super::process::{ProcessGroup, exit_code, spawn};
use super::pump::{Ending, Pump};
use super::strays::new_tag;
use super::targets::ProjectRoots;
use super::{Progress, RunSpec};
use crate::domain::ClaudeSessionId;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::io::{AsyncBufRead, BufReader};
use tokio::process::{Child, ChildStdout};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

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
    let (report, kept) = proc.conclude(turn, spec, keep, resumed, started).await;
    let live = kept
        .zip(success_of(&report))
        .map(|(proc, (session, cost))| Live::new(proc, spec, session, cost));
    (report, live)
}

/// The session and own cost of a turn that succeeded.
pub(super) fn success_of(report: &RunReport) -> Option<(ClaudeSessionId, f64)> {
    match &report.outcome {
        Outcome::Success(s) => Some((s.session_id, s.cost_usd)),
        _ => None,
    }
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
    /// The turn began: a line came (in a kept process, its init first).
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
        let sent = self.stdin.as_ref().is_some_and(|s| {
            s.send(control::user_message(&spec.prompt, &spec.images))
                .is_ok()
        });
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
    ) -> (RunReport, Option<Proc>) {
        let Turn {
            ending,
            init_session,
            ..
        } = turn;
        let ending = match ending {
            Ending::Result(result) if keep => {
                let outcome = classify(result, resumed, init_session);
                if let Outcome::Success(_) = &outcome {
                    return (report(started, outcome, None, String::new()), Some(self));
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
