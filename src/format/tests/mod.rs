//! Tests for the formatter, with an independent oracle that checks a split
//! preserved the text.

mod fences;
mod progress;
mod properties;
mod render;
mod split;

/// What a split may drop between chunks: whitespace only.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Fence state after `body`, for texts whose only fences are whole lines
/// starting with ``` (what the property generator produces): any such line
/// opens one, only a bare ``` closes it.
fn fence_after(mut open: Option<String>, body: &str) -> Option<String> {
    for line in body.split('\n').map(str::trim_end) {
        open = match open {
            Some(_) if line == "```" => None,
            None if line.starts_with("```") => Some(line.to_owned()),
            unchanged => unchanged,
        };
    }
    open
}

/// End of `piece` in `original`, if it starts after only whitespace from `at`.
fn find_after_space(original: &str, at: usize, piece: &str) -> Option<usize> {
    let rest = &original[at..];
    let skipped = rest.len() - rest.trim_start_matches(is_space).len();
    let lead = piece.len() - piece.trim_start_matches(is_space).len();
    let start = (at + skipped).checked_sub(lead).filter(|&s| s >= at)?;
    original
        .get(start..)?
        .starts_with(piece)
        .then_some(start + piece.len())
}

/// Ok if `chunks`, minus the fence lines a split adds, are `original` in
/// order with only whitespace between, before and after them.
fn check_preserved(original: &str, chunks: &[String]) -> Result<(), String> {
    walk(original, 0, chunks, None)
}

/// Like [`check_preserved`] for splits too narrow to add fence lines.
fn check_preserved_verbatim(original: &str, chunks: &[String]) -> Result<(), String> {
    let mut at = 0;
    for chunk in chunks {
        at = find_after_space(original, at, chunk)
            .ok_or_else(|| format!("chunk is not the text at byte {at}: {chunk:?}"))?;
    }
    match original[at..].chars().all(is_space) {
        true => Ok(()),
        false => Err(format!("text after byte {at} is missing")),
    }
}

fn walk(original: &str, at: usize, chunks: &[String], open: Option<String>) -> Result<(), String> {
    let Some((chunk, rest)) = chunks.split_first() else {
        return match original[at..].chars().all(is_space) {
            true => Ok(()),
            false => Err(format!("text after byte {at} is missing")),
        };
    };
    let body = match &open {
        Some(opening) => chunk
            .strip_prefix(&format!("{opening}\n"))
            .ok_or_else(|| format!("chunk does not reopen {opening}: {chunk:?}"))?,
        None => chunk.as_str(),
    };
    // The last ``` line is either the text's own or one the split added:
    // try both, the wrong one fails further on.
    if fence_after(open.clone(), body).is_none()
        && let Some(next) = find_after_space(original, at, body)
        && walk(original, next, rest, None).is_ok()
    {
        return Ok(());
    }
    if let Some(content) = body.strip_suffix("\n```")
        && let state @ Some(_) = fence_after(open, content)
        && let Some(next) = find_after_space(original, at, content)
    {
        return walk(original, next, rest, state);
    }
    Err(format!("chunk is not the text at byte {at}: {chunk:?}"))
}

/// A chunk leaves no ``` fence open.
fn fences_balanced(chunk: &str) -> bool {
    fence_after(None, chunk).is_none()
}
