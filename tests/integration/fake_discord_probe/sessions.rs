//! Probes: the gateway handshake and cache, slash commands, reconnects and
//! RESUME, and the 404s for what the fake does not serve.

use serenity::all::ChannelId;

use super::harness::{LIMIT, Seen, intents, start};
use test_support::fake_discord::{InteractionReplyKind, SlashCommand, UserMessage};

#[tokio::test]
async fn serenity_connects_identifies_with_token_and_intents_and_caches_the_guild() {
    let mut run = start().await;
    let identify = run.fake.identifies().pop().expect("an IDENTIFY");
    assert_eq!(identify["intents"].as_u64(), Some(intents().bits()));
    let bearer = format!("Bot {}", run.fake.token());
    assert_eq!(
        identify["token"].as_str(),
        Some(bearer.as_str()),
        "serenity sends the prefixed token"
    );
    let Seen::Ready { application_id } =
        run.next("READY", |s| matches!(s, Seen::Ready { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(application_id, Some(run.fake.application_id()));
    let Seen::GuildCreate { channels, threads } = run
        .next("GUILD_CREATE", |s| matches!(s, Seen::GuildCreate { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!((channels, threads), (vec![run.channel], vec![run.thread]));
    let commands = run
        .fake
        .wait_for(LIMIT, |r| r.iter().any(|r| r.method == "PUT"))
        .await;
    let put = commands.iter().find(|r| r.method == "PUT").expect("a PUT");
    assert_eq!(
        put.path,
        format!("/applications/{}/commands", run.fake.application_id())
    );
    assert_eq!(run.fake.registered_commands()[0].1["name"], "ping");
    let gateway = format!("{}/gateway", "");
    assert!(
        commands.iter().any(|r| r.is("GET", &gateway)),
        "the client asked the fake for the gateway URL"
    );
    run.stop().await;
}

#[tokio::test]
async fn a_slash_command_is_answered_with_a_callback() {
    let mut run = start().await;
    run.fake
        .wait_for(LIMIT, |r| r.iter().any(|r| r.method == "PUT"))
        .await;
    let user = run.fake.new_id();
    let role = run.fake.new_id();
    let command = SlashCommand::new("ping", run.channel, user)
        .string_option("project", "a")
        .integer_option("count", 3)
        .boolean_option("force", true)
        .with_roles(&[role]);
    let handle = run.fake.slash_command(command).await;
    let Seen::Answered {
        options,
        roles,
        result,
    } = run
        .next("the answer", |s| matches!(s, Seen::Answered { .. }))
        .await
    else {
        unreachable!()
    };
    result.expect("the callback was accepted");
    assert_eq!(
        options,
        [
            "project=String(\"a\")",
            "count=Integer(3)",
            "force=Boolean(true)"
        ]
    );
    assert_eq!(roles, [role]);
    let replies = run.fake.interaction_replies(&handle);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].kind, InteractionReplyKind::Callback(4));
    assert_eq!(replies[0].content(), Some("pong ping"));
    assert!(
        run.http
            .get_channel(ChannelId::new(run.thread))
            .await
            .is_ok(),
        "GET /channels/{{thread}} answers"
    );
    run.stop().await;
}

#[tokio::test]
async fn after_a_reconnect_request_the_client_resumes_and_still_gets_messages() {
    let mut run = start().await;
    run.fake.request_reconnect();
    run.fake.wait_for(LIMIT, |_| run.fake.resumes() == 1).await;
    assert_eq!(
        (run.fake.gateway_connections(), run.fake.identifies().len()),
        (2, 1)
    );
    run.fake.wait_ready(LIMIT).await;
    let author = run.fake.new_id();
    run.fake
        .user_message(UserMessage::new(run.channel, author, "still there?").mentioning_bot())
        .await;
    run.next("the reply after resuming", |s| {
        matches!(s, Seen::Replied(Ok(_)))
    })
    .await;
    run.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_channels_are_recorded_404s_with_discord_error_codes() {
    let run = start().await;
    let missing = run.fake.new_id();
    let error = run
        .http
        .get_channel(ChannelId::new(missing))
        .await
        .expect_err("no such channel");
    assert!(error.to_string().contains("Unknown Channel"), "{error}");
    let guild = serenity::all::GuildId::new(run.fake.guild_id());
    assert!(
        run.http.get_guild(guild).await.is_err(),
        "GET /guilds/{{id}} is not served"
    );
    let requests = run.fake.requests();
    let not_found: Vec<&str> = requests
        .iter()
        .filter(|r| r.status == 404)
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        not_found,
        [
            format!("/channels/{missing}"),
            format!("/guilds/{}", run.fake.guild_id())
        ]
    );
    run.stop().await;
}

#[tokio::test]
async fn an_interaction_takes_one_first_answer_and_only_in_time() {
    use serenity::all::{CreateInteractionResponse, InteractionId};
    let mut run = start().await;
    run.fake
        .wait_for(LIMIT, |r| r.iter().any(|r| r.method == "PUT"))
        .await;
    let user = run.fake.new_id();
    let handle = run
        .fake
        .slash_command(SlashCommand::new("ping", run.channel, user))
        .await;
    let answered = |s: &Seen| matches!(s, Seen::Answered { .. });
    let Seen::Answered { result, .. } = run.next("the answer", answered).await else {
        unreachable!()
    };
    result.expect("in time");
    let again = run
        .http
        .create_interaction_response(
            InteractionId::new(handle.id),
            &handle.token,
            &CreateInteractionResponse::Acknowledge,
            Vec::new(),
        )
        .await
        .expect_err("a second first answer");
    assert!(
        again.to_string().contains("already been acknowledged"),
        "{again}"
    );

    run.fake.set_interaction_deadline(std::time::Duration::ZERO);
    run.fake
        .slash_command(SlashCommand::new("ping", run.channel, user))
        .await;
    let Seen::Answered { result, .. } = run.next("the late answer", answered).await else {
        unreachable!()
    };
    let late = result.expect_err("too late");
    assert!(late.contains("Unknown interaction"), "{late}");
}
