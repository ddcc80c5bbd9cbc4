//! DiscordActor: the serenity side of the pipeline. Turns gateway messages
//! into requests for the router (see `inbound`) and carries out every
//! `Outgoing` through serenity's REST client, with mentions disabled. A
//! refusal is returned to whoever awaits the `Outgoing`, who reports it
//! with an error id (once); refused typing is only a warning; it never
//! stops the actor.
//!
//! Handles: `GatewayMessage` (in `inbound`), `Outgoing`, `AskThread`,
//! `Connected`, `Announce`, `BeginShutdown`.

use super::attachments;
use super::messages::{Announce, BeginShutdown, Connected};
use super::rest::{deliver, what};
use crate::actors::messages::{
    AskThread, ErrorKind, Outgoing, OutgoingError, ReportError, ThreadIs,
};
use crate::actors::router::SessionRouter;
use crate::config::SharedConfig;
use crate::domain::{ChannelId, MessageId, UserId};
use crate::telemetry::metrics::Metrics;
use actix::prelude::*;
use serenity::all::Http;
use std::sync::Arc;

pub struct DiscordActor {
    pub(super) config: SharedConfig,
    pub(super) router: Addr<SessionRouter>,
    pub(super) errors: Recipient<ReportError>,
    http: Option<Arc<Http>>,
    pub(super) bot: Option<UserId>,
    pub(super) downloads: reqwest::Client,
    /// Notices waiting for the gateway to be ready.
    pending: Vec<Announce>,
    pub(super) draining: bool,
    metrics: Arc<Metrics>,
}

impl DiscordActor {
    pub fn new(
        config: SharedConfig,
        router: Addr<SessionRouter>,
        errors: Recipient<ReportError>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            config,
            router,
            errors,
            metrics,
            http: None,
            bot: None,
            downloads: attachments::download_client(attachments::DOWNLOAD_TIMEOUT),
            pending: Vec::new(),
            draining: false,
        }
    }

    pub(super) fn reply(
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
        let post = Outgoing::Post {
            channel,
            content,
            reply_to,
            attachment: None,
            notify: self.config.current().discord.notify_requester,
        };
        self.send_own(ctx, post);
    }

    fn send_own(&self, ctx: &mut Context<Self>, post: Outgoing) {
        let channel = post.channel();
        let Some(http) = self.http.clone() else {
            tracing::warn!(channel_id = channel.get(), "not connected; message dropped");
            return;
        };
        let (errors, metrics) = (self.errors.clone(), self.metrics.clone());
        ctx.spawn(
            async move {
                if let Err(e) = deliver(&http, post, &metrics).await {
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
        for Announce(msg) in std::mem::take(&mut self.pending) {
            self.send_own(ctx, msg);
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
        self.send_own(ctx, msg.0);
    }
}

impl Handler<BeginShutdown> for DiscordActor {
    type Result = ();

    fn handle(&mut self, _: BeginShutdown, _: &mut Self::Context) {
        self.draining = true;
    }
}

/// The sender of an `Outgoing` that awaits the result reports a refusal
/// (with an error id, once); typing is advisory and nobody awaits it, so
/// here a refusal is only a warning.
impl Handler<Outgoing> for DiscordActor {
    type Result = ResponseFuture<Result<Option<MessageId>, OutgoingError>>;

    fn handle(&mut self, msg: Outgoing, _: &mut Self::Context) -> Self::Result {
        let (http, metrics) = (self.http.clone(), self.metrics.clone());
        Box::pin(async move {
            let Some(http) = http else {
                return Err(OutgoingError {
                    detail: "not connected to Discord yet".into(),
                });
            };
            let (channel, what) = (msg.channel(), what(&msg));
            deliver(&http, msg, &metrics).await.map_err(|e| {
                tracing::warn!(channel_id = channel.get(), what, error = %e, "Discord refused a request");
                OutgoingError {
                    detail: e.to_string(),
                }
            })
        })
    }
}

impl Handler<AskThread> for DiscordActor {
    type Result = ResponseFuture<ThreadIs>;

    fn handle(&mut self, AskThread(thread): AskThread, _: &mut Self::Context) -> Self::Result {
        let http = self.http.clone();
        Box::pin(async move {
            let Some(http) = http else {
                return ThreadIs::Unknown;
            };
            super::rest::thread_state(&http, thread).await
        })
    }
}
