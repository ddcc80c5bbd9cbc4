use super::{check_preserved, check_preserved_verbatim, fences_balanced};
use crate::format::{FormatOptions, Rendered, discord_len, render_answer, split_message};
use proptest::prelude::*;

/// Pieces of answer-like text: prose, long words, emoji, CJK, whitespace.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z]{1,10}",
        1 => "[a-zA-Z0-9]{40,300}",
        1 => prop::sample::select(vec![
            "👨\u{200d}👩\u{200d}👧\u{200d}👦", "🇫🇷", "e\u{301}\u{302}", "😀", "漢字仮名", "𝒜", "\u{a0}",
        ]).prop_map(str::to_owned),
        3 => prop::sample::select(vec![" ", " ", "  ", "\n", "\n\n", " \n\n ", "\t", "\r\n"])
            .prop_map(str::to_owned),
    ]
}

fn prose() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..60).prop_map(|p| p.concat())
}

/// A fenced block: language, lines (some indented, some blank), maybe unclosed.
fn code_block() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "    [a-z =;]{0,30}",
        "[a-z(){};]{0,80}",
        Just(String::new()),
        "😀[a-z]{0,5}"
    ];
    (
        prop::sample::select(vec!["", "rust", "py", "c++"]),
        prop::collection::vec(line, 0..25),
        prop::bool::weighted(0.9),
    )
        .prop_map(|(lang, lines, closed)| {
            let close = if closed { "```\n" } else { "" };
            format!("\n```{lang}\n{}\n{close}", lines.join("\n"))
        })
}

fn answer() -> impl Strategy<Value = String> {
    let part = prop_oneof![3 => prose(), 1 => code_block()];
    prop::collection::vec(part, 0..8).prop_map(|p| p.concat())
}

fn assert_fit_and_not_blank(chunks: &[String], max_len: usize) -> Result<(), TestCaseError> {
    for chunk in chunks {
        prop_assert!(discord_len(chunk) <= max_len, "too long: {chunk:?}");
        prop_assert!(chunk.chars().any(|c| !c.is_whitespace()), "blank chunk");
    }
    Ok(())
}

proptest! {

    #[test]
    fn chunks_fit_keep_the_text_and_balance_fences(text in answer(), max_len in 48usize..400) {
        let chunks = split_message(&text, max_len);
        assert_fit_and_not_blank(&chunks, max_len)?;
        prop_assert_eq!(check_preserved(&text, &chunks), Ok(()));
        for chunk in &chunks {
            prop_assert!(fences_balanced(chunk), "unbalanced: {chunk:?}");
        }
    }

    #[test]
    fn tiny_limits_still_fit_and_keep_the_text(text in answer(), max_len in 0usize..32) {
        // Below 32 no fence is worth repeating, so nothing is added.
        let chunks = split_message(&text, max_len);
        assert_fit_and_not_blank(&chunks, max_len.max(2))?;
        prop_assert_eq!(check_preserved_verbatim(&text, &chunks), Ok(()));
    }

    #[test]
    fn arbitrary_unicode_never_panics_and_always_fits(text in any::<String>(), max_len in 0usize..300) {
        let chunks = split_message(&text, max_len);
        assert_fit_and_not_blank(&chunks, max_len.max(2))?;
        if max_len < 32 {
            prop_assert_eq!(check_preserved_verbatim(&text, &chunks), Ok(()));
        }
    }

    #[test]
    fn discord_len_counts_utf16_units(s in any::<String>()) {
        prop_assert_eq!(discord_len(&s), s.encode_utf16().count());
    }

    #[test]
    fn rendered_messages_fit_and_attachments_keep_the_whole_answer(
        text in answer(),
        max_chunks in 1usize..4,
        denials in prop::collection::vec("[ -~]{0,120}", 0..8),
    ) {
        let opts = FormatOptions { limit: 400, margin: 20, max_chunks };
        match render_answer(&text, &denials, &opts) {
            Rendered::Chunks(chunks) => {
                prop_assert!(chunks.len() <= max_chunks);
                for chunk in &chunks {
                    prop_assert!(discord_len(chunk) <= 380);
                }
            }
            Rendered::Attachment { message, body, .. } => {
                prop_assert!(discord_len(&message) <= 380);
                prop_assert_eq!(body, text);
            }
        }
    }
}
