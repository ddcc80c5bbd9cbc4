//! Commands on this channel's session: /status, /reset, /cancel, /model,
//! /worktree remove. Each waits for its session at most `DEFER_AFTER`
//! before deferring its reply.

use super::{
    CommandError, Ctx, NOT_MAPPED, caller, here, in_time, is_admin, may_run_claude, reply,
};
use crate::actors::messages::{
    CancelReply, CommandReply, SessionCommand, SessionStatus, ToSession, WorktreeReply,
};
use std::time::Duration;

/// The session's answer to `command`; `ephemeral`: how the reply will be
/// sent, should it have to be deferred.
async fn ask(
    ctx: Ctx<'_>,
    command: SessionCommand,
    ephemeral: bool,
) -> Result<Option<CommandReply>, CommandError> {
    let Some((channel, project)) = here(ctx).await else {
        reply(ctx, NOT_MAPPED, true).await?;
        return Ok(None);
    };
    let msg = ToSession {
        channel,
        project: Some(project.name.clone()),
        command,
    };
    let answer = in_time(ctx, ephemeral, ctx.data().router.send(msg)).await?;
    Ok(Some(answer??))
}

/// Show this channel's Claude session: project, session, messages, cost, queue
#[poise::command(slash_command, guild_only)]
pub async fn status(ctx: Ctx<'_>) -> Result<(), CommandError> {
    if let Some(CommandReply::Status(s)) = ask(ctx, SessionCommand::Status, true).await? {
        reply(ctx, describe(&s), true).await?;
    }
    Ok(())
}

pub fn describe(s: &SessionStatus) -> String {
    let session = s
        .session_short
        .as_deref()
        .map_or("none yet".to_string(), |id| format!("`{id}`"));
    let running = match (s.running_for, s.waiting_approvals) {
        (None, _) if s.warm => {
            "idle, Claude warm (the next message skips its start-up)".to_string()
        }
        (None, _) => "idle".to_string(),
        (Some(d), 0) => format!("running for {}", short(d)),
        (Some(d), n) => format!(
            "running for {}, waiting for approval of {n} tool call(s)",
            short(d)
        ),
    };
    let branch = s
        .branch
        .as_deref()
        .map_or(String::new(), |b| format!(" · branch `{b}`"));
    format!(
        "**{}** · session {session} · {} message(s) · ${:.4} · {} queued · {running} · model {}{branch}",
        s.project,
        s.message_count,
        s.total_cost_usd,
        s.queue_len,
        s.model.as_deref().unwrap_or("default"),
    )
}

fn short(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// Forget this channel's Claude session; the next message starts fresh
#[poise::command(slash_command, guild_only)]
pub async fn reset(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let may = is_admin(ctx)
        || ctx
            .author_member()
            .await
            .and_then(|m| m.permissions)
            .is_some_and(|p| p.manage_messages());
    if !may {
        return reply(
            ctx,
            "Resetting needs the Manage Messages permission or bot admin rights.",
            true,
        )
        .await;
    }
    if let Some(CommandReply::Reset { had_session }) =
        ask(ctx, SessionCommand::Reset, false).await?
    {
        let text = if had_session {
            "🧹 Session reset: the next message starts a fresh conversation."
        } else {
            "There was no session to reset; the next message starts a fresh conversation."
        };
        reply(ctx, text, false).await?;
    }
    Ok(())
}

/// Stop the running Claude request (yours, or anyone's for admins), else your queued one
#[poise::command(slash_command, guild_only)]
pub async fn cancel(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let command = SessionCommand::Cancel {
        by: caller(ctx),
        admin: is_admin(ctx),
    };
    if let Some(CommandReply::Cancel(outcome)) = ask(ctx, command, true).await? {
        let text = match outcome {
            CancelReply::Running => "Cancelling the running request…",
            CancelReply::Queued => "Your queued request was cancelled before it ran.",
            CancelReply::Nothing => "Nothing is running in this channel.",
            CancelReply::NotAllowed => {
                "The running request is someone else's; only they or an admin can cancel it."
            }
        };
        reply(ctx, text, true).await?;
    }
    Ok(())
}

/// Set the Claude model for this channel (admins); "default" goes back to the project's
#[poise::command(slash_command, guild_only)]
pub async fn model(
    ctx: Ctx<'_>,
    #[description = "A model alias or id, e.g. sonnet or opus; \"default\" clears the override"]
    name: String,
) -> Result<(), CommandError> {
    if !is_admin(ctx) {
        return reply(ctx, "Only bot admins can change the model.", true).await;
    }
    let name = name.trim();
    let valid = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '[' | ']'));
    if !valid {
        return reply(
            ctx,
            "That is not a model name: use letters, digits, `-`, `.` or `_`, e.g. `sonnet`.",
            true,
        )
        .await;
    }
    let model = (name != "default").then(|| name.to_string());
    if let Some(CommandReply::ModelSet { model }) =
        ask(ctx, SessionCommand::SetModel(model), false).await?
    {
        let text = match model {
            Some(m) => format!("Model for this channel set to `{m}`."),
            None => "Model override cleared: this channel uses the project's model.".into(),
        };
        reply(ctx, text, false).await?;
    }
    Ok(())
}

/// This thread's git worktree
#[poise::command(slash_command, guild_only, subcommands("worktree_remove"))]
pub async fn worktree(_ctx: Ctx<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Remove this thread's worktree and branch, if nothing in them would be lost
#[poise::command(slash_command, guild_only, rename = "remove")]
pub async fn worktree_remove(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let Some((_, project)) = here(ctx).await else {
        return reply(ctx, NOT_MAPPED, true).await;
    };
    if !is_admin(ctx) && !may_run_claude(ctx, &project).await {
        let text = "Only those who may run Claude here, or admins, can remove its worktree.";
        return reply(ctx, text, true).await;
    }
    let Some(CommandReply::Worktree(answer)) =
        ask(ctx, SessionCommand::RemoveWorktree, false).await?
    else {
        return Ok(());
    };
    let (text, public) = match answer {
        WorktreeReply::Removed { branch } => (
            format!("🧹 Removed this thread's worktree and its branch `{branch}`. The next message here starts a fresh one."),
            true,
        ),
        WorktreeReply::Kept { branch, why } => (
            format!("🌿 Kept this thread's worktree (branch `{branch}`): {why}. Commit and push or merge it, then try again."),
            true,
        ),
        WorktreeReply::Busy => (
            "A request is running or waiting in this thread; remove the worktree once it has finished.".to_string(),
            false,
        ),
        WorktreeReply::NoWorktree => ("This thread has no worktree.".to_string(), false),
        WorktreeReply::Failed { error_id } => (
            format!("⚠️ The worktree could not be removed (error id `{error_id}`)."),
            false,
        ),
    };
    reply(ctx, text, !public).await
}
