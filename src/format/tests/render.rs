use super::fences_balanced;
use crate::format::{
    EMPTY_ANSWER, FormatOptions, Rendered, discord_len, render_answer, render_turn,
};

fn chunks(rendered: Rendered) -> Vec<String> {
    match rendered {
        Rendered::Chunks(chunks) => chunks,
        other => panic!("expected chunks, got {other:?}"),
    }
}

fn denials(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_short_answer_is_one_message() {
    let rendered = render_answer("Done.", &[], &FormatOptions::default());
    assert_eq!(chunks(rendered), ["Done."]);
}

#[test]
fn an_empty_answer_says_so() {
    let rendered = render_answer("  \n", &[], &FormatOptions::default());
    assert_eq!(chunks(rendered), [EMPTY_ANSWER]);
}

#[test]
fn denials_are_listed_after_the_answer_as_inline_code() {
    let list = denials(&["Bash(rm -rf build)", "Write(/etc/x)"]);
    let rendered = render_answer("I could not finish.", &list, &FormatOptions::default());
    assert_eq!(
        chunks(rendered),
        [
            "I could not finish.\n\n🚫 Claude was not allowed to use: `Bash(rm -rf build)`, `Write(/etc/x)`."
        ]
    );
}

#[test]
fn an_empty_answer_still_shows_the_denials() {
    let rendered = render_answer("", &denials(&["Bash(ls)"]), &FormatOptions::default());
    let expected = format!("{EMPTY_ANSWER}\n\n🚫 Claude was not allowed to use: `Bash(ls)`.");
    assert_eq!(chunks(rendered), [expected]);
}

#[test]
fn many_denials_are_deduplicated_bounded_and_summarized() {
    let mut list: Vec<String> = (0..8).map(|i| format!("Bash(step {i})")).collect();
    list.push("Bash(step 0)".into());
    list.push("  ".into());
    list.push(format!("Bash({})", "y".repeat(500)));
    let text = chunks(render_answer("ok", &list, &FormatOptions::default())).concat();
    assert!(text.contains("`Bash(step 4)` and 4 more."), "{text}");
    assert!(!text.contains("step 5"));
    assert!(discord_len(&text) < 600);
}

#[test]
fn a_denial_cannot_mention_anyone_or_break_out_of_inline_code() {
    let list = denials(&["Bash(echo `@everyone` <@123>\nhi)"]);
    let text = chunks(render_answer("ok", &list, &FormatOptions::default())).concat();
    let note = text.split("\n\n").nth(1).unwrap();
    assert_eq!(note.matches('`').count(), 2, "{note}");
    assert!(!note.contains("@everyone") && !note.contains("<@1") && !note.contains('\n'));
}

#[test]
fn the_denial_note_gets_its_own_message_when_the_last_one_is_full() {
    let opts = FormatOptions::default();
    let answer = "word ".repeat(389);
    let rendered = chunks(render_answer(&answer, &denials(&["Bash(x)"]), &opts));
    assert_eq!(rendered.len(), 2);
    assert!(rendered[1].starts_with("🚫"));
}

#[test]
fn an_answer_needing_exactly_max_chunks_messages_is_sent_as_messages() {
    let opts = FormatOptions {
        max_chunks: 3,
        ..FormatOptions::default()
    };
    let answer = vec!["p".repeat(1900); 3].join("\n\n");
    let rendered = chunks(render_answer(&answer, &[], &opts));
    assert_eq!(rendered.len(), 3);
}

#[test]
fn a_longer_answer_is_attached_as_a_markdown_file_with_a_preview() {
    let opts = FormatOptions::default();
    let answer = format!(
        "Summary first.\n\n```rust\n{}```\n",
        "let x = 1;\n".repeat(900)
    );
    let list = denials(&["Bash(rm -rf build)"]);
    let Rendered::Attachment {
        message,
        filename,
        body,
    } = render_answer(&answer, &list, &opts)
    else {
        panic!("expected an attachment");
    };
    assert_eq!(filename, "answer.md");
    assert_eq!(body, answer);
    assert!(discord_len(&message) <= opts.max_message_len());
    let chars = answer.chars().count();
    assert!(
        message.contains(&format!("{chars} characters")),
        "{message}"
    );
    assert!(message.contains("It begins:\nSummary first."), "{message}");
    assert!(message.contains("`Bash(rm -rf build)`"));
    assert!(fences_balanced(&message));
}

#[test]
fn tiny_limits_still_give_messages_within_the_limit() {
    let opts = FormatOptions {
        limit: 40,
        margin: 0,
        max_chunks: 2,
    };
    let list = denials(&["Bash(a very long command that will not fit)"]);
    for answer in ["", "short", &"long answer ".repeat(20)] {
        match render_answer(answer, &list, &opts) {
            Rendered::Chunks(chunks) => assert!(chunks.iter().all(|c| discord_len(c) <= 40)),
            Rendered::Attachment { message, .. } => assert!(discord_len(&message) <= 40),
        }
    }
}

#[test]
fn changed_files_are_listed_after_the_answer_and_before_the_denials() {
    let changed = denials(&["src/lib.rs", "docs/notes.md"]);
    let rendered = render_turn(
        "Fixed it.",
        &denials(&["Bash(rm -rf build)"]),
        &changed,
        &FormatOptions::default(),
    );
    assert_eq!(
        chunks(rendered),
        [
            "Fixed it.\n\n📝 Changed: `src/lib.rs`, `docs/notes.md`.\n🚫 Claude was not allowed to use: `Bash(rm -rf build)`."
        ]
    );
}

#[test]
fn many_changed_files_are_bounded_and_long_paths_keep_their_names() {
    let mut changed: Vec<String> = (0..14).map(|i| format!("src/f{i}.rs")).collect();
    changed.push(format!("{}/deep.rs", "d".repeat(300)));
    let text = chunks(render_turn("ok", &[], &changed, &FormatOptions::default())).concat();
    assert!(text.contains("`src/f9.rs` and 5 more."), "{text}");
    assert!(!text.contains("f10"), "{text}");
    let deep = render_turn("ok", &[], &changed[14..], &FormatOptions::default());
    let deep = chunks(deep).concat();
    assert!(
        deep.contains("deep.rs`") && discord_len(&deep) < 200,
        "{deep}"
    );
}
