//! Tool calls waiting for an answer in Discord. Each call the running CLI
//! asks about (`claude::Ask`) becomes a prompt: a reply to the user's
//! message saying what Claude wants, with Allow, Allow for this session
//! and Deny buttons. Only the requester and admins may answer; with no
//! answer within `approval_timeout_secs` the call is denied. While any call
//! waits, typing stops. When the run ends, prompts still open say so.
//! "Allow for this session" allows that exact call (the command, the file,
//! or the tool) in the live CLI and in the channel's later runs, until
//! `/reset` or a lost session; never a permission mode, never a settings
//! file. Every prompt and its decision is kept in the `approvals` table.
//!
//! Handles: `Asked` (forwarded from each run's approver);
//! `SessionCommand::Decide` comes through `commands`.

mod kinds;

use super::SessionActor;
use crate::actors::messages::{DecideReply, Outgoing, StartTyping, StopTyping};
use crate::claude::{Ask, Permission, ProjectRoots, Rule, tool_target};
use crate::db::{ApprovalStart, Decision};
use crate::domain::{ApprovalId, Choice, MessageId, RequestId, UserId};
use actix::prelude::*;
use kinds::{Click, Kind};
use std::collections::HashMap;
use std::time::Duration;

const RUN_ENDED: &str = "The request ended before anyone answered.";

/// A call of the run `request`, handed over by its approver.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Asked {
    pub request: RequestId,
    pub ask: Ask,
}

struct Pending {
    request: RequestId,
    requester: UserId,
    answer: tokio::sync::oneshot::Sender<Permission>,
    tool: String,
    input: serde_json::Value,
    kind: Kind,
    /// The prompt's text, kept for the edit that closes it.
    text: String,
    message: Option<MessageId>,
    timer: SpawnHandle,
}

#[derive(Default)]
pub(super) struct Approvals {
    pending: HashMap<ApprovalId, Pending>,
    /// Prompts closed before Discord took them: their final text.
    closed_early: HashMap<ApprovalId, String>,
    /// Calls allowed "for this session": passed as `--allowedTools` to the
    /// channel's later runs until its Claude session is reset or lost.
    session_rules: Vec<Rule>,
}

impl Approvals {
    /// The session's rules as `--allowedTools` entries.
    pub fn allowed_tools(&self) -> impl Iterator<Item = String> + '_ {
        self.session_rules.iter().filter_map(Rule::allowed_tool)
    }

    /// The Claude session was reset or lost: its rules go with it.
    pub fn forget_session_rules(&mut self) {
        self.session_rules.clear();
    }
}

impl SessionActor {
    /// Forwards the run's asks to the actor, each tagged with its
    /// request, until the run drops its approver.
    pub(super) fn take_asks(
        &mut self,
        request: RequestId,
        mut asks: tokio::sync::mpsc::UnboundedReceiver<Ask>,
        ctx: &mut Context<Self>,
    ) {
        let session = ctx.address();
        actix::spawn(async move {
            while let Some(ask) = asks.recv().await {
                session.do_send(Asked { request, ask });
            }
        });
    }

    fn on_asked(&mut self, Asked { request, ask }: Asked, ctx: &mut Context<Self>) {
        let Some(running) = self.in_flight.as_ref().filter(|r| r.request.id == request) else {
            return; // dropping `ask` denies the call
        };
        let (channel, message, requester) = (
            running.request.channel,
            running.request.message,
            running.request.user,
        );
        let roots = ProjectRoots::of(&self.project_path());
        let kind = Kind::of(&ask.request.tool_name, &ask.request.input);
        let head = kind.head(&ask.request.tool_name, &ask.request.input, &roots);
        let text = self.prompt_text(&head, requester);
        let rows = kind.rows();
        let approval = ApprovalId::new();
        let row = ApprovalStart {
            id: approval.clone(),
            request,
            channel,
            tool: ask.request.tool_name.clone(),
            summary: tool_target(&ask.request.input, &roots).unwrap_or_default(),
        };
        let db = self.deps.db.clone();
        self.store(ctx, "store an approval prompt", async move {
            db.insert_approval(&row).await
        });
        let expiring = approval.clone();
        let timeout = self.approval_timeout();
        let timer = ctx.run_later(timeout, move |act, ctx| act.expire(&expiring, ctx));
        if self.approvals.pending.is_empty() {
            self.deps.stop_typing.do_send(StopTyping(channel));
        }
        let pending = Pending {
            request,
            requester,
            answer: ask.answer,
            tool: ask.request.tool_name,
            input: ask.request.input,
            kind,
            text: text.clone(),
            message: None,
            timer,
        };
        self.approvals.pending.insert(approval.clone(), pending);
        let prompt = Outgoing::Prompt {
            channel,
            content: text,
            reply_to: Some(message),
            approval: approval.clone(),
            rows,
        };
        self.post_prompt(approval, prompt, ctx);
    }

    fn prompt_text(&self, head: &str, requester: UserId) -> String {
        format!(
            "{head}\nRequested by <@{}>; only they or an admin may answer. \
             Denied if nobody answers within {}.",
            requester.get(),
            minutes(self.approval_timeout())
        )
    }

    /// Posts the prompt in delivery order, and keeps its message id.
    fn post_prompt(&mut self, approval: ApprovalId, prompt: Outgoing, ctx: &mut Context<Self>) {
        let deps = self.deps.clone();
        self.deliver(
            async move { super::send_out(&deps, prompt).await },
            move |posted, act, ctx| {
                if let Some(p) = act.approvals.pending.get_mut(&approval) {
                    p.message = posted;
                }
                let closed = act.approvals.closed_early.remove(&approval);
                if let (Some(content), Some(message)) = (closed, posted) {
                    let channel = act.channel;
                    let close = Outgoing::ClosePrompt {
                        channel,
                        message,
                        content,
                    };
                    act.send_later(close, ctx);
                }
                if let Some(message) = posted {
                    let db = act.deps.db.clone();
                    act.store(ctx, "note an approval prompt's message", async move {
                        db.set_approval_message(&approval, message).await
                    });
                }
            },
            ctx,
        );
    }

    /// A click: the requester or an admin decides; anyone else is refused.
    pub(super) fn decide(
        &mut self,
        approval: &ApprovalId,
        choice: Choice,
        by: UserId,
        admin: bool,
        ctx: &mut Context<Self>,
    ) -> DecideReply {
        let Some(pending) = self.approvals.pending.get(approval) else {
            return DecideReply::Gone;
        };
        if pending.requester != by && !admin {
            return DecideReply::NotAllowed;
        }
        let Some(pending) = self.approvals.pending.get_mut(approval) else {
            return DecideReply::Gone;
        };
        let (permission, decision, verdict) =
            match pending
                .kind
                .click(choice, &pending.tool, &pending.input, by)
            {
                Click::Foreign => return DecideReply::Gone,
                Click::Noted(progress) => {
                    let content = format!("{}\n\n{progress}", pending.text);
                    return DecideReply::Noted { content };
                }
                Click::Decided {
                    permission,
                    decision,
                    verdict,
                } => (permission, decision, verdict),
            };
        let Some(pending) = self.approvals.pending.remove(approval) else {
            return DecideReply::Gone;
        };
        ctx.cancel_future(pending.timer);
        if let Permission::Allow {
            rule: Some(rule), ..
        } = &permission
            && !self.approvals.session_rules.contains(rule)
        {
            self.approvals.session_rules.push(rule.clone());
        }
        let _ = pending.answer.send(permission);
        self.record_decision(approval, decision, Some(by), ctx);
        self.resume_typing();
        DecideReply::Taken {
            content: format!("{}\n\n{verdict}", pending.text),
        }
    }

    /// Nobody answered in time: deny, and say so on the prompt.
    fn expire(&mut self, approval: &ApprovalId, ctx: &mut Context<Self>) {
        let Some(pending) = self.approvals.pending.remove(approval) else {
            return;
        };
        let waited = minutes(self.approval_timeout());
        let message = format!("Nobody answered within {waited}, so this tool call was not run.");
        let _ = pending.answer.send(Permission::Deny { message });
        let note = format!("⌛ Expired: nobody answered within {waited}.");
        self.close_prompt(approval, pending.message, &pending.text, &note, ctx);
        self.record_decision(approval, Decision::Expired, None, ctx);
        self.resume_typing();
    }

    /// The run `request` ended: prompts still open say so (their calls
    /// are moot).
    pub(super) fn close_prompts_of(&mut self, request: RequestId, ctx: &mut Context<Self>) {
        let ended: Vec<ApprovalId> = self
            .approvals
            .pending
            .iter()
            .filter(|(_, p)| p.request == request)
            .map(|(id, _)| id.clone())
            .collect();
        for approval in ended {
            if let Some(pending) = self.approvals.pending.remove(&approval) {
                ctx.cancel_future(pending.timer);
                let note = format!("⏹️ {RUN_ENDED}");
                self.close_prompt(&approval, pending.message, &pending.text, &note, ctx);
                self.record_decision(&approval, Decision::Cancelled, None, ctx);
            }
        }
    }

    /// Edits the prompt to its final text, without buttons; a prompt not
    /// posted yet is edited once Discord has taken it.
    fn close_prompt(
        &mut self,
        approval: &ApprovalId,
        message: Option<MessageId>,
        text: &str,
        note: &str,
        ctx: &mut Context<Self>,
    ) {
        let content = format!("{text}\n\n{note}");
        let Some(message) = message else {
            self.approvals
                .closed_early
                .insert(approval.clone(), content);
            return;
        };
        let close = Outgoing::ClosePrompt {
            channel: self.channel,
            message,
            content,
        };
        self.send_later(close, ctx);
    }

    fn record_decision(
        &mut self,
        approval: &ApprovalId,
        decision: Decision,
        by: Option<UserId>,
        ctx: &mut Context<Self>,
    ) {
        self.deps.metrics.approval(decision.as_str());
        let (db, approval) = (self.deps.db.clone(), approval.clone());
        self.store(ctx, "record an approval decision", async move {
            db.decide_approval(&approval, decision, by).await
        });
    }

    /// How many calls of the running request wait for an answer.
    pub(super) fn waiting_approvals(&self) -> usize {
        self.approvals.pending.len()
    }

    /// The last waiting call was answered: the run works again.
    fn resume_typing(&self) {
        if self.approvals.pending.is_empty() && self.in_flight.is_some() {
            self.deps.start_typing.do_send(StartTyping(self.channel));
        }
    }

    fn approval_timeout(&self) -> Duration {
        let config = self.settings();
        self.project_in(&config)
            .map_or(config.claude.approval_timeout, |p| {
                p.effective_approval_timeout(&config.claude)
            })
    }

    /// Where the running request works: paths in prompts are shown
    /// relative to it.
    fn project_path(&self) -> std::path::PathBuf {
        if let Some(running) = &self.in_flight {
            return running.folder.clone();
        }
        self.project_in(&self.settings())
            .map(|p| p.path.clone())
            .unwrap_or_default()
    }
}

fn minutes(d: Duration) -> String {
    match d.as_secs() {
        s if s % 60 == 0 && s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

impl Handler<Asked> for SessionActor {
    type Result = ();

    fn handle(&mut self, asked: Asked, ctx: &mut Self::Context) {
        self.on_asked(asked, ctx);
    }
}
