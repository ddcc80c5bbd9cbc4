//! The traffic: user mentions dispatched by the fake, and the bot's answers
//! found among the recorded REST calls (a POST to the channel whose
//! `message_reference` names the user's message; the status message has none).

use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use test_support::fake_discord::{FakeDiscord, RecordedRequest, UserMessage};

pub const PROMPT: &str = "hello there";
/// The start of the fake CLI's default answer: refusals and errors also
/// reply to the message, but are not answers.
const ANSWER: &str = "Done. The project builds";

pub async fn mention(fake: &FakeDiscord, channel: u64, user: u64) -> u64 {
    fake.user_message(UserMessage::new(channel, user, PROMPT).mentioning_bot())
        .await
}

/// The message a bot post replies to, from its `message_reference`.
pub fn replies_to(body: Option<&Value>) -> Option<u64> {
    reference_id(body?.get("message_reference")?)
}

fn is_answer(body: Option<&Value>) -> bool {
    body.and_then(|b| b.get("content")?.as_str())
        .is_some_and(|c| c.contains(ANSWER))
}

/// Bot replies that are not answers (refusals, errors), for a failure message.
fn other_replies(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method == "POST" && replies_to(r.json.as_ref()).is_some())
        .filter(|r| !is_answer(r.json.as_ref()))
        .take(5)
        .map(|r| format!("{} {} {:?}", r.path, r.status, r.json))
        .collect()
}

fn reference_id(reference: &Value) -> Option<u64> {
    let id = reference.get("message_id")?;
    id.as_u64().or_else(|| id.as_str()?.parse().ok())
}

/// When the fake received the answer to each message, by message id.
pub fn answers(requests: &[RecordedRequest]) -> HashMap<u64, Instant> {
    requests.iter().filter_map(answer).collect()
}

/// The message a request answers and when it came, if it is an answer.
fn answer(r: &RecordedRequest) -> Option<(u64, Instant)> {
    let posted = r.method == "POST" && r.path.ends_with("/messages") && r.status < 400;
    if !posted || !is_answer(r.json.as_ref()) {
        return None;
    }
    Some((replies_to(r.json.as_ref())?, r.at))
}

/// Polls (bounded) until a post in `channel` replies to `message`. Only that
/// channel's posts are copied, so the check stays cheap beside the daemon.
pub async fn await_reply(fake: &FakeDiscord, channel: u64, message: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let posted = fake.posted_messages(channel);
        if posted.iter().rev().any(|m| {
            m.message_reference.as_ref().and_then(reference_id) == Some(message)
                && m.content.contains(ANSWER)
        }) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no answer to {message} within 30 s"
        );
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

/// Polls every `every` (bounded by `limit`) until all `ids` are answered;
/// returns the answer times. Each poll reads only the requests recorded
/// since the last one, so polling takes little CPU from the daemon.
pub async fn await_answers(
    fake: &FakeDiscord,
    ids: &[u64],
    every: Duration,
    limit: Duration,
) -> HashMap<u64, Instant> {
    let deadline = Instant::now() + limit;
    let (mut all, mut seen) = (HashMap::new(), 0);
    loop {
        seen = fake.visit_requests(seen, |r| {
            if let Some((id, at)) = answer(r) {
                all.insert(id, at);
            }
        });
        let done = ids.iter().filter(|id| all.contains_key(id)).count();
        if done == ids.len() {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} of {} answered within {limit:?}; other replies: {:#?}",
            ids.len(),
            other_replies(&fake.requests())
        );
        tokio::time::sleep(every).await;
    }
}

/// Requests the daemon has finished, from its own database.
pub async fn finished(pool: &sqlx::SqlitePool) -> u64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM requests WHERE finished_at IS NOT NULL")
        .fetch_one(pool)
        .await
        .expect("count finished requests") as u64
}

pub struct Stats {
    pub p50: f64,
    pub p99: f64,
}

pub fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    Stats {
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// CPU seconds of the daemon (its own, and its reaped children's: the CLI
/// runs) and of this process (the fake Discord), from /proc.
/// Milliseconds of CPU per answered message, and the whole account.
pub struct CpuPerMessage {
    pub daemon_ms: f64,
    /// The daemon's reaped children: the CLI runs.
    pub cli_ms: f64,
    /// This process: the fake Discord and the load.
    pub bench_ms: f64,
    pub line: String,
}

pub struct Cpu {
    daemon: (f64, f64),
    bench: f64,
    threads: HashMap<String, f64>,
}

/// CPU seconds per thread name (comm) of `pid`, summed over same-named threads.
fn per_thread(pid: i32) -> HashMap<String, f64> {
    let mut by_name = HashMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let t = ticks(&path.join("stat").to_string_lossy());
        *by_name.entry(comm.trim().to_string()).or_insert(0.0) += t[0] + t[1];
    }
    by_name
}

fn ticks(path: &str) -> Vec<f64> {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    // Fields 14..17 (utime, stime, cutime, cstime) are 12..15 after the comm.
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    (11..15)
        .map(|i| fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0.0) / 100.0)
        .collect()
}

impl Cpu {
    pub fn sample(pid: i32) -> Cpu {
        let d = ticks(&format!("/proc/{pid}/stat"));
        let b = ticks("/proc/self/stat");
        Cpu {
            daemon: (d[0] + d[1], d[2] + d[3]),
            bench: b[0] + b[1],
            threads: per_thread(pid),
        }
    }

    /// Prints and returns the CPU per message since `self`.
    pub fn report(&self, pid: i32, messages: usize, wall: Duration) -> CpuPerMessage {
        let now = Cpu::sample(pid);
        let per = |s: f64| s * 1e3 / messages as f64;
        let total = format!(
            "daemon {:.2} ms, its CLI children {:.2} ms, fake Discord + bench {:.2} ms; wall {:.2} s on {} CPUs",
            per(now.daemon.0 - self.daemon.0),
            per(now.daemon.1 - self.daemon.1),
            per(now.bench - self.bench),
            wall.as_secs_f64(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let mut threads: Vec<(String, f64)> = now
            .threads
            .iter()
            .map(|(name, t)| {
                (
                    name.clone(),
                    per(t - self.threads.get(name).unwrap_or(&0.0)),
                )
            })
            .filter(|(_, ms)| *ms >= 0.01)
            .collect();
        threads.sort_by(|a, b| b.1.total_cmp(&a.1));
        let threads: Vec<String> = threads
            .iter()
            .map(|(name, ms)| format!("{name} {ms:.2} ms"))
            .collect();
        let line = format!("{total}; the daemon's by thread: {}", threads.join(", "));
        eprintln!("e2e cpu per message: {line}");
        CpuPerMessage {
            daemon_ms: per(now.daemon.0 - self.daemon.0),
            cli_ms: per(now.daemon.1 - self.daemon.1),
            bench_ms: per(now.bench - self.bench),
            line,
        }
    }
}

/// Where the time of a sequential answer goes: the REST calls the fake saw
/// after each dispatch, as offsets from it (medians over all messages).
pub fn breakdown(
    requests: &[RecordedRequest],
    sent: &[(u64, Instant)],
    answers: &HashMap<u64, Instant>,
) -> String {
    let mut steps: Vec<Vec<(String, f64)>> = Vec::new();
    for (id, t0) in sent {
        let end = answers[id];
        let seq: Vec<(String, f64)> = requests
            .iter()
            .filter(|r| r.at >= *t0 && r.at <= end)
            .map(|r| {
                let at = r.at.duration_since(*t0).as_secs_f64() * 1e3;
                (format!("{} {}", r.method, shape(&r.path)), at)
            })
            .collect();
        steps.push(seq);
    }
    let Some(pattern) = steps
        .first()
        .map(|s| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())
    else {
        return String::new();
    };
    let same: Vec<&Vec<(String, f64)>> = steps
        .iter()
        .filter(|s| s.iter().map(|(n, _)| n).eq(pattern.iter()))
        .collect();
    let mut line = format!(
        "{} of {} answers made the same calls:",
        same.len(),
        steps.len()
    );
    for (i, name) in pattern.iter().enumerate() {
        let mut at: Vec<f64> = same.iter().map(|s| s[i].1).collect();
        at.sort_by(f64::total_cmp);
        line.push_str(&format!(" `{name}` at {:.2} ms,", at[at.len() / 2]));
    }
    let line = line.trim_end_matches(',').to_string();
    eprintln!("e2e latency steps: {line}");
    line
}

fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
                "{id}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
