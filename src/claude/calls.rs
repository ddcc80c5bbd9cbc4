//! What an approval prompt shows of a tool call, so the approver sees
//! what they allow: a command whole (in a code block, the project folder
//! taken out), a file by its project-relative path with a short preview of
//! the change, and a path outside the project whole and marked as such.

use super::targets::{ProjectRoots, tool_target};
use serde_json::Value;

/// How much of a command or a change a prompt shows, in characters.
const SHOWN_CHARS: usize = 1200;
const FILE_TOOLS: [&str; 5] = ["Read", "Edit", "MultiEdit", "Write", "NotebookEdit"];

/// "run a command" and the command, "edit `src/x.rs`" and the change, or
/// "use WebFetch on …": what follows "Claude wants to".
pub fn describe_call(tool: &str, input: &Value, roots: &ProjectRoots) -> String {
    let text = |key: &str| input.get(key).and_then(Value::as_str);
    if tool == "Bash" {
        let command = roots.strip_from(text("command").unwrap_or_default());
        return format!("run a command:\n{}", code_block(&command));
    }
    if FILE_TOOLS.contains(&tool)
        && let Some(path) = text("file_path").or(text("notebook_path"))
    {
        let verb = if tool == "Read" { "read" } else { "change" };
        let change = text("content")
            .or(text("new_string"))
            .or(text("new_source"));
        let preview = change
            .map(|c| format!("\n{}", code_block(c)))
            .unwrap_or_default();
        return format!("{verb} {}{preview}", shown_path(path, roots));
    }
    match tool_target(input, roots) {
        Some(target) => format!("use **{tool}** on `{target}`"),
        None => format!("use **{tool}**"),
    }
}

/// Inside the project: relative. Outside: whole, and said to be outside.
fn shown_path(path: &str, roots: &ProjectRoots) -> String {
    match roots.relative(path) {
        Some("") => "the project folder".to_string(),
        Some(inside) => format!("`{}`", fence_safe(inside)),
        None => format!("`{}` (**outside the project**)", fence_safe(path)),
    }
}

/// `text` in a code block, cut to `SHOWN_CHARS`; fences inside it cannot
/// close it early.
fn code_block(text: &str) -> String {
    let mut shown: String = text.chars().take(SHOWN_CHARS).collect();
    if shown.len() < text.len() {
        shown.push_str("\n…");
    }
    format!("```\n{}\n```", fence_safe(&shown))
}

fn fence_safe(text: &str) -> String {
    text.replace('`', "\u{2035}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn roots() -> ProjectRoots {
        ProjectRoots::of(Path::new("/srv/app"))
    }

    #[test]
    fn a_command_is_shown_whole_without_the_project_folder() {
        let shown = describe_call(
            "Bash",
            &json!({"command": "rm -rf /srv/app/build && ls"}),
            &roots(),
        );
        assert_eq!(shown, "run a command:\n```\nrm -rf build && ls\n```");
    }

    #[test]
    fn a_file_inside_is_relative_and_one_outside_is_whole_and_marked() {
        let inside = describe_call(
            "Write",
            &json!({"file_path": "/srv/app/src/x.rs", "content": "fn x() {}"}),
            &roots(),
        );
        assert_eq!(inside, "change `src/x.rs`\n```\nfn x() {}\n```");
        let outside = describe_call(
            "Edit",
            &json!({"file_path": "/etc/passwd", "new_string": "x"}),
            &roots(),
        );
        assert!(
            outside.starts_with("change `/etc/passwd` (**outside the project**)"),
            "{outside}"
        );
    }

    #[test]
    fn a_long_change_is_cut_and_fences_in_it_cannot_break_out() {
        let content = format!("```\n{}", "y".repeat(5000));
        let shown = describe_call(
            "Write",
            &json!({"file_path": "/srv/app/a", "content": content}),
            &roots(),
        );
        assert!(shown.chars().count() < SHOWN_CHARS + 100, "{}", shown.len());
        assert_eq!(shown.matches("```").count(), 2, "{shown}");
        assert!(shown.contains("\n…\n```"));
    }

    #[test]
    fn other_tools_are_named_with_their_target() {
        let shown = describe_call("WebFetch", &json!({"url": "https://example.com"}), &roots());
        assert_eq!(shown, "use **WebFetch** on `https://example.com`");
        assert_eq!(
            describe_call("TodoWrite", &json!({}), &roots()),
            "use **TodoWrite**"
        );
    }
}
