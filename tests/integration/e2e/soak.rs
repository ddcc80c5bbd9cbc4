//! Soak: 20 channels × 25 messages through the real daemon, the fake
//! Discord and the fake CLI, bounded to two minutes. Run with
//! `cargo test --test integration soak -- --ignored`.

use super::{Daemon, Options, replies_to};
use claude_coordinator::domain::RequestStatus;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const CHANNELS: usize = 20;
const PER_CHANNEL: usize = 25;
const TOTAL: usize = CHANNELS * PER_CHANNEL;

/// Final replies (not queue notices) per user message, across channels.
fn finals(d: &Daemon) -> HashMap<u64, Vec<String>> {
    let mut by_message: HashMap<u64, Vec<String>> = HashMap::new();
    for channel in &d.threads {
        for m in d.fake.posted_messages(*channel) {
            if let Some(asked) = replies_to(&m)
                && !m.content.starts_with("⏳ Queued")
            {
                by_message.entry(asked).or_default().push(m.content.clone());
            }
        }
    }
    by_message
}

async fn wait_finals(d: &Daemon, n: usize, deadline: Instant) {
    let left = deadline.saturating_duration_since(Instant::now());
    d.fake.wait_for(left, |_| finals(d).len() >= n).await;
}

/// Fake CLI copies started and not yet ended, from its start/end log.
fn live_clis(d: &Daemon) -> i64 {
    let log = std::fs::read_to_string(d.cli.dir("count").join("events.log")).unwrap_or_default();
    log.lines()
        .map(|l| match l.split_whitespace().next() {
            Some("start") => 1,
            Some("end") => -1,
            _ => 0,
        })
        .sum()
}

#[tokio::test]
#[ignore = "soak: about a minute; run with --ignored"]
async fn twenty_channels_of_twenty_five_messages_each_get_one_answer_apiece() {
    soak(None).await;
}

#[tokio::test]
#[ignore = "soak: about a minute; run with --ignored"]
async fn with_one_in_twenty_discord_writes_failing_once_every_message_still_gets_one_answer() {
    soak(Some(20)).await;
}

/// `flaky`: one in that many of the bot's Discord writes fails once.
async fn soak(flaky: Option<u64>) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(120);
    let d = Daemon::start(Options {
        extra_threads: CHANNELS,
        queue_size: Some(PER_CHANNEL),
        max_concurrent: Some(8),
        ..Options::default()
    })
    .await;
    if let Some(every) = flaky {
        d.fake.fail_one_in(every);
    }
    let mut asked = Vec::with_capacity(TOTAL);
    for round in 0..PER_CHANNEL {
        for (i, channel) in d.threads.iter().enumerate() {
            asked.push(d.say(*channel, d.alice, &format!("soak {i}.{round}")).await);
        }
    }
    wait_finals(&d, TOTAL / 2, deadline).await;
    let rss_half = d.rss_kib();
    wait_finals(&d, TOTAL, deadline).await;
    let rss_end = d.rss_kib();

    println!(
        "soak: {TOTAL} answers in {:.1} s; daemon RSS {rss_half} KiB at half way, {rss_end} KiB at the end; {} Discord writes failed once",
        started.elapsed().as_secs_f64(),
        d.fake.flaky_failures()
    );
    if flaky.is_some() {
        assert!(d.fake.flaky_failures() > 0, "nothing was made to fail");
    }
    let answers = finals(&d);
    for message in &asked {
        let got = answers.get(message).map_or(0, Vec::len);
        assert_eq!(got, 1, "message {message} got {got} final replies");
        assert!(
            !answers[message][0].contains("error id"),
            "{:?}",
            answers[message]
        );
    }
    assert!(
        live_clis(&d) == 0,
        "{} fake CLI copies still alive",
        live_clis(&d)
    );
    let mut statuses: HashMap<RequestStatus, usize> = HashMap::new();
    for channel in &d.threads {
        for row in d.requests(*channel).await {
            *statuses.entry(row.status).or_default() += 1;
        }
    }
    assert_eq!(
        statuses.get(&RequestStatus::Done),
        Some(&TOTAL),
        "{statuses:?}"
    );
    assert!(
        rss_end <= rss_half + 8 * 1024,
        "memory grew from {rss_half} KiB at half way to {rss_end} KiB"
    );
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}
