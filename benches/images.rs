//! Images in: the release daemon against the fake Discord and the fake CLI
//! (answering at once, each run cold), one channel. Measures in one run a
//! message with IMAGES images of IMAGE_BYTES (the default
//! `max_image_bytes`) against a plain one, beside the two floors the image
//! path cannot avoid: downloading the images from the same fake, and the
//! fake CLI reading them as base64 blocks of its stream-json input (run
//! directly, less a run without them). Then the daemon's memory: its peak
//! over idle with one image message at a time, and in a fresh daemon with
//! QUEUED such messages in one channel at once (one running, the rest
//! queued). Prints one table and rewrites the "Images in" section of
//! docs/PERFORMANCE.md.

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

use base64::prelude::{BASE64_STANDARD, Engine as _};
use daemon::{Daemon, Setup};
use load::{Stats, stats};
use std::path::Path;
use std::time::{Duration, Instant};
use test_support::fake_discord::{FakeDiscord, UserMessage};

const IMAGES: usize = 5;
const IMAGE_BYTES: usize = claude_coordinator::config::API_IMAGE_BYTES as usize;
const ROUNDS: usize = 8;
const QUEUED: usize = 5;
const LIMIT: Duration = Duration::from_secs(120);
const MIB: f64 = 1024.0 * 1024.0;

struct Results {
    plain: Stats,
    with_images: Stats,
    download: Stats,
    save: Stats,
    cli_added: Stats,
    idle_mib: f64,
    one_peak_mib: f64,
    queued_idle_mib: f64,
    queued_peak_mib: f64,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let r = runtime.block_on(run());
    let section = render(&r);
    println!("{section}");
    common::save_section("Images in", &section);
}

async fn run() -> Results {
    let images: Vec<Vec<u8>> = (0..IMAGES).map(png_of).collect();
    let fake = FakeDiscord::start().await;
    let (user, channel) = (fake.new_id(), fake.new_id());
    fake.add_channel(channel, "images");
    let dir = tempfile::tempdir().expect("temp dir");
    daemon::prepare(dir.path(), &fake, &setup(channel, user));
    let (daemon, _) = Daemon::start(dir.path(), &fake).await;
    let idle_mib = daemon.rss_kib() as f64 / 1024.0;
    ask(&fake, channel, user, "hello there", &[]).await;
    ask(&fake, channel, user, "what is wrong here?", &images).await;
    let client = reqwest::Client::new();
    let line_with = stream_json_line(&images);
    let line_without = stream_json_line(&[]);
    let folder = dir.path().join("project-0");
    let (mut plain, mut with_images, mut download, mut save, mut cli_added) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        plain.push(ask(&fake, channel, user, "hello there", &[]).await);
        with_images.push(ask(&fake, channel, user, "what is wrong here?", &images).await);
        let urls = fake.attachment_urls();
        download.push(fetch_all(&client, &urls[urls.len() - IMAGES..]).await);
        save.push(save_all(&dir.path().join("saved"), &images));
        let (with, without) = (
            floor::spawn_cli_with(&folder, &line_with),
            floor::spawn_cli_with(&folder, &line_without),
        );
        cli_added.push(with.saturating_sub(without));
    }
    let one_peak_mib = daemon.peak_rss_kib() as f64 / 1024.0;
    daemon.stop().await;

    let queued_dir = tempfile::tempdir().expect("temp dir");
    daemon::prepare(queued_dir.path(), &fake, &setup(channel, user));
    let (daemon, _) = Daemon::start(queued_dir.path(), &fake).await;
    let queued_idle_mib = daemon.rss_kib() as f64 / 1024.0;
    queue_of_images(&fake, channel, user, &images).await;
    let queued_peak_mib = daemon.peak_rss_kib() as f64 / 1024.0;
    daemon.stop().await;
    fake.shutdown().await;
    Results {
        plain: stats(plain),
        with_images: stats(with_images),
        download: stats(download),
        save: stats(save),
        cli_added: stats(cli_added),
        idle_mib,
        one_peak_mib,
        queued_idle_mib,
        queued_peak_mib,
    }
}

fn setup(channel: u64, user: u64) -> Setup {
    Setup {
        channels: vec![channel],
        user,
        max_concurrent: 2,
        queue_size: QUEUED,
        idle_timeout_secs: 900,
        binary: None,
        claude_extra: "max_warm = 0\n".into(),
    }
}

/// A PNG signature and header, then bytes that do not compress: `len`
/// of them in all, different for each `seed`.
fn png_of(seed: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ seed as u64;
    while bytes.len() < IMAGE_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(IMAGE_BYTES);
    bytes
}

fn message(channel: u64, user: u64, text: &str, images: &[Vec<u8>]) -> UserMessage {
    let mut message = UserMessage::new(channel, user, text).mentioning_bot();
    for (i, image) in images.iter().enumerate() {
        message = message.with_attachment(&format!("shot-{i}.png"), "image/png", image);
    }
    message
}

/// One mention and its answer: the time from the mention to the answer as
/// the fake received it.
async fn ask(
    fake: &FakeDiscord,
    channel: u64,
    user: u64,
    text: &str,
    images: &[Vec<u8>],
) -> Duration {
    let message = message(channel, user, text, images);
    let t0 = Instant::now();
    let id = fake.user_message(message).await;
    let answered = load::await_answers(fake, &[id], Duration::from_micros(500), LIMIT).await;
    answered[&id].duration_since(t0)
}

/// QUEUED image messages at once; the first runs for a while so the rest
/// wait in the queue, holding their images.
async fn queue_of_images(fake: &FakeDiscord, channel: u64, user: u64, images: &[Vec<u8>]) {
    let mut ids = Vec::new();
    for i in 0..QUEUED {
        let text = if i == 0 {
            "FAKE:slow=3000 look"
        } else {
            "and this?"
        };
        ids.push(
            fake.user_message(message(channel, user, text, images))
                .await,
        );
    }
    load::await_answers(fake, &ids, Duration::from_millis(5), LIMIT).await;
}

async fn fetch_all(client: &reqwest::Client, urls: &[String]) -> Duration {
    let t0 = Instant::now();
    for url in urls {
        let body = client
            .get(url)
            .send()
            .await
            .expect("download")
            .bytes()
            .await;
        assert_eq!(body.expect("body").len(), IMAGE_BYTES);
    }
    t0.elapsed()
}

/// The images written to a fresh folder, as the daemon saves them.
fn save_all(folder: &Path, images: &[Vec<u8>]) -> Duration {
    let _ = std::fs::remove_dir_all(folder);
    let t0 = Instant::now();
    std::fs::create_dir_all(folder).expect("folder");
    for (i, image) in images.iter().enumerate() {
        std::fs::write(folder.join(format!("shot-{i}.png")), image).expect("save");
    }
    t0.elapsed()
}

/// The user message the daemon writes for a turn: the prompt, then each
/// image as a base64 block.
fn stream_json_line(images: &[Vec<u8>]) -> Vec<u8> {
    let mut content = vec![serde_json::json!({ "type": "text", "text": "what is wrong here?" })];
    content.extend(images.iter().map(|image| {
        serde_json::json!({
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": BASE64_STANDARD.encode(image),
            },
        })
    }));
    let message = serde_json::json!({
        "type": "user",
        "message": { "role": "user", "content": content },
    });
    let mut line = message.to_string().into_bytes();
    line.push(b'\n');
    line
}

fn render(r: &Results) -> String {
    let p = |s: &Stats| format!("{:.1} / {:.1} ms", s.p50, s.p99);
    let floors = r.download.p50 + r.cli_added.p50;
    let added = r.with_images.p50 - r.plain.p50;
    let raw_mib = (IMAGES * IMAGE_BYTES) as f64 / MIB;
    let one = r.one_peak_mib - r.idle_mib;
    let queued = r.queued_peak_mib - r.queued_idle_mib;
    let verdict = |met: bool| if met { "met" } else { "not met" };
    format!(
        "## Images in\n\n\
         Measured {when} on {machine} with `cargo bench --bench images`: the release daemon, the fake CLI \
         answering at once, each run cold (`max_warm = 0`), one channel; {ROUNDS} rounds of a plain mention and a \
         mention with {IMAGES} PNG images of {img_mib:.2} MiB each (the default and largest `max_image_bytes`; {raw_mib:.2} \
         MiB in all, bytes that do not compress), after one warm-up of each. The image path cannot avoid two things, \
         measured in the same rounds as its floors: downloading the images from the same fake, one after another \
         as the daemon does, and the CLI reading them as base64 image blocks of its stream-json input (the fake \
         CLI run directly with that message, less a run with the prompt alone). What the daemon adds besides is \
         the base64 encoding, saving each image under `.claude-coordinator/attachments/` (its cost run directly \
         is shown, but the target is set against the other two) and writing the message to the CLI's stdin. Memory is VmHWM (peak RSS) over VmRSS before the first message: with one image \
         message at a time, and in a fresh daemon with {QUEUED} image messages sent at once to one channel (the \
         first runs 3 s, the rest wait in its queue with their images).\n\n\
         | measure | value | against its floor |\n|---|---|---|\n\
         | download of the {IMAGES} images from the fake, directly (floor), p50 / p99 | {download} | |\n\
         | writing them to a fresh folder, directly (not in the target's floors), p50 / p99 | {save} | |\n\
         | the fake CLI reading them in its input, run directly, less without (floor), p50 / p99 | {cli} | |\n\
         | plain mention to answer, p50 / p99 | {plain} | |\n\
         | mention with {IMAGES} images to answer, p50 / p99 | {with} | adds {added:.1} ms: {ratio:.2}× the two \
         floors, {floors:.1} ms (target ≤ 2×: {time_met}) |\n\
         | daemon peak over idle, one image message at a time | {one:.1} MiB | {one_ratio:.2}× the {raw_mib:.2} MiB \
         of one message's images |\n\
         | daemon peak over idle, {QUEUED} image messages in one channel at once | {queued:.1} MiB | \
         {queued_ratio:.2}× the {queued_raw:.2} MiB of their images (target ≤ 1.5×: {memory_met}) |\n",
        when = common::now_utc(),
        machine = common::machine(),
        img_mib = IMAGE_BYTES as f64 / MIB,
        download = p(&r.download),
        save = p(&r.save),
        cli = p(&r.cli_added),
        plain = p(&r.plain),
        with = p(&r.with_images),
        ratio = added / floors,
        time_met = verdict(added <= 2.0 * floors),
        one_ratio = one / raw_mib,
        queued_ratio = queued / (raw_mib * QUEUED as f64),
        queued_raw = raw_mib * QUEUED as f64,
        memory_met = verdict(queued <= 1.5 * raw_mib * QUEUED as f64),
    )
}
