//! The floors the daemon is compared with: the fake CLI spawned directly
//! with the daemon's argv (the prompt as a stream-json message on stdin,
//! all output read), and one keep-alive HTTP round trip to the fake's
//! REST, as serenity's post is.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use test_support::fake_claude;

const ARGV: [&str; 8] = claude_coordinator::claude::BASE_ARGS;
const PROMPT: &[u8] =
    b"{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"hello there\"}}\n";

/// One direct run of the fake CLI in `cwd`.
pub fn spawn_cli(cwd: &Path) -> Duration {
    spawn_cli_with(cwd, PROMPT)
}

/// One direct run of the fake CLI in `cwd` with `input` on its stdin.
pub fn spawn_cli_with(cwd: &Path, input: &[u8]) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(fake_claude())
        .args(ARGV)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the fake CLI");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write the prompt");
    drop(stdin);
    let output = child.wait_with_output().expect("wait for the fake CLI");
    assert!(output.status.success() && output.stdout.ends_with(b"}\n"));
    started.elapsed()
}

/// What `runs` direct runs on `workers` threads took: the wall time, and
/// CPU per run in this process (spawning, feeding and reading the CLI)
/// and in the CLI itself.
pub struct FloorRuns {
    pub wall: Duration,
    pub parent_ms: f64,
    pub cli_ms: f64,
}

pub fn spawn_cli_parallel(cwd: &Path, runs: usize, workers: usize) -> FloorRuns {
    let (parent, children) = (cpu_secs(libc::RUSAGE_SELF), cpu_secs(libc::RUSAGE_CHILDREN));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let share = runs / workers + usize::from(w < runs % workers);
            scope.spawn(move || {
                for _ in 0..share {
                    spawn_cli(cwd);
                }
            });
        }
    });
    let per_run = |secs: f64| secs * 1e3 / runs as f64;
    FloorRuns {
        wall: started.elapsed(),
        parent_ms: per_run(cpu_secs(libc::RUSAGE_SELF) - parent),
        cli_ms: per_run(cpu_secs(libc::RUSAGE_CHILDREN) - children),
    }
}

/// User plus system CPU seconds of this process or of its reaped children.
fn cpu_secs(who: libc::c_int) -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// A POST of a short message to the fake on one kept-alive connection,
/// read with TCP_QUICKACK: the fake writes head and body separately without
/// TCP_NODELAY, so a delayed ACK would otherwise stall every answer ~40 ms.
pub struct RoundTrip {
    stream: tokio::net::TcpStream,
    request: Vec<u8>,
}

impl RoundTrip {
    pub async fn new(api_base: &str, channel: u64, token: &str) -> RoundTrip {
        let addr = api_base.trim_start_matches("http://");
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the fake");
        stream.set_nodelay(true).expect("nodelay");
        let body = r#"{"content":"floor"}"#;
        let request = format!(
            "POST /api/v10/channels/{channel}/messages HTTP/1.1\r\nhost: {addr}\r\n\
             authorization: Bot {token}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        );
        RoundTrip {
            stream,
            request: request.into_bytes(),
        }
    }

    pub async fn once(&mut self) -> Duration {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let started = Instant::now();
        self.stream
            .write_all(&self.request)
            .await
            .expect("send the POST");
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            quickack(&self.stream);
            let n = self.stream.read(&mut chunk).await.expect("read the answer");
            assert!(n > 0, "the fake closed the connection");
            got.extend_from_slice(&chunk[..n]);
            if let Some(end) = complete(&got) {
                assert!(
                    got.starts_with(b"HTTP/1.1 200"),
                    "{:?}",
                    String::from_utf8_lossy(&got)
                );
                assert_eq!(end, got.len());
                return started.elapsed();
            }
        }
    }
}

fn quickack(stream: &tokio::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket fd and a c_int option of the right size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// The length of a complete response (head plus content-length body).
fn complete(got: &[u8]) -> Option<usize> {
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (got.len() >= head_end + length).then_some(head_end + length)
}
