use super::{check_preserved, fences_balanced};
use crate::format::{discord_len, split_message};

fn code_lines(n: usize) -> String {
    (0..n).map(|i| format!("let x{i} = {i};\n")).collect()
}

#[test]
fn a_fence_open_at_a_split_is_closed_and_reopened_with_its_language() {
    let text = format!("Intro\n```rust\n{}```\nOutro", code_lines(12));
    let chunks = split_message(&text, 100);
    assert!(chunks.len() >= 2);
    // "Intro" alone would leave the first message nearly empty.
    assert!(
        chunks[0].starts_with("Intro\n```rust\nlet x0"),
        "{:?}",
        chunks[0]
    );
    assert!(chunks[0].ends_with("\n```"), "{:?}", chunks[0]);
    assert!(chunks[1].starts_with("```rust\nlet x"), "{:?}", chunks[1]);
    for chunk in &chunks {
        assert!(discord_len(chunk) <= 100);
        assert!(fences_balanced(chunk), "{chunk:?}");
    }
    assert!(chunks.last().unwrap().ends_with("```\nOutro"));
    check_preserved(&text, &chunks).unwrap();
}

#[test]
fn prefers_a_blank_line_before_a_code_block_over_one_inside_it() {
    let code = "```py\na = 1\n\nb = 2\n```";
    let prose = format!("{}.", "prose ".repeat(7).trim_end());
    let text = format!("{prose}\n\n{code}");
    assert!(discord_len(&text) > 64);
    assert_eq!(split_message(&text, 64), [prose.as_str(), code]);
}

#[test]
fn an_unclosed_fence_is_closed_at_the_end() {
    assert_eq!(
        split_message("```py\nprint(1)\n", 100),
        ["```py\nprint(1)\n```"]
    );
}

#[test]
fn a_four_backtick_fence_wrapping_triple_backticks_is_reopened_as_four() {
    let inner = "```rust\nfn main() {}\n```\n";
    let text = format!("````markdown\n{inner}{}````", "filler line\n".repeat(6));
    let chunks = split_message(&text, 80);
    assert!(chunks.len() >= 2);
    assert!(chunks[0].starts_with(&format!("````markdown\n{inner}")));
    assert!(chunks[0].ends_with("\n````"), "{:?}", chunks[0]);
    assert!(
        chunks[1].starts_with("````markdown\nfiller"),
        "{:?}",
        chunks[1]
    );
    assert!(chunks.last().unwrap().ends_with("````"));
}

#[test]
fn a_tilde_fence_is_tracked_and_backtick_lines_inside_it_are_content() {
    let text = format!("~~~\n```\n{}~~~", "inside the tilde block\n".repeat(4));
    let chunks = split_message(&text, 60);
    assert!(chunks.len() >= 2);
    assert!(chunks[0].ends_with("\n~~~"), "{:?}", chunks[0]);
    assert!(chunks[1].starts_with("~~~\ninside"), "{:?}", chunks[1]);
}

#[test]
fn backticks_in_the_info_string_or_deep_indentation_are_not_fences() {
    let inline = format!("```inline``` code\n{}", "word ".repeat(30));
    assert!(
        split_message(&inline, 50)
            .iter()
            .all(|c| !c.ends_with("\n```"))
    );
    let indented = format!("    ```\n{}", "word ".repeat(30));
    assert!(
        split_message(&indented, 50)
            .iter()
            .all(|c| !c.ends_with("\n```"))
    );
}

#[test]
fn a_fence_too_long_to_repeat_in_every_chunk_is_split_as_plain_text() {
    let text = format!("```{}\n{}```", "x".repeat(60), code_lines(20));
    let chunks = split_message(&text, 100);
    for chunk in &chunks {
        assert!(discord_len(chunk) <= 100);
    }
    assert_eq!(chunks.iter().filter(|c| c.starts_with("```x")).count(), 1);
}

#[test]
fn a_line_break_after_a_code_block_beats_a_blank_line_inside_it() {
    let code = "```\nfirst();\n\nsecond();\n```";
    let text = format!("{code}\nand then some words that do not fit");
    assert_eq!(
        split_message(&text, 48),
        [code, "and then some words that do not fit"]
    );
}
