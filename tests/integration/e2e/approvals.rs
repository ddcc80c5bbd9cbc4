//! Approvals in Discord (issue 14), through the real daemon, the fake
//! Discord and the fake CLI: a call the CLI's rules refuse becomes a prompt
//! with Allow and Deny buttons; the requester or an admin answers; anyone
//! else is refused; nobody answering denies it; a cancel closes it.

use super::{Daemon, LIMIT, Options, replies_to};
use test_support::fake_discord::{InteractionReply, InteractionReplyKind, PostedMessage};

/// Waits for the `n`th prompt (a message with buttons) replying to `asked`.
pub async fn prompt(d: &Daemon, asked: u64, n: usize) -> PostedMessage {
    let prompts = || {
        d.fake
            .posted_messages(d.alpha)
            .into_iter()
            .filter(|m| replies_to(m) == Some(asked) && m.content.starts_with("🔐"))
            .collect::<Vec<_>>()
    };
    d.fake.wait_for(LIMIT, |_| prompts().len() >= n).await;
    prompts().remove(n - 1)
}

/// The id of the prompt's button labelled `label`.
fn button(prompt: &PostedMessage, label: &str) -> String {
    let buttons = prompt
        .components
        .iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default());
    let found = buttons.into_iter().find(|b| b["label"] == label);
    let id = found.and_then(|b| b["custom_id"].as_str().map(str::to_string));
    id.unwrap_or_else(|| panic!("no {label} button: {:?}", prompt.components))
}

pub async fn click(d: &Daemon, prompt: &PostedMessage, label: &str, user: u64) -> InteractionReply {
    let handle = d
        .fake
        .click(d.alpha, prompt.id, &button(prompt, label), user)
        .await;
    d.fake
        .wait_for(LIMIT, |_| !d.fake.interaction_replies(&handle).is_empty())
        .await;
    d.fake.interaction_replies(&handle).remove(0)
}

/// Waits for the answer to `asked` (a reply that is not a prompt).
pub async fn answer(d: &Daemon, asked: u64) -> String {
    let answers = || {
        d.fake
            .posted_messages(d.alpha)
            .into_iter()
            .filter(|m| replies_to(m) == Some(asked) && !m.content.starts_with("🔐"))
            .map(|m| m.content)
            .collect::<Vec<_>>()
    };
    d.fake.wait_for(LIMIT, |_| !answers().is_empty()).await;
    answers().concat()
}

/// Waits until the prompt `id` has lost its buttons; returns its text.
pub async fn closed(d: &Daemon, id: u64) -> String {
    d.fake
        .wait_for(LIMIT, |_| current(d, id).components.is_empty())
        .await;
    current(d, id).content
}

/// The message `id` as it stands now.
pub fn current(d: &Daemon, id: u64) -> PostedMessage {
    let found = d
        .fake
        .posted_messages(d.alpha)
        .into_iter()
        .find(|m| m.id == id);
    found.expect("the prompt is still there")
}

#[tokio::test]
async fn the_requester_allows_one_call_and_denies_the_next() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:deny clean up").await;
    let first = prompt(&d, asked, 1).await;
    assert!(
        first
            .content
            .contains("run a command:\n```\nrm -rf build\n```"),
        "{}",
        first.content
    );
    let host = d.cli.project().display().to_string();
    assert!(!first.content.contains(&host), "{}", first.content);
    let reply = click(&d, &first, "Allow", d.alice).await;
    assert_eq!(reply.kind, InteractionReplyKind::Callback(7), "{reply:?}");
    let closed = current(&d, first.id);
    assert!(closed.components.is_empty(), "{closed:?}");
    assert!(
        closed
            .content
            .contains(&format!("Allowed by <@{}>", d.alice)),
        "{}",
        closed.content
    );

    let second = prompt(&d, asked, 2).await;
    assert!(
        second.content.contains("change `src/x.rs`"),
        "{}",
        second.content
    );
    click(&d, &second, "Deny", d.alice).await;
    assert!(current(&d, second.id).content.contains("Denied by"));

    let text = answer(&d, asked).await;
    assert!(
        text.contains("Write(src/x.rs)"),
        "only the Write was denied: {text}"
    );
    assert!(!text.contains("rm -rf build"), "{text}");
    let alice = Some(d.alice.to_string());
    assert_eq!(
        d.decided_approvals(2).await,
        [
            (
                "Bash".into(),
                "rm -rf build".into(),
                "allowed".into(),
                alice.clone()
            ),
            ("Write".into(), "src/x.rs".into(), "denied".into(), alice),
        ]
    );
}

#[tokio::test]
async fn status_shows_a_waiting_approval() {
    use test_support::fake_discord::SlashCommand;
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:deny").await;
    prompt(&d, asked, 1).await;
    let status = d
        .fake
        .slash_command(SlashCommand::new("status", d.alpha, d.alice))
        .await;
    d.fake
        .wait_for(LIMIT, |_| !d.fake.interaction_replies(&status).is_empty())
        .await;
    let reply = d.fake.interaction_replies(&status).remove(0);
    let text = reply.content().unwrap_or_default();
    assert!(
        text.contains("waiting for approval of 1 tool call"),
        "{text}"
    );
    // The status message says so too, once it is posted.
    d.fake
        .wait_for(LIMIT, |_| {
            d.fake
                .posted_messages(d.alpha)
                .iter()
                .any(|m| m.content.starts_with("⏸️ Waiting for approval"))
        })
        .await;
}

#[tokio::test]
async fn a_restart_expires_an_open_prompt_and_takes_its_buttons_away() {
    let mut d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:deny").await;
    let first = prompt(&d, asked, 1).await;
    // A prompt whose message was not stored yet cannot be found again.
    d.stored_prompts(1).await;
    d.crash_and_restart().await;
    d.fake
        .wait_for(LIMIT, |_| current(&d, first.id).components.is_empty())
        .await;
    let closed = current(&d, first.id).content;
    assert!(
        closed.contains("the bot restarted before anyone answered"),
        "{closed}"
    );
    assert!(closed.contains("rm -rf build"), "{closed}");
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "interrupted");
    assert_eq!(d.decided_approvals(1).await[0].2, "expired");
}

#[tokio::test]
async fn only_the_requester_or_an_admin_may_answer() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:deny").await;
    let first = prompt(&d, asked, 1).await;
    let refused = click(&d, &first, "Allow", d.bob).await;
    assert_eq!(
        refused.kind,
        InteractionReplyKind::Callback(4),
        "{refused:?}"
    );
    assert_eq!(
        refused.body["flags"].as_u64().map(|f| f & 64),
        Some(64),
        "ephemeral"
    );
    assert!(
        !current(&d, first.id).components.is_empty(),
        "the prompt stays"
    );
    click(&d, &first, "Deny", d.admin).await;
    assert!(
        current(&d, first.id)
            .content
            .contains(&format!("Denied by <@{}>", d.admin))
    );
}

#[tokio::test]
async fn a_prompt_nobody_answers_expires_and_its_call_is_denied() {
    let d = Daemon::start(Options {
        approval_timeout_secs: Some(1),
        ..Options::default()
    })
    .await;
    let asked = d.say(d.alpha, d.alice, "FAKE:deny").await;
    let text = answer(&d, asked).await;
    assert!(
        text.contains("Bash") && text.contains("Write"),
        "both denied: {text}"
    );
    let first = prompt(&d, asked, 1).await;
    d.fake
        .wait_for(LIMIT, |_| current(&d, first.id).components.is_empty())
        .await;
    assert!(
        current(&d, first.id).content.contains("Expired"),
        "{:?}",
        current(&d, first.id)
    );
}

#[tokio::test]
async fn cancel_while_a_prompt_waits_ends_the_run_and_closes_the_prompt() {
    use test_support::fake_discord::SlashCommand;
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:deny").await;
    let first = prompt(&d, asked, 1).await;
    let cancel = d
        .fake
        .slash_command(SlashCommand::new("cancel", d.alpha, d.alice))
        .await;
    d.fake
        .wait_for(LIMIT, |_| !d.fake.interaction_replies(&cancel).is_empty())
        .await;
    let text = answer(&d, asked).await;
    assert!(text.contains("Cancelled"), "{text}");
    let closed_text = closed(&d, first.id).await;
    assert!(
        closed_text.contains("ended before anyone answered"),
        "{closed_text}"
    );
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "cancelled");
}

/// The prompts that replied to `asked`, as they stand now.
fn prompts_of(d: &Daemon, asked: u64) -> Vec<PostedMessage> {
    d.fake
        .posted_messages(d.alpha)
        .into_iter()
        .filter(|m| replies_to(m) == Some(asked) && m.content.starts_with("🔐"))
        .collect()
}

#[tokio::test]
async fn allow_for_this_session_covers_the_same_call_until_reset() {
    use test_support::fake_discord::SlashCommand;
    // Each run in a process of its own, which must be told the rule.
    let d = Daemon::start(Options {
        max_warm: Some(0),
        ..Options::default()
    })
    .await;
    // The turn makes the Bash call, a Write, then the same Bash call again.
    let first = d.say(d.alpha, d.alice, "FAKE:deny FAKE:again one").await;
    let bash = prompt(&d, first, 1).await;
    click(&d, &bash, "Allow for this session", d.alice).await;
    assert!(
        current(&d, bash.id)
            .content
            .contains("Allowed for this session by")
    );
    let write = prompt(&d, first, 2).await;
    assert!(write.content.contains("src/x.rs"), "{}", write.content);
    click(&d, &write, "Allow", d.alice).await;
    let text = answer(&d, first).await;
    assert!(!text.contains("🚫"), "{text}");
    assert_eq!(
        prompts_of(&d, first).len(),
        2,
        "the repeated call was not asked about"
    );

    // The channel's next run is told, and asks only about the Write.
    let second = d.say(d.alpha, d.alice, "FAKE:deny two").await;
    let asked = prompt(&d, second, 1).await;
    assert!(asked.content.contains("src/x.rs"), "{}", asked.content);
    click(&d, &asked, "Deny", d.alice).await;
    answer(&d, second).await;
    assert_eq!(prompts_of(&d, second).len(), 1);
    let argv = d.cli.records()[1]["argv"].to_string();
    assert!(argv.contains("--allowedTools=Bash(rm -rf build)"), "{argv}");

    // After /reset the rule is gone.
    let reset = d
        .fake
        .slash_command(SlashCommand::new("reset", d.alpha, d.admin))
        .await;
    d.fake
        .wait_for(LIMIT, |_| !d.fake.interaction_replies(&reset).is_empty())
        .await;
    let third = d.say(d.alpha, d.alice, "FAKE:deny three").await;
    let again = prompt(&d, third, 1).await;
    assert!(again.content.contains("rm -rf build"), "{}", again.content);
}

#[tokio::test]
async fn a_question_is_answered_with_a_button_per_option() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:question").await;
    let shown = prompt_with(&d, asked, "❓").await;
    assert!(
        shown.content.contains("Which database should I use?"),
        "{}",
        shown.content
    );
    let reply = click(&d, &shown, "Postgres", d.alice).await;
    assert_eq!(reply.kind, InteractionReplyKind::Callback(7));
    let closed = current(&d, shown.id);
    assert!(closed.components.is_empty());
    assert!(
        closed
            .content
            .contains("Which database should I use? → Postgres"),
        "{}",
        closed.content
    );
    let text = answer_after(&d, asked).await;
    assert!(
        text.contains(
            r#"AskUserQuestion allowed; answers: {"Which database should I use?":"Postgres"}"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_plan_is_approved_or_sent_back_to_planning() {
    let d = Daemon::start(Options::default()).await;
    let approved = d.say(d.alpha, d.alice, "FAKE:plan").await;
    let shown = prompt_with(&d, approved, "📋").await;
    assert!(
        shown.content.contains("2. Fix the off-by-one"),
        "{}",
        shown.content
    );
    click(&d, &shown, "Approve", d.alice).await;
    assert!(
        answer_after(&d, approved)
            .await
            .contains("ExitPlanMode allowed")
    );

    let sent_back = d.say(d.alpha, d.alice, "FAKE:plan again").await;
    let shown = prompt_with(&d, sent_back, "📋").await;
    click(&d, &shown, "Keep planning", d.alice).await;
    assert!(
        current(&d, shown.id)
            .content
            .contains("Sent back to planning by")
    );
    let text = answer_after(&d, sent_back).await;
    assert!(
        text.contains("ExitPlanMode denied: The user wants you to keep planning"),
        "{text}"
    );
}

/// Waits for a prompt replying to `asked` that starts with `mark`.
pub async fn prompt_with(d: &Daemon, asked: u64, mark: &str) -> PostedMessage {
    let found = || {
        d.fake
            .posted_messages(d.alpha)
            .into_iter()
            .find(|m| replies_to(m) == Some(asked) && m.content.starts_with(mark))
    };
    d.fake.wait_for(LIMIT, |_| found().is_some()).await;
    found().expect("the prompt")
}

/// The answer to `asked`: its replies that are not prompts of any kind.
async fn answer_after(d: &Daemon, asked: u64) -> String {
    let answers = || {
        d.fake
            .posted_messages(d.alpha)
            .into_iter()
            .filter(|m| replies_to(m) == Some(asked) && m.components.is_empty())
            .filter(|m| {
                !["🔐", "❓", "📋"]
                    .iter()
                    .any(|mark| m.content.starts_with(mark))
            })
            .map(|m| m.content)
            .collect::<Vec<_>>()
    };
    d.fake.wait_for(LIMIT, |_| !answers().is_empty()).await;
    answers().concat()
}

#[tokio::test]
async fn a_cli_that_dies_while_a_prompt_waits_ends_the_request_with_an_error_id() {
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:deny FAKE:die-asking").await;
    let shown = prompt(&d, asked, 1).await;
    std::fs::write(d.cli.dir("state").join("die-now"), "").expect("tell the CLI to die");
    let text = answer_after(&d, asked).await;
    assert!(text.contains("error id"), "{text}");
    let closed_text = closed(&d, shown.id).await;
    assert!(
        closed_text.contains("ended before anyone answered"),
        "{closed_text}"
    );
    let rows = d.finished_requests(d.alpha, 1).await;
    assert_eq!(rows[0].status.to_string(), "failed");
    assert!(rows[0].error_id.is_some());
    assert_eq!(d.decided_approvals(1).await[0].2, "cancelled");
}

#[tokio::test]
async fn a_prompt_the_run_outlived_is_closed_once_discord_takes_it() {
    let d = Daemon::start(Options::default()).await;
    let mut held = d
        .fake
        .hold_next("POST", &format!("/channels/{}/messages", d.alpha));
    let asked = d.say(d.alpha, d.alice, "FAKE:deny FAKE:die-asking").await;
    held.reached(LIMIT).await;
    // The run ends while Discord still holds its prompt.
    std::fs::write(d.cli.dir("state").join("die-now"), "").expect("tell the CLI to die");
    d.finished_requests(d.alpha, 1).await;
    held.release();
    let shown = prompt(&d, asked, 1).await;
    let closed_text = closed(&d, shown.id).await;
    assert!(
        closed_text.contains("ended before anyone answered"),
        "{closed_text}"
    );
}
