//! Slash commands through the real gateway: registration in the guild,
//! /cancel, /status, /reset (with its permission check) and /cost.

use super::{COMMAND_COUNT, Daemon, LIMIT, Options, argvs, assert_pings_nobody, poll, resume_of};
use test_support::fake_discord::{InteractionHandle, InteractionReply, SlashCommand};

/// Waits for the first reply to an interaction.
async fn answer(d: &Daemon, handle: &InteractionHandle) -> InteractionReply {
    d.fake
        .wait_for(LIMIT, |_| !d.fake.interaction_replies(handle).is_empty())
        .await;
    d.fake.interaction_replies(handle).remove(0)
}

async fn run(d: &Daemon, name: &str, channel: u64, user: u64) -> InteractionReply {
    let handle = d
        .fake
        .slash_command(SlashCommand::new(name, channel, user))
        .await;
    answer(d, &handle).await
}

fn is_ephemeral(reply: &InteractionReply) -> bool {
    reply.body["flags"].as_u64().is_some_and(|f| f & 64 != 0)
}

#[tokio::test]
async fn every_command_is_registered_in_the_guild_with_a_description() {
    let d = Daemon::start(Options::default()).await;
    let commands = d.fake.registered_commands();
    assert_eq!(commands.len(), COMMAND_COUNT);
    let mut names: Vec<&str> = commands
        .iter()
        .map(|(_, c)| c["name"].as_str().unwrap_or_default())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "add-project",
            "cancel",
            "cost",
            "file",
            "help",
            "model",
            "projects",
            "remove-project",
            "reset",
            "status",
            "worktree"
        ]
    );
    for (guild, command) in &commands {
        assert_eq!(*guild, Some(d.fake.guild_id()), "{command}");
        let description = command["description"].as_str().unwrap_or_default();
        assert!(!description.trim().is_empty(), "{command}");
    }
    let put = format!(
        "/applications/{}/guilds/{}/commands",
        d.fake.application_id(),
        d.fake.guild_id()
    );
    assert!(d.fake.requests().iter().any(|r| r.is("PUT", &put)));
}

#[tokio::test]
async fn cancel_stops_the_requesters_hanging_run() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "forever FAKE:hang").await;
    let pid = poll(
        || d.cli.records().first()?["pid"].as_i64(),
        "the fake CLI to start",
    )
    .await;

    let reply = run(&d, "cancel", d.alpha, d.alice).await;
    assert!(
        reply.content().unwrap_or_default().contains("Cancelling"),
        "{reply:?}"
    );
    assert!(is_ephemeral(&reply));
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(posts[0].content.contains("Cancelled"), "{posts:#?}");
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "cancelled");
    // The CLI ended the turn on the interrupt; what it cost is kept.
    assert!(rows[0].cost_usd.is_some_and(|c| c > 0.0), "{rows:?}");
    assert!(crate::helpers::process_is_gone(pid as i32).await);
    assert_pings_nobody(&d.fake.requests());
}

#[tokio::test]
async fn only_the_requester_or_an_admin_may_cancel_a_run() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "forever FAKE:hang").await;
    poll(|| d.cli.records().first().cloned(), "the fake CLI to start").await;

    let refused = run(&d, "cancel", d.alpha, d.bob).await;
    let text = refused.content().unwrap_or_default();
    assert!(text.contains("someone else's"), "{text}");
    let cancelled = run(&d, "cancel", d.alpha, d.admin).await;
    assert!(
        cancelled
            .content()
            .unwrap_or_default()
            .contains("Cancelling")
    );
    d.reply_to(d.alpha, asked).await;
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "cancelled");

    let nothing = run(&d, "cancel", d.alpha, d.alice).await;
    assert!(
        nothing
            .content()
            .unwrap_or_default()
            .contains("Nothing is running")
    );
}

#[tokio::test]
async fn status_answers_only_the_caller_with_the_project_and_message_count() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "hello").await;
    d.reply_to(d.alpha, asked).await;
    d.finished_requests(d.alpha, 1).await;

    let reply = run(&d, "status", d.alpha, d.alice).await;
    let text = reply.content().unwrap_or_default();
    assert!(is_ephemeral(&reply), "{reply:?}");
    assert!(text.contains("**alpha**"), "{text}");
    assert!(text.contains("1 message(s)"), "{text}");
    assert!(text.contains("idle"), "{text}");
}

#[tokio::test]
async fn reset_is_refused_to_a_plain_user_and_done_for_an_admin() {
    let d = Daemon::start(Options {
        max_warm: Some(0),
        ..Options::default()
    })
    .await;
    let first = d.say(d.alpha, d.alice, "one").await;
    d.reply_to(d.alpha, first).await;

    let refused = run(&d, "reset", d.alpha, d.alice).await;
    let text = refused.content().unwrap_or_default();
    assert!(text.contains("Manage Messages"), "{text}");
    assert!(is_ephemeral(&refused));
    let second = d.say(d.alpha, d.alice, "two").await;
    d.reply_to(d.alpha, second).await;
    assert!(
        resume_of(&argvs(&d.cli)[1]).is_some(),
        "a refused reset keeps the session"
    );

    let done = run(&d, "reset", d.alpha, d.admin).await;
    let text = done.content().unwrap_or_default();
    assert!(text.contains("Session reset"), "{text}");
    let third = d.say(d.alpha, d.alice, "three").await;
    d.reply_to(d.alpha, third).await;
    let argv = argvs(&d.cli);
    assert_eq!(argv.len(), 3);
    assert_eq!(resume_of(&argv[2]), None, "{:?}", argv[2]);
}

#[tokio::test]
async fn cost_shows_the_channel_and_project_totals_from_the_database() {
    let d = Daemon::start(Options::default()).await;
    for text in ["one", "two"] {
        let asked = d.say(d.alpha, d.alice, text).await;
        d.reply_to(d.alpha, asked).await;
    }
    let rows = d.finished_requests(d.alpha, 2).await;
    let total: f64 = rows.iter().filter_map(|r| r.cost_usd).sum();
    assert!(total > 0.0);

    let reply = run(&d, "cost", d.alpha, d.alice).await;
    let text = reply.content().unwrap_or_default();
    assert!(is_ephemeral(&reply));
    assert!(
        text.contains(&format!("This channel: ${total:.4} over 2 request(s)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("**alpha**: ${total:.4} over 2 request(s)")),
        "{text}"
    );
}

#[tokio::test]
async fn cost_shows_todays_spend_against_each_budget_and_a_spent_one_refuses() {
    let d = Daemon::start(Options {
        budgets: Some("daily_budget_usd = 1.5\nuser_daily_budget_usd = 0.01"),
        ..Options::default()
    })
    .await;
    let asked = d.say(d.alpha, d.alice, "one").await;
    d.reply_to(d.alpha, asked).await;
    let rows = d.delivered_requests(d.alpha, 1).await;
    let spent = rows[0].cost_usd.unwrap();
    let reply = run(&d, "cost", d.alpha, d.alice).await;
    let text = reply.content().unwrap_or_default();
    let all = format!(
        "The daily budget of all projects: ${spent:.2} of $1.50 spent today (resets at 00:00 UTC)."
    );
    assert!(text.contains(&all), "{text}");
    let mine =
        format!("Your daily budget in project alpha: ${spent:.2} of $0.01 spent today, **spent**");
    assert!(text.contains(&mine), "{text}");
    let again = d.say(d.alpha, d.alice, "two").await;
    let refusal = &d.reply_to(d.alpha, again).await[0];
    let refused = refusal
        .content
        .starts_with("💸 Your daily budget in project alpha is spent");
    assert!(refused, "{refusal:?}");
    assert_eq!(refusal.allowed_mentions, Some(super::notifies_requester()));
    assert_eq!(d.cli.turns().len(), 1);
}

#[tokio::test]
async fn an_admin_sets_the_model_for_the_next_run_and_a_user_may_not() {
    let d = Daemon::start(Options::default()).await;
    let model = |user| SlashCommand::new("model", d.alpha, user).string_option("name", "opus");
    let refused = answer(&d, &d.fake.slash_command(model(d.alice)).await).await;
    assert!(
        refused
            .content()
            .unwrap_or_default()
            .contains("Only bot admins")
    );
    let set = answer(&d, &d.fake.slash_command(model(d.admin)).await).await;
    assert!(
        set.content().unwrap_or_default().contains("`opus`"),
        "{set:?}"
    );

    let asked = d.say(d.alpha, d.alice, "hello").await;
    d.reply_to(d.alpha, asked).await;
    let argv = argvs(&d.cli)[0].join(" ");
    assert!(
        argv.contains("--model=opus") || argv.contains("--model opus"),
        "{argv}"
    );
}

#[tokio::test]
async fn status_in_a_thread_is_the_threads_own_and_unmapped_channels_are_told_so() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "in the channel").await;
    d.reply_to(d.alpha, asked).await;
    d.finished_requests(d.alpha, 1).await;

    let reply = run(&d, "status", d.thread, d.alice).await;
    let text = reply.content().unwrap_or_default();
    assert!(text.contains("**alpha**"), "{text}");
    assert!(text.contains("0 message(s)"), "{text}");
    let reply = run(&d, "status", d.unmapped, d.alice).await;
    assert!(reply.content().unwrap_or_default().contains("not mapped"));
}

#[tokio::test]
async fn a_member_with_manage_messages_may_reset() {
    use test_support::fake_discord::{MANAGE_MESSAGES, MEMBER_PERMISSIONS};
    let d = Daemon::start(Options::default()).await;
    let first = d.say(d.alpha, d.alice, "one").await;
    d.reply_to(d.alpha, first).await;
    let command = SlashCommand::new("reset", d.alpha, d.alice)
        .with_permissions(MEMBER_PERMISSIONS | MANAGE_MESSAGES);
    let handle = d.fake.slash_command(command).await;
    let done = answer(&d, &handle).await;
    let text = done.content().unwrap_or_default();
    assert!(text.contains("Session reset"), "{text}");
    let second = d.say(d.alpha, d.alice, "two").await;
    d.reply_to(d.alpha, second).await;
    assert_eq!(resume_of(&argvs(&d.cli)[1]), None);
}

#[tokio::test]
async fn an_unknown_command_and_wrong_options_get_an_ephemeral_answer_not_silence() {
    let d = Daemon::start(Options::default()).await;
    let stale = d
        .fake
        .stale_slash_command(SlashCommand::new("frobnicate", d.alpha, d.alice))
        .await;
    let reply = answer(&d, &stale).await;
    assert!(is_ephemeral(&reply), "{reply:?}");
    assert!(
        reply.body["content"]
            .as_str()
            .unwrap_or_default()
            .contains("don't know that command"),
        "{reply:?}"
    );
    let wrong = d
        .fake
        .slash_command(SlashCommand::new("model", d.alpha, d.admin).integer_option("name", 5))
        .await;
    let reply = answer(&d, &wrong).await;
    assert!(is_ephemeral(&reply), "{reply:?}");
    assert!(
        reply.body["content"]
            .as_str()
            .unwrap_or_default()
            .contains("options did not match"),
        "{reply:?}"
    );
}
