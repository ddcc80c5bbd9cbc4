//! Slash commands through poise, registered at start: in `guild_id` when
//! set (instant), else globally. Replies that concern only the caller are
//! ephemeral; failures are logged with an error id and answered generically.

mod admin;
mod files;
mod info;
mod session;

use crate::actors::error_reporter::report_error;
use crate::actors::messages::{ErrorKind, ReportError};
use crate::actors::router::SessionRouter;
use crate::config::{Project, SharedConfig};
use crate::db::Db;
use crate::domain::{ChannelId, GuildId, UserId};
use actix::Addr;

/// What every command can reach.
pub struct BotData {
    pub config: SharedConfig,
    pub db: Db,
    pub router: Addr<SessionRouter>,
    pub reloader: Addr<crate::actors::reloader::Reloader>,
}

pub type CommandError = anyhow::Error;
pub type Ctx<'a> = poise::Context<'a, BotData, CommandError>;

pub fn all() -> Vec<poise::Command<BotData, CommandError>> {
    vec![
        session::status(),
        session::reset(),
        session::cancel(),
        session::model(),
        session::worktree(),
        info::cost(),
        info::projects(),
        info::help(),
        files::file(),
        admin::add_project(),
        admin::remove_project(),
    ]
}

pub fn framework(data: BotData, guild: Option<GuildId>) -> poise::Framework<BotData, CommandError> {
    poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: all(),
            on_error: |error| Box::pin(on_error(error)),
            prefix_options: prefix_options(),
            ..Default::default()
        })
        .initialize_owners(false)
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                // A failed registration must not fail setup: poise would
                // then leave every later command hanging.
                let commands = &framework.options().commands;
                let registered = match guild {
                    Some(g) => {
                        let g = serenity::all::GuildId::from(g);
                        poise::builtins::register_in_guild(ctx, commands, g).await
                    }
                    None => poise::builtins::register_globally(ctx, commands).await,
                };
                match registered {
                    Ok(()) => tracing::info!(
                        commands = commands.len(),
                        guild_id = guild.map(|g| g.get()),
                        "slash commands registered"
                    ),
                    Err(e) => tracing::error!(error = %e, "cannot register slash commands"),
                }
                Ok(data)
            })
        })
        .build()
}

/// No prefix commands: poise would otherwise take every mention of the bot
/// for one and log the rest of the message (the user's prompt) as an
/// unknown command.
fn prefix_options() -> poise::PrefixFrameworkOptions<BotData, CommandError> {
    poise::PrefixFrameworkOptions {
        prefix: None,
        mention_as_prefix: false,
        ..Default::default()
    }
}

async fn on_error(error: poise::FrameworkError<'_, BotData, CommandError>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            let reported = report_error(&ReportError {
                kind: ErrorKind::SessionError,
                channel: Some(ctx.channel_id().into()),
                request: None,
                detail: format!("/{}: {error:#}", ctx.command().name),
            });
            let _ = reply(ctx, reported.user_text, true).await;
        }
        // poise answers neither of these, and Discord then shows "This
        // interaction failed": every interaction gets a reply within 3 s.
        poise::FrameworkError::UnknownInteraction {
            framework,
            interaction,
            ..
        } => {
            let ctx = framework.serenity_context;
            tracing::warn!(command = %interaction.data.name, "unknown slash command");
            let answer = serenity::all::CreateInteractionResponse::Message(
                serenity::all::CreateInteractionResponseMessage::new()
                    .content(UNKNOWN_COMMAND)
                    .ephemeral(true),
            );
            if let Err(e) = interaction.create_response(ctx, answer).await {
                tracing::warn!(error = %e, "cannot answer an unknown slash command");
            }
        }
        poise::FrameworkError::CommandStructureMismatch {
            ctx, description, ..
        } => {
            tracing::warn!(command = %ctx.command().name, description, "slash command options did not match");
            let _ = reply(poise::Context::Application(ctx), BAD_OPTIONS, true).await;
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!(error = %e, "cannot handle a command error");
            }
        }
    }
}

/// Discord forgets an interaction it has no answer to within 3 s. A
/// command whose work may take longer (a session making a worktree or
/// looking its thread up, a reload) waits this long, then defers: the user
/// sees "thinking…", and the answer follows within 15 minutes.
const DEFER_AFTER: std::time::Duration = std::time::Duration::from_millis(1500);

/// Awaits `work`, deferring the reply if it is not done by `DEFER_AFTER`;
/// `ephemeral` must be how the answer will be sent, as a deferred reply
/// keeps the visibility it was deferred with.
async fn in_time<T>(
    ctx: Ctx<'_>,
    ephemeral: bool,
    work: impl std::future::Future<Output = T>,
) -> Result<T, CommandError> {
    tokio::pin!(work);
    if let Ok(done) = tokio::time::timeout(DEFER_AFTER, &mut work).await {
        return Ok(done);
    }
    if ephemeral {
        ctx.defer_ephemeral().await?;
    } else {
        ctx.defer().await?;
    }
    Ok(work.await)
}

/// Sends a reply, ephemeral when it concerns only the caller.
async fn reply(ctx: Ctx<'_>, text: impl Into<String>, ephemeral: bool) -> Result<(), CommandError> {
    let reply = poise::CreateReply::default()
        .content(text)
        .ephemeral(ephemeral)
        .allowed_mentions(serenity::all::CreateAllowedMentions::new());
    ctx.send(reply).await?;
    Ok(())
}

/// This channel (or thread) and its project; `None` outside mapped ones.
async fn here(ctx: Ctx<'_>) -> Option<(ChannelId, Project)> {
    let channel = ChannelId::from(ctx.channel_id());
    let config = ctx.data().config.current();
    super::handler::project_here(&ctx.serenity_context(), &config, ctx.channel_id())
        .await
        .map(|p| (channel, p.clone()))
}

const NOT_MAPPED: &str = "This channel is not mapped to a project.";
const UNKNOWN_COMMAND: &str = "I don't know that command (the bot's commands may have just changed). Type / to see the current ones.";
const BAD_OPTIONS: &str =
    "That command's options did not match what the bot expects. Type / and pick the command again.";

fn caller(ctx: Ctx<'_>) -> UserId {
    ctx.author().id.into()
}

/// Whether the caller may run Claude in `project` (by user or role).
async fn may_run_claude(ctx: Ctx<'_>, project: &Project) -> bool {
    let roles: Vec<crate::domain::RoleId> = ctx
        .author_member()
        .await
        .map(|m| m.roles.iter().copied().map(Into::into).collect())
        .unwrap_or_default();
    let config = ctx.data().config.current();
    project.is_user_allowed(&config.discord, caller(ctx), &roles)
}

fn is_admin(ctx: Ctx<'_>) -> bool {
    ctx.data().config.current().discord.is_admin(caller(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_not_taken_for_prefix_commands() {
        let options = prefix_options();
        assert!(!options.mention_as_prefix);
        assert!(options.prefix.is_none());
        assert!(options.additional_prefixes.is_empty());
        assert!(options.dynamic_prefix.is_none());
    }
}
