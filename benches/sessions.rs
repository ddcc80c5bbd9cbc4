//! What 10,000 channels cost: resident memory (and Rust heap) per idle
//! SessionActor, and the time to route a command to one of them, on the
//! real pipeline (router, sessions, pool, typing, error reporter, a
//! temp-file SQLite store) with a stand-in for Discord that drops every
//! post. Prints a table and rewrites the "Sessions" section of
//! docs/PERFORMANCE.md.

mod common;
#[path = "sessions/memory.rs"]
mod memory;
#[path = "sessions/pipeline.rs"]
mod pipeline;

use claude_coordinator::actors::messages::CountSessions;
use claude_coordinator::actors::session::SessionActor;
use claude_coordinator::format::grouped;
use memory::{db_file_mib, memory, peak_mib, reset_peak, trimmed};
use pipeline::{
    Stats, bring_to_life, one_request_each, round_trips, rows_only, settle, start, status,
};

const SESSIONS: u64 = 10_000;
const ROUND_TRIPS: usize = 20_000;
const BATCH: u64 = 500;
/// Unanswered requests at a time in the steady-load phase.
const TRICKLE: u64 = 64;
const TARGET_KIB: f64 = 20.0;
const FIRST: u64 = 10_000_000;
const DB_ONLY_FIRST: u64 = 20_000_000;

fn per_session(before: (f64, f64), after: (f64, f64)) -> (f64, f64) {
    let n = SESSIONS as f64;
    ((after.0 - before.0) / n, (after.1 - before.1) / n)
}

async fn measure() -> String {
    let mut bench = start().await;
    // Warm the store, the router and the allocator on channels not counted.
    bench
        .router
        .send(status(2))
        .await
        .expect("router")
        .expect("session");
    rows_only(&bench.db, 30_000_000, 100).await;
    settle().await;

    let before = memory();
    let life = bring_to_life(&bench.router, FIRST).await;
    settle().await;
    let idle = memory();
    let live = bench.router.send(CountSessions).await.expect("router");
    assert_eq!(live, SESSIONS as usize + 1);
    let (rss, heap) = per_session(before, idle);

    rows_only(&bench.db, DB_ONLY_FIRST, SESSIONS).await;
    settle().await;
    let rows = memory();
    let (row_rss, row_heap) = per_session(idle, rows);

    let (routed, direct) = round_trips(&bench).await;

    let before_work = memory();
    let (work, errors) = one_request_each(&mut bench, 1, TRICKLE).await;
    settle().await;
    let worked = memory();
    let (work_rss, work_heap) = per_session(before_work, worked);
    let (trim_rss, _) = per_session(before_work, trimmed());

    let before_burst = trimmed();
    reset_peak();
    let (burst, burst_errors) = one_request_each(&mut bench, 2, SESSIONS).await;
    settle().await;
    let peak = peak_mib();
    let (burst_rss, burst_heap) = per_session(before_burst, memory());
    let (burst_trim_rss, _) = per_session(before_burst, trimmed());
    let db_mib = db_file_mib(bench.dir.path());
    let live = bench.router.send(CountSessions).await.expect("router");
    assert_eq!(live, SESSIONS as usize + 1, "sessions stayed alive");

    let mib = |kib: f64| kib / 1024.0;
    let verdict = if rss <= TARGET_KIB { "meets" } else { "misses" };
    let memory_table = [
        "| memory | RSS | Rust heap |".to_string(),
        "|---|---|---|".to_string(),
        format!("| before | {:.1} MiB | {:.1} MiB |", mib(before.0), mib(before.1)),
        format!("| 10,000 idle sessions | {:.1} MiB | {:.1} MiB |", mib(idle.0), mib(idle.1)),
        format!("| **per idle session** (target {TARGET_KIB} KiB: {verdict}) | **{rss:.1} KiB** | {heap:.1} KiB |"),
        format!("| `size_of::<SessionActor>()` (the struct itself) | | {} B |", std::mem::size_of::<SessionActor>()),
        format!("| per session row alone (10,000 more rows, no actors) | {row_rss:.1} KiB | {row_heap:.2} KiB |"),
        format!("| added per session by one answered request ({TRICKLE} in flight) | {work_rss:.1} KiB | {work_heap:.2} KiB |"),
        format!("| the same after `malloc_trim(0)` | {trim_rss:.1} KiB | |"),
        format!(
            "| **per session that had one request** (idle + added, trimmed) | **{:.1} KiB** | {:.1} KiB |",
            rss + trim_rss,
            heap + work_heap
        ),
        format!("| added per session by a second request, all 10,000 sent at once | {burst_rss:.1} KiB | {burst_heap:.2} KiB |"),
        format!("| the same after `malloc_trim(0)` | {burst_trim_rss:.1} KiB | |"),
        format!("| Rust heap high-water mark during that burst | | {peak:.1} MiB |"),
        format!("| SQLite file + WAL at the end (20,101 sessions, 20,000 requests) | {db_mib:.1} MiB | |"),
    ]
    .join("\n");
    let row =
        |name: &str, s: &Stats| format!("| {name} | {:.1} | {:.1} | {:.1} |", s.mean, s.p50, s.p99);
    let routing_table = [
        "| Status round trip (µs), 10,000 live | mean | p50 | p99 |".to_string(),
        "|---|---|---|---|".to_string(),
        row("`ToSession` through the router, random channel", &routed),
        row(
            "`Routed<SessionCommand>` straight to one session actor",
            &direct,
        ),
        format!(
            "| the router's share | {:.1} | {:.1} | {:.1} |",
            routed.mean - direct.mean,
            routed.p50 - direct.p50,
            routed.p99 - direct.p99
        ),
    ]
    .join("\n");
    let throughput_table = [
        "| bulk | time | rate |".to_string(),
        "|---|---|---|".to_string(),
        format!("| start 10,000 sessions (Status each, {BATCH} in flight) | {:.2} s | {:.0} sessions/s |", life.as_secs_f64(), SESSIONS as f64 / life.as_secs_f64()),
        format!("| one request in each of 10,000 sessions, {TRICKLE} in flight (max_concurrent 8), {errors} errors | {:.1} s | {:.0} requests/s |", work.as_secs_f64(), SESSIONS as f64 / work.as_secs_f64()),
        format!("| a second request in each, all 10,000 sent at once, {burst_errors} errors | {:.1} s | {:.0} requests/s |", burst.as_secs_f64(), SESSIONS as f64 / burst.as_secs_f64()),
    ]
    .join("\n");
    format!("{memory_table}\n\n{routing_table}\n\n{throughput_table}\n")
}

fn main() {
    let tables = actix::System::new().block_on(measure());
    println!("{tables}");
    let section = format!(
        "## Sessions\n\n`cargo bench --bench sessions`: the real pipeline (router, SessionActors, ClaudePool with \
max_concurrent 8, typing, error reporter) on a temp-file SQLite store (WAL, 4 read connections and one writer), a stand-in for Discord that drops every post, \
idle timeout 10 h so nothing stops. Each session is started by one `ToSession {{ Status }}`: \
the router spawns the actor, which creates its row, answers and arms its idle timer. RSS is VmRSS from \
/proc/self/status; Rust heap is live bytes counted by a wrapping global allocator. The idle delta therefore \
holds the actor and its context (a spawned task), its mailbox (`set_mailbox_capacity(256)` only sets a bound: \
actix's mailbox is a linked-list queue, nothing is preallocated), the router's map entry and address, the \
idle-report recipient, the armed idle timer, and SQLite's share: the rows and the page cache (SQLite's own \
mallocs bypass the counter, so RSS minus heap is SQLite plus allocator slack; the cache is capped at about \
2 MB per connection, which is why 10,000 more rows alone add almost nothing). Requests come from the \
release-built fake CLI answering at once; the first round keeps {TRICKLE} unanswered, the second sends all \
10,000 at once, whose transient peak (every queued request's pending store write and job) leaves glibc \
heap fragmentation behind rather than live data. Round trips: {} sequential sends each, \
interleaved; the router's share is the difference. A `Request` takes the same `route()` lookup plus a \
`do_send`, without the reply hop; it is not timed apart because the session's own work (store write, \
CLI run) cannot be separated from it cleanly.\n\nMachine: {}; measured {}.\n\n{tables}",
        grouped(ROUND_TRIPS as u64),
        common::machine(),
        common::now_utc(),
    );
    common::save_section("Sessions", &section);
}
