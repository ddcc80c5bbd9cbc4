//! Claude's output pings nobody: whatever it writes, every message and edit
//! the bot sends, interaction replies included, disables mentions.

use super::{Daemon, LIMIT, Options, assert_pings_nobody};
use test_support::fake_discord::SlashCommand;

#[tokio::test]
async fn output_with_everyone_user_and_role_mentions_pings_nobody() {
    let d = Daemon::start(Options::default()).await;
    let asked = d
        .say(d.alpha, d.alice, "FAKE:echo @everyone <@123> <@&456> hi")
        .await;
    let posts = d.reply_to(d.alpha, asked).await;
    let answer = &posts[0].content;
    assert!(answer.contains("@everyone"), "{answer}");
    assert!(
        answer.contains("<@123>") && answer.contains("<@&456>"),
        "{answer}"
    );

    let handle = d
        .fake
        .slash_command(SlashCommand::new("projects", d.alpha, d.admin))
        .await;
    d.fake
        .wait_for(LIMIT, |_| !d.fake.interaction_replies(&handle).is_empty())
        .await;
    let requests = d.fake.requests();
    assert!(
        requests.iter().any(|r| r.path.ends_with("/callback")),
        "an interaction reply was checked too"
    );
    assert_pings_nobody(&requests);
}
