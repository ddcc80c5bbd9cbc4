//! Formatter throughput: splits and renders 1 MB of mixed answer text (prose,
//! code fences, emoji, long lines) and prints MB/s, best of several runs.
//! Run with `cargo bench --bench formatter`.

mod common;

use claude_coordinator::format::{
    FormatOptions, Rendered, discord_len, render_answer, split_message,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

const TARGET_BYTES: usize = 1 << 20;
const RUNS: usize = 7;

/// A small deterministic generator, so every run measures the same text.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn mixed_text(bytes: usize) -> String {
    const WORDS: [&str; 12] = [
        "the",
        "session",
        "channel",
        "answer",
        "Discord",
        "Claude",
        "split",
        "file",
        "🚀",
        "👨‍👩‍👧‍👦",
        "漢字",
        "naïve",
    ];
    let mut rng = Lcg(42);
    let mut text = String::with_capacity(bytes + 4096);
    while text.len() < bytes {
        match rng.next(10) {
            0..=5 => {
                for _ in 0..20 + rng.next(120) {
                    text.push_str(WORDS[rng.next(WORDS.len())]);
                    text.push(if rng.next(12) == 0 { '\n' } else { ' ' });
                }
                text.push_str("\n\n");
            }
            6..=8 => {
                text.push_str("```rust\n");
                for i in 0..5 + rng.next(60) {
                    let indent = "    ".repeat(rng.next(3));
                    text.push_str(&format!(
                        "{indent}let value_{i} = compute({i}, \"{}\");\n",
                        WORDS[rng.next(12)]
                    ));
                    if rng.next(8) == 0 {
                        text.push('\n');
                    }
                }
                text.push_str("```\n\n");
            }
            _ => {
                let long: String = (0..3000 + rng.next(3000))
                    .map(|i| if i % 97 == 0 { '🧪' } else { 'x' })
                    .collect();
                text.push_str(&long);
                text.push_str("\n\n");
            }
        }
    }
    text
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / time.as_secs_f64()
}

fn main() {
    let text = mixed_text(TARGET_BYTES);
    let opts = FormatOptions::default();
    let max_len = opts.max_message_len();
    let chunks = split_message(&text, max_len);
    assert!(chunks.iter().all(|c| discord_len(c) <= max_len));
    assert!(matches!(
        render_answer(&text, &[], &opts),
        Rendered::Attachment { .. }
    ));
    let answer = &text[..text.char_indices().nth(5000).map_or(text.len(), |(i, _)| i)];

    let rows = [
        (
            "discord_len, 1 MB",
            text.len(),
            best_of(RUNS, || {
                black_box(discord_len(black_box(&text)));
            }),
        ),
        (
            "split_message, 1 MB",
            text.len(),
            best_of(RUNS, || {
                black_box(split_message(black_box(&text), max_len));
            }),
        ),
        (
            "render_answer, 1 MB (attachment)",
            text.len(),
            best_of(RUNS, || {
                black_box(render_answer(black_box(&text), &[], &opts));
            }),
        ),
        (
            "render_answer, 5000-char answer x200",
            answer.len() * 200,
            best_of(RUNS, || {
                for _ in 0..200 {
                    black_box(render_answer(black_box(answer), &[], &opts));
                }
            }),
        ),
    ];

    println!(
        "input: {} bytes, {} chars, {} chunks of <= {max_len}",
        text.len(),
        text.chars().count(),
        chunks.len()
    );
    let answer_as = match render_answer(answer, &[], &opts) {
        Rendered::Chunks(chunks) => format!("{} messages", chunks.len()),
        Rendered::Attachment { .. } => "an attachment".to_owned(),
    };
    println!(
        "5000-char answer renders as {answer_as}; machine: {}",
        common::machine()
    );
    println!("{:<40} {:>12} {:>10}", "case (best of 7)", "time", "MB/s");
    let mut table = vec![
        "| case | time | MB/s |".to_string(),
        "|---|---|---|".to_string(),
    ];
    for (name, bytes, time) in rows {
        let (ms, rate) = (time.as_secs_f64() * 1e3, mb_per_s(bytes, time));
        println!("{name:<40} {ms:>10.2}ms {rate:>10.1}");
        table.push(format!("| `{name}` | {ms:.2} ms | {rate:.0} |"));
    }
    let section = format!(
        "## Formatter\n\n`cargo bench --bench formatter`: {} bytes ({} chars) of generated answer \
         text, the same every run: prose paragraphs with emoji, a ZWJ family, CJK and accents; \
         ```rust blocks with indentation and blank lines; lines of 3,000 to 6,000 chars with no \
         whitespace (hard splits). Best of {RUNS} runs, release build. `split_message` makes {} \
         chunks of at most {max_len}; the 5,000-char answer renders as {answer_as}. \
         `render_answer` splits only up to `max_chunks + 1` chunks (enough to know the answer \
         goes as a file), so a huge answer costs a character count and a copy, not a full \
         split.\n\nMachine: {}; measured {}.\n\n{}\n",
        text.len(),
        text.chars().count(),
        chunks.len(),
        common::machine(),
        common::now_utc(),
        table.join("\n")
    );
    common::save_section("Formatter", &section);
}
