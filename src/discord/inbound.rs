//! The Discord actor's inbound half: a gateway message is judged by
//! `intake::decide` and becomes a hint, a denial, a "restarting" reply or
//! a `Request` for the router (after its attachments are taken in).

use super::actor::DiscordActor;
use super::attachments::{self, Limits, prompt_with_files};
use super::intake::{Decision, decide, is_blank};
use super::messages::GatewayMessage;
use crate::actors::messages::{ErrorKind, ReportError, Request};
use crate::config::Project;
use crate::domain::{ChannelId, MessageId, RequestId};
use actix::prelude::*;

const RESTARTING: &str = "🔄 The bot is restarting. Send that again in a minute.";
const HINT: &str = "Mention me with what you want, e.g. `@bot explain src/main.rs`.";

impl Handler<GatewayMessage> for DiscordActor {
    type Result = ();

    fn handle(&mut self, msg: GatewayMessage, ctx: &mut Self::Context) {
        let Some(bot) = self.bot else {
            tracing::warn!("message before the gateway was ready; ignored");
            return;
        };
        let config = self.config.current();
        match decide(&msg, &config, bot) {
            Decision::Ignore { why } => {
                tracing::debug!(channel_id = msg.channel.get(), why, "message ignored");
            }
            Decision::Empty { .. } => self.reply(ctx, msg.channel, msg.id, HINT.into()),
            Decision::Deny { project } => self.deny(&msg, project, ctx),
            Decision::Accept { .. } if self.draining => {
                self.reply(ctx, msg.channel, msg.id, RESTARTING.into());
            }
            Decision::Accept { project, prompt } => {
                let request = Request {
                    id: RequestId::new(),
                    channel: msg.channel,
                    project: project.name.clone(),
                    user: msg.author,
                    message: msg.id,
                    prompt,
                    images: Vec::new(),
                    thread_name: msg.thread_name.clone(),
                };
                if msg.attachments.is_empty() {
                    self.router.do_send(request);
                } else {
                    self.take_in_then_submit(msg, project, request, ctx);
                }
            }
        }
    }
}

impl DiscordActor {
    fn deny(&mut self, msg: &GatewayMessage, project: &Project, ctx: &mut Context<Self>) {
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

    /// Saves the message's files in the project, tells the user which were
    /// refused, and submits the request naming the saved ones.
    fn take_in_then_submit(
        &mut self,
        msg: GatewayMessage,
        project: &Project,
        request: Request,
        ctx: &mut Context<Self>,
    ) {
        let (client, dir) = (self.downloads.clone(), project.path.clone());
        let config = self.config.current();
        let limits = Limits {
            text_bytes: config.discord.max_attachment_bytes,
            image_bytes: config.discord.max_image_bytes,
        };
        let intake = async move {
            attachments::take_in(&client, &dir, msg.id, &msg.attachments, limits).await
        };
        ctx.spawn(intake.into_actor(self).map(move |intake, act, ctx| {
            let (channel, reply_to): (ChannelId, MessageId) = (request.channel, request.message);
            if !intake.refused.is_empty() {
                let text = format!("📎 Not passed to Claude: {}", intake.refused.join("; "));
                act.reply(ctx, channel, reply_to, text);
            }
            if intake.saved.is_empty() && is_blank(&request.prompt) {
                return;
            }
            let prompt = prompt_with_files(&request.prompt, &intake.saved);
            let images = intake.images;
            act.router.do_send(Request {
                prompt,
                images,
                ..request
            });
        }));
    }
}
