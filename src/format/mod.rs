//! Turns Claude's answer into Discord messages: grapheme-safe, fence-aware
//! splitting under the message limit, a file attachment for very long answers,
//! a note about denied tools, and the text of the live progress line.

mod fence;
mod progress;
mod render;
mod sanitize;
mod size;
mod split;

#[cfg(test)]
mod tests;

pub use progress::{api_retry_line, progress_line, waiting_line};
pub use render::{EMPTY_ANSWER, render_answer, render_turn};
pub use size::{byte_size, grouped, size_against};
pub use split::split_message;

/// Discord's limit on the content of one message.
pub const DISCORD_LIMIT: usize = 2000;

/// The largest file Discord takes in one upload from a bot (10 MiB).
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// How answers are cut into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatOptions {
    /// Discord's message limit.
    pub limit: usize,
    /// Safety margin: every message is at most `limit - margin` long.
    pub margin: usize,
    /// More chunks than this and the answer is sent as a file instead.
    pub max_chunks: usize,
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self {
            limit: DISCORD_LIMIT,
            margin: 50,
            max_chunks: 4,
        }
    }
}

impl FormatOptions {
    /// The longest message we send, by [`discord_len`].
    pub fn max_message_len(&self) -> usize {
        self.limit
            .saturating_sub(self.margin)
            .max(split::MIN_MAX_LEN)
    }
}

/// What to post for one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// Post these messages in order.
    Chunks(Vec<String>),
    /// Post `message` with `body` attached as a file called `filename`.
    Attachment {
        message: String,
        filename: String,
        body: String,
    },
}

impl Rendered {
    /// How many Discord messages posting it takes.
    pub fn message_count(&self) -> usize {
        match self {
            Self::Chunks(chunks) => chunks.len(),
            Self::Attachment { .. } => 1,
        }
    }
}

/// Discord counts characters; measure conservatively in UTF-16 code units
/// (>= code points) so a chunk never exceeds the limit whichever way Discord
/// counts.
pub fn discord_len(s: &str) -> usize {
    // Every char starts with one non-continuation byte; chars outside the BMP
    // (4-byte UTF-8, lead byte >= 0xF0) take a second UTF-16 unit.
    s.bytes()
        .map(|b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}
