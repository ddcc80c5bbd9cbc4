//! Channel messages the bot posts, edits and deletes, the files it uploads,
//! and the gateway echo Discord sends back for each.

use serde_json::{Value, json};

use super::super::http::HttpResponse;
use super::super::recorder::{InteractionHandle, PostedMessage, RecordedFile, State};
use super::super::{Shared, gateway, model};
use super::{Call, invalid_form, not_found, ok};

const MAX_CONTENT_CHARS: usize = 2000;

pub(crate) fn field<'a>(call: &'a Call, name: &str) -> Option<&'a Value> {
    call.json
        .as_ref()
        .and_then(|j| j.get(name))
        .filter(|v| !v.is_null())
}

pub(crate) fn content_of(call: &Call) -> String {
    field(call, "content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub(crate) fn embeds_of(call: &Call) -> Vec<Value> {
    field(call, "embeds")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(crate) fn store_attachments(
    shared: &Shared,
    channel: u64,
    files: &[RecordedFile],
) -> Vec<Value> {
    files
        .iter()
        .map(|file| {
            let id = shared.snowflake();
            let path = format!("/attachments/{channel}/{id}/{}", file.filename);
            let content_type = file
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into());
            let url = format!("{}{path}", shared.api_base);
            let json = model::attachment(id, &file.filename, &content_type, file.bytes.len(), &url);
            shared
                .state()
                .attachments
                .push((path, content_type, file.bytes.clone()));
            json
        })
        .collect()
}

/// Discord's answer to content over its limit.
fn too_long(content: &str) -> Option<HttpResponse> {
    (content.chars().count() > MAX_CONTENT_CHARS).then(|| {
        invalid_form(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        )
    })
}

pub(crate) fn create_message(shared: &Shared, channel: u64, call: &Call) -> HttpResponse {
    let content = content_of(call);
    if let Some(refused) = too_long(&content) {
        return refused;
    }
    let embeds = embeds_of(call);
    if content.is_empty() && embeds.is_empty() && call.files.is_empty() {
        return HttpResponse::json(
            400,
            &json!({ "message": "Cannot send an empty message", "code": 50006 }),
        );
    }
    let nonce = nonce_of(call);
    if let Some(earlier) = nonce
        .as_deref()
        .and_then(|n| already_posted(shared, channel, n))
    {
        return ok(earlier);
    }
    // Discord unarchives a thread (not locked) that the bot posts in.
    shared.state().set_archived(channel, false);
    let id = shared.snowflake();
    let message_reference = field(call, "message_reference").cloned();
    let attachments = store_attachments(shared, channel, &call.files);
    let posted = PostedMessage {
        id,
        channel_id: channel,
        content,
        embeds,
        allowed_mentions: field(call, "allowed_mentions").cloned(),
        message_reference,
        attachments: call.files.clone(),
        components: components_of(call),
        nonce,
        edits: 0,
        deleted: false,
    };
    let mut message = message_json(shared, &posted);
    message["attachments"] = Value::Array(attachments);
    shared.state().messages.push(posted);
    echo(shared, "MESSAGE_CREATE", channel, &message);
    ok(message)
}

fn components_of(call: &Call) -> Vec<Value> {
    field(call, "components")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A posted message as Discord returns it.
pub(crate) fn message_json(shared: &Shared, m: &PostedMessage) -> Value {
    model::message(model::MessageParts {
        id: m.id,
        channel_id: m.channel_id,
        author: shared.bot_user(),
        content: &m.content,
        mentions: Vec::new(),
        attachments: Vec::new(),
        embeds: m.embeds.clone(),
        message_reference: m.message_reference.clone(),
        edited: m.edits > 0,
        components: m.components.clone(),
    })
}

/// Applies an edit's fields (content, embeds, components, mentions) to a
/// posted message: by PATCH, or by an interaction's UPDATE_MESSAGE.
pub(crate) fn apply_edit(m: &mut PostedMessage, call: &Call) {
    if field(call, "content").is_some() {
        m.content = content_of(call);
    }
    if field(call, "embeds").is_some() {
        m.embeds = embeds_of(call);
    }
    if field(call, "components").is_some() {
        m.components = components_of(call);
    }
    if let Some(allowed) = field(call, "allowed_mentions") {
        m.allowed_mentions = Some(allowed.clone());
    }
    m.edits += 1;
}

pub(crate) fn edit_message(
    shared: &Shared,
    channel: Option<u64>,
    id: Option<u64>,
    call: &Call,
) -> HttpResponse {
    let content = content_of(call);
    if let Some(refused) = too_long(&content) {
        return refused;
    }
    let updated = {
        let mut state = shared.state();
        live_message(&mut state, channel, id).map(|m| {
            apply_edit(m, call);
            m.clone()
        })
    };
    let Some(m) = updated else {
        return not_found(10008, "Unknown Message");
    };
    let message = message_json(shared, &m);
    echo(shared, "MESSAGE_UPDATE", m.channel_id, &message);
    ok(message)
}

/// An interaction's callback. UPDATE_MESSAGE (type 7), allowed only for a
/// click, edits the message whose button was clicked, as Discord does.
pub(crate) fn interaction_callback(
    shared: &Shared,
    handle: &InteractionHandle,
    call: &Call,
) -> HttpResponse {
    let kind = field(call, "type").and_then(Value::as_u64);
    if kind != Some(7) {
        return HttpResponse::empty(204);
    }
    let Some(message) = handle.message_id else {
        return invalid_form(
            "type",
            "INTERACTION_RESPONSE_TYPE_INVALID",
            "Invalid response type",
        );
    };
    let update = Call {
        method: "PATCH".into(),
        path: call.path.clone(),
        json: field(call, "data").cloned(),
        files: Vec::new(),
    };
    let updated = {
        let mut state = shared.state();
        live_message(&mut state, Some(handle.channel_id), Some(message)).map(|m| {
            apply_edit(m, &update);
            m.clone()
        })
    };
    if let Some(m) = updated {
        echo(
            shared,
            "MESSAGE_UPDATE",
            m.channel_id,
            &message_json(shared, &m),
        );
    }
    HttpResponse::empty(204)
}

/// The nonce Discord enforces: sent with `enforce_nonce: true`.
fn nonce_of(call: &Call) -> Option<String> {
    let enforced = field(call, "enforce_nonce").and_then(Value::as_bool) == Some(true);
    let nonce = field(call, "nonce")?;
    let nonce = nonce
        .as_str()
        .map_or_else(|| nonce.to_string(), str::to_string);
    enforced.then_some(nonce)
}

/// Discord's answer to a post whose enforced nonce it has seen in this
/// channel: the message created then, not a second one.
fn already_posted(shared: &Shared, channel: u64, nonce: &str) -> Option<Value> {
    let state = shared.read();
    let m = state
        .messages
        .iter()
        .find(|m| m.channel_id == channel && m.nonce.as_deref() == Some(nonce))?;
    Some(message_json(shared, m))
}

/// The bot's message `id` in `channel`, unless it was deleted.
pub(crate) fn live_message(
    state: &mut State,
    channel: Option<u64>,
    id: Option<u64>,
) -> Option<&mut PostedMessage> {
    state
        .messages
        .iter_mut()
        .find(|m| Some(m.channel_id) == channel && Some(m.id) == id && !m.deleted)
}

pub(crate) fn delete_message(
    shared: &Shared,
    channel: Option<u64>,
    id: Option<u64>,
) -> HttpResponse {
    let deleted = {
        let mut state = shared.state();
        live_message(&mut state, channel, id).map(|m| {
            m.deleted = true;
            (m.channel_id, m.id)
        })
    };
    let Some((channel, id)) = deleted else {
        return not_found(10008, "Unknown Message");
    };
    let event = json!({ "id": id.to_string(), "channel_id": channel.to_string() });
    echo(shared, "MESSAGE_DELETE", channel, &event);
    HttpResponse::empty(204)
}

/// Discord tells the bot about its own messages too (GUILD_MESSAGES or DIRECT_MESSAGES intent).
pub(crate) fn echo(shared: &Shared, event: &str, channel: u64, message: &Value) {
    let in_guild = shared.read().channel(channel).is_some_and(|c| c.in_guild);
    let intent = if in_guild { 1 << 9 } else { 1 << 12 };
    if gateway::intents(shared).is_none_or(|i| i & intent == 0) {
        return;
    }
    let mut message = message.clone();
    if in_guild {
        message["guild_id"] = json!(shared.guild_id.to_string());
    }
    gateway::dispatch(shared, event, message);
}

pub(crate) fn attachment(shared: &Shared, path: &str) -> HttpResponse {
    let state = shared.read();
    match state.attachments.iter().find(|(p, _, _)| p == path) {
        Some((_, content_type, bytes)) => HttpResponse {
            status: 200,
            content_type: if content_type.starts_with("text/") {
                "text/plain"
            } else {
                "application/octet-stream"
            },
            body: bytes.clone(),
        },
        None => not_found(0, "404: Not Found"),
    }
}
