//! What a tool acts on, as users may see it: a path inside the project
//! relative to it, a path outside it as its file name only, a command with
//! the project folder taken out; each cut to fit, keeping a path's file
//! name. The CLI hands Read, Edit and Write absolute paths, and the status
//! message and denial notes must never show the host's folders.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// How long a target may get before it is cut, in characters.
const TARGET_CHARS: usize = 60;
const PATH_KEYS: [&str; 3] = ["file_path", "notebook_path", "path"];
const TEXT_KEYS: [&str; 3] = ["command", "pattern", "url"];

/// The project folder as the CLI may spell it: as configured, and with
/// symlinks resolved. Empty when the folder is not known: then every
/// absolute path counts as outside.
#[derive(Debug, Clone, Default)]
pub struct ProjectRoots(Vec<String>);

impl ProjectRoots {
    pub fn of(dir: &Path) -> Self {
        let mut roots: Vec<PathBuf> = vec![dir.to_path_buf()];
        if let Ok(real) = dir.canonicalize()
            && real != dir
        {
            roots.push(real);
        }
        let roots = roots
            .iter()
            .filter_map(|r| r.to_str())
            .map(|r| r.trim_end_matches('/').to_string())
            .filter(|r| !r.is_empty())
            .collect();
        Self(roots)
    }

    /// `path` relative to the project, if it lies inside it.
    pub(super) fn relative<'a>(&self, path: &'a str) -> Option<&'a str> {
        self.0.iter().find_map(|root| {
            let rest = path.strip_prefix(root.as_str())?;
            match rest.strip_prefix('/') {
                Some(inner) => Some(inner.trim_start_matches('/')),
                None => rest.is_empty().then_some(""),
            }
        })
    }

    /// `text` with every mention of the project folder made relative.
    pub(super) fn strip_from(&self, text: &str) -> String {
        let mut out = text.to_string();
        for root in &self.0 {
            out = strip_root(&out, root);
        }
        out
    }
}

/// The short thing a tool acts on: a path, a command's first line, a
/// pattern or a URL, as users may see it.
pub fn tool_target(input: &Value, roots: &ProjectRoots) -> Option<String> {
    let text = |k: &&str| input.get(*k).and_then(Value::as_str);
    if let Some(path) = PATH_KEYS.iter().find_map(text) {
        return shown_path(path, roots);
    }
    TEXT_KEYS
        .iter()
        .find_map(text)
        .and_then(|raw| shown_text(raw, roots))
}

/// The file a Write, Edit or NotebookEdit call writes, relative to the
/// project, when it lies inside it.
pub fn changed_file(tool: &str, input: &Value, roots: &ProjectRoots) -> Option<String> {
    let key = match tool {
        "Write" | "Edit" => "file_path",
        "NotebookEdit" => "notebook_path",
        _ => return None,
    };
    let path = input.get(key)?.as_str()?.trim();
    let inside = match roots.relative(path) {
        Some(inside) => inside,
        None if path.starts_with('/') => return None,
        None => path,
    };
    let parts: Vec<&str> = inside
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let climbs = parts.contains(&"..");
    (!parts.is_empty() && !climbs).then(|| parts.join("/"))
}

fn shown_path(raw: &str, roots: &ProjectRoots) -> Option<String> {
    let path = raw.lines().next().unwrap_or_default().trim();
    let shown = match roots.relative(path) {
        Some("") => ".".to_string(),
        Some(inside) => inside.to_string(),
        None if path.starts_with('/') => outside(path),
        None => path.to_string(),
    };
    (!shown.is_empty()).then(|| keep_tail(&shown))
}

/// A path outside the project: its file name only.
fn outside(path: &str) -> String {
    let name = Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    format!("…/{name}")
}

fn shown_text(raw: &str, roots: &ProjectRoots) -> Option<String> {
    let first_line = raw.lines().next().unwrap_or_default().trim();
    let relative = roots.strip_from(first_line);
    let mut short: String = relative.chars().take(TARGET_CHARS).collect();
    if short.len() < relative.len() || raw.trim().lines().nth(1).is_some() {
        short.push('…');
    }
    (!short.is_empty()).then_some(short)
}

/// The last `TARGET_CHARS` characters, so a long path keeps its file name.
fn keep_tail(shown: &str) -> String {
    let count = shown.chars().count();
    if count <= TARGET_CHARS {
        return shown.to_string();
    }
    let tail: String = shown.chars().skip(count - (TARGET_CHARS - 1)).collect();
    format!("…{tail}")
}

/// `root/x` becomes `x` and a bare `root` becomes `.`; a longer name that
/// only starts like the root (`root2/x`) is left alone.
fn strip_root(text: &str, root: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(root) {
        out.push_str(&rest[..at]);
        let after = &rest[at + root.len()..];
        match after.chars().next() {
            Some('/') => rest = after.trim_start_matches('/'),
            None => {
                out.push('.');
                rest = after;
            }
            Some(c) if c.is_whitespace() || c == '"' || c == '\'' => {
                out.push('.');
                rest = after;
            }
            Some(_) => {
                out.push_str(root);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roots() -> ProjectRoots {
        ProjectRoots(vec!["/srv/work/shop".into()])
    }

    fn target(input: Value) -> Option<String> {
        tool_target(&input, &roots())
    }

    #[test]
    fn a_changed_file_is_named_relative_to_the_project_only_when_inside_it() {
        let changed = |tool, input| changed_file(tool, &input, &roots());
        let write = json!({"file_path": "/srv/work/shop/src/cart.rs", "content": "x"});
        assert_eq!(
            changed("Write", write.clone()).as_deref(),
            Some("src/cart.rs")
        );
        assert_eq!(changed("Read", write), None, "reading changes nothing");
        let notebook = json!({"notebook_path": "/srv/work/shop/./nb/a.ipynb"});
        assert_eq!(
            changed("NotebookEdit", notebook).as_deref(),
            Some("nb/a.ipynb")
        );
        let relative = json!({"file_path": "docs//x.md"});
        assert_eq!(changed("Edit", relative).as_deref(), Some("docs/x.md"));
        for outside in [
            "/etc/passwd",
            "../shop2/x",
            "/srv/work/shop2/x",
            "/srv/work/shop",
        ] {
            let input = json!({"file_path": outside});
            assert_eq!(changed("Edit", input), None, "{outside}");
        }
    }

    #[test]
    fn a_path_inside_the_project_is_shown_relative_to_it() {
        let shown = target(json!({"file_path": "/srv/work/shop/src/cart.rs"}));
        assert_eq!(shown.as_deref(), Some("src/cart.rs"));
        let root = target(json!({"path": "/srv/work/shop"}));
        assert_eq!(root.as_deref(), Some("."));
    }

    #[test]
    fn a_path_outside_the_project_shows_only_its_file_name() {
        let shown = target(json!({"file_path": "/etc/ssh/sshd_config"}));
        assert_eq!(shown.as_deref(), Some("…/sshd_config"));
        let sibling = target(json!({"file_path": "/srv/work/shop2/secret.txt"}));
        assert_eq!(sibling.as_deref(), Some("…/secret.txt"));
    }

    #[test]
    fn without_a_project_every_absolute_path_is_outside() {
        let shown = tool_target(
            &json!({"file_path": "/home/dev/shop/src/cart.rs"}),
            &ProjectRoots::default(),
        );
        assert_eq!(shown.as_deref(), Some("…/cart.rs"));
    }

    #[test]
    fn a_long_path_keeps_its_file_name() {
        let deep = format!("/srv/work/shop/{}main.rs", "nested/".repeat(20));
        let shown = target(json!({"file_path": deep})).unwrap();
        assert!(shown.ends_with("nested/main.rs"), "{shown}");
        assert!(shown.starts_with('…'));
        assert_eq!(shown.chars().count(), TARGET_CHARS);
        assert!(!shown.contains("/srv"));
    }

    #[test]
    fn a_command_loses_the_project_folder_but_keeps_other_words() {
        let shown = target(json!({"command": "cat /srv/work/shop/src/a.rs && ls /srv/work/shop"}));
        assert_eq!(shown.as_deref(), Some("cat src/a.rs && ls ."));
        let sibling = target(json!({"command": "ls /srv/work/shop2"}));
        assert_eq!(sibling.as_deref(), Some("ls /srv/work/shop2"));
    }

    #[test]
    fn the_project_is_also_known_by_its_real_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real");
        std::fs::create_dir(&real).expect("mkdir");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let roots = ProjectRoots::of(&link);
        let inside = format!("{}/src/lib.rs", real.canonicalize().unwrap().display());
        let shown = tool_target(&json!({ "file_path": inside }), &roots);
        assert_eq!(shown.as_deref(), Some("src/lib.rs"));
    }
}
