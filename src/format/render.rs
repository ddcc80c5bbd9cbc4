//! Decides how one answer is posted: as a few messages, or (when it would
//! take more than `max_chunks`) as a Markdown file with a short preview.
//! The files the turn changed and the permission denials are listed after
//! the answer in both cases.

use super::sanitize::{Keep, inline_code, truncate};
use super::split::split_first_chunks;
use super::{FormatOptions, Rendered, discord_len};

/// Posted when Claude's answer is empty or whitespace: the CLI's own
/// commands (`/compact`) finish that way, and so does a turn that only
/// used tools.
pub const EMPTY_ANSWER: &str = "Done.";
const ATTACHMENT_NAME: &str = "answer.md";
const MAX_DENIALS_SHOWN: usize = 5;
const MAX_DENIAL_LEN: usize = 80;
const MAX_CHANGED_SHOWN: usize = 10;
const MAX_PATH_LEN: usize = 80;
const MAX_PREVIEW_LEN: usize = 600;
/// A preview shorter than this is not worth showing.
const MIN_PREVIEW_LEN: usize = 80;

/// Render `text` for Discord; `denials` are the tool uses Claude was not
/// allowed (e.g. `Bash(rm -rf build)`), shown to the user after the answer.
pub fn render_answer(text: &str, denials: &[String], opts: &FormatOptions) -> Rendered {
    render_turn(text, denials, &[], opts)
}

/// `render_answer`, with the files the turn created or changed (paths
/// relative to its folder) listed before the denials.
pub fn render_turn(
    text: &str,
    denials: &[String],
    changed: &[String],
    opts: &FormatOptions,
) -> Rendered {
    let max_len = opts.max_message_len();
    let note = after_note(changed, denials, max_len);
    let max_chunks = opts.max_chunks.max(1);
    // One chunk past the maximum is enough to know the answer goes as a file.
    let mut chunks = split_first_chunks(text, max_len, max_chunks + 1);
    if chunks.is_empty() {
        chunks.push(truncate(EMPTY_ANSWER, max_len, Keep::Head));
    }
    if let Some(note) = &note {
        match chunks.last_mut() {
            Some(last) if discord_len(last) + 2 + discord_len(note) <= max_len => {
                last.push_str("\n\n");
                last.push_str(note);
            }
            _ => chunks.push(note.clone()),
        }
    }
    if chunks.len() <= max_chunks {
        return Rendered::Chunks(chunks);
    }
    Rendered::Attachment {
        message: attachment_message(text, note.as_deref(), max_len),
        filename: ATTACHMENT_NAME.to_owned(),
        body: text.to_owned(),
    }
}

/// The changed files' note, then the denials' on the next line; one alone
/// when both do not fit.
fn after_note(changed: &[String], denials: &[String], max_len: usize) -> Option<String> {
    match (
        changed_note(changed, max_len),
        denial_note(denials, max_len),
    ) {
        (Some(c), Some(d)) if discord_len(&c) + 1 + discord_len(&d) <= max_len => {
            Some(format!("{c}\n{d}"))
        }
        (Some(_), Some(d)) => Some(d),
        (c, d) => c.or(d),
    }
}

/// "📝 Changed: `src/a.rs`, `b.rs` and 3 more." The note fits in
/// `max_len` or is left out.
fn changed_note(changed: &[String], max_len: usize) -> Option<String> {
    let items: Vec<&str> = changed.iter().map(String::as_str).collect();
    let listing = Listing {
        head: "📝 Changed",
        keep: Keep::Tail,
        item_len: MAX_PATH_LEN,
        shown: MAX_CHANGED_SHOWN,
        summary: |n| format!("📝 Changed {n} file(s)."),
    };
    listing.note(&items, max_len)
}

/// "🚫 Claude was not allowed to use: `A`, `B` and 3 more." Duplicates are
/// listed once; the note always fits in `max_len` or is left out.
fn denial_note(denials: &[String], max_len: usize) -> Option<String> {
    let mut unique: Vec<&str> = Vec::new();
    for denial in denials {
        if !denial.trim().is_empty() && !unique.contains(&denial.as_str()) {
            unique.push(denial);
        }
    }
    let listing = Listing {
        head: "🚫 Claude was not allowed to use",
        keep: Keep::Head,
        item_len: MAX_DENIAL_LEN,
        shown: MAX_DENIALS_SHOWN,
        summary: |n| format!("🚫 Claude was not allowed to use {n} tool(s)."),
    };
    listing.note(&unique, max_len)
}

/// A note after the answer that lists items as inline code: the first
/// `shown` of them, then how many more; just `summary` when that is too
/// long.
struct Listing {
    head: &'static str,
    keep: Keep,
    item_len: usize,
    shown: usize,
    summary: fn(usize) -> String,
}

impl Listing {
    fn note(&self, items: &[&str], max_len: usize) -> Option<String> {
        if items.is_empty() {
            return None;
        }
        let shown: Vec<String> = items
            .iter()
            .filter_map(|item| inline_code(item, self.item_len, self.keep))
            .take(self.shown)
            .collect();
        let mut note = format!("{}: {}", self.head, shown.join(", "));
        let hidden = items.len() - shown.len();
        if hidden > 0 {
            let sep = if shown.is_empty() { "" } else { " and " };
            note.push_str(&format!("{sep}{hidden} more"));
        }
        note.push('.');
        if discord_len(&note) > max_len {
            note = (self.summary)(items.len());
        }
        (discord_len(&note) <= max_len).then_some(note)
    }
}

/// Says the answer is attached and how long it is, then shows as much of
/// its beginning as fits (fences balanced, since it is a split chunk).
fn attachment_message(text: &str, note: Option<&str>, max_len: usize) -> String {
    let chars = text.chars().count();
    let lines = text.lines().count();
    let header = format!(
        "📎 The answer is long ({chars} characters, {lines} lines), so it is attached as `{ATTACHMENT_NAME}`."
    );
    let mut message = truncate(&header, max_len, Keep::Head);
    let note = note.filter(|n| discord_len(&message) + 2 + discord_len(n) <= max_len);
    let used = discord_len(&message) + note.map_or(0, |n| 2 + discord_len(n));
    // Room left for "\n\nIt begins:\n" + preview + "\n…".
    let room = max_len.saturating_sub(used + 16).min(MAX_PREVIEW_LEN);
    if room >= MIN_PREVIEW_LEN
        && let Some(preview) = split_first_chunks(text, room, 1).pop()
    {
        message.push_str("\n\nIt begins:\n");
        message.push_str(&preview);
        message.push_str("\n…");
    }
    if let Some(note) = note {
        message.push_str("\n\n");
        message.push_str(note);
    }
    message
}
