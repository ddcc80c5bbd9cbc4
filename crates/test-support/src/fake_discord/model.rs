//! JSON builders for the Discord objects the fake sends, shaped as Discord
//! sends them and checked against serenity's model structs by the probe tests.

use serde_json::{Value, json};

pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

pub fn now_timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn user(id: u64, username: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": username,
        "global_name": null,
        "discriminator": "0",
        "avatar": null,
        "bot": bot,
        "system": false,
        "public_flags": 0,
        "flags": 0,
    })
}

pub fn current_user(id: u64, username: &str) -> Value {
    let mut user = user(id, username, true);
    user["verified"] = json!(true);
    user["mfa_enabled"] = json!(false);
    user["email"] = Value::Null;
    user
}

pub fn member(user: Value, roles: &[u64]) -> Value {
    json!({
        "user": user,
        "nick": null,
        "avatar": null,
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    })
}

pub fn role(id: u64, name: &str, position: u16, permissions: u64) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

pub fn text_channel(id: u64, guild_id: u64, name: &str, position: u16) -> Value {
    json!({
        "id": id.to_string(),
        "type": 0,
        "guild_id": guild_id.to_string(),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": null,
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "flags": 0,
    })
}

pub fn public_thread(id: u64, guild_id: u64, parent_id: u64, owner_id: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(),
        "type": 11,
        "guild_id": guild_id.to_string(),
        "parent_id": parent_id.to_string(),
        "owner_id": owner_id.to_string(),
        "name": name,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": false,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2024-01-01T00:00:00.000000+00:00",
            "locked": false,
        },
    })
}

pub fn dm_channel(id: u64, recipient: Value) -> Value {
    json!({
        "id": id.to_string(),
        "type": 1,
        "last_message_id": null,
        "recipients": [recipient],
        "flags": 0,
    })
}

/// A message as the REST API and the gateway's MESSAGE_CREATE carry it; the
/// gateway adds `guild_id` and `member` for guild messages.
pub struct MessageParts<'a> {
    pub id: u64,
    pub channel_id: u64,
    pub author: Value,
    pub content: &'a str,
    pub mentions: Vec<Value>,
    pub attachments: Vec<Value>,
    pub embeds: Vec<Value>,
    pub message_reference: Option<Value>,
    pub edited: bool,
    /// Action rows of buttons and menus.
    pub components: Vec<Value>,
}

pub fn message(parts: MessageParts<'_>) -> Value {
    let now = now_timestamp();
    json!({
        "id": parts.id.to_string(),
        "channel_id": parts.channel_id.to_string(),
        "author": parts.author,
        "content": parts.content,
        "timestamp": now,
        "edited_timestamp": if parts.edited { Value::String(now.clone()) } else { Value::Null },
        "tts": false,
        "mention_everyone": false,
        "mentions": parts.mentions,
        "mention_roles": [],
        "attachments": parts.attachments,
        "embeds": parts.embeds,
        "pinned": false,
        "type": if parts.message_reference.is_some() { 19 } else { 0 },
        "flags": 0,
        "components": parts.components,
        "message_reference": parts.message_reference,
    })
}

pub fn attachment(id: u64, filename: &str, content_type: &str, size: usize, url: &str) -> Value {
    json!({
        "id": id.to_string(),
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "url": url,
        "proxy_url": url,
    })
}

pub fn application_info(id: u64, owner: Value) -> Value {
    json!({
        "id": id.to_string(),
        "name": "claude-coordinator",
        "icon": null,
        "description": "",
        "bot_public": false,
        "bot_require_code_grant": false,
        "owner": owner,
        "verify_key": "0".repeat(64),
        "team": null,
        "flags": 0,
        "summary": "",
    })
}

pub fn guild(
    id: u64,
    owner_id: u64,
    roles: Vec<Value>,
    channels: Vec<Value>,
    threads: Vec<Value>,
    members: Vec<Value>,
) -> Value {
    let mut guild = json!({
        "id": id.to_string(),
        "name": "fake guild",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": owner_id.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
    });
    let create_extras = json!({
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "large": false,
        "unavailable": false,
        "member_count": members.len(),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": threads,
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    });
    if let (Some(guild), Value::Object(extras)) = (guild.as_object_mut(), create_extras) {
        guild.extend(extras);
    }
    guild
}

pub fn gateway_payload(op: u8, d: Value, s: Option<u64>, t: Option<&str>) -> Value {
    json!({ "op": op, "d": d, "s": s, "t": t })
}
