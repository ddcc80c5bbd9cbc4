//! The measurements, in order: a daemon with 101 mapped channels (start-up,
//! idle RSS, sequential latency, throughput), start-ups with an empty and a
//! long history, then a daemon with 10,000 threads (memory).

use crate::daemon::{Daemon, Setup, prepare};
use crate::floor::{FloorRuns, RoundTrip, spawn_cli, spawn_cli_parallel};
use crate::load::{CpuPerMessage, Stats, await_answers, await_reply, finished, mention, stats};
use crate::prefill::prefill;
use claude_coordinator::db::Db;
use std::time::{Duration, Instant};
use test_support::fake_discord::FakeDiscord;

const WARMUP: usize = 10;
const LATENCY_N: usize = 500;
const CHANNELS: usize = 100;
const PER_CHANNEL: usize = 20;
const THREADS: usize = 10_000;
const WINDOW: u64 = 256;
const STARTS: usize = 3;
/// Throughput rounds, each beside its own floor; the median is reported.
const ROUNDS: usize = 3;

pub struct Results {
    pub warmup: usize,
    pub latency_n: usize,
    pub latency: Stats,
    pub latency_floor: Stats,
    pub throughput: f64,
    pub throughput_floor: f64,
    pub throughput_answered: usize,
    /// Each round's share of its floor, in the order run.
    pub throughput_rounds: String,
    pub idle_small_kib: u64,
    pub idle_threads_kib: u64,
    pub mem_window: u64,
    pub peak_kib: u64,
    pub live_kib: u64,
    pub all_alive: bool,
    pub idle_timeout_secs: u64,
    pub settle_secs: f64,
    pub after_idle_kib: u64,
    pub starts: usize,
    pub start_empty_ms: f64,
    pub start_full_ms: f64,
    pub latency_steps: String,
    pub cpu: CpuPerMessage,
    pub floor_runs: FloorRuns,
}

fn setup(channels: Vec<u64>, user: u64, idle_timeout_secs: u64) -> Setup {
    Setup {
        channels,
        user,
        max_concurrent: 8,
        queue_size: 25,
        idle_timeout_secs,
        binary: None,
        // Every message spawns the CLI, as the floor does: this bench
        // measures the daemon around a cold run (see the warm bench).
        claude_extra: "max_warm = 0\n".into(),
    }
}

fn median_ms(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e3
}

pub async fn run_all() -> Results {
    let fake = FakeDiscord::start().await;
    let user = fake.new_id();
    let latency_ch = fake.new_id();
    let floor_ch = fake.new_id();
    fake.add_channel(latency_ch, "latency");
    fake.add_channel(floor_ch, "floor");
    let busy: Vec<u64> = (0..CHANNELS).map(|_| fake.new_id()).collect();
    for (i, ch) in busy.iter().enumerate() {
        fake.add_channel(*ch, &format!("busy-{i}"));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut mapped = vec![latency_ch];
    mapped.extend(&busy);
    prepare(dir.path(), &fake, &setup(mapped, user, 3600));
    let (daemon, first_start) = Daemon::start(dir.path(), &fake).await;
    let idle_small_kib = daemon.rss_kib();
    eprintln!("e2e: ready in {first_start:?}, idle RSS {idle_small_kib} KiB");

    let cwd = dir.path().join("project-0");
    let (latency, latency_floor, latency_steps) =
        latency(&fake, latency_ch, floor_ch, user, &cwd).await;
    eprintln!(
        "e2e: latency p50 {:.2} ms (floor {:.2})",
        latency.p50, latency_floor.p50
    );
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        rounds.push(throughput_round(&fake, &busy, user, daemon.pid, &cwd).await);
    }
    let shares: Vec<String> = rounds
        .iter()
        .map(|r| format!("{:.0} %", r.rate / r.floor_rate * 100.0))
        .collect();
    rounds.sort_by(|a, b| (a.rate / a.floor_rate).total_cmp(&(b.rate / b.floor_rate)));
    let median = rounds.swap_remove(ROUNDS / 2);
    daemon.stop().await;
    fake.shutdown().await;

    let mut empty = vec![first_start];
    for _ in 1..STARTS {
        empty.push(start_once(None).await);
    }
    let history = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}",
        history.path().join("coordinator.db").display()
    );
    prefill(&url, 10_000, 100_000, 1 << 40, 42).await;
    let mut full = Vec::new();
    for _ in 0..STARTS {
        full.push(start_once(Some(history.path())).await);
    }
    eprintln!("e2e: start-up empty {empty:?}, with history {full:?}");

    let memory = memory(median.rate).await;
    Results {
        warmup: WARMUP,
        latency_n: LATENCY_N,
        latency,
        latency_floor,
        throughput: median.rate,
        throughput_floor: median.floor_rate,
        throughput_answered: CHANNELS * PER_CHANNEL,
        throughput_rounds: shares.join(", "),
        idle_small_kib,
        idle_threads_kib: memory.idle_kib,
        mem_window: WINDOW,
        peak_kib: memory.peak_kib,
        live_kib: memory.live_kib,
        all_alive: memory.all_alive,
        idle_timeout_secs: memory.idle_timeout_secs,
        settle_secs: memory.settle_secs,
        after_idle_kib: memory.after_idle_kib,
        starts: STARTS,
        start_empty_ms: median_ms(empty),
        start_full_ms: median_ms(full),
        latency_steps,
        cpu: median.cpu,
        floor_runs: median.floor,
    }
}

/// For profiling one phase (E2E_ONLY=memory|throughput): prints, writes nothing.
pub async fn only(phase: &str) {
    match phase {
        "memory" => {
            let m = memory(600.0).await;
            eprintln!(
                "e2e memory: idle {} KiB, peak {} KiB, live {} KiB, after idle {} KiB",
                m.idle_kib, m.peak_kib, m.live_kib, m.after_idle_kib
            );
        }
        "throughput" => {
            let fake = FakeDiscord::start().await;
            let user = fake.new_id();
            let busy: Vec<u64> = (0..CHANNELS).map(|_| fake.new_id()).collect();
            for (i, ch) in busy.iter().enumerate() {
                fake.add_channel(*ch, &format!("busy-{i}"));
            }
            let dir = tempfile::tempdir().expect("temp dir");
            prepare(dir.path(), &fake, &setup(busy.clone(), user, 3600));
            let (daemon, _) = Daemon::start(dir.path(), &fake).await;
            let cwd = dir.path().join("project-0");
            let r = throughput_round(&fake, &busy, user, daemon.pid, &cwd).await;
            daemon.stop().await;
            fake.shutdown().await;
            let share = r.rate / r.floor_rate;
            eprintln!("{}", crate::cpu_budget(&r.floor, &r.cpu, share));
        }
        other => panic!("E2E_ONLY={other}: expected memory or throughput"),
    }
}

/// Sequential mentions in one channel, each followed by one floor sample.
async fn latency(
    fake: &FakeDiscord,
    channel: u64,
    floor_ch: u64,
    user: u64,
    cwd: &std::path::Path,
) -> (Stats, Stats, String) {
    let mut round_trip = RoundTrip::new(&fake.api_base(), floor_ch, fake.token()).await;
    let mut sent = Vec::new();
    let mut floor = Vec::new();
    for i in 0..WARMUP + LATENCY_N {
        let t0 = Instant::now();
        let id = mention(fake, channel, user).await;
        await_reply(fake, channel, id).await;
        let cwd = cwd.to_path_buf();
        let spawn = tokio::task::spawn_blocking(move || spawn_cli(&cwd))
            .await
            .expect("a floor spawn");
        let http = round_trip.once().await;
        if i >= WARMUP {
            sent.push((id, t0));
            floor.push(spawn + http);
        }
    }
    let requests = fake.requests();
    let answers = crate::load::answers(&requests);
    let steps = crate::load::breakdown(&requests, &sent, &answers);
    let samples = sent
        .iter()
        .map(|(id, t0)| answers[id].duration_since(*t0))
        .collect();
    (stats(samples), stats(floor), steps)
}

struct Round {
    rate: f64,
    floor_rate: f64,
    cpu: CpuPerMessage,
    floor: FloorRuns,
}

/// The daemon's throughput, then its floor measured right after, so both
/// see the same machine.
async fn throughput_round(
    fake: &FakeDiscord,
    channels: &[u64],
    user: u64,
    pid: i32,
    cwd: &std::path::Path,
) -> Round {
    let (rate, cpu) = throughput(fake, channels, user, pid).await;
    let cwd = cwd.to_path_buf();
    let runs = CHANNELS * PER_CHANNEL;
    let floor = tokio::task::spawn_blocking(move || spawn_cli_parallel(&cwd, runs, 8))
        .await
        .expect("floor runs");
    let floor_rate = runs as f64 / floor.wall.as_secs_f64();
    eprintln!("e2e: throughput {rate:.0}/s (floor {floor_rate:.0}/s)");
    Round {
        rate,
        floor_rate,
        cpu,
        floor,
    }
}

/// All mentions dispatched at once, round robin over the channels.
async fn throughput(
    fake: &FakeDiscord,
    channels: &[u64],
    user: u64,
    pid: i32,
) -> (f64, CpuPerMessage) {
    let cpu = crate::load::Cpu::sample(pid);
    let started = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..PER_CHANNEL {
        for ch in channels {
            ids.push(mention(fake, *ch, user).await);
        }
    }
    let answers = await_answers(
        fake,
        &ids,
        Duration::from_millis(250),
        Duration::from_secs(120),
    )
    .await;
    let last = ids.iter().map(|id| answers[id]).max().expect("answers");
    let rate = ids.len() as f64 / last.duration_since(started).as_secs_f64();
    let cpu = cpu.report(pid, ids.len(), started.elapsed());
    (rate, cpu)
}

/// Spawn to ready with a fresh fake; `history` holds a prefilled database.
async fn start_once(history: Option<&std::path::Path>) -> Duration {
    let fake = FakeDiscord::start().await;
    let user = fake.new_id();
    let ch = fake.new_id();
    fake.add_channel(ch, "project");
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = history.unwrap_or(scratch.path());
    prepare(dir, &fake, &setup(vec![ch], user, 3600));
    let (daemon, ready) = Daemon::start(dir, &fake).await;
    daemon.stop().await;
    fake.shutdown().await;
    ready
}

struct Memory {
    idle_kib: u64,
    peak_kib: u64,
    live_kib: u64,
    all_alive: bool,
    idle_timeout_secs: u64,
    settle_secs: f64,
    after_idle_kib: u64,
}

/// One mention in each of 10,000 threads, a bounded number unanswered.
async fn memory(rate: f64) -> Memory {
    let fake = FakeDiscord::start().await;
    let user = fake.new_id();
    let parent = fake.new_id();
    fake.add_channel(parent, "memory");
    let threads: Vec<u64> = (0..THREADS)
        .map(|_| {
            let t = fake.new_id();
            fake.add_thread(t, parent);
            t
        })
        .collect();
    // Long enough that the first session is still live when the last is answered.
    let idle_timeout_secs = ((THREADS as f64 / rate * 2.0) as u64 + 10).clamp(15, 180);
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(
        dir.path(),
        &fake,
        &setup(vec![parent], user, idle_timeout_secs),
    );
    let (daemon, _) = Daemon::start(dir.path(), &fake).await;
    let idle_kib = daemon.rss_kib();
    let db = Db::connect(&daemon.db_url)
        .await
        .expect("open the daemon's db");
    let started = Instant::now();
    let mut ids = Vec::new();
    let deadline = started + Duration::from_secs(180);
    while finished(db.pool()).await < THREADS as u64 {
        let done = finished(db.pool()).await;
        while ids.len() < THREADS && (ids.len() as u64) < done + WINDOW {
            ids.push(mention(&fake, threads[ids.len()], user).await);
        }
        assert!(
            Instant::now() < deadline,
            "memory phase: {done} of {THREADS} finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answers = await_answers(
        &fake,
        &ids,
        Duration::from_millis(500),
        Duration::from_secs(60),
    )
    .await;
    let live_kib = daemon.rss_kib();
    let peak_kib = daemon.peak_rss_kib();
    let first = ids.iter().map(|id| answers[id]).min().expect("answers");
    let last = ids.iter().map(|id| answers[id]).max().expect("answers");
    let all_alive = last.duration_since(first) < Duration::from_secs(idle_timeout_secs);
    eprintln!(
        "e2e: 10,000 answered in {:?}; RSS {live_kib} KiB, peak {peak_kib} KiB",
        last.duration_since(started)
    );
    db.close().await;
    trim_experiment(&daemon, "live");
    let quiet = last + Duration::from_secs(idle_timeout_secs + 1);
    tokio::time::sleep_until(quiet.into()).await;
    let (after_idle_kib, settle_secs) = settle(&daemon, last).await;
    trim_experiment(&daemon, "after idle");
    daemon.stop().await;
    fake.shutdown().await;
    Memory {
        idle_kib,
        peak_kib,
        live_kib,
        all_alive,
        idle_timeout_secs,
        settle_secs,
        after_idle_kib,
    }
}

/// Profiling only (E2E_TRIM=1): what glibc gives back when the daemon
/// calls malloc_trim(0), done from outside through gdb.
fn trim_experiment(daemon: &Daemon, when: &str) {
    if std::env::var_os("E2E_TRIM").is_none() {
        return;
    }
    let before = daemon.rss_kib();
    let status = std::process::Command::new("gdb")
        .args([
            "-p",
            &daemon.pid.to_string(),
            "-batch",
            "-ex",
            "call (int) malloc_trim(0)",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    eprintln!(
        "e2e trim ({when}): RSS {before} KiB -> {} KiB ({status:?})",
        daemon.rss_kib()
    );
}

/// Polls RSS (bounded, 30 s) until four samples 500 ms apart agree within 1 %.
async fn settle(daemon: &Daemon, since: Instant) -> (u64, f64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut recent = vec![daemon.rss_kib()];
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        recent.push(daemon.rss_kib());
        let tail = &recent[recent.len().saturating_sub(4)..];
        let (lo, hi) = (tail.iter().min(), tail.iter().max());
        let stable = tail.len() == 4 && lo.zip(hi).is_some_and(|(l, h)| (h - l) * 100 <= *l);
        if stable || Instant::now() > deadline {
            return (
                *tail.last().expect("a sample"),
                since.elapsed().as_secs_f64(),
            );
        }
    }
}
