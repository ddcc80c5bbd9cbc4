//! Makes user-controlled snippets (tool targets, denied commands) safe to
//! show: one line, bounded, no mentions, no way out of inline code.

use super::discord_len;
use unicode_segmentation::UnicodeSegmentation;

/// Zero-width space: placed after `@` so neither `@everyone` nor `<@id>`
/// can form a mention.
const ZWSP: char = '\u{200b}';

/// Which end of a too-long snippet to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    Head,
    Tail,
}

/// `s` as inline code of at most `max` units (backticks included), or None
/// if nothing visible is left.
pub(crate) fn inline_code(s: &str, max: usize, keep: Keep) -> Option<String> {
    let mut clean = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            // A look-alike, so the text reads the same but cannot close the span.
            '`' => clean.push('\u{2cb}'),
            '\n' | '\r' | '\t' => clean.push(' '),
            '@' => {
                clean.push('@');
                clean.push(ZWSP);
            }
            c if c.is_control() => {}
            c => clean.push(c),
        }
    }
    let clean = clean.trim();
    if clean.is_empty() {
        return None;
    }
    let body = truncate(clean, max.saturating_sub(2), keep);
    (!body.is_empty()).then(|| format!("`{body}`"))
}

/// A tool name as escaped plain text: only name-like characters survive,
/// and markdown characters among them are escaped.
pub(crate) fn plain_name(s: &str, max: usize) -> String {
    let kept: String = s
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        .collect();
    let kept = truncate(&kept, max, Keep::Head);
    kept.replace('_', "\\_")
}

/// `s` cut to at most `max` units on a grapheme boundary, with an ellipsis
/// on the side that was cut.
pub(crate) fn truncate(s: &str, max: usize, keep: Keep) -> String {
    if discord_len(s) <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let room = max.saturating_sub(1);
    let mut used = 0;
    let fits = |g: &&str| {
        used += discord_len(g);
        used <= room
    };
    match keep {
        Keep::Head => {
            let head: String = s.graphemes(true).take_while(fits).collect();
            format!("{}…", head.trim_end())
        }
        Keep::Tail => {
            let mut tail: Vec<&str> = s.graphemes(true).rev().take_while(fits).collect();
            tail.reverse();
            format!("…{}", tail.concat().trim_start())
        }
    }
}
