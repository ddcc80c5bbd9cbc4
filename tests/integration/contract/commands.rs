//! Slash commands whose effect only the real CLI shows: /model reaches the
//! API as the model id, /model default goes back, and /reset starts a
//! conversation without the old history.

use super::World;
use crate::e2e::Options;
use test_support::fake_api::ApiRequest;
use test_support::fake_discord::SlashCommand;

/// The CLI's default model and what the `haiku` alias maps to.
const DEFAULT_MODEL: &str = "claude-opus-5-5";
const HAIKU: &str = "claude-haiku-5-5";

impl World {
    /// An admin sets (or with `default` clears) the channel's model.
    async fn set_model(&self, name: &str) {
        let command =
            SlashCommand::new("model", self.d.alpha, self.d.admin).string_option("name", name);
        let reply = self.command(command).await;
        let done = if name == "default" { "cleared" } else { name };
        assert!(reply.contains(done), "{reply}");
    }

    /// Alice says `text` in alpha; returns the API call of that turn.
    async fn turn(&self, text: &str) -> ApiRequest {
        let before = self.api.message_calls().len();
        let asked = self.d.say(self.d.alpha, self.d.alice, text).await;
        self.d.reply_to(self.d.alpha, asked).await;
        self.calls(before + 1).await.remove(before)
    }
}

#[tokio::test]
async fn a_model_set_by_an_admin_reaches_the_api() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    assert_eq!(w.turn("one").await.model(), Some(DEFAULT_MODEL));
    w.set_model("haiku").await;
    assert_eq!(w.turn("two").await.model(), Some(HAIKU));
}

/// A resumed CLI without `--model` keeps the session's last model.
#[tokio::test]
async fn model_default_goes_back_to_the_default_model() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    w.set_model("haiku").await;
    assert_eq!(w.turn("one").await.model(), Some(HAIKU));
    w.set_model("default").await;
    assert_eq!(w.turn("two").await.model(), Some(DEFAULT_MODEL));
}

#[tokio::test]
async fn reset_starts_a_conversation_without_the_old_history() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    let first = w.turn("remember MANGO").await;
    let reply = w
        .command(SlashCommand::new("reset", w.d.alpha, w.d.admin))
        .await;
    assert!(reply.contains("Session reset"), "{reply}");
    let after = w.turn("which fruit?").await;
    assert_ne!(after.session_id(), first.session_id());
    let texts = after.texts_of("user");
    assert!(!texts.contains(&"remember MANGO"), "{texts:?}");
    assert!(after.texts_of("assistant").is_empty());
}
