//! Runs a CLI without the daemon: the real one against the fake Messages
//! API, or the fake one with its own state, each in a fresh world; directly
//! (collecting what it prints as JSON lines) or through the product's
//! runner.

use crate::helpers::FakeCli;
use claude_coordinator::claude::RunSpec;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use test_support::fake_api::FakeApi;
use test_support::fake_claude;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// One CLI and the folders and environment it runs with.
pub struct Cli {
    bin: PathBuf,
    env: Vec<(String, String)>,
    pub world: FakeCli,
}

impl Cli {
    /// The real CLI on `api`, with the world's root as HOME and TMPDIR.
    pub fn real(bin: PathBuf, api: &FakeApi) -> Self {
        let world = FakeCli::new();
        let root = world.dir(".").display().to_string();
        let env = [
            ("ANTHROPIC_BASE_URL", api.base_url()),
            ("ANTHROPIC_API_KEY", "test".into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("HOME", root.clone()),
            ("TMPDIR", root),
        ];
        let env = env.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Self { bin, env, world }
    }

    pub fn fake() -> Self {
        let world = FakeCli::new();
        let env = ["state", "records", "count"]
            .into_iter()
            .zip(["STATE", "RECORD", "COUNT"])
            .map(|(sub, var)| {
                let dir = world.dir(sub).display().to_string();
                (format!("FAKE_CLAUDE_{var}_DIR"), dir)
            })
            .collect();
        let bin = PathBuf::from(fake_claude());
        Self { bin, env, world }
    }

    /// Also sets `vars` for every run.
    pub fn with_env(mut self, vars: &[(&str, &str)]) -> Self {
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        self.env.extend(vars);
        self
    }

    /// `-p --output-format stream-json --verbose <args>` in the world's
    /// project, with only this CLI's environment and piped stdio.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(["-p", "--output-format", "stream-json", "--verbose"])
            .args(args)
            .current_dir(self.world.project())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Starts the CLI with `prompt` on stdin.
    pub async fn spawn(&self, args: &[&str], prompt: &str) -> Running {
        let mut command = self.command(args);
        let mut child = command
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the CLI");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(prompt.as_bytes()).await.expect("prompt");
        drop(stdin);
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Running {
            child,
            stdout,
            lines: Vec::new(),
        }
    }

    /// A spec for the product's runner: this CLI in `cwd`, with its env.
    pub fn spec(&self, cwd: &Path, prompt: &str) -> RunSpec {
        let mut spec = RunSpec::new(self.bin.display().to_string(), cwd, prompt);
        spec.extra_env = self.env.clone();
        spec.timeout = Duration::from_secs(60);
        spec
    }

    pub async fn run(&self, args: &[&str], prompt: &str) -> Output {
        self.spawn(args, prompt).await.finish().await
    }

    /// Runs the CLI with `stdin`, keeping stdout and stderr as they came.
    pub async fn output(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut child = self.command(args).spawn().expect("spawn the CLI");
        let mut input = child.stdin.take().expect("stdin");
        // A CLI that fails on its arguments may exit before it reads.
        let _ = input.write_all(stdin.as_bytes()).await;
        drop(input);
        child.wait_with_output().await.expect("the CLI exits")
    }
}

/// A started CLI whose stdout is read line by line.
pub struct Running {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    lines: Vec<Value>,
}

impl Running {
    /// Reads until a line satisfies `pred`; false at the end of output.
    pub async fn read_until(&mut self, pred: impl Fn(&Value) -> bool) -> bool {
        while let Ok(Some(line)) = self.stdout.next_line().await {
            let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
            self.lines.push(value);
            if self.lines.last().is_some_and(&pred) {
                return true;
            }
        }
        false
    }

    pub fn pid(&self) -> i32 {
        let pid = self.child.id().expect("the CLI runs");
        i32::try_from(pid).expect("a pid fits")
    }

    pub fn terminate(&self) {
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
    }

    /// Reads the rest and waits for the exit.
    pub async fn finish(mut self) -> Output {
        self.read_until(|_| false).await;
        let status = self.child.wait().await.expect("the CLI exits");
        Output {
            lines: self.lines,
            status,
        }
    }
}

/// Everything one run printed.
pub struct Output {
    pub lines: Vec<Value>,
    pub status: ExitStatus,
}

impl Output {
    pub fn of(&self, kind: &str) -> Vec<&Value> {
        self.lines.iter().filter(|l| l["type"] == kind).collect()
    }

    pub fn init(&self) -> &Value {
        let init = self.lines.iter().find(|l| l["subtype"] == "init");
        init.expect("an init line")
    }

    pub fn result(&self) -> &Value {
        self.of("result").pop().expect("a result line")
    }

    /// `model_usage_since_last_result[*].costUSD` summed: the run's own cost.
    pub fn own_cost(&self) -> f64 {
        let models = self.result()["model_usage_since_last_result"].as_object();
        models.map_or(0.0, |m| {
            m.values().filter_map(|u| u["costUSD"].as_f64()).sum()
        })
    }
}
