//! The CLI child process: how it is started, and how it and everything it
//! started are stopped. The CLI spawns children of its own (MCP servers,
//! background shells), so it gets its own process group and signals go to
//! the whole group; what left the group (a tool shell in its own session)
//! is found by the run's tag (`strays`).

use super::strays::{RUN_TAG_VAR, kill_tagged_soon};
use super::{FORBIDDEN_ENV, RunSpec, build_args};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::process::{Child, Command};

/// Starts the CLI in `spec.cwd`, in a new process group, with piped stdio,
/// without the forbidden variables and with the run's `tag`.
pub(super) fn spawn(spec: &RunSpec, tag: &str) -> std::io::Result<Child> {
    let mut cmd = Command::new(&spec.binary);
    cmd.args(build_args(spec))
        .current_dir(&spec.cwd)
        .envs(spec.extra_env.iter().map(|(k, v)| (k, v)))
        .env(RUN_TAG_VAR, tag)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    // After `envs`, so a forbidden name is dropped wherever it came from.
    for name in FORBIDDEN_ENV {
        cmd.env_remove(name);
    }
    cmd.spawn()
}

/// The child's process group and the run's tag. Dropping it unfinished
/// (a dropped run future) SIGKILLs whatever is left of the group and every
/// process with the tag, so nothing is left behind.
#[derive(Debug)]
pub(super) struct ProcessGroup {
    pgid: Option<libc::pid_t>,
    tag: String,
    finished: bool,
}

impl ProcessGroup {
    pub(super) fn of(child: &Child, tag: String) -> Self {
        let pgid = child
            .id()
            .and_then(|pid| libc::pid_t::try_from(pid).ok())
            .filter(|pid| *pid > 1);
        Self {
            pgid,
            tag,
            finished: false,
        }
    }

    /// The CLI is reaped: SIGKILL what is left of its group, and unless it
    /// ended by itself after its result (the CLI then ended its own tool
    /// shells), kill what left the group by its tag.
    pub(super) fn finish(&mut self, clean: bool) {
        self.finished = true;
        self.signal(libc::SIGKILL);
        if !clean {
            kill_tagged_soon(std::mem::take(&mut self.tag));
        }
    }

    pub(super) fn signal(&self, signal: libc::c_int) {
        if let Some(pgid) = self.pgid {
            // SAFETY: kill(2) has no memory effects; a negative pid addresses
            // the group this runner created with process_group(0).
            unsafe {
                libc::kill(-pgid, signal);
            }
        }
    }

    /// SIGTERM to the group, then SIGKILL if the CLI has not exited within
    /// `grace`. Always reaps the CLI.
    pub(super) async fn terminate(&self, child: &mut Child, grace: Duration) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
            return status.ok();
        }
        self.signal(libc::SIGKILL);
        child.wait().await.ok()
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if !self.finished {
            // Pids are handed out cyclically, so the group id cannot have
            // been reused in the moment since its leader was reaped.
            self.finish(false);
        }
    }
}

/// The exit code, or 128 + the signal number as a shell reports it.
pub(super) fn exit_code(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s))
}
