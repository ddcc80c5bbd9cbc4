//! What the runner costs per CLI run: `claude::run` against a fake CLI that
//! answers at once, beside spawning the same fake with std::process (write
//! stdin, read all output, wait). Prints a table and rewrites the "Runner"
//! section of docs/PERFORMANCE.md.

mod common;

use claude_coordinator::claude::{Outcome, RunSpec, build_args, run};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use test_support::fake_claude;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const RUNS: usize = 200;
const WARMUP: usize = 10;
const PROMPT: &str = "Summarise the README in one sentence.";

struct Stats {
    mean: f64,
    p50: f64,
    p99: f64,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| ms(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    Stats {
        mean: samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64,
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn direct(spec: &RunSpec) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(fake_claude())
        .args(build_args(spec))
        .current_dir(&spec.cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the fake");
    let mut stdin = child.stdin.take().expect("stdin");
    let message = serde_json::json!({
        "type": "user",
        "message": {"role": "user", "content": spec.prompt},
    });
    stdin
        .write_all(format!("{message}\n").as_bytes())
        .expect("write the prompt");
    drop(stdin);
    let output = child.wait_with_output().expect("wait for the fake");
    assert!(output.status.success() && output.stdout.ends_with(b"}\n"));
    started.elapsed()
}

async fn via_runner(spec: &RunSpec) -> Duration {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let report = run(spec, &tx, &cancel).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(report.outcome, Outcome::Success(_)),
        "{:?}",
        report.outcome
    );
    drop(tx);
    while rx.recv().await.is_some() {}
    elapsed
}

fn main() {
    let project = tempfile::tempdir().expect("temp dir");
    let spec = RunSpec::new(fake_claude(), project.path(), PROMPT);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for _ in 0..WARMUP {
        direct(&spec);
        runtime.block_on(via_runner(&spec));
    }
    // Interleaved so drift in machine load hits both sides alike.
    let (mut plain, mut runner) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        plain.push(direct(&spec));
        runner.push(runtime.block_on(via_runner(&spec)));
    }
    let (plain, runner) = (stats(plain), stats(runner));
    let row =
        |name: &str, s: &Stats| format!("| {name} | {:.2} | {:.2} | {:.2} |", s.mean, s.p50, s.p99);
    let table = [
        "| per run (ms) | mean | p50 | p99 |".to_string(),
        "|---|---|---|---|".to_string(),
        row("std::process spawn + read", &plain),
        row("claude::run", &runner),
        format!(
            "| ratio runner / direct | {:.2} | {:.2} | {:.2} |",
            runner.mean / plain.mean,
            runner.p50 / plain.p50,
            runner.p99 / plain.p99
        ),
    ]
    .join("\n");
    println!("{table}");
    let section = format!(
        "## Runner\n\n`cargo bench --bench runner`: {RUNS} runs each (after {WARMUP} warm-up runs), interleaved, \
of the release-built fake CLI answering at once (init, three assistant lines, result). \
`claude::run` adds the process group, piped stderr, stdin task, line parsing, progress events and the \
reap/cleanup of the group; the baseline spawns the same binary with the same argv via std::process, \
writes stdin, reads all output and waits.\n\nMachine: {}; measured {}.\n\n{table}\n",
        common::machine(),
        common::now_utc(),
    );
    common::save_section("Runner", &section);
}
