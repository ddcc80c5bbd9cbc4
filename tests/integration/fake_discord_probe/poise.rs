//! Probe: poise 0.7 on top of the fake, as the Discord front-end will use it:
//! setup registers the commands in the guild, a slash command defers, says
//! something (a follow-up) and edits it.

use std::time::Duration;

use poise::serenity_prelude as serenity;

use super::harness::{LIMIT, intents};
use test_support::fake_discord::{FakeDiscord, InteractionReplyKind, SlashCommand};

type Context<'a> = poise::Context<'a, (), serenity::Error>;

/// Defers, then answers in a follow-up that it edits.
#[poise::command(slash_command)]
async fn ask(
    ctx: Context<'_>,
    #[description = "What to ask"] prompt: String,
) -> Result<(), serenity::Error> {
    ctx.defer().await?;
    let reply = ctx.say(format!("working on {prompt}")).await?;
    reply
        .edit(ctx, poise::CreateReply::default().content("done"))
        .await
}

#[tokio::test]
async fn poise_registers_in_the_guild_and_a_deferred_slash_command_follows_up_and_edits() {
    let fake = FakeDiscord::start().await;
    let channel = fake.new_id();
    fake.add_channel(channel, "project-a");
    let guild = serenity::GuildId::new(fake.guild_id());
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![ask()],
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let _ =
                    poise::builtins::register_in_guild(ctx, &framework.options().commands, guild)
                        .await;
                Ok(())
            })
        })
        .build();
    let http = serenity::HttpBuilder::new(fake.token())
        .proxy(fake.api_base())
        .ratelimiter_disabled(true)
        .build();
    let mut client = serenity::ClientBuilder::new_with_http(http, intents())
        .framework(framework)
        .await
        .expect("client builds");
    let shards = client.shard_manager.clone();
    tokio::spawn(async move {
        let _ = client.start().await;
    });
    fake.wait_ready(LIMIT).await;
    let commands_path = format!(
        "/applications/{}/guilds/{}/commands",
        fake.application_id(),
        fake.guild_id()
    );
    fake.wait_for(LIMIT, |r| r.iter().any(|r| r.is("PUT", &commands_path)))
        .await;
    let (scope, command) = fake
        .registered_commands()
        .pop()
        .expect("a registered command");
    assert_eq!(
        (scope, command["name"].as_str()),
        (Some(fake.guild_id()), Some("ask"))
    );
    assert_eq!(command["options"][0]["name"], "prompt");

    let user = fake.new_id();
    let handle = fake
        .slash_command(SlashCommand::new("ask", channel, user).string_option("prompt", "tests"))
        .await;
    fake.wait_for(LIMIT, |r| {
        r.iter()
            .any(|r| r.method == "PATCH" && r.path.contains(&handle.token))
    })
    .await;
    let kinds: Vec<InteractionReplyKind> = fake
        .interaction_replies(&handle)
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds[..2],
        [
            InteractionReplyKind::Callback(5),
            InteractionReplyKind::Followup
        ]
    );
    assert!(
        matches!(kinds[2], InteractionReplyKind::EditFollowup(_)),
        "poise edits a follow-up by its id, not @original: {kinds:?}"
    );
    let replies = fake.interaction_replies(&handle);
    assert_eq!(
        (replies[1].content(), replies[2].content()),
        (Some("working on tests"), Some("done"))
    );
    let unexpected: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.status >= 400)
        .collect();
    assert!(
        unexpected.is_empty(),
        "poise called something the fake does not serve: {unexpected:#?}"
    );
    tokio::time::timeout(Duration::from_secs(5), shards.shutdown_all())
        .await
        .expect("shards stop");
    fake.shutdown().await;
}
