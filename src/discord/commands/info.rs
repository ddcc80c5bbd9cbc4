//! Read-only commands: /cost, /projects, /help.

use super::{CommandError, Ctx, NOT_MAPPED, here, is_admin, reply};
use crate::domain::UserId;

/// Show what Claude has cost in this channel and in its project
#[poise::command(slash_command, guild_only)]
pub async fn cost(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let Some((channel, project)) = here(ctx).await else {
        return reply(ctx, NOT_MAPPED, true).await;
    };
    let db = &ctx.data().db;
    let t = db.cost_totals(channel, &project.name).await?;
    let mut text = format!(
        "This channel: ${:.4} over {} request(s). Project **{}**: ${:.4} over {} request(s).",
        t.channel_cost_usd,
        t.channel_requests,
        project.name,
        t.project_cost_usd,
        t.project_requests
    );
    let config = ctx.data().config.current();
    let (user, admin) = (UserId::from(ctx.author().id), is_admin(ctx));
    if config.has_budgets(&project, admin) {
        let since = crate::db::start_of_day(chrono::Utc::now());
        let spend = db.spend_since(&since, &project.name, user).await?;
        for used in config.budget_uses(&project, admin, spend) {
            text.push_str(&format!(
                "\n{}: ${:.2} of ${:.2} spent today{} (resets at 00:00 UTC).",
                used.title(project.name.as_str()),
                used.spent_usd,
                used.limit_usd,
                if used.is_spent() { ", **spent**" } else { "" },
            ));
        }
    }
    reply(ctx, text, true).await
}

/// List the channels mapped to projects (folders are shown to admins only)
#[poise::command(slash_command, guild_only)]
pub async fn projects(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let admin = is_admin(ctx);
    let config = ctx.data().config.current();
    let lines: Vec<String> = config
        .projects
        .iter()
        .map(|p| {
            let folder = if admin {
                format!(" → `{}`", p.path.display())
            } else {
                String::new()
            };
            format!("• **{}** in <#{}>{folder}", p.name, p.channel_id)
        })
        .collect();
    reply(ctx, lines.join("\n"), true).await
}

/// How to use the bot
#[poise::command(slash_command)]
pub async fn help(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let text = "Mention me in a project channel (or a thread under it) with a request; \
                I run Claude Code in that project's folder and answer here. Each channel \
                and thread keeps its own conversation.\n\
                `/status` this channel's session · `/cancel` stop the running request · \
                `/reset` start a fresh conversation · `/file` fetch a file from the project · \
                `/cost` spending · `/projects` mapped \
                channels · `/model` set the model (admins) · `/add-project`, \
                `/remove-project` map or unmap this channel (admins).";
    reply(ctx, text, true).await
}
