//! The run's side of the control protocol: the lines it writes to the
//! CLI's stdin, the `can_use_tool` requests it hands to the approver (and
//! answers when the approver decides, without holding up the reading of
//! stdout), and the time spent waiting for those answers, which does not
//! count toward the run's timeout.

use super::Progress;
use super::control::{self, Approver, Ask, ControlRequest, Permission, ToolRequest};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What Claude is told of a call nobody can approve (no approver).
const NO_APPROVER: &str =
    "This tool call needs approval, and nobody can approve it from here, so it was not run.";
/// What Claude is told of a call whose approval never came back.
const NOBODY_ANSWERED: &str = "Nobody approved this tool call, so it was not run.";

pub(super) struct Controller {
    /// Lines for the CLI's stdin; `None` once it was closed.
    stdin: Option<UnboundedSender<String>>,
    approver: Option<Approver>,
    /// Cancelled when the run stops reading: pending asks are dropped.
    ended: CancellationToken,
    answered_tx: UnboundedSender<()>,
    answered: UnboundedReceiver<()>,
    /// Calls handed to the approver and not answered yet.
    waiting: usize,
    /// When `waiting` last went from none to some.
    since: Option<Instant>,
}

impl Controller {
    pub fn new(
        stdin: UnboundedSender<String>,
        approver: Option<Approver>,
        ended: CancellationToken,
    ) -> Self {
        let (answered_tx, answered) = mpsc::unbounded_channel();
        Self {
            stdin: Some(stdin),
            approver,
            ended,
            answered_tx,
            answered,
            waiting: 0,
            since: None,
        }
    }

    /// Sends a line to the CLI; false if its stdin is gone.
    pub fn send(&self, line: String) -> bool {
        self.stdin.as_ref().is_some_and(|s| s.send(line).is_ok())
    }

    /// Some call waits for the approver: the run's clock is stopped.
    pub fn is_waiting(&self) -> bool {
        self.waiting > 0
    }

    /// Completes when the approver has answered a call (and the answer was
    /// sent on); then `answered` must be called.
    pub async fn next_answer(&mut self) -> Option<()> {
        self.answered.recv().await
    }

    /// One answer went back; returns how long the run waited if no call
    /// waits any more.
    pub fn answered(&mut self) -> Option<Duration> {
        self.waiting = self.waiting.saturating_sub(1);
        if self.waiting > 0 {
            return None;
        }
        self.since.take().map(|since| since.elapsed())
    }

    pub fn on_request(&mut self, request: ControlRequest, progress: &UnboundedSender<Progress>) {
        match request {
            ControlRequest::CanUseTool(request) => self.ask(request, progress),
            ControlRequest::Unsupported {
                request_id,
                subtype,
            } => {
                self.send(control::unsupported(&request_id, &subtype));
            }
        }
    }

    /// Hands the call to the approver and answers the CLI when it decides;
    /// with no approver (or one that is gone) the call is denied at once.
    fn ask(&mut self, request: ToolRequest, progress: &UnboundedSender<Progress>) {
        let id = request.request_id.clone();
        let tool = request.tool_name.clone();
        let (answer, decided) = oneshot::channel();
        let asked = self
            .approver
            .as_ref()
            .is_some_and(|approver| approver.0.send(Ask { request, answer }).is_ok());
        let (Some(stdin), true) = (&self.stdin, asked) else {
            let deny = Permission::Deny {
                message: NO_APPROVER.into(),
            };
            self.send(control::answer(&id, &deny));
            return;
        };
        if self.waiting == 0 {
            self.since = Some(Instant::now());
        }
        self.waiting += 1;
        let _ = progress.send(Progress::Asking { tool });
        let (stdin, ended, answered) = (
            stdin.downgrade(),
            self.ended.clone(),
            self.answered_tx.clone(),
        );
        tokio::spawn(async move {
            let permission = tokio::select! {
                decided = decided => decided.unwrap_or_else(|_| Permission::Deny {
                    message: NOBODY_ANSWERED.into(),
                }),
                () = ended.cancelled() => return,
            };
            if let Some(stdin) = stdin.upgrade() {
                let _ = stdin.send(control::answer(&id, &permission));
            }
            let _ = answered.send(());
        });
    }
}
