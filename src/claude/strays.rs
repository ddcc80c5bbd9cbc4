//! Ending what a run left behind, wherever it went. The CLI's tool shells
//! run in sessions of their own (the real CLI starts them with `setsid`),
//! so a signal to the CLI's process group misses them, and once the CLI is
//! gone they belong to init. Each run's environment carries
//! `CLAUDE_COORDINATOR_RUN=<a fresh UUID>`, which every descendant inherits
//! whatever session or parent it ends up with; after a run that did not end
//! cleanly, every process that still carries the tag is SIGKILLed.
//!
//! Why a tag: a child subreaper would adopt the orphans, but tokio reaps
//! only the children it spawned, so adopted ones would stay zombies (or a
//! catch-all reaper would steal the CLI's exit status); a cgroup per run
//! needs a delegated cgroup tree, which a plain service does not have. A
//! descendant that empties its own environment escapes the tag, and then
//! only the process-group kill reaches it.

use std::ffi::OsStr;

/// The variable that marks a run's processes.
pub const RUN_TAG_VAR: &str = "CLAUDE_COORDINATOR_RUN";

/// A fresh tag for one run.
pub(super) fn new_tag() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Kills on a blocking thread when a runtime is there (a drop may happen
/// anywhere), else here.
pub(super) fn kill_tagged_soon(tag: String) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn_blocking(move || kill_tagged(&tag));
        }
        Err(_) => {
            kill_tagged(&tag);
        }
    }
}

/// SIGKILLs every process whose environment carries `tag`, passes until
/// one finds none (a process may fork while a pass runs); returns how many
/// were killed.
pub(super) fn kill_tagged(tag: &str) -> usize {
    let needle = format!("{RUN_TAG_VAR}={tag}");
    let mut killed = 0;
    for _ in 0..4 {
        let found = tagged(needle.as_bytes());
        if found.is_empty() {
            break;
        }
        for pid in &found {
            // SAFETY: kill(2) has no memory effects; `pid` carries this
            // run's tag, so it is one of the run's own descendants.
            unsafe {
                libc::kill(*pid, libc::SIGKILL);
            }
        }
        killed += found.len();
    }
    if killed > 0 {
        tracing::warn!(killed, "ended processes a Claude run left behind");
    }
    killed
}

/// The processes (other than this one) whose environment holds `needle`.
fn tagged(needle: &[u8]) -> Vec<libc::pid_t> {
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| pid_of(&e.file_name()))
        .filter(|pid| u32::try_from(*pid).is_ok_and(|p| p != own))
        .filter(|pid| carries(*pid, needle))
        .collect()
}

fn pid_of(name: &OsStr) -> Option<libc::pid_t> {
    name.to_str()?.parse().ok()
}

fn carries(pid: libc::pid_t, needle: &[u8]) -> bool {
    // Another user's process, or one that is gone: nothing to read.
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|environ| environ.split(|b| *b == 0).any(|var| var == needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_tagged_process_in_a_session_of_its_own_is_found_and_ended() {
        let tag = new_tag();
        let mut child = Command::new("setsid")
            .args(["sleep", "30"])
            .env(RUN_TAG_VAR, &tag)
            .spawn()
            .expect("spawn setsid sleep");
        let untagged = Command::new("sleep").arg("30").spawn();
        let needle = format!("{RUN_TAG_VAR}={tag}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        // Until setsid has exec'd sleep: during an exec the environment
        // cannot be read for a moment.
        let comm = format!("/proc/{}/comm", child.id());
        let execd = || std::fs::read_to_string(&comm).is_ok_and(|c| c.trim() == "sleep");
        let seen = || execd() && !tagged(needle.as_bytes()).is_empty();
        while !seen() && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert!(kill_tagged(&tag) >= 1);
        let status = child.wait().expect("reap");
        assert!(!status.success());
        assert!(tagged(needle.as_bytes()).is_empty());
        if let Ok(mut other) = untagged {
            assert!(
                other.try_wait().expect("poll").is_none(),
                "an untagged process was killed"
            );
            let _ = other.kill();
            let _ = other.wait();
        }
    }
}
