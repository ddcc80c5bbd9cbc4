//! Warm sessions with the real CLI: the release daemon against the fake
//! Discord, the pinned Claude Code CLI and the loopback fake Messages API
//! answering at once. Measures in one run the first message of a channel
//! (a cold start) and 30 follow-ups in one channel beside their floors (a
//! direct cold run of the same CLI, and a turn written to a live process
//! of it), and the RSS of the daemon plus its CLI children with `max_warm`
//! channels warm and after they expire. Prints one table and rewrites the
//! "Warm sessions" section of docs/PERFORMANCE.md. Without the pinned CLI
//! (`npm ci` in tests/real-cli) it says so and measures nothing.

mod common;
#[allow(dead_code)]
#[path = "e2e/daemon.rs"]
mod daemon;
#[path = "warm/floor.rs"]
mod floor;
#[allow(dead_code)]
#[path = "e2e/load.rs"]
mod load;

use daemon::{Daemon, Setup};
use floor::Cli;
use load::{Stats, mention, stats};
use std::path::Path;
use std::time::{Duration, Instant};
use test_support::RealClaude;
use test_support::fake_api::{FakeApi, Reply};
use test_support::fake_discord::FakeDiscord;

const MAX_WARM: usize = 4;
/// Channels that each get a first message: two more than stay warm.
const CHANNELS: usize = 6;
const FOLLOW_UPS: usize = 30;
const COLD_RUNS: usize = 10;
const WARM_SECS: u64 = 10;
const LIMIT: Duration = Duration::from_secs(30);

struct Results {
    cold_floor: Stats,
    live_floor: Stats,
    first: Stats,
    follow: Stats,
    idle_kib: u64,
    warm_kib: u64,
    warm_children: usize,
    expired_kib: u64,
    expired_children: usize,
}

fn main() {
    let cli = RealClaude::locate();
    if !cli.is_installed() {
        eprintln!(
            "warm bench skipped: the real CLI is not at {} (npm ci in tests/real-cli)",
            cli.path().display()
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let r = runtime.block_on(run(cli.path()));
    let section = render(&r);
    println!("{section}");
    common::save_section("Warm sessions (real CLI)", &section);
}

async fn run(binary: &Path) -> Results {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = FakeApi::start().await;
    api.set_default(Reply::text("Done. The project builds and all tests pass."));
    let env = cli_env(&api, dir.path());
    let cli = Cli {
        binary: binary.to_path_buf(),
        env: env.clone(),
    };
    let scratch = dir.path().join("floor");
    std::fs::create_dir_all(&scratch).expect("floor folder");
    let (cold_floor, live_floor) = floors(&cli, &scratch).await;

    let fake = FakeDiscord::start().await;
    let user = fake.new_id();
    let channels: Vec<u64> = (0..CHANNELS).map(|_| fake.new_id()).collect();
    for (i, channel) in channels.iter().enumerate() {
        fake.add_channel(*channel, &format!("warm-{i}"));
    }
    let setup = Setup {
        channels: channels.clone(),
        user,
        max_concurrent: 4,
        queue_size: 5,
        idle_timeout_secs: 900,
        binary: Some(binary.to_path_buf()),
        claude_extra: format!("max_warm = {MAX_WARM}\nwarm_secs = {WARM_SECS}\n"),
    };
    daemon::prepare(dir.path(), &fake, &setup);
    let (daemon, _) = Daemon::start_with_env(dir.path(), &fake, &env).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kib = daemon.rss_kib();

    let mut first = vec![one(&fake, channels[0], user).await];
    let mut follow = Vec::new();
    for _ in 0..FOLLOW_UPS {
        follow.push(one(&fake, channels[0], user).await);
    }
    for &channel in &channels[1..] {
        first.push(one(&fake, channel, user).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (warm_kib, warm_children) = tree_rss(daemon.pid);
    tokio::time::sleep(Duration::from_secs(WARM_SECS + 3)).await;
    let (expired_kib, expired_children) = tree_rss(daemon.pid);
    daemon.stop().await;
    fake.shutdown().await;
    Results {
        cold_floor,
        live_floor,
        first: stats(first),
        follow: stats(follow),
        idle_kib,
        warm_kib,
        warm_children,
        expired_kib,
        expired_children,
    }
}

/// The environment the real CLI needs offline, for the daemon and the floor.
fn cli_env(api: &FakeApi, dir: &Path) -> Vec<(String, String)> {
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("TMPDIR");
    [
        ("ANTHROPIC_BASE_URL", api.base_url()),
        ("ANTHROPIC_API_KEY", "bench".into()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
        ("TMPDIR", tmp.display().to_string()),
        ("HOME", dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn floors(cli: &Cli, cwd: &Path) -> (Stats, Stats) {
    cli.cold(cwd).await;
    let mut cold = Vec::new();
    for _ in 0..COLD_RUNS {
        cold.push(cli.cold(cwd).await);
    }
    let mut live = cli.live(cwd).await;
    for _ in 0..3 {
        live.turn("warming up").await;
    }
    let mut turns = Vec::new();
    for _ in 0..FOLLOW_UPS {
        turns.push(live.turn("hello there").await);
    }
    (stats(cold), stats(turns))
}

/// One mention, to its answer as the fake received it.
async fn one(fake: &FakeDiscord, channel: u64, user: u64) -> Duration {
    let t0 = Instant::now();
    let id = mention(fake, channel, user).await;
    let answered = load::await_answers(fake, &[id], Duration::from_micros(500), LIMIT).await;
    answered[&id].duration_since(t0)
}

/// VmRSS of `pid` and all its descendants, in KiB, and how many
/// descendants there are.
fn tree_rss(pid: i32) -> (u64, usize) {
    let mut total = rss_of(pid);
    let mut count = 0;
    let mut stack = children(pid);
    while let Some(child) = stack.pop() {
        total += rss_of(child);
        count += 1;
        stack.extend(children(child));
    }
    (total, count)
}

fn children(pid: i32) -> Vec<i32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten();
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

fn rss_of(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "missed" }
}

fn render(r: &Results) -> String {
    let follow_live = r.follow.p50 / r.live_floor.p50;
    let cold_speedup = r.cold_floor.p50 / r.follow.p50;
    let first_cold = r.first.p50 / r.cold_floor.p50;
    let back = r.expired_kib <= r.idle_kib + r.idle_kib / 10 && r.expired_children == 0;
    let rows = [
        format!(
            "| direct cold run of the CLI (floor), p50 / p99 | {:.0} / {:.0} ms | |",
            r.cold_floor.p50, r.cold_floor.p99
        ),
        format!(
            "| one turn written to a live CLI (floor), p50 / p99 | {:.1} / {:.1} ms | |",
            r.live_floor.p50, r.live_floor.p99
        ),
        format!(
            "| first message of a channel, mention to answer, p50 / p99 ({CHANNELS} channels) | {:.0} / {:.0} ms | {:.2}× the cold floor (target ≤ 1.3×: {}) |",
            r.first.p50,
            r.first.p99,
            first_cold,
            verdict(first_cold <= 1.3)
        ),
        format!(
            "| follow-up in one channel, mention to answer, p50 / p99 ({FOLLOW_UPS} in a row) | {:.1} / {:.1} ms | {:.2}× the live floor (target ≤ 1.5×: {}); {:.1}× faster than the cold floor (target ≥ 8×: {}) |",
            r.follow.p50,
            r.follow.p99,
            follow_live,
            verdict(follow_live <= 1.5),
            cold_speedup,
            verdict(cold_speedup >= 8.0)
        ),
        format!(
            "| RSS: the daemon idle, before any message | {:.1} MiB | |",
            mib(r.idle_kib)
        ),
        format!(
            "| RSS: daemon + CLI children, {MAX_WARM} channels warm | {:.1} MiB ({} child processes) | |",
            mib(r.warm_kib),
            r.warm_children
        ),
        format!(
            "| RSS: daemon + CLI children, {WARM_SECS} s + 3 s later | {:.1} MiB ({} child processes) | back to the daemon's idle figure (within 10 %: {}) |",
            mib(r.expired_kib),
            r.expired_children,
            verdict(back)
        ),
    ];
    format!(
        "## Warm sessions (real CLI)\n\nMeasured {} on {} with `cargo bench --bench warm`: the release daemon, the pinned real CLI \
(tests/real-cli) and the loopback fake Messages API answering at once, `max_warm = {MAX_WARM}`, `warm_secs = {WARM_SECS}`. \
The floors are the same CLI with the daemon's argv and environment, run directly in the same run.\n\n\
| measure | value | against its floor |\n|---|---|---|\n{}\n",
        common::now_utc(),
        common::machine(),
        rows.join("\n")
    )
}
