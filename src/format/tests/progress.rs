use crate::format::{discord_len, progress_line};
use std::time::Duration;

#[test]
fn shows_elapsed_time_tool_count_and_the_current_target() {
    let line = progress_line(
        Some(("Edit", Some("src/main.rs"))),
        Duration::from_secs(72),
        7,
    );
    assert_eq!(
        line,
        "⏳ Working… 1m 12s · 7 tools · now: Edit `src/main.rs`"
    );
}

#[test]
fn leaves_out_what_it_does_not_know() {
    assert_eq!(
        progress_line(None, Duration::from_millis(5400), 0),
        "⏳ Working… 5s"
    );
    let line = progress_line(Some(("Read", None)), Duration::from_secs(3725), 1);
    assert_eq!(line, "⏳ Working… 1h 02m · 1 tool · now: Read");
}

#[test]
fn a_long_path_keeps_its_file_name() {
    let path = format!("/home/me/{}/src/format/split.rs", "deep/".repeat(40));
    let line = progress_line(Some(("Edit", Some(&path))), Duration::ZERO, 2);
    assert!(line.ends_with("/src/format/split.rs`"), "{line}");
    assert!(line.contains("`…"));
    assert!(discord_len(&line) <= 160);
}

#[test]
fn a_long_command_keeps_its_start() {
    let command = format!("cargo test --lib {}", "filter ".repeat(40));
    let line = progress_line(Some(("Bash", Some(&command))), Duration::ZERO, 2);
    assert!(line.contains("`cargo test --lib filter"), "{line}");
    assert!(line.ends_with("…`"));
}

#[test]
fn a_target_cannot_mention_anyone_or_break_out_of_inline_code() {
    let target = "x` @everyone <@123> **bold** `y\nz";
    let line = progress_line(Some(("Bash", Some(target))), Duration::ZERO, 1);
    assert_eq!(line.matches('`').count(), 2, "{line}");
    assert!(!line.contains("@everyone") && !line.contains("<@1") && !line.contains('\n'));
}

#[test]
fn tool_names_are_reduced_to_name_characters_with_markdown_escaped() {
    let line = progress_line(Some(("mcp__github__create_issue", None)), Duration::ZERO, 1);
    assert!(
        line.ends_with("now: mcp\\_\\_github\\_\\_create\\_issue"),
        "{line}"
    );
    let hostile = progress_line(Some(("@everyone *x*", Some(""))), Duration::ZERO, 1);
    assert!(hostile.ends_with("now: everyonex"), "{hostile}");
}

#[test]
fn stays_short_whatever_the_inputs() {
    let (tool, target) = ("T".repeat(10_000), "🧪".repeat(10_000));
    let line = progress_line(
        Some((&tool, Some(&target))),
        Duration::from_secs(u64::MAX),
        usize::MAX,
    );
    assert!(discord_len(&line) <= 250, "{}", discord_len(&line));
}
