use super::*;
use crate::discord::messages::GatewayAttachment;
use crate::domain::{ChannelId, GuildId, MessageId, RoleId};

const BOT: UserId = UserId(900);
const ALICE: UserId = UserId(1);
const MALLORY: UserId = UserId(666);

fn config(trigger: &str) -> Config {
    let dir = std::env::temp_dir();
    let text = format!(
        "[discord]\ntrigger = \"{trigger}\"\nallowed_users = [\"1\"]\nallowed_roles = [\"77\"]\n\n\
         [[projects]]\nname = \"web\"\nchannel_id = \"10\"\npath = '{}'\n",
        dir.display()
    );
    Config::from_toml_str(&text, &dir.join("coordinator.toml")).unwrap()
}

fn message(content: &str) -> GatewayMessage {
    GatewayMessage {
        id: MessageId(5),
        channel: ChannelId(10),
        parent: None,
        thread_name: None,
        guild: Some(GuildId(3)),
        author: ALICE,
        author_is_bot: false,
        roles: vec![],
        mentions_bot: true,
        content: content.into(),
        attachments: vec![],
    }
}

fn accepted(d: Decision<'_>) -> Option<String> {
    match d {
        Decision::Accept { prompt, .. } => Some(prompt),
        _ => None,
    }
}

#[test]
fn a_mention_from_an_allowed_user_is_accepted_without_the_mention() {
    let c = config("mention");
    let d = decide(&message("<@900> explain main.rs <@!900>"), &c, BOT);
    assert_eq!(accepted(d).as_deref(), Some("explain main.rs"));
}

#[test]
fn without_a_mention_nothing_happens_unless_the_trigger_is_all() {
    let mut m = message("explain main.rs");
    m.mentions_bot = false;
    assert!(matches!(
        decide(&m, &config("mention"), BOT),
        Decision::Ignore { .. }
    ));
    assert_eq!(
        accepted(decide(&m, &config("all"), BOT)).as_deref(),
        Some("explain main.rs")
    );
}

#[test]
fn bots_direct_messages_and_unmapped_channels_are_ignored() {
    let c = config("all");
    let mut bot = message("hi");
    bot.author_is_bot = true;
    let mut dm = message("hi");
    dm.guild = None;
    let mut elsewhere = message("hi");
    elsewhere.channel = ChannelId(11);
    for m in [bot, dm, elsewhere] {
        assert!(
            matches!(decide(&m, &c, BOT), Decision::Ignore { .. }),
            "{m:?}"
        );
    }
}

#[test]
fn a_thread_takes_its_parents_project() {
    let c = config("mention");
    let mut m = message("<@900> hi");
    m.channel = ChannelId(4242);
    m.parent = Some(ChannelId(10));
    assert!(
        matches!(decide(&m, &c, BOT), Decision::Accept { project, .. } if project.name.as_str() == "web")
    );
}

#[test]
fn strangers_are_denied_and_role_holders_admitted() {
    let c = config("mention");
    let mut m = message("<@900> rm -rf");
    m.author = MALLORY;
    assert!(matches!(decide(&m, &c, BOT), Decision::Deny { .. }));
    m.roles = vec![RoleId(77)];
    assert!(accepted(decide(&m, &c, BOT)).is_some());
}

#[test]
fn a_bare_mention_is_empty_for_allowed_users_and_silent_for_others() {
    let c = config("mention");
    assert!(matches!(
        decide(&message("<@900>"), &c, BOT),
        Decision::Empty { .. }
    ));
    assert!(matches!(
        decide(&message("<@900> \u{200B}\u{200F} "), &c, BOT),
        Decision::Empty { .. }
    ));
    let mut m = message("<@900>");
    m.author = MALLORY;
    assert!(matches!(decide(&m, &c, BOT), Decision::Ignore { .. }));
}

#[test]
fn an_attachment_alone_is_a_request() {
    let c = config("mention");
    let mut m = message("<@900>");
    m.attachments.push(GatewayAttachment {
        filename: "notes.txt".into(),
        size: 10,
        url: "http://127.0.0.1/x".into(),
        content_type: Some("text/plain".into()),
    });
    assert_eq!(accepted(decide(&m, &c, BOT)).as_deref(), Some(""));
}

#[test]
fn right_to_left_and_zero_width_text_is_kept_as_written() {
    let c = config("mention");
    let text = "<@900> \u{202E}abc\u{200B}def";
    assert_eq!(
        accepted(decide(&message(text), &c, BOT)).as_deref(),
        Some("\u{202E}abc\u{200B}def")
    );
}
