//! The REST side of an `Outgoing`: one serenity call each (retried as
//! `retry` says), with mentions off (a reply may notify the user it
//! replies to) and replies that survive a deleted question.

use crate::actors::messages::{FileAttachment, Outgoing, ThreadIs};
use crate::domain::{ApprovalId, ChannelId, Choice, MessageId, PromptButton};
use crate::telemetry::metrics::{DiscordOutcome, Metrics};
use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton,
    CreateMessage, EditMessage, Http, MessageReference, Nonce,
};

/// Sends `msg`, retrying what may pass later (`retry`) within its budget;
/// each try is counted in `metrics`.
pub async fn deliver(
    http: &Http,
    msg: Outgoing,
    metrics: &Metrics,
) -> serenity::Result<Option<MessageId>> {
    let budget = super::retry::budget(&msg);
    let started = std::time::Instant::now();
    let nonce = post_nonce();
    let mut attempt = 0;
    loop {
        let error = match send(http, msg.clone(), &nonce).await {
            Ok(sent) => {
                metrics.discord_request(DiscordOutcome::Ok);
                return Ok(sent);
            }
            Err(e) => e,
        };
        let retry = super::retry::wait_before_retry(&error, attempt)
            .filter(|wait| started.elapsed() + *wait <= budget);
        let Some(wait) = retry else {
            metrics.discord_request(DiscordOutcome::Failed);
            return Err(error);
        };
        metrics.discord_request(DiscordOutcome::Retried);
        tracing::warn!(
            channel_id = msg.channel().get(),
            what = what(&msg),
            attempt = attempt + 1,
            error = %error,
            "Discord request failed; trying again"
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// One post's nonce, the same on every try: Discord then creates the
/// message once even when an earlier try reached it but its answer was
/// lost (a timeout), instead of posting the answer twice. At most 25
/// characters.
fn post_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..25].to_string()
}

/// One REST call; mentions are off, so Claude's output pings nobody.
/// A post carries `nonce`, enforced.
async fn send(http: &Http, msg: Outgoing, nonce: &str) -> serenity::Result<Option<MessageId>> {
    match msg {
        Outgoing::Typing { channel } => {
            serenity::all::ChannelId::from(channel)
                .broadcast_typing(http)
                .await?;
            Ok(None)
        }
        Outgoing::Post {
            channel,
            content,
            reply_to,
            attachment,
            notify,
        } => {
            let mut builder = posting(content, nonce, notify && reply_to.is_some());
            if let Some(FileAttachment { filename, body }) = attachment {
                builder = builder.add_file(CreateAttachment::bytes(body, filename));
            }
            post(http, channel, reply_to, builder).await
        }
        Outgoing::Prompt {
            channel,
            content,
            reply_to,
            approval,
            rows: buttons,
        } => {
            let builder = posting(content, nonce, false).components(rows(&approval, &buttons));
            post(http, channel, reply_to, builder).await
        }
        Outgoing::Edit {
            channel,
            message,
            content,
        } => edit(http, channel, message, editing(content)).await,
        Outgoing::ClosePrompt {
            channel,
            message,
            content,
        } => {
            edit(
                http,
                channel,
                message,
                editing(content).components(Vec::new()),
            )
            .await
        }
        Outgoing::Delete { channel, message } => {
            serenity::all::ChannelId::from(channel)
                .delete_message(http, message)
                .await?;
            Ok(None)
        }
    }
}

/// A new message with mentions off (but for the replied-to user, with
/// `notify`) and `nonce` enforced.
fn posting(content: String, nonce: &str, notify: bool) -> CreateMessage {
    let mut mentions = CreateAllowedMentions::new();
    if notify {
        mentions = mentions.replied_user(true);
    }
    CreateMessage::new()
        .content(content)
        .allowed_mentions(mentions)
        .nonce(Nonce::String(nonce.to_string()))
        .enforce_nonce(true)
}

fn editing(content: String) -> EditMessage {
    EditMessage::new()
        .content(content)
        .allowed_mentions(CreateAllowedMentions::new())
}

async fn post(
    http: &Http,
    channel: ChannelId,
    reply_to: Option<MessageId>,
    mut builder: CreateMessage,
) -> serenity::Result<Option<MessageId>> {
    if let Some(reply_to) = reply_to {
        builder = builder.reference_message(reply_reference(channel, reply_to));
    }
    let posted = serenity::all::ChannelId::from(channel)
        .send_message(http, builder)
        .await?;
    Ok(Some(posted.id.into()))
}

async fn edit(
    http: &Http,
    channel: ChannelId,
    message: MessageId,
    builder: EditMessage,
) -> serenity::Result<Option<MessageId>> {
    serenity::all::ChannelId::from(channel)
        .edit_message(http, message, builder)
        .await?;
    Ok(None)
}

/// The prompt's rows of buttons.
fn rows(approval: &ApprovalId, rows: &[Vec<PromptButton>]) -> Vec<CreateActionRow> {
    let style = |choice| match choice {
        Choice::Allow => ButtonStyle::Success,
        Choice::AllowForSession => ButtonStyle::Primary,
        Choice::Deny => ButtonStyle::Danger,
        Choice::Pick { .. } => ButtonStyle::Secondary,
        Choice::Submit { .. } => ButtonStyle::Primary,
    };
    let row = |buttons: &Vec<PromptButton>| {
        let buttons = buttons.iter().map(|b| {
            CreateButton::new(approval.button(b.choice))
                .label(b.label.clone())
                .style(style(b.choice))
        });
        CreateActionRow::Buttons(buttons.collect())
    };
    rows.iter().map(row).collect()
}

/// A short name for logs.
pub fn what(msg: &Outgoing) -> &'static str {
    match msg {
        Outgoing::Typing { .. } => "typing",
        Outgoing::Post { .. } => "post",
        Outgoing::Edit { .. } => "edit",
        Outgoing::Delete { .. } => "delete",
        Outgoing::Prompt { .. } => "prompt",
        Outgoing::ClosePrompt { .. } => "close prompt",
    }
}

/// A reply that still posts, as a plain message, when the user deleted
/// the message it answers while Claude was working; Discord would refuse
/// it by default and the answer would be lost.
fn reply_reference(channel: ChannelId, message: MessageId) -> MessageReference {
    let mut reference = MessageReference::from((
        serenity::all::ChannelId::from(channel),
        serenity::all::MessageId::from(message),
    ));
    reference.fail_if_not_exists = Some(false);
    reference
}

/// Whether `thread` is open, archived or deleted, from one REST call.
pub async fn thread_state(http: &Http, thread: ChannelId) -> ThreadIs {
    let id = serenity::all::ChannelId::from(thread);
    match id.to_channel(http).await {
        Ok(serenity::all::Channel::Guild(c)) => match c.thread_metadata {
            Some(meta) if meta.archived => ThreadIs::Archived,
            _ => ThreadIs::Open,
        },
        Ok(_) => ThreadIs::Open,
        Err(serenity::Error::Http(e)) if e.status_code().map(|s| s.as_u16()) == Some(404) => {
            ThreadIs::Gone
        }
        Err(e) => {
            tracing::warn!(channel_id = thread.get(), error = %e, "cannot look up a thread");
            ThreadIs::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_post_gets_its_own_nonce_within_discords_limit() {
        let (a, b) = (post_nonce(), post_nonce());
        assert_eq!(a.len(), 25);
        assert_ne!(a, b);
    }

    #[test]
    fn a_reply_posts_even_if_the_message_it_answers_is_gone() {
        let reference = reply_reference(ChannelId(7), MessageId(9));
        let json = serde_json::to_value(&reference).expect("serializes");
        assert_eq!(json["fail_if_not_exists"], false);
        assert_eq!(json["message_id"], "9");
        assert_eq!(json["channel_id"], "7");
    }
}
