//! The text of the live status message edited while Claude works, e.g.
//! "⏳ Working… 1m 12s · 7 tools · now: Edit `src/main.rs`".

use super::sanitize::{Keep, inline_code, plain_name};
use std::fmt::Write;
use std::time::Duration;

const MAX_TOOL_LEN: usize = 40;
const MAX_TARGET_LEN: usize = 80;

/// One status line, under 250 characters whatever the inputs.
/// `activity` is the running tool and, if any, what it works on (a path, a
/// command, a pattern); both come from Claude and are sanitized here.
pub fn progress_line(
    activity: Option<(&str, Option<&str>)>,
    elapsed: Duration,
    tool_count: usize,
) -> String {
    let mut line = format!("⏳ Working… {}", human_elapsed(elapsed));
    match tool_count {
        0 => {}
        1 => line.push_str(" · 1 tool"),
        n => {
            let _ = write!(line, " · {n} tools");
        }
    }
    let Some((tool, target)) = activity else {
        return line;
    };
    let tool = plain_name(tool, MAX_TOOL_LEN);
    if tool.is_empty() {
        return line;
    }
    line.push_str(" · now: ");
    line.push_str(&tool);
    if let Some(code) = target.and_then(|t| inline_code(t, MAX_TARGET_LEN, keep_for(t))) {
        line.push(' ');
        line.push_str(&code);
    }
    line
}

/// The status line while the CLI retries Claude's API, e.g.
/// "⏳ Claude's API is busy · retry 3 of 10 · 42s".
pub fn api_retry_line(attempt: u32, max_retries: u32, elapsed: Duration) -> String {
    let of = if max_retries > 0 {
        format!(" of {max_retries}")
    } else {
        String::new()
    };
    format!(
        "⏳ Claude's API is busy · retry {attempt}{of} · {}",
        human_elapsed(elapsed)
    )
}

/// The status line while tool calls wait for an answer in Discord.
pub fn waiting_line(waiting: usize, elapsed: Duration) -> String {
    let calls = if waiting == 1 {
        "a tool call".to_string()
    } else {
        format!("{waiting} tool calls")
    };
    format!(
        "⏸️ Waiting for approval of {calls} (see the prompt) · {}",
        human_elapsed(elapsed)
    )
}

/// The end of a long path says most (the file name); the start of a long
/// command does.
fn keep_for(target: &str) -> Keep {
    let path_like = target.contains('/') || target.contains('\\');
    if path_like && !target.trim().contains(char::is_whitespace) {
        Keep::Tail
    } else {
        Keep::Head
    }
}

/// "42s", "1m 05s", "2h 03m": fixed-width parts so the edited line jitters less.
fn human_elapsed(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}
