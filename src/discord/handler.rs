//! The serenity event handler: hands the Discord actor the REST client once
//! the gateway is ready, and every guild message as plain data.

use crate::actors::discord::DiscordActor;
use crate::actors::messages::{Connected, Inbound, InboundAttachment, InboundMessage};
use crate::config::{Config, Trigger};
use crate::domain::{ChannelId, GuildId, MessageId, RoleId, UserId};
use actix::Addr;
use serenity::all::{Channel, Context, EventHandler, Message, Ready};
use std::sync::Arc;

pub struct Handler {
    pub discord: Addr<DiscordActor>,
    pub config: Arc<Config>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(
            bot_user_id = ready.user.id.get(),
            guilds = ready.guilds.len(),
            "connected to Discord"
        );
        self.discord.do_send(Connected {
            http: ctx.http.clone(),
            bot: UserId(ready.user.id.get()),
        });
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot || msg.guild_id.is_none() {
            return;
        }
        let bot = ctx.cache.current_user().id;
        let mentions_bot = msg.mentions.iter().any(|u| u.id == bot);
        let channel = ChannelId(msg.channel_id.get());
        let mapped = self.config.project_for_channel(channel).is_some();
        // Only a message that could be for us is worth a channel lookup.
        let parent = if mapped || (self.config.discord.trigger == Trigger::Mention && !mentions_bot)
        {
            None
        } else {
            thread_parent(&ctx, msg.channel_id).await
        };
        self.discord
            .do_send(Inbound(to_inbound(&msg, parent, mentions_bot)));
    }
}

/// The channel a thread lives under, from the cache or one REST call.
pub async fn thread_parent(
    ctx: &impl serenity::all::CacheHttp,
    channel: serenity::all::ChannelId,
) -> Option<ChannelId> {
    match channel.to_channel(ctx).await {
        Ok(Channel::Guild(c)) if c.thread_metadata.is_some() => {
            c.parent_id.map(|p| ChannelId(p.get()))
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(channel_id = channel.get(), error = %e, "cannot look up channel");
            None
        }
    }
}

fn to_inbound(msg: &Message, parent: Option<ChannelId>, mentions_bot: bool) -> InboundMessage {
    InboundMessage {
        id: MessageId(msg.id.get()),
        channel: ChannelId(msg.channel_id.get()),
        parent,
        guild: msg.guild_id.map(|g| GuildId(g.get())),
        author: UserId(msg.author.id.get()),
        author_is_bot: msg.author.bot,
        roles: msg
            .member
            .as_ref()
            .map(|m| m.roles.iter().map(|r| RoleId(r.get())).collect())
            .unwrap_or_default(),
        mentions_bot,
        content: msg.content.clone(),
        attachments: msg
            .attachments
            .iter()
            .map(|a| InboundAttachment {
                filename: a.filename.clone(),
                size: u64::from(a.size),
                url: a.url.clone(),
                content_type: a.content_type.clone(),
            })
            .collect(),
    }
}
