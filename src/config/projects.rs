//! The `[[projects]]` list: each entry checked on its own, folders resolved to
//! absolute paths, names and channels kept unique across entries.

use super::error::{ConfigProblem, Place};
use super::fields::Fields;
use super::parse::{PROJECT_KEYS, secs};
use super::settings::Project;
use crate::domain::{ChannelId, ProjectName};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

pub(super) fn projects(
    value: Option<&Value>,
    file: &Path,
    problems: &mut Vec<ConfigProblem>,
) -> Vec<Project> {
    let mut no_projects = |message: String| {
        let place = Place::Section("[projects]");
        problems.push(ConfigProblem::new(file, place, None, message));
    };
    let items = match value {
        Some(Value::Array(items)) if !items.is_empty() => items,
        None => {
            no_projects("no projects configured; add at least one [[projects]] with name, channel_id and path, or the daemon has nothing to do".into());
            return Vec::new();
        }
        Some(Value::Array(_)) => {
            no_projects("the list is empty; add at least one [[projects]] entry".into());
            return Vec::new();
        }
        Some(other) => {
            no_projects(format!(
                "must be written as [[projects]] (a list of tables), found {}",
                other.type_str()
            ));
            return Vec::new();
        }
    };
    let base = config_folder(file);
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let index = i + 1;
        let Value::Table(t) = item else {
            let place = Place::Project { index, name: None };
            let message = format!("must be a table, found {}", item.type_str());
            problems.push(ConfigProblem::new(file, place, None, message));
            continue;
        };
        out.extend(project(t, index, &base, file, &mut seen, problems));
    }
    out
}

/// The longest `system_prompt` that fits in one argument: Linux takes at
/// most 128 KiB per argv string, and it goes as `--append-system-prompt=…`.
pub(super) const MAX_SYSTEM_PROMPT_BYTES: usize = 128 * 1024 - "--append-system-prompt=".len() - 1;

/// Names and channels of earlier entries, even ones with other problems, so
/// a duplicate is reported no matter which entry is broken.
#[derive(Default)]
struct Seen {
    names: Vec<(String, usize)>,
    channels: Vec<(ChannelId, usize, Option<String>)>,
}

impl Seen {
    /// Reports a name or channel an earlier entry already has, and
    /// remembers this entry's.
    fn check(
        &mut self,
        f: &mut Fields<'_>,
        index: usize,
        name: Option<&str>,
        channel_id: Option<ChannelId>,
        label: Option<String>,
    ) {
        if let Some(name) = name {
            if let Some((_, earlier)) = self.names.iter().find(|(n, _)| n == name) {
                f.problem(
                    "name",
                    format!("{name:?} is already the name of project #{earlier}"),
                );
            }
            self.names.push((name.to_string(), index));
        }
        if let Some(id) = channel_id {
            if let Some((_, earlier, other)) = self.channels.iter().find(|(c, ..)| *c == id) {
                let who = other
                    .as_ref()
                    .map(|n| format!("{n:?} "))
                    .unwrap_or_default();
                f.problem(
                    "channel_id",
                    format!("channel {id} is already mapped to project {who}(#{earlier})"),
                );
            }
            self.channels.push((id, index, label));
        }
    }
}

fn project(
    t: &Table,
    index: usize,
    base: &Path,
    file: &Path,
    seen: &mut Seen,
    problems: &mut Vec<ConfigProblem>,
) -> Option<Project> {
    let label = t
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty());
    let label = label.map(str::to_string);
    let place = Place::Project {
        index,
        name: label.clone(),
    };
    let mut f = Fields::new(t, file, place, problems);
    f.reject_unknown_keys(&PROJECT_KEYS);
    let name = f.required_string("name");
    if !t.contains_key("channel_id") {
        f.problem("channel_id", "is required");
    }
    let channel_id = f.id("channel_id");
    seen.check(&mut f, index, name.as_deref(), channel_id, label);
    let path = f
        .required_string("path")
        .and_then(|p| resolve_folder("path", &p, base, &mut f));
    let model = f.string("model");
    let system_prompt = f.string("system_prompt");
    if let Some(text) = &system_prompt
        && text.len() > MAX_SYSTEM_PROMPT_BYTES
    {
        let problem = format!(
            "is {} bytes, and one command-line argument may be at most {MAX_SYSTEM_PROMPT_BYTES} (Linux), so every run here would fail to start; shorten it",
            text.len()
        );
        f.problem("system_prompt", problem);
    }
    let permission_mode = f.permission_mode("permission_mode");
    let allowed_tools = f.strings("allowed_tools");
    let allowed_users = f.ids("allowed_users");
    let allowed_roles = f.ids("allowed_roles");
    let timeout = f.optional_number("timeout_secs", 1).map(secs);
    let approvals = f.approvals("approvals");
    let approval_timeout = f.optional_number("approval_timeout_secs", 1).map(secs);
    let daily_budget_usd = f.dollars("daily_budget_usd");
    let user_daily_budget_usd = f.dollars("user_daily_budget_usd");
    let thread_worktrees = thread_worktrees(&mut f, path.as_deref());
    Some(Project {
        name: ProjectName::new(name?),
        channel_id: channel_id?,
        path: path?,
        model,
        system_prompt,
        permission_mode,
        allowed_tools,
        allowed_users,
        allowed_roles,
        timeout,
        approvals,
        approval_timeout,
        daily_budget_usd,
        user_daily_budget_usd,
        thread_worktrees,
    })
}

/// `thread_worktrees`, which needs the folder to be the top of a git
/// repository: a worktree checks out the whole repository, so the threads
/// of a project inside one would work at its top instead.
fn thread_worktrees(f: &mut Fields, folder: Option<&Path>) -> bool {
    let on = f.boolean("thread_worktrees").unwrap_or(false);
    let Some(folder) = folder.filter(|_| on) else {
        return on;
    };
    // `.git` is a folder, or a file in a worktree or submodule.
    if folder.join(".git").exists() {
        return on;
    }
    let why = if folder.ancestors().any(|dir| dir.join(".git").exists()) {
        format!(
            "needs the top folder of a git repository, and {} is inside one, where a \
             thread's worktree would be the whole repository (map the repository's top \
             folder, or set it to false)",
            folder.display()
        )
    } else {
        format!(
            "needs a git repository, and {} is not in one (run `git init` there, or set it to false)",
            folder.display()
        )
    };
    f.problem("thread_worktrees", why);
    on
}

/// The folder relative project paths are resolved against.
pub(super) fn config_folder(file: &Path) -> PathBuf {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    absolute.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Canonical, so the folder Claude runs in is the one the operator sees in
/// logs even when the file says `../x` or goes through a symlink.
pub(super) fn resolve_folder(key: &str, raw: &str, base: &Path, f: &mut Fields) -> Option<PathBuf> {
    let joined = base.join(raw);
    match std::fs::metadata(&joined) {
        Ok(m) if m.is_dir() => Some(std::fs::canonicalize(&joined).unwrap_or(joined)),
        Ok(_) => {
            f.problem(key, format!("{} is not a folder", joined.display()));
            None
        }
        Err(e) => {
            let reason = match e.kind() {
                std::io::ErrorKind::NotFound => "does not exist".to_string(),
                _ => format!("cannot be read: {e}"),
            };
            let hint = if raw.starts_with('~') {
                " (~ is not expanded; write the full path)"
            } else {
                ""
            };
            f.problem(key, format!("{} {reason}{hint}", joined.display()));
            None
        }
    }
}
