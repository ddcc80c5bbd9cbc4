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
        refusal.content.contains("`photo.png` is not a text file"),
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
