//! What tests make users do: messages (MESSAGE_CREATE) and slash commands
//! (INTERACTION_CREATE), shaped as Discord dispatches them.

use serde_json::{Value, json};

use super::recorder::{Channel, InteractionHandle};
use super::{FakeDiscord, gateway, model, rest};

const GUILD_MESSAGES: u64 = 1 << 9;
const DIRECT_MESSAGES: u64 = 1 << 12;
const MESSAGE_CONTENT: u64 = 1 << 15;

/// A file a user attached; the fake serves its bytes at the attachment's `url`.
#[derive(Clone, Debug)]
pub struct FakeAttachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message a user writes. `guild: false` makes it a DM (no guild_id, no member).
#[derive(Clone, Debug)]
pub struct UserMessage {
    pub channel_id: u64,
    pub author_id: u64,
    pub author_name: String,
    pub author_is_bot: bool,
    pub content: String,
    /// Adds the bot to `mentions` and prefixes `<@BOT_ID> ` to the content.
    pub mentions_bot: bool,
    pub roles: Vec<u64>,
    pub guild: bool,
    pub attachments: Vec<FakeAttachment>,
    /// Makes it a reply to this message id.
    pub reply_to: Option<u64>,
}

impl UserMessage {
    /// A guild message by a human without roles that does not mention the bot.
    pub fn new(channel_id: u64, author_id: u64, content: &str) -> Self {
        Self {
            channel_id,
            author_id,
            author_name: format!("user{author_id}"),
            author_is_bot: false,
            content: content.to_string(),
            mentions_bot: false,
            roles: Vec::new(),
            guild: true,
            attachments: Vec::new(),
            reply_to: None,
        }
    }

    pub fn mentioning_bot(mut self) -> Self {
        self.mentions_bot = true;
        self
    }

    pub fn with_roles(mut self, roles: &[u64]) -> Self {
        self.roles = roles.to_vec();
        self
    }

    pub fn sent_by_a_bot(mut self) -> Self {
        self.author_is_bot = true;
        self
    }

    pub fn in_dm(mut self) -> Self {
        self.guild = false;
        self
    }

    pub fn with_attachment(mut self, filename: &str, content_type: &str, bytes: &[u8]) -> Self {
        self.attachments.push(FakeAttachment {
            filename: filename.to_string(),
            content_type: content_type.to_string(),
            bytes: bytes.to_vec(),
        });
        self
    }
}

/// A slash command invocation of a command the bot registered.
#[derive(Clone, Debug)]
pub struct SlashCommand {
    pub name: String,
    /// Option objects as Discord sends them: `{"name", "type", "value"}`.
    pub options: Vec<Value>,
    pub channel_id: u64,
    pub user_id: u64,
    pub roles: Vec<u64>,
    pub guild: bool,
    /// The member's resolved permission bits; Discord computes them from
    /// roles and overwrites. Defaults to an ordinary member's.
    pub permissions: u64,
}

/// View, send, read history, embed, attach, react, use slash commands:
/// no Manage Messages.
pub const MEMBER_PERMISSIONS: u64 = 2_248_473_465_835_073;
/// The Manage Messages bit.
pub const MANAGE_MESSAGES: u64 = 1 << 13;

impl SlashCommand {
    pub fn new(name: &str, channel_id: u64, user_id: u64) -> Self {
        Self {
            name: name.to_string(),
            options: Vec::new(),
            channel_id,
            user_id,
            roles: Vec::new(),
            guild: true,
            permissions: MEMBER_PERMISSIONS,
        }
    }

    pub fn with_permissions(mut self, permissions: u64) -> Self {
        self.permissions = permissions;
        self
    }

    pub fn string_option(mut self, name: &str, value: &str) -> Self {
        self.options
            .push(json!({ "name": name, "type": 3, "value": value }));
        self
    }

    /// A subcommand (option type 1), as Discord sends `/<name> <sub>`.
    pub fn subcommand(mut self, name: &str) -> Self {
        self.options
            .push(json!({ "name": name, "type": 1, "options": [] }));
        self
    }

    pub fn integer_option(mut self, name: &str, value: i64) -> Self {
        self.options
            .push(json!({ "name": name, "type": 4, "value": value }));
        self
    }

    pub fn boolean_option(mut self, name: &str, value: bool) -> Self {
        self.options
            .push(json!({ "name": name, "type": 5, "value": value }));
        self
    }

    pub fn with_roles(mut self, roles: &[u64]) -> Self {
        self.roles = roles.to_vec();
        self
    }
}

impl FakeDiscord {
    /// Dispatches MESSAGE_CREATE as Discord would for this session's intents
    /// (without MESSAGE_CONTENT, guild messages that don't mention the bot
    /// arrive with empty content); returns the message id.
    pub async fn user_message(&self, m: UserMessage) -> u64 {
        let shared = &self.shared;
        let id = shared.snowflake();
        let author = model::user(m.author_id, &m.author_name, m.author_is_bot);
        let member = model::member(author.clone(), &m.roles);
        {
            let mut state = shared.state();
            if m.guild {
                state.members.retain(|(u, _)| *u != m.author_id);
                state.members.push((m.author_id, member.clone()));
            } else if state.channel(m.channel_id).is_none() {
                let json = model::dm_channel(m.channel_id, author.clone());
                state.channels.push(Channel {
                    id: m.channel_id,
                    json,
                    is_thread: false,
                    in_guild: false,
                });
            }
            // A message in an archived thread unarchives it.
            state.set_archived(m.channel_id, false);
        }
        let files: Vec<super::RecordedFile> = m
            .attachments
            .iter()
            .map(|a| super::RecordedFile {
                field: String::new(),
                filename: a.filename.clone(),
                content_type: Some(a.content_type.clone()),
                bytes: a.bytes.clone(),
            })
            .collect();
        let attachments = super::rest::store_attachments(shared, m.channel_id, &files);
        let (content, mentions) = if m.mentions_bot {
            (
                format!("<@{}> {}", shared.bot_user_id, m.content),
                vec![shared.bot_user()],
            )
        } else {
            (m.content.clone(), Vec::new())
        };
        // Read once a client is there: with none, every message would
        // silently go undelivered.
        self.wait_for_session("a gateway session to deliver a user message to")
            .await;
        let intents = gateway::intents(shared).unwrap_or(0);
        let readable = !m.guild || m.mentions_bot || intents & MESSAGE_CONTENT != 0;
        let mut message = model::message(model::MessageParts {
            id,
            channel_id: m.channel_id,
            author,
            content: if readable { &content } else { "" },
            mentions,
            attachments: if readable { attachments } else { Vec::new() },
            embeds: Vec::new(),
            message_reference: m.reply_to.map(
                |r| json!({ "message_id": r.to_string(), "channel_id": m.channel_id.to_string() }),
            ),
            edited: false,
            components: Vec::new(),
        });
        if m.guild {
            message["guild_id"] = json!(shared.guild_id.to_string());
            let mut partial = member;
            if let Some(object) = partial.as_object_mut() {
                object.remove("user");
            }
            message["member"] = partial;
        }
        let needed = if m.guild {
            GUILD_MESSAGES
        } else {
            DIRECT_MESSAGES
        };
        shared.state().user_messages.push((id, message.clone()));
        if intents & needed != 0 {
            self.dispatch("MESSAGE_CREATE", message).await;
        }
        id
    }

    /// Dispatches the MESSAGE_CREATE of an earlier user message again, as
    /// a RESUME replays what a dropped connection missed.
    pub async fn replay_message(&self, id: u64) {
        let message = self
            .shared
            .read()
            .user_messages
            .iter()
            .find(|(m, _)| *m == id)
            .map(|(_, json)| json.clone());
        let message = message.unwrap_or_else(|| panic!("fake Discord: no user message {id}"));
        self.dispatch("MESSAGE_CREATE", message).await;
    }

    /// Dispatches INTERACTION_CREATE (type 2) for a registered command.
    pub async fn slash_command(&self, c: SlashCommand) -> InteractionHandle {
        let command = self
            .registered_commands()
            .into_iter()
            .map(|(_, c)| c)
            .find(|r| r["name"] == c.name.as_str());
        let Some(command) = command else {
            let names: Vec<Value> = self
                .registered_commands()
                .into_iter()
                .map(|(_, c)| c["name"].clone())
                .collect();
            panic!(
                "fake Discord: no registered command {:?}; registered: {names:?}",
                c.name
            );
        };
        self.dispatch_command(c, command["id"].clone()).await
    }

    /// Dispatches INTERACTION_CREATE for a command the bot never registered,
    /// as Discord does when a client's command list is stale.
    pub async fn stale_slash_command(&self, c: SlashCommand) -> InteractionHandle {
        let id = self.shared.snowflake().to_string();
        self.dispatch_command(c, json!(id)).await
    }

    async fn dispatch_command(&self, c: SlashCommand, command_id: Value) -> InteractionHandle {
        let data = json!({
            "id": command_id,
            "name": c.name,
            "type": 1,
            "options": c.options,
        });
        let who = Actor {
            channel_id: c.channel_id,
            user_id: c.user_id,
            roles: &c.roles,
            guild: c.guild,
            permissions: c.permissions,
        };
        self.dispatch_interaction(who, 2, data, None).await
    }

    /// Clicks the button `custom_id` of the bot's message `message` in
    /// `channel`, as guild member `user`: INTERACTION_CREATE of type 3
    /// (MESSAGE_COMPONENT). Panics if the message has no such button.
    pub async fn click(
        &self,
        channel: u64,
        message: u64,
        custom_id: &str,
        user: u64,
    ) -> InteractionHandle {
        let posted = self
            .posted_messages(channel)
            .into_iter()
            .find(|m| m.id == message && !m.deleted);
        let Some(posted) = posted else {
            panic!("fake Discord: no live message {message} in channel {channel}");
        };
        let clickable = posted
            .components
            .iter()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .any(|c| c["custom_id"] == custom_id && c["disabled"] != true);
        assert!(
            clickable,
            "fake Discord: message {message} has no button {custom_id:?}: {:?}",
            posted.components
        );
        let data = json!({ "custom_id": custom_id, "component_type": 2 });
        let who = Actor {
            channel_id: channel,
            user_id: user,
            roles: &[],
            guild: true,
            permissions: MEMBER_PERMISSIONS,
        };
        let json = rest::message_json(&self.shared, &posted);
        self.dispatch_interaction(who, 3, data, Some((message, json)))
            .await
    }

    async fn dispatch_interaction(
        &self,
        who: Actor<'_>,
        kind: u8,
        data: Value,
        message: Option<(u64, Value)>,
    ) -> InteractionHandle {
        let shared = &self.shared;
        let handle = InteractionHandle {
            id: shared.snowflake(),
            token: format!("fake-interaction-token-{}", shared.snowflake()),
            channel_id: who.channel_id,
            message_id: message.as_ref().map(|(id, _)| *id),
            created: std::time::Instant::now(),
        };
        let user = model::user(who.user_id, &format!("user{}", who.user_id), false);
        let mut interaction = json!({
            "id": handle.id.to_string(),
            "application_id": shared.application_id.to_string(),
            "type": kind,
            "token": handle.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
            "channel_id": who.channel_id.to_string(),
            "app_permissions": "2248473465835073",
            "data": data,
        });
        if let Some((_, message)) = message {
            interaction["message"] = message;
        }
        if who.guild {
            let mut member = model::member(user, who.roles);
            member["permissions"] = json!(who.permissions.to_string());
            interaction["guild_id"] = json!(shared.guild_id.to_string());
            interaction["guild_locale"] = json!("en-US");
            interaction["member"] = member.clone();
            interaction["context"] = json!(0);
            let mut state = shared.state();
            state.members.retain(|(u, _)| *u != who.user_id);
            state.members.push((who.user_id, member));
        } else {
            interaction["user"] = user;
            interaction["context"] = json!(1);
        }
        shared.state().interactions.push(handle.clone());
        self.dispatch("INTERACTION_CREATE", interaction).await;
        handle
    }
}

/// Who acts in an interaction, and where.
struct Actor<'a> {
    channel_id: u64,
    user_id: u64,
    roles: &'a [u64],
    guild: bool,
    permissions: u64,
}
