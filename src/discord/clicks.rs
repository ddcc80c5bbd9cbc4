//! Clicks on the buttons of approval prompts: which prompt and choice,
//! who clicked, handed to the channel's session as `Decide`, and
//! acknowledged at once: with the prompt's new text and no buttons when
//! the answer was taken, else with an ephemeral reply saying why not.

use crate::actors::messages::{CommandReply, DecideReply, SessionCommand, ToSession};
use crate::actors::router::SessionRouter;
use crate::config::Config;
use crate::domain::{ApprovalId, ChannelId, UserId};
use actix::Addr;
use serenity::all::{
    ComponentInteraction, Context, CreateAllowedMentions, CreateInteractionResponse,
    CreateInteractionResponseMessage,
};

const NOT_A_PROMPT: &str = "This button is no longer in use.";
const NOT_ALLOWED: &str =
    "Only the person whose message started this request, or a bot admin, can answer it.";
const GONE: &str = "This request has already finished, or its question was answered.";
const UNAVAILABLE: &str = "The bot could not reach this channel's session; try again in a moment.";

pub async fn on_click(
    ctx: &Context,
    click: &ComponentInteraction,
    config: &Config,
    router: &Addr<SessionRouter>,
) {
    let response = match decide(ctx, click, config, router).await {
        Ok(DecideReply::Taken { content }) => CreateInteractionResponse::UpdateMessage(
            CreateInteractionResponseMessage::new()
                .content(content)
                .components(Vec::new())
                .allowed_mentions(CreateAllowedMentions::new()),
        ),
        Ok(DecideReply::Noted { content }) => CreateInteractionResponse::UpdateMessage(
            CreateInteractionResponseMessage::new()
                .content(content)
                .allowed_mentions(CreateAllowedMentions::new()),
        ),
        Ok(DecideReply::NotAllowed) => ephemeral(NOT_ALLOWED),
        Ok(DecideReply::Gone) => ephemeral(GONE),
        Err(text) => ephemeral(text),
    };
    if let Err(e) = click.create_response(&ctx.http, response).await {
        tracing::warn!(channel_id = click.channel_id.get(), error = %e, "cannot answer a button click");
    }
}

async fn decide(
    ctx: &Context,
    click: &ComponentInteraction,
    config: &Config,
    router: &Addr<SessionRouter>,
) -> Result<DecideReply, &'static str> {
    let (approval, choice) = ApprovalId::parse_button(&click.data.custom_id).ok_or(NOT_A_PROMPT)?;
    let channel = ChannelId::from(click.channel_id);
    // None after a reload removed the project: its running request may
    // still be waiting for this answer.
    let project = super::handler::project_here(ctx, config, click.channel_id)
        .await
        .map(|p| p.name.clone());
    let removed = project.is_none();
    let by = UserId::from(click.user.id);
    let command = SessionCommand::Decide {
        approval,
        choice,
        by,
        admin: config.discord.is_admin(by),
    };
    let asked = ToSession {
        channel,
        project,
        command,
    };
    match router.send(asked).await {
        Ok(Ok(CommandReply::Decided(reply))) => Ok(reply),
        // No session lives in an unmapped channel: nothing waits there.
        Ok(Err(_)) if removed => Err(GONE),
        _ => Err(UNAVAILABLE),
    }
}

fn ephemeral(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(text)
            .ephemeral(true),
    )
}
