//! Shared test helpers: a fake Claude CLI with its own state, record and
//! count folders per test, run collection, and process-group checks.

use claude_coordinator::claude::{Progress, RunReport, RunSpec, run, run_with_recovery};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use test_support::fake_claude;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// One test's fake CLI world. Everything reaches the fake through
/// `RunSpec::extra_env`, never through this process's environment, because
/// tests run in parallel threads that share it.
pub struct FakeCli {
    root: TempDir,
}

impl FakeCli {
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        for sub in ["project", "state", "records", "count"] {
            std::fs::create_dir(root.path().join(sub)).expect("sub dir");
        }
        Self { root }
    }

    pub fn dir(&self, sub: &str) -> PathBuf {
        self.root.path().join(sub)
    }

    pub fn project(&self) -> PathBuf {
        self.dir("project")
    }

    /// A spec with short limits so failures show up fast.
    pub fn spec(&self, prompt: &str) -> RunSpec {
        let mut spec = RunSpec::new(fake_claude(), self.project(), prompt);
        spec.timeout = Duration::from_secs(30);
        spec.kill_grace = Duration::from_millis(300);
        spec.extra_env = ["state", "records", "count"]
            .into_iter()
            .zip([
                "FAKE_CLAUDE_STATE_DIR",
                "FAKE_CLAUDE_RECORD_DIR",
                "FAKE_CLAUDE_COUNT_DIR",
            ])
            .map(|(sub, var)| {
                (
                    var.to_string(),
                    self.dir(sub).to_string_lossy().into_owned(),
                )
            })
            .collect();
        spec
    }

    /// Every recorded invocation, oldest first.
    pub fn records(&self) -> Vec<Value> {
        let mut paths: Vec<_> = std::fs::read_dir(self.dir("records"))
            .expect("records dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                serde_json::from_slice(&std::fs::read(p).expect("record")).expect("record json")
            })
            .collect()
    }

    /// Every turn, oldest process first: its process's record with `stdin`
    /// the turn's prompt and `warm` set for a turn after the process's
    /// first.
    pub fn turns(&self) -> Vec<Value> {
        let mut turns = Vec::new();
        for record in self.records() {
            let prompts = record["turns"].as_array().cloned().unwrap_or_default();
            for (i, prompt) in prompts.into_iter().enumerate() {
                let mut turn = record.clone();
                turn["stdin"] = prompt;
                turn["warm"] = Value::Bool(i > 0);
                turns.push(turn);
            }
        }
        turns
    }

    /// The only recorded invocation.
    pub fn record(&self) -> Value {
        let records = self.records();
        assert_eq!(records.len(), 1, "expected one invocation");
        records.into_iter().next().unwrap_or_default()
    }

    /// How many fake CLIs run now, from the start/end log (a copy killed
    /// by a signal never logs its end).
    pub fn live_now(&self) -> usize {
        let log = std::fs::read_to_string(self.dir("count").join("events.log")).unwrap_or_default();
        let starts = log.lines().filter(|l| l.starts_with("start")).count();
        starts.saturating_sub(log.lines().filter(|l| l.starts_with("end")).count())
    }

    /// The most live fake CLIs at any one time, from the start/end log.
    pub fn max_concurrency(&self) -> usize {
        let log = std::fs::read_to_string(self.dir("count").join("events.log")).unwrap_or_default();
        let (mut live, mut max) = (0usize, 0usize);
        for line in log.lines() {
            match line.split_whitespace().next() {
                Some("start") => live += 1,
                Some("end") => live = live.saturating_sub(1),
                _ => {}
            }
            max = max.max(live);
        }
        max
    }
}

/// Runs once (`recover` picks `run_with_recovery`) and returns the report
/// with every progress event.
pub async fn run_collecting(spec: &RunSpec, recover: bool) -> (RunReport, Vec<Progress>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let report = if recover {
        run_with_recovery(spec, &tx, &cancel).await
    } else {
        run(spec, &tx, &cancel).await
    };
    drop(tx);
    let mut events = Vec::new();
    while let Some(p) = rx.recv().await {
        events.push(p);
    }
    (report, events)
}

/// The grandchild pid the fake announces with `FAKE:child`.
pub fn helper_pid(text: &str) -> Option<i32> {
    text.strip_prefix("started helper pid ")?.parse().ok()
}

/// A `FAKE:child` helper by pid. Dropping it kills the helper if it still
/// runs, so a tool shell the product failed to end does not outlive the test.
pub struct Helper(pub i32);

impl Drop for Helper {
    fn drop(&mut self) {
        // Only while the pid is still the helper's: pids are reused.
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", self.0)).unwrap_or_default();
        if cmdline == b"sleep\x001000\x00" {
            // SAFETY: kill(2) of a process just seen to be the helper.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

/// Waits (bounded) until no process of the group is alive. Zombies count as
/// gone: nobody reaps orphans in some containers.
pub async fn group_is_gone(pgid: i32) -> bool {
    wait_for(|| {
        // SAFETY: kill with signal 0 only checks for existence.
        let rc = unsafe { libc::kill(-pgid, 0) };
        rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
            || all_zombies(|stat| stat_field(stat, 2) == Some(pgid.to_string()))
    })
    .await
}

/// Waits (bounded) until the process is gone or a zombie.
pub async fn process_is_gone(pid: i32) -> bool {
    wait_for(
        || match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat_field(&stat, 0).as_deref() == Some("Z"),
            Err(_) => true,
        },
    )
    .await
}

/// Signal delivery is asynchronous, so a just-killed process may take a
/// moment to die; poll for it with a deadline.
async fn wait_for(mut gone: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if gone() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    gone()
}

/// True when every process matching `selects` is a zombie (or none exist).
fn all_zombies(selects: impl Fn(&str) -> bool) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| selects(stat))
        .all(|stat| stat_field(&stat, 0).as_deref() == Some("Z"))
}

/// Field `n` after the `(comm)` of /proc/<pid>/stat: 0 state, 1 ppid, 2 pgrp.
fn stat_field(stat: &str, n: usize) -> Option<String> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(n).map(str::to_string)
}

/// Live processes (zombies excluded) whose working directory is `dir` or
/// inside it: a CLI working in a project and the tool shells it started.
pub fn processes_in(dir: &Path) -> Vec<i32> {
    let Ok(dir) = dir.canonicalize() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != std::process::id() as i32)
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(&dir))
        })
        .collect()
}
