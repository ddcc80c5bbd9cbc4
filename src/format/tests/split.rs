use super::check_preserved;
use crate::format::{discord_len, split_message};

fn assert_within(chunks: &[String], max_len: usize) {
    for chunk in chunks {
        assert!(
            discord_len(chunk) <= max_len,
            "{chunk:?} is longer than {max_len}"
        );
    }
}

#[test]
fn empty_or_blank_text_gives_no_chunks() {
    assert!(split_message("", 100).is_empty());
    assert!(split_message(" \n\n\t ", 100).is_empty());
}

#[test]
fn text_that_fits_is_one_chunk_without_trailing_whitespace() {
    assert_eq!(split_message("Hello\nworld\n\n", 100), ["Hello\nworld"]);
}

#[test]
fn splits_at_the_last_paragraph_break_that_fits() {
    let text = "first para\nline two\n\nsecond para\nline two\n\nthird para is here";
    let chunks = split_message(text, 45);
    assert_eq!(
        chunks,
        [
            "first para\nline two\n\nsecond para\nline two",
            "third para is here"
        ]
    );
}

#[test]
fn a_break_that_leaves_the_chunk_less_than_half_full_loses_to_a_later_one() {
    let text = "Hi.\n\nline one is here\nline two is here\nline three is here";
    let chunks = split_message(text, 40);
    assert_eq!(
        chunks,
        [
            "Hi.\n\nline one is here\nline two is here",
            "line three is here"
        ]
    );
}

#[test]
fn falls_back_to_the_last_line_break_that_fits() {
    let text = "line one\nline two\nline three\nline four";
    assert_eq!(
        split_message(text, 25),
        ["line one\nline two", "line three\nline four"]
    );
}

#[test]
fn falls_back_to_whitespace_inside_a_long_line() {
    let text = "alpha beta gamma delta epsilon";
    assert_eq!(
        split_message(text, 12),
        ["alpha beta", "gamma delta", "epsilon"]
    );
}

#[test]
fn hard_splits_a_word_longer_than_the_limit() {
    let word = "x".repeat(25);
    assert_eq!(
        split_message(&word, 10),
        ["x".repeat(10), "x".repeat(10), "x".repeat(5)]
    );
}

#[test]
fn a_hard_split_keeps_zwj_families_whole() {
    let family = "👨\u{200d}👩\u{200d}👧\u{200d}👦";
    assert_eq!(discord_len(family), 11);
    let text = family.repeat(5);
    let chunks = split_message(&text, 25);
    assert_eq!(
        chunks,
        [family.repeat(2), family.repeat(2), family.to_owned()]
    );
}

#[test]
fn a_hard_split_keeps_flags_and_combining_marks_whole() {
    let flags = "🇫🇷🇯🇵🇧🇷";
    assert_eq!(split_message(flags, 6), ["🇫🇷", "🇯🇵", "🇧🇷"]);
    let accented = "e\u{301}".repeat(5);
    let chunks = split_message(&accented, 5);
    assert_eq!(
        chunks,
        [
            "e\u{301}".repeat(2),
            "e\u{301}".repeat(2),
            "e\u{301}".to_owned()
        ]
    );
}

#[test]
fn a_hard_split_counts_cjk_and_astral_chars_in_utf16_units() {
    let cjk = "漢字仮名交じり文";
    assert_eq!(split_message(cjk, 3), ["漢字仮", "名交じ", "り文"]);
    let astral = "𝒜𝒝𝒞";
    assert_eq!(split_message(astral, 3), ["𝒜", "𝒝", "𝒞"]);
}

#[test]
fn a_grapheme_longer_than_the_limit_is_cut_at_char_boundaries() {
    let zalgo = format!("a{}", "\u{301}".repeat(30));
    let chunks = split_message(&zalgo, 8);
    assert_within(&chunks, 8);
    assert_eq!(chunks.concat(), zalgo);
}

#[test]
fn limits_below_two_are_raised_so_every_char_fits() {
    assert_eq!(split_message("ab😀", 0), ["ab", "😀"]);
}

#[test]
fn drops_only_the_whitespace_at_split_points_and_keeps_indentation() {
    let text = "\n\n  a b\n\n\n    c d  ";
    let chunks = split_message(text, 6);
    assert_eq!(chunks, ["  a b", "    c", "d"]);
    check_preserved(text, &chunks).unwrap();
}

#[test]
fn crlf_line_breaks_are_split_points() {
    assert_eq!(
        split_message("line one\r\nline two", 12),
        ["line one", "line two"]
    );
}

#[test]
fn no_break_spaces_are_not_split_points() {
    let text = "aaaa\u{a0}bbbb cccc";
    assert_eq!(split_message(text, 10), ["aaaa\u{a0}bbbb", "cccc"]);
}

#[test]
fn a_whitespace_run_longer_than_a_chunk_is_dropped_without_an_empty_chunk() {
    let text = format!("a\n{}b", " ".repeat(50));
    assert_eq!(split_message(&text, 10), ["a", "b"]);
}
