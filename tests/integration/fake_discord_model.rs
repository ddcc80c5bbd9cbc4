//! Every JSON builder deserializes into the serenity 0.12.5 struct the
//! client parses it into, so a missing required field fails here by name.

use serde_json::{Value, json};
use serenity::all::{
    CurrentApplicationInfo, CurrentUser, GuildChannel, Interaction, Member, Message,
    PrivateChannel, Role,
};
use serenity::model::event::GuildCreateEvent;

use test_support::fake_discord::model;

fn parses<T: serde::de::DeserializeOwned>(value: Value) -> T {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(parsed) => parsed,
        Err(e) => panic!(
            "{} rejects the fake's JSON: {e}\n{value:#}",
            std::any::type_name::<T>()
        ),
    }
}

#[test]
fn users_members_roles_and_the_application_parse_as_serenity_models() {
    parses::<CurrentUser>(model::current_user(1, "claude-bot"));
    parses::<Member>(model::member(model::user(2, "alice", false), &[3]));
    parses::<Role>(model::role(3, "devs", 1, 0));
    parses::<CurrentApplicationInfo>(model::application_info(
        4,
        model::user(1, "claude-bot", true),
    ));
}

#[test]
fn channels_threads_and_dm_channels_parse_as_serenity_models() {
    let channel: GuildChannel = parses(model::text_channel(10, 9, "general", 0));
    assert_eq!(channel.guild_id.get(), 9);
    let thread: GuildChannel = parses(model::public_thread(11, 9, 10, 1, "t"));
    assert_eq!(thread.parent_id.map(|p| p.get()), Some(10));
    parses::<PrivateChannel>(model::dm_channel(12, model::user(2, "alice", false)));
}

#[test]
fn a_guild_create_keeps_its_channels_threads_and_members() {
    let guild = model::guild(
        9,
        1,
        vec![model::role(9, "@everyone", 0, 0)],
        vec![model::text_channel(10, 9, "general", 0)],
        vec![model::public_thread(11, 9, 10, 1, "t")],
        vec![model::member(model::user(2, "alice", false), &[])],
    );
    let event: GuildCreateEvent = parses(guild);
    assert_eq!(event.guild.channels.len(), 1);
    assert_eq!(event.guild.threads.len(), 1);
    assert_eq!(event.guild.members.len(), 1);
}

#[test]
fn messages_with_attachments_and_replies_parse_as_serenity_models() {
    let message: Message = parses(model::message(model::MessageParts {
        id: 20,
        channel_id: 10,
        author: model::user(2, "alice", false),
        content: "hi",
        mentions: vec![model::user(1, "claude-bot", true)],
        attachments: vec![model::attachment(
            21,
            "a.txt",
            "text/plain",
            3,
            "http://127.0.0.1:1/a",
        )],
        embeds: Vec::new(),
        message_reference: Some(json!({ "message_id": "19", "channel_id": "10" })),
        edited: true,
        components: Vec::new(),
    }));
    assert_eq!(message.attachments[0].filename, "a.txt");
    assert!(message.edited_timestamp.is_some());
}

#[test]
fn a_slash_command_interaction_parses_as_a_serenity_command_interaction() {
    let interaction = json!({
        "id": "30", "application_id": "4", "type": 2, "token": "t", "version": 1,
        "locale": "en-US", "entitlements": [], "attachment_size_limit": 1024,
        "channel_id": "10", "guild_id": "9",
        "member": model::member(model::user(2, "alice", false), &[]),
        "data": { "id": "31", "name": "ping", "type": 1, "options": [] },
    });
    let Interaction::Command(command) = parses::<Interaction>(interaction) else {
        panic!("not a command interaction");
    };
    assert_eq!(command.user.id.get(), 2);
}
