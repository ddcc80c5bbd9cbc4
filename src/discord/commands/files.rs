//! /file: attaches a file from the session's working folder (the project,
//! or a thread's worktree) to a public reply, for those who may run Claude
//! there. Inside the folder only (no `..` out, no symlink out), and no
//! larger than Discord takes.

use super::{CommandError, Ctx, NOT_MAPPED, caller, here, may_run_claude, reply};
use crate::config::Project;
use crate::domain::{ChannelId, Outside, resolve_inside};
use crate::format::{MAX_UPLOAD_BYTES, size_against};
use serenity::all::{CreateAllowedMentions, CreateAttachment};
use std::path::PathBuf;

/// Attach a file from this channel's project folder to the chat
#[poise::command(slash_command, guild_only)]
pub async fn file(
    ctx: Ctx<'_>,
    #[description = "The file's path, relative to the project folder"] path: String,
) -> Result<(), CommandError> {
    let Some((channel, project)) = here(ctx).await else {
        return reply(ctx, NOT_MAPPED, true).await;
    };
    if !may_run_claude(ctx, &project).await {
        return reply(
            ctx,
            "Only those who may run Claude here can fetch its files.",
            true,
        )
        .await;
    }
    let shown = path.trim().replace('`', "'");
    let folder = working_folder(&project, channel);
    let found = match resolve_inside(&folder, &path) {
        Ok(found) => found,
        Err(why) => return reply(ctx, refusal(&shown, why), true).await,
    };
    let meta = tokio::fs::metadata(&found).await;
    let size = match meta {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return reply(ctx, format!("`{shown}` is not a file."), true).await,
        Err(_) => return reply(ctx, refusal(&shown, Outside::Missing), true).await,
    };
    if size > MAX_UPLOAD_BYTES {
        let (size, limit) = size_against(size, MAX_UPLOAD_BYTES);
        let text = format!("`{shown}` is {size}, and Discord takes files up to {limit}.");
        return reply(ctx, text, true).await;
    }
    let body = tokio::fs::read(&found).await?;
    let name = found
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    tracing::info!(
        user_id = caller(ctx).get(),
        bytes = body.len(),
        "file attached with /file"
    );
    let answer = poise::CreateReply::default()
        .content(format!("📎 `{shown}`"))
        .attachment(CreateAttachment::bytes(body, name))
        .allowed_mentions(CreateAllowedMentions::new());
    ctx.send(answer).await?;
    Ok(())
}

/// The session's working folder: a thread's worktree when it has one,
/// else the project's.
fn working_folder(project: &Project, channel: ChannelId) -> PathBuf {
    let worktree = crate::worktree::path_of(&project.path, channel);
    let in_thread = project.thread_worktrees && project.channel_id != channel;
    if in_thread && worktree.join(".git").exists() {
        worktree
    } else {
        project.path.clone()
    }
}

fn refusal(shown: &str, why: Outside) -> String {
    match why {
        Outside::Empty => "Give the file's path, relative to the project folder.".into(),
        Outside::Absolute => {
            format!("`{shown}` must be relative to the project folder, not an absolute path.")
        }
        Outside::Escapes => format!("`{shown}` is outside the project folder."),
        Outside::SymlinkOut => {
            format!("`{shown}` goes through a symlink that leads out of the project folder.")
        }
        Outside::Broken | Outside::Missing => {
            format!("`{shown}` does not exist in the project folder.")
        }
    }
}
