//! Application commands, interaction callbacks and webhook follow-ups.

use serde_json::{Value, json};

use super::super::http::HttpResponse;
use super::super::recorder::{
    InteractionHandle, InteractionReply, InteractionReplyKind, RecordedRequest,
};
use super::super::{Shared, model};
use super::messages::{content_of, embeds_of, store_attachments};
use super::{Call, invalid_form, ok};

pub(crate) fn put_commands(shared: &Shared, guild: Option<u64>, call: &Call) -> HttpResponse {
    let Some(list) = call.json.as_ref().and_then(Value::as_array) else {
        return invalid_form("_", "BASE_TYPE_REQUIRED", "This field is required");
    };
    let mut state = shared.state();
    let previous: Vec<Value> = state
        .commands
        .iter()
        .filter(|(g, _)| *g == guild)
        .map(|(_, c)| c.clone())
        .collect();
    let echoed: Vec<Value> = list
        .iter()
        .map(|command| {
            let mut command = command.clone();
            let same = previous.iter().find(|p| p["name"] == command["name"]);
            let id = same
                .map(|p| p["id"].clone())
                .unwrap_or_else(|| json!(shared.snowflake().to_string()));
            command["id"] = id;
            command["application_id"] = json!(shared.application_id.to_string());
            command["version"] = json!(shared.snowflake().to_string());
            if command.get("type").is_none_or(Value::is_null) {
                command["type"] = json!(1);
            }
            if command.get("default_member_permissions").is_none() {
                command["default_member_permissions"] = Value::Null;
            }
            if let Some(g) = guild {
                command["guild_id"] = json!(g.to_string());
            }
            command
        })
        .collect();
    state.commands.retain(|(g, _)| *g != guild);
    state
        .commands
        .extend(echoed.iter().map(|c| (guild, c.clone())));
    ok(Value::Array(echoed))
}

pub(crate) fn commands(shared: &Shared, guild: Option<u64>) -> Vec<Value> {
    shared
        .read()
        .commands
        .iter()
        .filter(|(g, _)| *g == guild)
        .map(|(_, c)| c.clone())
        .collect()
}

pub(crate) fn interaction_channel(shared: &Shared, token: &str) -> Option<u64> {
    shared
        .read()
        .interactions
        .iter()
        .find(|h| h.token == token)
        .map(|h| h.channel_id)
}

pub(crate) fn webhook_message(shared: &Shared, channel: u64, call: &Call) -> Value {
    let attachments = store_attachments(shared, channel, &call.files);
    let mut message = model::message(model::MessageParts {
        id: shared.snowflake(),
        channel_id: channel,
        author: shared.bot_user(),
        content: &content_of(call),
        mentions: Vec::new(),
        attachments,
        embeds: embeds_of(call),
        message_reference: None,
        edited: call.method == "PATCH",
        components: Vec::new(),
    });
    message["webhook_id"] = json!(shared.application_id.to_string());
    message["application_id"] = json!(shared.application_id.to_string());
    message
}

pub(crate) fn interaction_replies(
    requests: &[RecordedRequest],
    application_id: u64,
    handle: &InteractionHandle,
) -> Vec<InteractionReply> {
    let callback = format!("/interactions/{}/{}/callback", handle.id, handle.token);
    let webhook = format!("/webhooks/{application_id}/{}", handle.token);
    let original = format!("{webhook}/messages/@original");
    requests
        .iter()
        .filter(|r| r.status < 300)
        .filter_map(|r| {
            let body = r.json.clone().unwrap_or(Value::Null);
            let (kind, body) = match r.method.as_str() {
                "POST" if r.path == callback => (
                    InteractionReplyKind::Callback(body["type"].as_u64().unwrap_or(0)),
                    body["data"].clone(),
                ),
                "POST" if r.path == webhook => (InteractionReplyKind::Followup, body),
                "PATCH" if r.path == original => (InteractionReplyKind::EditOriginal, body),
                "DELETE" if r.path == original => {
                    (InteractionReplyKind::DeleteOriginal, Value::Null)
                }
                "PATCH" => {
                    let id = r.path.strip_prefix(&format!("{webhook}/messages/"))?;
                    (InteractionReplyKind::EditFollowup(id.parse().ok()?), body)
                }
                _ => return None,
            };
            Some(InteractionReply {
                kind,
                body,
                files: r.files.clone(),
            })
        })
        .collect()
}
