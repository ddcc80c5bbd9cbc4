//! Admin commands that edit the configuration file: /add-project maps this
//! channel to a folder under `[discord] projects_root`, /remove-project
//! unmaps it. The reloader makes the edit and reloads, so the change
//! applies at once.

use super::{CommandError, Ctx, caller, in_time, is_admin, reply};
use crate::actors::error_reporter::report_error;
use crate::actors::messages::{EditProjects, ErrorKind, Reloaded, ReportError};
use crate::config::edit::{EditError, ProjectEdit};
use crate::domain::ChannelId;

/// Map this channel to a project folder under the projects root (admins)
#[poise::command(slash_command, guild_only, rename = "add-project")]
pub async fn add_project(
    ctx: Ctx<'_>,
    #[description = "A new project name: letters, digits, - _ ."] name: String,
    #[description = "The folder, relative to the projects root"] path: String,
) -> Result<(), CommandError> {
    let channel = ChannelId::from(ctx.channel_id());
    if let Some((_, project)) = super::here(ctx).await {
        let text = format!("This channel is already mapped to **{}**.", project.name);
        return reply(ctx, text, true).await;
    }
    let edit = ProjectEdit::Add {
        name: name.clone(),
        channel,
        path: path.clone(),
    };
    let done = format!(
        "✅ This channel is now project **{name}** (folder `{}` under the projects root). Mention me here to run Claude.",
        path.trim()
    );
    edit_projects(ctx, edit, |_| done).await
}

/// Unmap this channel's project; its folder is left as it is (admins)
#[poise::command(slash_command, guild_only, rename = "remove-project")]
pub async fn remove_project(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let channel = ChannelId::from(ctx.channel_id());
    let edit = ProjectEdit::Remove { channel };
    edit_projects(ctx, edit, |reloaded| {
        let name = reloaded.removed.first().map_or("", |p| p.as_str());
        format!(
            "🗂️ Project **{name}** is no longer mapped to this channel. Its folder was left as it is; queued requests were told."
        )
    })
    .await
}

/// Runs an admin's edit and answers: in the channel when it was made,
/// to the admin alone when it was not.
async fn edit_projects(
    ctx: Ctx<'_>,
    edit: ProjectEdit,
    done: impl FnOnce(&Reloaded) -> String,
) -> Result<(), CommandError> {
    if !is_admin(ctx) {
        return reply(ctx, "Only bot admins can change the projects.", true).await;
    }
    let by = caller(ctx);
    let msg = EditProjects { edit, by };
    match in_time(ctx, false, ctx.data().reloader.send(msg)).await?? {
        Ok(reloaded) => reply(ctx, done(&reloaded), false).await,
        Err(EditError::Refused(why)) => {
            tracing::info!(admin_id = by.get(), reason = %why, "project edit refused");
            reply(ctx, why, true).await
        }
        Err(e) => {
            let reported = report_error(&ReportError {
                kind: ErrorKind::ConfigError,
                channel: Some(ctx.channel_id().into()),
                request: None,
                detail: format!("/{}: {e}", ctx.command().name),
            });
            let text = format!(
                "⚠️ The configuration file was not changed: {} The details are in the log under error id `{}`.",
                why_not(&e),
                reported.error_id
            );
            reply(ctx, text, true).await
        }
    }
}

fn why_not(e: &EditError) -> &'static str {
    match e {
        EditError::Invalid(_) => "the edited file would not be valid.",
        _ => "it could not be read or written.",
    }
}
