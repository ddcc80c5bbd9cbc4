//! Attachments: text files are saved in the project and named in the
//! prompt; binary or oversized ones are refused with a clear reply.

use super::{Daemon, Options};
use test_support::fake_discord::UserMessage;

/// Everything the fake CLI was given as its prompt, argv and stdin.
fn prompt_seen(record: &serde_json::Value) -> String {
    let argv: Vec<String> = serde_json::from_value(record["argv"].clone()).unwrap_or_default();
    format!(
        "{} {}",
        argv.join(" "),
        record["stdin"].as_str().unwrap_or_default()
    )
}

#[tokio::test]
async fn a_text_attachment_is_saved_in_the_project_and_named_in_the_prompt() {
    let d = Daemon::start(Options::default()).await;
    let message = UserMessage::new(d.alpha, d.alice, "summarise this")
        .mentioning_bot()
        .with_attachment("notes.md", "text/markdown", b"# Notes\n\nship it\n");
    let asked = d.fake.user_message(message).await;
    d.reply_to(d.alpha, asked).await;

    let relative = format!(".claude-coordinator/attachments/{asked}/notes.md");
    let saved = std::fs::read_to_string(d.cli.project().join(&relative)).expect("saved file");
    assert_eq!(saved, "# Notes\n\nship it\n");
    let prompt = prompt_seen(&d.cli.record());
    assert!(prompt.contains(&relative), "{prompt}");
    assert!(prompt.contains("summarise this"), "{prompt}");
}

#[tokio::test]
async fn binary_and_oversized_attachments_are_refused_with_a_reply() {
    let d = Daemon::start(Options {
        max_attachment_bytes: Some(1024),
        ..Options::default()
    })
    .await;
    let message = UserMessage::new(d.alpha, d.alice, "look at these")
        .mentioning_bot()
        .with_attachment("photo.png", "image/png", &[0x89, b'P', b'N', b'G', 0, 1, 2])
        .with_attachment("big.log", "text/plain", &[b'x'; 4096]);
    let asked = d.fake.user_message(message).await;
    let posts = d.reply_to(d.alpha, asked).await;
    let refusal = posts
        .iter()
        .find(|m| m.content.contains("Not passed to Claude"))
        .unwrap_or_else(|| panic!("no refusal in {posts:#?}"));
    assert!(
        refusal
            .content
            .contains("`photo.png` is neither a text file nor a PNG, JPEG, GIF or WebP image"),
        "{}",
        refusal.content
    );
    assert!(
        refusal
            .content
            .contains("`big.log` is 4 KB and the limit is 1 KB"),
        "{}",
        refusal.content
    );

    // The text still reaches Claude, without the refused files.
    d.finished_requests(d.alpha, 1).await;
    let prompt = prompt_seen(&d.cli.record());
    assert!(prompt.contains("look at these"), "{prompt}");
    assert!(
        !prompt.contains("photo.png") && !prompt.contains("big.log"),
        "{prompt}"
    );
    assert!(!d.cli.project().join(".claude-coordinator").exists());
}

#[tokio::test]
async fn two_files_with_one_name_are_both_kept() {
    let d = Daemon::start(Options::default()).await;
    let message = UserMessage::new(d.alpha, d.alice, "compare")
        .mentioning_bot()
        .with_attachment("notes.txt", "text/plain", b"first\n")
        .with_attachment("notes.txt", "text/plain", b"second\n");
    let asked = d.fake.user_message(message).await;
    d.reply_to(d.alpha, asked).await;
    let folder = d
        .cli
        .project()
        .join(format!(".claude-coordinator/attachments/{asked}"));
    let first = std::fs::read_to_string(folder.join("notes.txt")).expect("first file");
    let second = std::fs::read_to_string(folder.join("1-notes.txt")).expect("second file");
    assert_eq!((first.as_str(), second.as_str()), ("first\n", "second\n"));
    let prompt = prompt_seen(&d.cli.record());
    assert!(prompt.contains("1-notes.txt"), "{prompt}");
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01";

/// The image blocks of the only run's first turn, as (media type, bytes).
fn images_seen(d: &Daemon) -> Vec<(String, Vec<u8>)> {
    use base64::prelude::{BASE64_STANDARD, Engine as _};
    let record = d.cli.record();
    let blocks = record["images"][0].as_array().cloned().unwrap_or_default();
    blocks
        .iter()
        .map(|b| {
            let data = BASE64_STANDARD
                .decode(b["data"].as_str().unwrap_or_default())
                .expect("base64");
            (
                b["media_type"].as_str().unwrap_or_default().to_string(),
                data,
            )
        })
        .collect()
}

#[tokio::test]
async fn images_go_to_claude_as_they_are_whatever_their_names_say() {
    let d = Daemon::start(Options::default()).await;
    let message = UserMessage::new(d.alpha, d.alice, "what is wrong here?")
        .mentioning_bot()
        .with_attachment("screenshot.txt", "text/plain", PNG)
        .with_attachment("photo.jpg", "image/jpeg", JPEG)
        .with_attachment("notes.png", "image/png", b"plain text, despite the name\n");
    let asked = d.fake.user_message(message).await;
    let posts = d.reply_to(d.alpha, asked).await;
    assert!(
        !posts.iter().any(|m| m.content.contains("Not passed")),
        "{posts:#?}"
    );
    assert_eq!(
        images_seen(&d),
        [
            ("image/png".to_string(), PNG.to_vec()),
            ("image/jpeg".to_string(), JPEG.to_vec())
        ]
    );
    let dir = d
        .cli
        .project()
        .join(format!(".claude-coordinator/attachments/{asked}"));
    assert_eq!(
        std::fs::read(dir.join("screenshot.txt")).expect("saved"),
        PNG
    );
    assert_eq!(std::fs::read(dir.join("photo.jpg")).expect("saved"), JPEG);
    let prompt = prompt_seen(&d.cli.record());
    for name in [
        "screenshot.txt",
        "photo.jpg",
        "notes.png",
        "what is wrong here?",
    ] {
        assert!(prompt.contains(name), "{name}: {prompt}");
    }
}

#[tokio::test]
async fn an_oversized_image_a_sixth_image_and_a_binary_are_each_refused_alone() {
    let d = Daemon::start(Options {
        max_image_bytes: Some(1024),
        ..Options::default()
    })
    .await;
    let big = [PNG, &[7u8; 2048]].concat();
    let mut message = UserMessage::new(d.alpha, d.alice, "six shots")
        .mentioning_bot()
        .with_attachment("big.png", "image/png", &big)
        .with_attachment("tool.zip", "application/zip", b"PK\x03\x04\0\0binary");
    for n in 1..=6 {
        message = message.with_attachment(&format!("shot{n}.png"), "image/png", PNG);
    }
    let asked = d.fake.user_message(message).await;
    let posts = d.reply_to(d.alpha, asked).await;
    let refusal = posts
        .iter()
        .find(|m| m.content.contains("Not passed to Claude"))
        .unwrap_or_else(|| panic!("no refusal in {posts:#?}"))
        .content
        .clone();
    for why in [
        "`big.png` is an image of 2 KB and the image limit is 1 KB",
        "`tool.zip` is neither a text file nor a PNG, JPEG, GIF or WebP image",
        "`shot6.png`: at most 5 images go with one message",
    ] {
        assert!(refusal.contains(why), "{why}: {refusal}");
    }
    assert!(!refusal.contains("shot5"), "{refusal}");
    d.finished_requests(d.alpha, 1).await;
    assert_eq!(images_seen(&d).len(), 5);
    let prompt = prompt_seen(&d.cli.record());
    assert!(
        prompt.contains("six shots") && prompt.contains("shot5.png"),
        "{prompt}"
    );
    assert!(
        !prompt.contains("shot6.png") && !prompt.contains("big.png"),
        "{prompt}"
    );
}
