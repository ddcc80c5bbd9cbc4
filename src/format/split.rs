//! Splits text into chunks of at most `max_len` (by [`discord_len`]).
//!
//! Each chunk ends at the last break that fits of the best kind: a blank
//! line outside a code block, a line break outside one, a blank line inside
//! one, a line break inside one (among those that leave the chunk at least
//! half full, if any do), then whitespace, then a grapheme boundary, and a
//! char boundary only if one grapheme alone is too long. A code fence open at a split is closed at the end of the chunk and
//! reopened with its info string at the start of the next; those added lines
//! count toward the limit.
//!
//! What is dropped, exactly: at every split point, the maximal whitespace run
//! there, except that the indentation after its last newline is kept (so code
//! stays indented); the same rule at the very start of the text; and all
//! trailing whitespace of the text. A hard split drops nothing. Indentation
//! that would fill a chunk on its own is dropped too. Whitespace is Unicode
//! White_Space; a word split needs a breaking one in the run (no-break spaces
//! alone never split words, but are dropped with the run they are in).

use super::discord_len;
use super::fence::{Fence, FenceTracker};
use unicode_segmentation::UnicodeSegmentation;

/// The widest char is two UTF-16 units; smaller limits are raised to this.
pub(crate) const MIN_MAX_LEN: usize = 2;

fn is_space(c: char) -> bool {
    c.is_whitespace()
}

fn is_breaking_space(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}')
}

/// Split `text` into chunks of at most `max_len`; `""` gives no chunks.
pub fn split_message(text: &str, max_len: usize) -> Vec<String> {
    split_first_chunks(text, max_len, usize::MAX)
}

/// The first `count` chunks of [`split_message`], without splitting the rest.
pub(crate) fn split_first_chunks(text: &str, max_len: usize, count: usize) -> Vec<String> {
    let max_len = max_len.max(MIN_MAX_LEN);
    let fences = FenceTracker::new(text, max_len / 4);
    let mut chunks = Vec::new();
    let mut open: Option<Fence> = None;
    let mut pos = skip_split_space(text, 0);
    while pos < text.len() && chunks.len() < count {
        let prefix = open.map_or(0, |f| f.reopen_len(text));
        let cut = cut_with_room_for_close(text, &fences, pos, open, max_len - prefix);
        if cut.end > pos {
            let mut chunk = String::with_capacity(cut.end - pos + 16);
            if let Some(f) = open {
                f.push_reopen(text, &mut chunk);
            }
            chunk.push_str(&text[pos..cut.end]);
            if let Some(f) = cut.state {
                f.push_close(&mut chunk);
            }
            chunks.push(chunk);
            open = cut.state;
        }
        pos = cut.next;
    }
    chunks
}

/// One chunk's content `text[pos..end]`, where the next starts, and the
/// fence left open at `end`.
struct Cut {
    end: usize,
    next: usize,
    state: Option<Fence>,
}

/// Shrinks the window until the content plus the closing fence it needs fits.
/// Terminates: each retry reserves strictly more, bounded by the fence limit.
fn cut_with_room_for_close(
    text: &str,
    fences: &FenceTracker,
    pos: usize,
    open: Option<Fence>,
    budget: usize,
) -> Cut {
    let mut reserve = 0;
    loop {
        let cut = best_cut(text, fences, pos, open, budget - reserve);
        let close = cut.state.map_or(0, |f| f.close_len());
        if close <= reserve || discord_len(&text[pos..cut.end]) + close <= budget {
            return cut;
        }
        reserve = close;
    }
}

fn best_cut(
    text: &str,
    fences: &FenceTracker,
    pos: usize,
    open: Option<Fence>,
    budget: usize,
) -> Cut {
    let Some(cap) = window_end(text, pos, budget) else {
        let end = pos + trim_end_len(&text[pos..]);
        let state = fences.after_text(open, pos, end);
        return Cut {
            end,
            next: text.len(),
            state,
        };
    };
    let (end, state) = line_cut(text, fences, pos, cap, budget, open)
        .unwrap_or_else(|| in_line_cut(text, pos, cap, open, fences));
    if text[pos..end].chars().all(is_space) {
        // Only indentation fits before something too wide: drop it, as at
        // any split point, rather than send a blank chunk.
        let run_end = pos + text[pos..].len() - text[pos..].trim_start_matches(is_space).len();
        return Cut {
            end: pos,
            next: run_end,
            state: open,
        };
    }
    let next = if text[end..].starts_with(is_space) {
        skip_split_space(text, end)
    } else {
        end
    };
    Cut { end, next, state }
}

/// The first byte past `budget` units from `pos`, or None if the rest fits.
fn window_end(text: &str, pos: usize, budget: usize) -> Option<usize> {
    let mut used = 0;
    for (i, c) in text[pos..].char_indices() {
        used += c.len_utf16();
        if used > budget {
            return Some(pos + i);
        }
    }
    None
}

/// The best paragraph or line break whose content ends by `cap`: outside a
/// code block before inside one, then a blank line before a line break.
fn line_cut(
    text: &str,
    fences: &FenceTracker,
    pos: usize,
    cap: usize,
    budget: usize,
    open: Option<Fence>,
) -> Option<(usize, Option<Fence>)> {
    let limit = if text.as_bytes().get(cap) == Some(&b'\n') {
        cap + 1
    } else {
        cap
    };
    // Latest candidate per rank: [blank line, line break] x [outside, inside].
    let mut best: [Option<(usize, Option<Fence>)>; 4] = [None; 4];
    let mut state = open;
    let mut content_end = None;
    let mut line_start = pos;
    let mut is_fragment = pos > 0 && text.as_bytes()[pos - 1] != b'\n';
    for nl in text[pos..limit].match_indices('\n').map(|(i, _)| pos + i) {
        let trimmed = trim_end_len(&text[line_start..nl]);
        let is_blank = trimmed == 0;
        if !is_blank {
            if !is_fragment {
                state = fences.after_line(state, line_start, nl);
            }
            content_end = Some(line_start + trimmed);
        }
        if let Some(end) = content_end {
            let rank = usize::from(!is_blank) + 2 * usize::from(state.is_some());
            best[rank] = Some((end, state));
        }
        is_fragment = false;
        line_start = nl + 1;
    }
    // A break that leaves the chunk less than half full wastes a message.
    let half_full = |&(end, _): &(usize, Option<Fence>)| 2 * discord_len(&text[pos..end]) >= budget;
    let candidates = best.into_iter().flatten();
    candidates
        .clone()
        .find(half_full)
        .or_else(|| candidates.clone().next())
}

/// A whitespace split inside the first line, else a grapheme boundary, else
/// a char boundary.
fn in_line_cut(
    text: &str,
    pos: usize,
    cap: usize,
    open: Option<Fence>,
    fences: &FenceTracker,
) -> (usize, Option<Fence>) {
    let end = word_end(text, pos, cap)
        .or_else(|| grapheme_end(&text[pos..], cap - pos).map(|n| pos + n))
        .unwrap_or_else(|| {
            pos + text[pos..]
                .chars()
                .next()
                .map_or(0, char::len_utf8)
                .max(cap - pos)
        });
    (end, fences.after_text(open, pos, end))
}

/// End of the content before the last whitespace run, starting by `cap`,
/// that has a breaking space in it.
fn word_end(text: &str, pos: usize, cap: usize) -> Option<usize> {
    let mut seen_content = false;
    let mut run_start = None;
    let mut last_break = None;
    let window_and_next = text[pos..]
        .char_indices()
        .take_while(|&(i, _)| pos + i <= cap);
    for (i, c) in window_and_next {
        if !is_space(c) {
            seen_content = true;
            run_start = None;
        } else if seen_content {
            let start = *run_start.get_or_insert(pos + i);
            if is_breaking_space(c) {
                last_break = Some(start);
            }
        }
    }
    last_break
}

/// Byte length of the longest run of whole graphemes within `cap` bytes.
fn grapheme_end(rest: &str, cap: usize) -> Option<usize> {
    let mut end = None;
    for (i, g) in rest.grapheme_indices(true) {
        if i + g.len() > cap {
            break;
        }
        end = Some(i + g.len());
    }
    end
}

fn trim_end_len(s: &str) -> usize {
    s.trim_end_matches(is_space).len()
}

/// Skips the whitespace run at `from`, keeping the indentation after its last
/// newline; returns `text.len()` if only whitespace remains.
fn skip_split_space(text: &str, from: usize) -> usize {
    let rest = &text[from..];
    let run = &rest[..rest.len() - rest.trim_start_matches(is_space).len()];
    if run.len() == rest.len() {
        return text.len();
    }
    run.rfind('\n').map_or(from + run.len(), |nl| from + nl + 1)
}
