//! Follows Markdown code fences line by line, so a split inside a code block
//! can close the fence at the end of one chunk and reopen it in the next.
//!
//! Fences follow CommonMark: a line indented by at most three spaces that
//! starts with three or more backticks or tildes opens one; only a line of
//! the same character, at least as long and with nothing but whitespace
//! after it, closes it. So ```` may wrap ``` lines, and ~~~ fences are
//! tracked too: Discord shows ~~~ literally, but a ``` line inside one is
//! content and must not be taken for a fence.

use super::discord_len;

/// An open fence, pointing into the text being split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fence {
    marker: u8,
    run: usize,
    info_start: usize,
    info_end: usize,
}

impl Fence {
    /// Length of the line that reopens the fence, newline included.
    pub(crate) fn reopen_len(&self, text: &str) -> usize {
        self.run + discord_len(&text[self.info_start..self.info_end]) + 1
    }

    /// Length of the newline plus marker that closes the fence.
    pub(crate) fn close_len(&self) -> usize {
        self.run + 1
    }

    pub(crate) fn push_reopen(&self, text: &str, out: &mut String) {
        self.push_marker(out);
        out.push_str(&text[self.info_start..self.info_end]);
        out.push('\n');
    }

    pub(crate) fn push_close(&self, out: &mut String) {
        out.push('\n');
        self.push_marker(out);
    }

    fn push_marker(&self, out: &mut String) {
        out.extend(std::iter::repeat_n(char::from(self.marker), self.run));
    }
}

/// Tracks fences over consecutive lines of one text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FenceTracker<'a> {
    text: &'a str,
    /// A fence whose reopen + close would cost more than this is treated as
    /// plain text, so repairing it can never eat the whole chunk.
    max_overhead: usize,
}

impl<'a> FenceTracker<'a> {
    pub(crate) fn new(text: &'a str, max_overhead: usize) -> Self {
        Self { text, max_overhead }
    }

    /// The fence state after the line `text[start..end]` (no newline in it).
    pub(crate) fn after_line(
        &self,
        state: Option<Fence>,
        start: usize,
        end: usize,
    ) -> Option<Fence> {
        let line = &self.text[start..end];
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent > 3 {
            return state;
        }
        let rest = &line[indent..];
        let marker = match rest.as_bytes().first() {
            Some(&m @ (b'`' | b'~')) => m,
            _ => return state,
        };
        let run = rest.len() - rest.trim_start_matches(char::from(marker)).len();
        if run < 3 {
            return state;
        }
        let info = &rest[run..];
        match state {
            Some(open) => {
                let closes = marker == open.marker && run >= open.run && info.trim().is_empty();
                if closes { None } else { Some(open) }
            }
            None => {
                let trimmed = info.trim();
                if marker == b'`' && trimmed.contains('`') {
                    return None;
                }
                let info_start = end - info.trim_start().len();
                let fence = Fence {
                    marker,
                    run,
                    info_start,
                    info_end: info_start + trimmed.len(),
                };
                let overhead = fence.reopen_len(self.text) + fence.close_len();
                (overhead <= self.max_overhead).then_some(fence)
            }
        }
    }

    /// The fence state after `text[start..end]`, line by line. When the text
    /// starts mid-line (after a word or hard split) that first piece is not
    /// a fence line.
    pub(crate) fn after_text(
        &self,
        mut state: Option<Fence>,
        start: usize,
        end: usize,
    ) -> Option<Fence> {
        let mut line_start = start;
        let mut is_fragment = start > 0 && self.text.as_bytes()[start - 1] != b'\n';
        loop {
            let line_end = self.text[line_start..end]
                .find('\n')
                .map_or(end, |i| line_start + i);
            if !is_fragment {
                state = self.after_line(state, line_start, line_end);
            }
            if line_end == end {
                return state;
            }
            is_fragment = false;
            line_start = line_end + 1;
        }
    }
}
