//! The floors of the warm bench, on the real CLI with the daemon's argv
//! and environment: a cold run (spawn, the prompt as a stream-json
//! message, read to the result, close stdin, reap) and one turn written
//! to a live process (message in, read to its result).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const ARGV: [&str; 8] = claude_coordinator::claude::BASE_ARGS;

fn message(text: &str) -> String {
    let message = serde_json::json!({"type": "user", "message": {"role": "user", "content": text},
        "parent_tool_use_id": null, "session_id": ""});
    format!("{message}\n")
}

pub struct Cli {
    pub binary: PathBuf,
    pub env: Vec<(String, String)>,
}

/// A live CLI process, between turns.
pub struct Live {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Cli {
    fn spawn(&self, cwd: &Path) -> Live {
        let mut child = Command::new(&self.binary)
            .args(ARGV)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn the real CLI");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Live {
            child,
            stdin,
            stdout,
        }
    }

    /// One cold run, start to exit.
    pub async fn cold(&self, cwd: &Path) -> Duration {
        let started = Instant::now();
        let mut live = self.spawn(cwd);
        live.turn("hello there").await;
        drop(live.stdin);
        let status = live.child.wait().await.expect("the CLI exits");
        assert!(status.success(), "{status}");
        started.elapsed()
    }

    /// A process that has answered one turn, waiting for the next.
    pub async fn live(&self, cwd: &Path) -> Live {
        let mut live = self.spawn(cwd);
        live.turn("hello there").await;
        live
    }
}

impl Live {
    /// One turn: the message written, read to its result.
    pub async fn turn(&mut self, text: &str) -> Duration {
        let started = Instant::now();
        let line = message(text);
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("write the message");
        while let Some(line) = self.stdout.next_line().await.expect("read the CLI") {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if value["type"] == "result" {
                assert_eq!(value["is_error"], false, "{line}");
                return started.elapsed();
            }
        }
        panic!("the CLI ended without a result");
    }
}
