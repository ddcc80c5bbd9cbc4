//! Where the log file lives and how it rotates: by size, whole lines only.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};

use super::TelemetryError;

/// The file inside the log folder; rotated copies are `bot.log.1` (newest) onwards.
pub const LOG_FILE_NAME: &str = "bot.log";
/// The system-wide folder, used when it exists and is writable or can be made.
pub const SYSTEM_LOG_DIR: &str = "/var/log/claude-coordinator";
/// The fallback folder under HOME.
pub const HOME_LOG_SUBDIR: &str = ".claude-coordinator/logs";

/// `/var/log/claude-coordinator` when usable, else `~/.claude-coordinator/logs`.
pub fn default_log_dir() -> PathBuf {
    choose_log_dir(
        Path::new(SYSTEM_LOG_DIR),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn choose_log_dir(system: &Path, home: Option<PathBuf>) -> PathBuf {
    if is_writable_dir(system) {
        return system.to_owned();
    }
    match home.filter(|h| !h.as_os_str().is_empty()) {
        Some(home) => home.join(HOME_LOG_SUBDIR),
        None => PathBuf::from(HOME_LOG_SUBDIR),
    }
}

/// Permission bits say little when running as root or on odd mounts, so try it.
fn is_writable_dir(dir: &Path) -> bool {
    if fs::create_dir_all(dir).is_err() {
        return false;
    }
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    let writable = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&probe)
        .is_ok();
    let _ = fs::remove_file(&probe);
    writable
}

/// `dir/bot.log`, rotated once it has passed `max_bytes` and before the next
/// record, so a record is never split across files; keeps `backups` old files.
///
/// The folder is created and the file opened here, because `FileRotate`
/// panics on a folder it cannot make and silently drops writes to a file it
/// cannot open.
pub fn rotating_file(
    dir: &Path,
    max_bytes: usize,
    backups: usize,
) -> Result<FileRotate<AppendCount>, TelemetryError> {
    if max_bytes == 0 {
        return Err(TelemetryError::ZeroMaxBytes);
    }
    fs::create_dir_all(dir).map_err(|source| TelemetryError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let path = dir.join(LOG_FILE_NAME);
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| TelemetryError::OpenFile {
            path: path.clone(),
            source,
        })?;
    Ok(FileRotate::new(
        path,
        AppendCount::new(backups),
        ContentLimit::BytesSurpassed(max_bytes),
        Compression::None,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use std::io::BufRead;

    use super::*;
    use crate::telemetry::{env_filter, get_subscriber, non_blocking_lossless};

    fn log_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(LOG_FILE_NAME)
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn rotation_keeps_every_record_whole_and_loses_none() {
        let dir = tempfile::tempdir().unwrap();
        let max_bytes = 2 * 1024;
        let written = 400;
        let file = rotating_file(dir.path(), max_bytes, 200).unwrap();
        let (writer, guard) = non_blocking_lossless(file);
        let subscriber =
            get_subscriber("rotation", env_filter("info", None).unwrap(), writer, false);
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..written {
                tracing::info!(
                    record = i,
                    channel_id = "123456789012345678",
                    "record written"
                );
            }
        });
        drop(guard);

        let files = log_files(dir.path());
        assert!(files.len() > 5, "expected several rotations, got {files:?}");
        let mut seen = Vec::new();
        for path in &files {
            let size = fs::metadata(path).unwrap().len() as usize;
            assert!(size <= max_bytes + 512, "{path:?} is {size} bytes");
            for line in std::io::BufReader::new(fs::File::open(path).unwrap()).lines() {
                let line = line.unwrap();
                let record: serde_json::Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("{path:?} holds a broken line {line:?}: {e}"));
                seen.push(record["record"].as_u64().unwrap());
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..written).collect::<Vec<u64>>());
    }

    #[test]
    fn rotation_keeps_only_the_configured_number_of_backups() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = rotating_file(dir.path(), 100, 2).unwrap();
        for i in 0..50 {
            std::io::Write::write_all(&mut file, format!("{{\"n\":{i}}}\n").as_bytes()).unwrap();
        }
        let names: Vec<String> = log_files(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["bot.log", "bot.log.1", "bot.log.2"]);
    }

    #[test]
    fn a_log_dir_under_a_regular_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-folder");
        fs::write(&blocker, "x").unwrap();
        let Err(err) = rotating_file(&blocker.join("logs"), 1024, 1) else {
            panic!("a folder under a regular file was accepted");
        };
        assert!(matches!(err, TelemetryError::CreateDir { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with("cannot create log folder"), "{message}");
        assert!(
            message.contains("set LOG_DIR to a writable folder"),
            "{message}"
        );
    }

    #[test]
    fn a_zero_size_limit_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            rotating_file(dir.path(), 0, 1),
            Err(TelemetryError::ZeroMaxBytes)
        ));
    }

    #[test]
    fn a_writable_system_folder_is_preferred() {
        let system = tempfile::tempdir().unwrap();
        let wanted = system.path().join("claude-coordinator");
        let chosen = choose_log_dir(&wanted, Some(PathBuf::from("/home/someone")));
        assert_eq!(chosen, wanted);
        assert!(wanted.is_dir());
        assert_eq!(
            fs::read_dir(&wanted).unwrap().count(),
            0,
            "probe file left behind"
        );
    }

    #[test]
    fn an_unusable_system_folder_falls_back_to_home() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "x").unwrap();
        let chosen = choose_log_dir(&blocker.join("logs"), Some(PathBuf::from("/home/someone")));
        assert_eq!(
            chosen,
            PathBuf::from("/home/someone/.claude-coordinator/logs")
        );
    }
}
