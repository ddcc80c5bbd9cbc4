//! The serenity event handler: hands the Discord actor the REST client once
//! the gateway is ready, every guild message as plain data, and button
//! clicks to `clicks`.

use super::actor::DiscordActor;
use super::messages::{Connected, GatewayAttachment, GatewayMessage};
use crate::config::{Config, SharedConfig, Trigger};
use crate::domain::ChannelId;
use actix::Addr;
use serenity::all::{Channel, Context, EventHandler, Interaction, Message, Ready};

pub struct Handler {
    pub discord: Addr<DiscordActor>,
    pub config: SharedConfig,
    pub router: Addr<crate::actors::router::SessionRouter>,
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
            bot: ready.user.id.into(),
        });
    }

    /// Slash commands are poise's; a button click is an approval's.
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Component(click) = interaction {
            super::clicks::on_click(&ctx, &click, &self.config.current(), &self.router).await;
        }
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot || msg.guild_id.is_none() {
            return;
        }
        let bot = ctx.cache.current_user().id;
        let mentions_bot = msg.mentions.iter().any(|u| u.id == bot);
        let channel = ChannelId::from(msg.channel_id);
        let config = self.config.current();
        let mapped = config.project_for_channel(channel).is_some();
        // Only a message that could be for us is worth a channel lookup.
        let parent = if mapped || (config.discord.trigger == Trigger::Mention && !mentions_bot) {
            None
        } else {
            thread_of(&ctx, msg.channel_id).await
        };
        self.discord
            .do_send(gateway_message(&msg, parent, mentions_bot));
    }
}

/// The project of a mapped channel, or of the channel a thread lives
/// under (one REST call for a channel that is not mapped itself).
pub async fn project_here<'a>(
    ctx: &impl serenity::all::CacheHttp,
    config: &'a Config,
    channel: serenity::all::ChannelId,
) -> Option<&'a crate::config::Project> {
    if let Some(project) = config.project_for_channel(channel.into()) {
        return Some(project);
    }
    let parent = thread_parent(ctx, channel).await?;
    config.project_for_channel(parent)
}

/// The channel a thread lives under, from the cache or one REST call.
pub async fn thread_parent(
    ctx: &impl serenity::all::CacheHttp,
    channel: serenity::all::ChannelId,
) -> Option<ChannelId> {
    thread_of(ctx, channel).await.map(|(parent, _)| parent)
}

/// A thread's parent channel and its name, from one REST call.
async fn thread_of(
    ctx: &impl serenity::all::CacheHttp,
    channel: serenity::all::ChannelId,
) -> Option<(ChannelId, String)> {
    match channel.to_channel(ctx).await {
        Ok(Channel::Guild(c)) if c.thread_metadata.is_some() => {
            c.parent_id.map(|p| (ChannelId::from(p), c.name.clone()))
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(channel_id = channel.get(), error = %e, "cannot look up channel");
            None
        }
    }
}

fn gateway_message(
    msg: &Message,
    thread: Option<(ChannelId, String)>,
    mentions_bot: bool,
) -> GatewayMessage {
    let (parent, thread_name) = thread.unzip();
    GatewayMessage {
        id: msg.id.into(),
        channel: msg.channel_id.into(),
        parent,
        thread_name,
        guild: msg.guild_id.map(Into::into),
        author: msg.author.id.into(),
        author_is_bot: msg.author.bot,
        roles: msg
            .member
            .as_ref()
            .map(|m| m.roles.iter().copied().map(Into::into).collect())
            .unwrap_or_default(),
        mentions_bot,
        content: msg.content.clone(),
        attachments: msg
            .attachments
            .iter()
            .map(|a| GatewayAttachment {
                filename: a.filename.clone(),
                size: u64::from(a.size),
                url: a.url.clone(),
                content_type: a.content_type.clone(),
            })
            .collect(),
    }
}
