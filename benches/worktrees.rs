//! Thread worktrees: the release daemon against the fake Discord and the
//! fake CLI (answering at once), two projects that are the same git
//! repository of FILES files, one with `thread_worktrees`. Measures in one
//! run the first message of new threads under each (so the cost of making
//! the worktree), beside its floor: `git worktree add` of the same
//! repository, run directly. Then one sweep over the worktrees made,
//! beside a REST round trip to the same fake. Prints one table and
//! rewrites the "Thread worktrees" section of docs/PERFORMANCE.md.

mod common;
#[allow(dead_code)]
#[path = "e2e/daemon.rs"]
mod daemon;
#[allow(dead_code)]
#[path = "e2e/floor.rs"]
mod floor;
#[allow(dead_code)]
#[path = "e2e/load.rs"]
mod load;

use daemon::{Daemon, Setup};
use load::{Stats, mention, stats};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use test_support::fake_discord::FakeDiscord;

const FILES: usize = 2_000;
const FILE_BYTES: usize = 1_024;
const ROUNDS: usize = 15;
/// Sweeps also run during the rounds: about 6 ms of work every 5 s.
const SWEEP_SECS: u64 = 5;
const LIMIT: Duration = Duration::from_secs(60);

struct Results {
    with: Stats,
    without: Stats,
    git: Stats,
    sweep_ms: f64,
    round_trip: Stats,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let r = runtime.block_on(run());
    let section = render(&r);
    println!("{section}");
    common::save_section("Thread worktrees", &section);
}

async fn run() -> Results {
    let dir = tempfile::tempdir().expect("temp dir");
    let fake = FakeDiscord::start().await;
    let user = fake.new_id();
    let channels = [fake.new_id(), fake.new_id()];
    for (i, channel) in channels.iter().enumerate() {
        fake.add_channel(*channel, &format!("repo-{i}"));
    }
    let setup = Setup {
        channels: channels.to_vec(),
        user,
        max_concurrent: 2,
        queue_size: 5,
        idle_timeout_secs: 900,
        binary: None,
        claude_extra: "max_warm = 0\n".into(),
    };
    let config = daemon::prepare(dir.path(), &fake, &setup);
    for i in 0..2 {
        repository(&dir.path().join(format!("project-{i}")));
    }
    let floor_repo = dir.path().join("floor");
    std::fs::create_dir(&floor_repo).expect("floor folder");
    repository(&floor_repo);
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text
        .replace(
            "name = \"p0\"\n",
            "name = \"p0\"\nthread_worktrees = true\n",
        )
        .replace(
            "[sessions]\n",
            &format!("[sessions]\nworktree_sweep_secs = {SWEEP_SECS}\n"),
        );
    std::fs::write(&config, text).expect("config");
    let (daemon, _) = Daemon::start(dir.path(), &fake).await;
    for channel in channels {
        first_in_new_thread(&fake, channel, user).await;
    }

    let (mut with, mut without, mut git) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        with.push(first_in_new_thread(&fake, channels[0], user).await.1);
        without.push(first_in_new_thread(&fake, channels[1], user).await.1);
        git.push(git_worktree_add(&floor_repo, round));
    }
    let sweep_ms = one_sweep(&fake, ROUNDS + 1, Instant::now()).await;
    let mut trip = floor::RoundTrip::new(&fake.api_base(), channels[1], fake.token()).await;
    let round_trip = stats(round_trips(&mut trip).await);
    daemon.stop().await;
    fake.shutdown().await;
    Results {
        with: stats(with),
        without: stats(without),
        git: stats(git),
        sweep_ms,
        round_trip,
    }
}

/// A new thread under `channel` and its first mention: its id, and the
/// time from the mention to the answer as the fake received it.
async fn first_in_new_thread(fake: &FakeDiscord, channel: u64, user: u64) -> (u64, Duration) {
    let thread = fake.new_id();
    fake.add_thread(thread, channel);
    let t0 = Instant::now();
    let id = mention(fake, thread, user).await;
    let answered = load::await_answers(fake, &[id], Duration::from_micros(500), LIMIT).await;
    (thread, answered[&id].duration_since(t0))
}

/// Waits for the first whole sweep after `after` and returns how long it
/// took, from its first thread lookup to its last (`threads` of them). A
/// sweep's lookups come within milliseconds, sweeps SWEEP_SECS apart.
async fn one_sweep(fake: &FakeDiscord, threads: usize, after: Instant) -> f64 {
    let deadline = Instant::now() + 3 * Duration::from_secs(SWEEP_SECS) + LIMIT;
    loop {
        let mut at: Vec<Instant> = fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.starts_with("/channels/") && r.at > after)
            .map(|r| r.at)
            .collect();
        at.sort();
        let apart = |w: &[Instant]| w[1].duration_since(w[0]) > Duration::from_secs(1);
        let mut starts: Vec<usize> = vec![0];
        starts.extend(
            at.windows(2)
                .enumerate()
                .filter(|(_, w)| apart(w))
                .map(|(i, _)| i + 1),
        );
        starts.push(at.len());
        let whole = starts
            .windows(2)
            .find(|s| s[1] - s[0] == threads && s[1] < at.len());
        if let Some(s) = whole {
            return at[s[1] - 1].duration_since(at[s[0]]).as_secs_f64() * 1e3;
        }
        assert!(Instant::now() < deadline, "no whole sweep came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn round_trips(trip: &mut floor::RoundTrip) -> Vec<Duration> {
    for _ in 0..10 {
        trip.once().await;
    }
    let mut samples = Vec::new();
    for _ in 0..100 {
        samples.push(trip.once().await);
    }
    samples
}

/// FILES files of FILE_BYTES in 40 folders, one commit.
fn repository(dir: &Path) {
    for i in 0..FILES {
        let folder = dir.join(format!("src/m{:02}", i % 40));
        std::fs::create_dir_all(&folder).expect("folder");
        let body = format!("// file {i}\n").repeat(FILE_BYTES / 12);
        std::fs::write(folder.join(format!("f{i}.rs")), body).expect("file");
    }
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(
        dir,
        &[
            "-c",
            "user.email=bench@example.com",
            "-c",
            "user.name=bench",
            "commit",
            "-q",
            "-m",
            "files",
        ],
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?}");
}

/// The floor: the one git command that makes a worktree, as the daemon
/// runs it.
fn git_worktree_add(repo: &Path, round: usize) -> Duration {
    let path = repo.join(format!(".claude-coordinator/worktrees/{round}"));
    let branch = format!("thread/floor-{round}");
    let t0 = Instant::now();
    git(
        repo,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            &branch,
            &path.display().to_string(),
            "HEAD",
        ],
    );
    t0.elapsed()
}

fn render(r: &Results) -> String {
    let added = r.with.p50 - r.without.p50;
    let ratio = added / r.git.p50;
    let per_thread = r.sweep_ms / ROUNDS as f64;
    let rows = [
        format!(
            "| `git worktree add` of the repository, run directly (floor), p50 / p99 | {:.1} / {:.1} ms | |",
            r.git.p50, r.git.p99
        ),
        format!(
            "| first message of a new thread, no worktree, mention to answer, p50 / p99 | {:.1} / {:.1} ms | |",
            r.without.p50, r.without.p99
        ),
        format!(
            "| first message of a new thread with `thread_worktrees`, p50 / p99 | {:.1} / {:.1} ms | adds {added:.1} ms: {ratio:.2}× the git floor (target ≤ 1.5×: {}) |",
            r.with.p50,
            r.with.p99,
            if ratio <= 1.5 { "met" } else { "missed" }
        ),
        format!(
            "| REST round trip to the fake (floor), p50 / p99 | {:.2} / {:.2} ms | |",
            r.round_trip.p50, r.round_trip.p99
        ),
        format!(
            "| one sweep of {} open threads with worktrees, first lookup to last | {:.1} ms | {per_thread:.2} ms per thread: {:.1}× the round trip |",
            ROUNDS + 1,
            r.sweep_ms,
            per_thread / r.round_trip.p50
        ),
    ];
    format!(
        "## Thread worktrees\n\nMeasured {} on {} with `cargo bench --bench worktrees`: the release daemon, the fake CLI answering at once, \
two projects that are each a git repository of {FILES} files of 1 KiB in 40 folders (one commit), one with `thread_worktrees`; \
{ROUNDS} rounds of a new thread under each and one `git worktree add` of a third copy (the floor), after one warm-up thread each. \
A thread's first message waits for its worktree: four git commands (`rev-parse --git-common-dir` to find `info/exclude`, \
`worktree prune`, a branch lookup, `worktree add`), of which the floor is the last. The sweep (every {SWEEP_SECS} s here, so also during the rounds) asks each thread's session, which asks Discord once \
(`GET /channels/{{id}}`); the figure runs from the first lookup the fake saw to the last.\n\n\
| measure | value | against its floor |\n|---|---|---|\n{}\n",
        common::now_utc(),
        common::machine(),
        rows.join("\n")
    )
}
