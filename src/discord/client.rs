//! Builds the serenity client with poise's slash commands: REST through
//! DISCORD_API_BASE when set (with serenity's ratelimiter off, since its
//! requests would bypass the proxy), mentions off by default on every
//! message, only the intents the trigger needs (not GUILDS), and a cache
//! that keeps nothing but the bot's own user.

use super::actor::DiscordActor;
use super::commands::{self, BotData};
use super::handler::Handler;
use crate::config::{Config, SharedConfig, Trigger};
use crate::db::Db;
use crate::domain::DiscordToken;
use actix::Addr;
use anyhow::Context as _;
use serenity::all::{Client, ClientBuilder, CreateAllowedMentions, GatewayIntents, HttpBuilder};
use serenity::cache::Settings as CacheSettings;

pub struct ClientSetup<'a> {
    pub token: &'a DiscordToken,
    pub api_base: Option<&'a str>,
    pub config: SharedConfig,
    pub db: Db,
    pub discord: Addr<DiscordActor>,
    pub router: Addr<crate::actors::router::SessionRouter>,
    pub reloader: Addr<crate::actors::reloader::Reloader>,
}

pub fn intents(config: &Config) -> GatewayIntents {
    intents_for(config.discord.trigger)
}

/// GUILD_MESSAGES brings messages in channels and threads, and slash
/// commands need no intent. GUILDS is left out: its GUILD_CREATE carries
/// every channel and thread of the guild (a big guild's set the daemon's
/// peak memory), and nothing here reads it: serenity keeps the
/// bot's user from READY, poise sets up on READY, and a thread's parent
/// comes from REST.
pub fn intents_for(trigger: Trigger) -> GatewayIntents {
    let base = GatewayIntents::GUILD_MESSAGES;
    match trigger {
        // Messages that mention the bot carry their text without the
        // privileged intent; only "all" needs it.
        Trigger::Mention => base,
        Trigger::All => base | GatewayIntents::MESSAGE_CONTENT,
    }
}

/// The daemon reads only the bot's own user from the cache (stored from
/// READY whatever these say); a thread's parent comes from one REST call
/// either way, since serenity's `ChannelId::to_channel` does not look in
/// the guild cache. Caching guilds would hold every channel and thread of
/// the guild for nothing. Without the GUILDS intent no guild arrives; these
/// still hold should it be asked for again.
pub fn cache_settings() -> CacheSettings {
    let mut settings = CacheSettings::default();
    settings.cache_guilds = false;
    settings.cache_channels = false;
    settings.cache_users = false;
    settings.max_messages = 0;
    settings
}

pub async fn build(setup: ClientSetup<'_>) -> anyhow::Result<Client> {
    let config = setup.config.current();
    let deadline = config.discord.request_timeout;
    let mut http =
        HttpBuilder::new(setup.token.expose_secret()).client(super::retry::http_client(deadline));
    if let Some(base) = setup.api_base {
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let mut http = http.build();
    http.default_allowed_mentions = Some(CreateAllowedMentions::new());
    if let Some(base) = setup.api_base {
        // On this error serenity would fall back to Discord's own gateway,
        // bypassing the base the operator chose: fail here instead.
        http.get_gateway()
            .await
            .map_err(|e| gateway_probe_error(base, e))?;
    }
    let data = BotData {
        config: setup.config.clone(),
        db: setup.db,
        router: setup.router.clone(),
        reloader: setup.reloader,
    };
    let framework = commands::framework(data, config.discord.guild_id);
    let handler = Handler {
        discord: setup.discord,
        config: setup.config.clone(),
        router: setup.router,
    };
    ClientBuilder::new_with_http(http, intents(&config))
        .cache_settings(cache_settings())
        .framework(framework)
        .event_handler(handler)
        .await
        .context("cannot build the Discord client")
}

/// A refused token says so; anything else points at the base URL.
fn gateway_probe_error(base: &str, error: serenity::Error) -> anyhow::Error {
    use serenity::http::HttpError;
    if let serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) = &error {
        let status = response.status_code.as_u16();
        if status == 401 || status == 403 {
            return anyhow::anyhow!(
                "Discord (through DISCORD_API_BASE {base}) refused DISCORD_TOKEN with {status}; copy the bot token again from the developer portal"
            );
        }
    }
    anyhow::Error::new(error).context(format!(
        "DISCORD_API_BASE {base} did not answer GET /api/v10/gateway"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemon_never_asks_for_the_guilds_intent() {
        for trigger in [Trigger::Mention, Trigger::All] {
            let intents = intents_for(trigger);
            assert!(!intents.contains(GatewayIntents::GUILDS), "{trigger:?}");
            assert!(
                intents.contains(GatewayIntents::GUILD_MESSAGES),
                "{trigger:?}"
            );
        }
    }

    #[test]
    fn only_trigger_all_asks_for_message_content() {
        assert_eq!(
            intents_for(Trigger::Mention),
            GatewayIntents::GUILD_MESSAGES
        );
        assert_eq!(
            intents_for(Trigger::All),
            GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT
        );
    }
}
