//! Structured logging: bunyan JSON records in a size-rotated file, readable
//! text on stderr, and a filter that keeps chatty dependencies quiet; and
//! the Prometheus metrics (`metrics`).
//! See docs/LOGGING.md for the record fields and jq recipes.

mod capture;
mod files;
mod filter;
pub mod metrics;
mod payload_guard;
mod span_fields;
mod subscriber;

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::level_filters::LevelFilter;
use tracing_log::{AsLog, LogTracer};

use tracing_appender::non_blocking::WorkerGuard;

pub use capture::CapturedLogs;
pub use files::{LOG_FILE_NAME, default_log_dir, rotating_file};
pub use filter::{NOISY_TARGETS, env_filter};
pub use subscriber::{get_subscriber, non_blocking_lossless};

/// Rotate the live file once it passes this size.
pub const MAX_LOG_BYTES: usize = 10 * 1024 * 1024;
/// Rotated files kept beside the live one.
pub const LOG_BACKUPS: usize = 5;

/// How to log, from LOG_LEVEL, RUST_LOG and LOG_DIR (read by
/// `config::EnvSettings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// LOG_LEVEL: trace, debug, info, warn, error or off.
    pub level: String,
    /// RUST_LOG: full filter directives; wins over `level` when set.
    pub rust_log: Option<String>,
    /// LOG_DIR: the folder for bot.log; `default_log_dir()` when unset.
    pub dir: Option<PathBuf>,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            rust_log: None,
            dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid LOG_LEVEL `{value}`: expected one of trace, debug, info, warn, error, off")]
    InvalidLevel { value: String },
    #[error("invalid RUST_LOG `{value}`: {reason}")]
    InvalidRustLog { value: String, reason: String },
    #[error("cannot create log folder {}: {source}; set LOG_DIR to a writable folder", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot open log file {}: {source}; set LOG_DIR to a writable folder", path.display())]
    OpenFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the log rotation size must be above zero bytes")]
    ZeroMaxBytes,
    #[error("logging is already set up in this process")]
    AlreadyInitialized,
}

/// Set by the first `init` that gets past its checks; later calls stop here
/// before spawning a writer thread they could not use.
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Keeps the background log writer alive; dropping it flushes what is queued.
/// Hold it for the life of `main`.
#[derive(Debug)]
#[must_use = "dropping the guard stops file logging"]
pub struct TelemetryGuard {
    _worker: WorkerGuard,
}

/// Sets the process-wide subscriber: JSON to `<dir>/bot.log` (10 MB × 5,
/// written off-thread without dropping records), text to stderr, and `log`
/// crate records bridged in. Returns the guard and the log file's path.
///
/// A second call (or a call after another global subscriber was set) returns
/// `TelemetryError::AlreadyInitialized` and leaves the running subscriber alone.
pub fn init(
    app_name: &str,
    settings: &LogSettings,
) -> Result<(TelemetryGuard, PathBuf), TelemetryError> {
    let filter = env_filter(&settings.level, settings.rust_log.as_deref())?;
    let dir = settings.dir.clone().unwrap_or_else(default_log_dir);
    let file = rotating_file(&dir, MAX_LOG_BYTES, LOG_BACKUPS)?;
    if INITIALIZED.swap(true, Ordering::SeqCst) {
        return Err(TelemetryError::AlreadyInitialized);
    }
    let (writer, worker) = non_blocking_lossless(file);
    let subscriber = get_subscriber(app_name, filter, writer, true);
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|_| TelemetryError::AlreadyInitialized)?;
    // After the subscriber, so the bridge can skip `log` records below its level.
    let bridge = LogTracer::builder()
        .with_max_level(LevelFilter::current().as_log())
        .init();
    if let Err(e) = bridge {
        tracing::warn!(error = %e, "records from the `log` crate are not captured");
    }
    Ok((TelemetryGuard { _worker: worker }, dir.join(LOG_FILE_NAME)))
}

#[cfg(test)]
mod tests;
