//! What outlives one invocation: the sessions with their history, the
//! invocation record, and the start/end log that counts live copies.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What this fake keeps of a session between runs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Session {
    /// The model of its last run, which a resume without --model keeps.
    pub model: Option<String>,
    /// Its `modelUsage` so far (`null` when new).
    pub usage: Value,
    /// Every prompt it was given, oldest first.
    pub prompts: Vec<String>,
}

impl Session {
    /// The session as this run starts it: on `model`, with `prompt` added.
    pub fn continued(&self, model: &str, prompt: &str) -> Self {
        let mut next = self.clone();
        next.model = Some(model.to_string());
        next.prompts.push(prompt.to_string());
        next
    }
}

/// The sessions this fake has issued, one file per id in
/// FAKE_CLAUDE_STATE_DIR. As in the real CLI 2.1, they are not scoped to a
/// folder: a session resumes from anywhere, with its history.
pub struct Sessions {
    dir: Option<PathBuf>,
}

impl Sessions {
    pub fn from_env() -> Self {
        let dir = std::env::var_os("FAKE_CLAUDE_STATE_DIR").map(PathBuf::from);
        Self { dir }
    }

    /// Without a state dir every session counts as known.
    pub fn knows(&self, id: &str) -> bool {
        match &self.dir {
            Some(dir) => uuid::Uuid::parse_str(id).is_ok() && dir.join(id).exists(),
            None => true,
        }
    }

    /// The session as its last run left it (empty when new or unknown).
    pub fn load(&self, id: &str) -> Session {
        self.dir
            .as_ref()
            .and_then(|dir| std::fs::read(dir.join(id)).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, id: &str, session: &Session) {
        let (Some(dir), Ok(text)) = (&self.dir, serde_json::to_string(session)) else {
            return;
        };
        let _ = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(dir.join(id), text));
    }
}

/// One JSON file per process in FAKE_CLAUDE_RECORD_DIR: argv, stdin (the
/// first prompt), cwd, the NAMES of the environment variables, and
/// `turns`, every prompt the process was given, with `images`, each turn's
/// image blocks as `{media_type, data}` (several when it is kept
/// between turns). Written under a temporary name and renamed, so a
/// reader never sees half a file.
pub struct Invocation {
    path: Option<PathBuf>,
    record: Value,
}

pub fn record_invocation(
    argv: &[String],
    stdin: &str,
    images: Vec<Value>,
    cwd: &Path,
) -> Invocation {
    let Some(dir) = std::env::var_os("FAKE_CLAUDE_RECORD_DIR") else {
        return Invocation {
            path: None,
            record: Value::Null,
        };
    };
    let mut env_names: Vec<String> = std::env::vars_os()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    env_names.sort();
    let record = json!({
        "argv": argv,
        "stdin": stdin,
        "cwd": cwd.to_string_lossy(),
        "env_names": env_names,
        "pid": std::process::id(),
        "turns": [stdin],
        "images": [images],
    });
    let name = format!("{}-{}.json", monotonic_nanos(), std::process::id());
    let invocation = Invocation {
        path: Some(PathBuf::from(dir).join(name)),
        record,
    };
    invocation.write();
    invocation
}

impl Invocation {
    /// A later turn's prompt, written to the same process.
    pub fn add_turn(&mut self, prompt: &str, images: Vec<Value>) {
        if let Some(turns) = self.record["turns"].as_array_mut() {
            turns.push(json!(prompt));
        }
        if let Some(all) = self.record["images"].as_array_mut() {
            all.push(Value::Array(images));
        }
        self.write();
    }

    fn write(&self) {
        let Some(path) = &self.path else { return };
        let tmp = path.with_extension("tmp");
        let _ = std::fs::write(&tmp, self.record.to_string())
            .and_then(|()| std::fs::rename(&tmp, path));
    }
}

/// Appends `start <pid> <ns>` now and `end <pid> <ns>` on drop to
/// FAKE_CLAUDE_COUNT_DIR/events.log. O_APPEND writes of one short line are
/// atomic, so the file order is a true order of starts and ends. A copy
/// killed by a signal never writes its end.
pub struct LiveCounter {
    log: Option<PathBuf>,
}

impl LiveCounter {
    pub fn start() -> Self {
        let log =
            std::env::var_os("FAKE_CLAUDE_COUNT_DIR").map(|d| PathBuf::from(d).join("events.log"));
        let counter = Self { log };
        counter.append("start");
        counter
    }

    fn append(&self, event: &str) {
        let Some(log) = &self.log else { return };
        let line = format!("{event} {} {}\n", std::process::id(), monotonic_nanos());
        if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(log) {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

impl Drop for LiveCounter {
    fn drop(&mut self) {
        self.append("end");
    }
}

fn monotonic_nanos() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}
