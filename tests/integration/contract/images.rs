//! An attached image reaches the Messages API as an image block of its
//! own bytes, through the real CLI's stream-json input.

use super::World;
use crate::e2e::Options;
use base64::prelude::{BASE64_STANDARD, Engine as _};
use test_support::fake_api::Reply;
use test_support::fake_discord::UserMessage;

/// A valid 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

#[tokio::test]
async fn an_attached_image_reaches_the_api_as_an_image_block() {
    let Some(w) = World::start(Options::default()).await else {
        return;
    };
    w.api.push(Reply::text("A single pixel."));
    let message = UserMessage::new(w.d.alpha, w.d.alice, "what is in this picture?")
        .mentioning_bot()
        .with_attachment("pixel.txt", "text/plain", PNG);
    let asked = w.d.fake.user_message(message).await;
    let posts = w.d.reply_to(w.d.alpha, asked).await;
    assert_eq!(posts[0].content, "A single pixel.", "{posts:#?}");
    let calls = w.calls(1).await;
    let user = calls[0]
        .messages()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .expect("a user message");
    let blocks = user["content"].as_array().expect("content blocks");
    let image = blocks
        .iter()
        .find(|b| b["type"] == "image")
        .unwrap_or_else(|| panic!("no image block in {user}"));
    assert_eq!(image["source"]["type"], "base64");
    assert_eq!(image["source"]["media_type"], "image/png");
    let data = BASE64_STANDARD
        .decode(image["source"]["data"].as_str().unwrap_or_default())
        .expect("base64");
    assert_eq!(data, PNG, "the bytes as attached");
    let texts = calls[0].last_user_texts().join("\n");
    assert!(texts.contains("what is in this picture?"), "{texts}");
    assert!(
        texts.contains("pixel.txt"),
        "the saved copy is named: {texts}"
    );
}
