//! Git worktrees for threads: with `thread_worktrees`, a thread's session
//! works in its own checkout of the project, on its own branch, under
//! `<project>/.claude-coordinator/worktrees/<thread id>`. Created on the
//! thread's first message; removed (with its branch) only when nothing in
//! it would be lost. Runs the `git` on PATH.

use crate::domain::ChannelId;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

pub const WORKTREES_DIR: &str = ".claude-coordinator/worktrees";

/// A git command that takes longer (a hook, a lock) is given up.
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// A thread's checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    pub path: PathBuf,
    pub branch: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    #[error("git {args} took over {GIT_TIMEOUT:?}")]
    Timeout { args: String },
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
}

/// Why a worktree was kept instead of removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Files changed, added or deleted and not committed.
    Uncommitted(usize),
    /// Commits on its branch that no other branch or remote has.
    Unpushed(usize),
}

impl Kept {
    pub fn describe(self) -> String {
        match self {
            Self::Uncommitted(n) => format!("{n} file(s) have uncommitted changes"),
            Self::Unpushed(n) => {
                format!("its branch has {n} commit(s) not pushed or merged anywhere")
            }
        }
    }
}

/// Where the thread's worktree lives.
pub fn path_of(project: &Path, thread: ChannelId) -> PathBuf {
    project.join(WORKTREES_DIR).join(thread.to_string())
}

/// `thread/<name>-<id>`: the thread's name in lower-case letters, digits
/// and dashes (at most 40), then its id, which keeps it unique.
pub fn branch_name(thread_name: &str, thread: ChannelId) -> String {
    let mut name = String::new();
    for c in thread_name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
        if name.len() >= 40 {
            break;
        }
    }
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        format!("thread/{thread}")
    } else {
        format!("thread/{name}-{thread}")
    }
}

/// The thread's worktree, if it exists.
pub async fn existing(project: &Path, thread: ChannelId) -> Option<Worktree> {
    let path = path_of(project, thread);
    if !path.join(".git").exists() {
        return None;
    }
    let branch = git(&path, &["branch", "--show-current"]).await.ok()?;
    Some(Worktree {
        path,
        branch: branch.trim().to_string(),
    })
}

/// The threads that have a worktree folder under the project, in id
/// order; other names there are not the daemon's and are passed over.
pub async fn listed(project: &Path) -> Vec<ChannelId> {
    let Ok(mut entries) = tokio::fs::read_dir(project.join(WORKTREES_DIR)).await else {
        return Vec::new();
    };
    let mut threads = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        if let Some(thread) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
            threads.push(thread);
        }
    }
    threads.sort();
    threads
}

/// The thread's worktree, created from the project's HEAD on a new branch
/// when it does not exist (or on the branch of that name, if one is left).
pub async fn ensure(project: &Path, thread: ChannelId, name: &str) -> Result<Worktree, GitError> {
    if let Some(found) = existing(project, thread).await {
        return Ok(found);
    }
    exclude_own_folder(project).await?;
    // A worktree folder deleted by hand leaves its registration behind.
    git(project, &["worktree", "prune"]).await?;
    let path = path_of(project, thread);
    let shown = path.to_string_lossy().into_owned();
    let branch = branch_name(name, thread);
    let taken = git(
        project,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ],
    )
    .await
    .is_ok();
    if taken {
        git(project, &["worktree", "add", &shown, &branch]).await?;
    } else {
        git(project, &["worktree", "add", "-b", &branch, &shown, "HEAD"]).await?;
    }
    Ok(Worktree { path, branch })
}

/// Removes the worktree and its branch, unless that would lose work.
pub async fn remove(project: &Path, worktree: &Worktree) -> Result<Option<Kept>, GitError> {
    // Untracked files are counted whatever `status.showUntrackedFiles`
    // says: `worktree remove` would delete them just the same.
    let status = ["status", "--porcelain", "--untracked-files=all"];
    let status = git(&worktree.path, &status).await?;
    let changed = status.lines().filter(|l| !l.trim().is_empty()).count();
    if changed > 0 {
        return Ok(Some(Kept::Uncommitted(changed)));
    }
    let unpushed = unpushed(worktree).await?;
    if unpushed > 0 {
        return Ok(Some(Kept::Unpushed(unpushed)));
    }
    let shown = worktree.path.to_string_lossy().into_owned();
    git(project, &["worktree", "remove", &shown]).await?;
    // Only a branch of the daemon's own: the worktree may have been
    // switched to one the thread did not make.
    if worktree.branch.starts_with("thread/") {
        git(project, &["branch", "-D", &worktree.branch]).await?;
    }
    Ok(None)
}

/// Commits on the thread's branch or the worktree's HEAD (a detached one
/// included) that no other branch or remote-tracking branch has.
async fn unpushed(worktree: &Worktree) -> Result<usize, GitError> {
    // Matched against names under refs/heads/ for --branches.
    let own = format!("--exclude={}", worktree.branch);
    let mut args = vec!["rev-list", "--count", "HEAD"];
    if !worktree.branch.is_empty() {
        args.push(&worktree.branch);
    }
    args.extend(["--not", &own, "--branches", "--remotes"]);
    Ok(git(&worktree.path, &args)
        .await?
        .trim()
        .parse()
        .unwrap_or(0))
}

/// Keeps `.claude-coordinator/` (attachments, the outbox, the worktrees)
/// out of every checkout's `git status`, through the repository's own
/// exclude file, which no commit carries.
async fn exclude_own_folder(project: &Path) -> Result<(), GitError> {
    const LINE: &str = "/.claude-coordinator/";
    let common = git(project, &["rev-parse", "--git-common-dir"]).await?;
    let exclude = project.join(common.trim()).join("info").join("exclude");
    let text = tokio::fs::read_to_string(&exclude)
        .await
        .unwrap_or_default();
    if text.lines().any(|l| l.trim() == LINE) {
        return Ok(());
    }
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(LINE);
    text.push('\n');
    if let Some(dir) = exclude.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(GitError::Spawn)?;
    }
    tokio::fs::write(&exclude, text)
        .await
        .map_err(GitError::Spawn)
}

/// Runs `git -C <dir> <args>`; its stdout, or why it failed.
async fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let shown = args.join(" ");
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(GIT_TIMEOUT, command.output())
        .await
        .map_err(|_| GitError::Timeout {
            args: shown.clone(),
        })?
        .map_err(GitError::Spawn)?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    Err(GitError::Failed {
        args: shown,
        stderr,
    })
}

#[cfg(test)]
mod tests;
