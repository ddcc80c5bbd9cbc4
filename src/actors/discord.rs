//! DiscordActor: the serenity side of the pipeline. Turns gateway messages
//! into requests for the router (after the trigger, authorization and
//! attachment rules) and carries out every `Outgoing` through serenity's
//! REST client, with mentions disabled. A refusal is returned to whoever
//! awaits the `Outgoing`, who reports it with an error id (once); refused
//! typing is only a warning; it never stops the actor.
//!
//! Handles: `Inbound`, `Outgoing`, `Connected`, `Announce`, `BeginShutdown`.

use super::messages::{
    Announce, BeginShutdown, Connected, ErrorKind, Inbound, IncomingRequest, OutboxError, Outgoing,
    ReportError, Submit,
};
use super::router::SessionRouter;
use crate::config::Config;
use crate::discord::attachments::{self, prompt_with_files};
use crate::discord::intake::{Decision, decide};
use crate::discord::rest::{send, what};
use crate::domain::{ChannelId, MessageId, RequestId, UserId};
use actix::prelude::*;
use serenity::all::Http;
use std::sync::Arc;

pub struct DiscordActor {
    config: Arc<Config>,
    router: Addr<SessionRouter>,
    errors: Recipient<ReportError>,
    http: Option<Arc<Http>>,
    bot: Option<UserId>,
    downloads: reqwest::Client,
    /// Notices waiting for the gateway to be ready.
    pending: Vec<Announce>,
    draining: bool,
}

const RESTARTING: &str = "🔄 The bot is restarting. Send that again in a minute.";

impl DiscordActor {
    pub fn new(
        config: Arc<Config>,
        router: Addr<SessionRouter>,
        errors: Recipient<ReportError>,
    ) -> Self {
        Self {
            config,
            router,
            errors,
            http: None,
            bot: None,
            downloads: attachments::download_client(attachments::DOWNLOAD_TIMEOUT),
            pending: Vec::new(),
            draining: false,
        }
    }

    fn reply(
        &self,
        ctx: &mut Context<Self>,
        channel: ChannelId,
        reply_to: MessageId,
        content: String,
    ) {
        self.post_own(ctx, channel, content, Some(reply_to));
    }

    /// A message of the actor's own (hint, denial, notice). Nobody awaits
    /// it, so a refusal is reported here, with an error id.
    fn post_own(
        &self,
        ctx: &mut Context<Self>,
        channel: ChannelId,
        content: String,
        reply_to: Option<MessageId>,
    ) {
        let Some(http) = self.http.clone() else {
            tracing::warn!(channel_id = channel.get(), "not connected; message dropped");
            return;
        };
        let errors = self.errors.clone();
        let post = Outgoing::Post {
            channel,
            content,
            reply_to,
            attachment: None,
        };
        ctx.spawn(
            async move {
                if let Err(e) = send(&http, post).await {
                    let report = ReportError {
                        kind: ErrorKind::DiscordError,
                        channel: Some(channel),
                        request: None,
                        detail: e.to_string(),
                    };
                    let _ = errors.send(report).await;
                }
            }
            .into_actor(self),
        );
    }
}

impl Actor for DiscordActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Every session posts through here; a full mailbox must never drop
        // an answer.
        ctx.set_mailbox_capacity(4096);
    }
}

impl Handler<Connected> for DiscordActor {
    type Result = ();

    fn handle(&mut self, msg: Connected, ctx: &mut Self::Context) {
        self.http = Some(msg.http);
        self.bot = Some(msg.bot);
        for Announce { channel, content } in std::mem::take(&mut self.pending) {
            self.post_own(ctx, channel, content, None);
        }
    }
}

impl Handler<Announce> for DiscordActor {
    type Result = ();

    fn handle(&mut self, msg: Announce, ctx: &mut Self::Context) {
        if self.http.is_none() {
            self.pending.push(msg);
            return;
        }
        self.post_own(ctx, msg.channel, msg.content, None);
    }
}

impl Handler<BeginShutdown> for DiscordActor {
    type Result = ();

    fn handle(&mut self, _: BeginShutdown, _: &mut Self::Context) {
        self.draining = true;
    }
}

impl Handler<Inbound> for DiscordActor {
    type Result = ();

    fn handle(&mut self, Inbound(msg): Inbound, ctx: &mut Self::Context) {
        let Some(bot) = self.bot else {
            tracing::warn!("message before the gateway was ready; ignored");
            return;
        };
        match decide(&msg, &self.config, bot) {
            Decision::Ignore { why } => {
                tracing::debug!(channel_id = msg.channel.get(), why, "message ignored");
            }
            Decision::Empty { .. } => {
                let hint = "Mention me with what you want, e.g. `@bot explain src/main.rs`.".into();
                self.reply(ctx, msg.channel, msg.id, hint);
            }
            Decision::Deny { project } => {
                tracing::warn!(
                    channel_id = msg.channel.get(),
                    user_id = msg.author.get(),
                    project = %project.name,
                    "user may not run Claude here"
                );
                let report = ReportError {
                    kind: ErrorKind::PermissionError,
                    channel: Some(msg.channel),
                    request: None,
                    detail: format!(
                        "user {} is not in allowed_users or allowed_roles",
                        msg.author
                    ),
                };
                let errors = self.errors.clone();
                let (channel, reply_to) = (msg.channel, msg.id);
                ctx.spawn(
                    async move { errors.send(report).await.ok() }
                        .into_actor(self)
                        .map(move |reported, act, ctx| {
                            if let Some(r) = reported {
                                act.reply(ctx, channel, reply_to, r.user_text);
                            }
                        }),
                );
            }
            Decision::Accept { .. } if self.draining => {
                self.reply(ctx, msg.channel, msg.id, RESTARTING.into());
            }
            Decision::Accept { project, prompt } => {
                let request = IncomingRequest {
                    id: RequestId::new(),
                    channel: msg.channel,
                    project: project.name.clone(),
                    user: msg.author,
                    message: msg.id,
                    prompt,
                };
                if msg.attachments.is_empty() {
                    self.router.do_send(Submit(request));
                    return;
                }
                let (client, dir) = (self.downloads.clone(), project.path.clone());
                let limit = self.config.discord.max_attachment_bytes;
                let intake = async move {
                    attachments::take_in(&client, &dir, msg.id, &msg.attachments, limit).await
                };
                ctx.spawn(intake.into_actor(self).map(move |intake, act, ctx| {
                    let (channel, reply_to) = (request.channel, request.message);
                    if !intake.refused.is_empty() {
                        let text = format!(
                            "📎 Not passed to Claude (only text files up to the size limit are): {}",
                            intake.refused.join("; ")
                        );
                        act.reply(ctx, channel, reply_to, text);
                    }
                    if intake.saved.is_empty() && crate::discord::intake::is_blank(&request.prompt) {
                        return;
                    }
                    let prompt = prompt_with_files(&request.prompt, &intake.saved);
                    act.router.do_send(Submit(IncomingRequest { prompt, ..request }));
                }));
            }
        }
    }
}

/// The sender of an `Outgoing` that awaits the result reports a refusal
/// (with an error id, once); typing is advisory and nobody awaits it, so
/// here a refusal is only a warning.
impl Handler<Outgoing> for DiscordActor {
    type Result = ResponseFuture<Result<Option<MessageId>, OutboxError>>;

    fn handle(&mut self, msg: Outgoing, _: &mut Self::Context) -> Self::Result {
        let http = self.http.clone();
        Box::pin(async move {
            let Some(http) = http else {
                return Err(OutboxError {
                    detail: "not connected to Discord yet".into(),
                });
            };
            let (channel, what) = (msg.channel(), what(&msg));
            send(&http, msg).await.map_err(|e| {
                tracing::warn!(channel_id = channel.get(), what, error = %e, "Discord refused a request");
                OutboxError {
                    detail: e.to_string(),
                }
            })
        })
    }
}
