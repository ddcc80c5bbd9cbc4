//! Files Claude hands the user: whatever a successful turn left under
//! `.claude-coordinator/outbox/` in its working folder is attached after
//! the answer, one message per file, and removed once Discord took it.
//! Only real files directly in a real folder count (no symlink anywhere
//! on the way); one over Discord's upload limit stays, and the user is
//! told.

use crate::format::{MAX_UPLOAD_BYTES, byte_size, size_against};
use std::fs::{self, File};
use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

pub const OUTBOX_DIR: &str = ".claude-coordinator/outbox";

/// At most this many files go with one answer; the rest wait for the next.
pub const MAX_FILES: usize = 10;

/// Told to Claude with every run, after the project's own system prompt.
pub const OUTBOX_HINT: &str = "To hand the user a file, write it under .claude-coordinator/outbox/ in the working folder: after your answer it is attached to the chat (up to 10 MB) and removed from there.";

/// One file to attach.
#[derive(Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub name: String,
    pub path: PathBuf,
    pub body: Vec<u8>,
}

/// What the outbox holds now.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub files: Vec<Outgoing>,
    /// One line per file left in place, for the user.
    pub kept: Vec<String>,
}

/// Reads the outbox of `folder`, in name order. Blocking: call it off
/// the actor's thread.
pub fn take(folder: &Path) -> Taken {
    let mut taken = Taken::default();
    let Some(dir) = real_dir(folder) else {
        return taken;
    };
    let Ok(entries) = fs::read_dir(&dir) else {
        return taken;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        // Shown in inline code: a backtick would end it.
        let name = entry.file_name().to_string_lossy().replace('`', "'");
        match read(&entry.path()) {
            Ok(_) if taken.files.len() >= MAX_FILES => taken.kept.push(format!(
                "`{name}` waits for the next answer (at most {MAX_FILES} files go with one)"
            )),
            Ok(body) => taken.files.push(Outgoing {
                name,
                path: entry.path(),
                body,
            }),
            Err(Some(why)) => taken.kept.push(format!("`{name}` {why}")),
            Err(None) => {}
        }
    }
    taken
}

/// The outbox folder, if it and the folder above it are real folders.
fn real_dir(folder: &Path) -> Option<PathBuf> {
    let mut at = folder.to_path_buf();
    for part in OUTBOX_DIR.split('/') {
        at.push(part);
        let meta = fs::symlink_metadata(&at).ok()?;
        if !meta.is_dir() {
            return None;
        }
    }
    Some(at)
}

/// A regular file's bytes; `Err(None)` for what is not a file at all (a
/// folder), `Err(Some(why))` for one that stays.
fn read(path: &Path) -> Result<Vec<u8>, Option<String>> {
    let meta = fs::symlink_metadata(path).map_err(|_| None)?;
    if meta.file_type().is_symlink() {
        return Err(Some("is a symlink, so it was not attached".into()));
    }
    if !meta.is_file() {
        return Err(None);
    }
    if meta.len() > MAX_UPLOAD_BYTES {
        let (size, limit) = size_against(meta.len(), MAX_UPLOAD_BYTES);
        return Err(Some(format!(
            "is {size}, over Discord's upload limit of {limit}; it stays in the outbox"
        )));
    }
    let mut body = Vec::new();
    // O_NOFOLLOW: a symlink swapped in since the check is not followed.
    File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .and_then(|f| f.take(MAX_UPLOAD_BYTES + 1).read_to_end(&mut body))
        .map_err(|e| Some(format!("could not be read ({})", e.kind())))?;
    if body.len() as u64 > MAX_UPLOAD_BYTES {
        let limit = byte_size(MAX_UPLOAD_BYTES);
        return Err(Some(format!(
            "grew past Discord's upload limit of {limit}; it stays in the outbox"
        )));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox(folder: &Path) -> PathBuf {
        let dir = folder.join(OUTBOX_DIR);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn files_are_taken_in_name_order_and_odd_entries_are_left() {
        let folder = tempfile::tempdir().unwrap();
        let dir = outbox(folder.path());
        fs::write(dir.join("b.csv"), "1,2\n").unwrap();
        fs::write(dir.join("a.png"), [0x89, b'P']).unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.join("c.txt")).unwrap();
        let taken = take(folder.path());
        let names: Vec<&str> = taken.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.png", "b.csv"]);
        assert_eq!(taken.files[1].body, b"1,2\n");
        assert_eq!(taken.kept, ["`c.txt` is a symlink, so it was not attached"]);
    }

    #[test]
    fn a_file_over_the_upload_limit_stays_and_is_named() {
        let folder = tempfile::tempdir().unwrap();
        let dir = outbox(folder.path());
        let big = File::create(dir.join("dump.bin")).unwrap();
        big.set_len(MAX_UPLOAD_BYTES + 1).unwrap();
        let taken = take(folder.path());
        assert!(taken.files.is_empty());
        assert_eq!(taken.kept.len(), 1);
        assert!(
            taken.kept[0].contains(
                "`dump.bin` is 10,485,761 bytes, over Discord's upload limit of 10,485,760 bytes"
            ),
            "{:?}",
            taken.kept
        );
    }

    #[test]
    fn an_outbox_reached_through_a_symlink_is_not_read() {
        let folder = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(elsewhere.path().join("secret"), "x").unwrap();
        fs::create_dir(folder.path().join(".claude-coordinator")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), folder.path().join(OUTBOX_DIR)).unwrap();
        assert_eq!(take(folder.path()), Taken::default());
        assert_eq!(take(&folder.path().join("missing")), Taken::default());
    }

    #[test]
    fn past_the_file_limit_the_rest_wait() {
        let folder = tempfile::tempdir().unwrap();
        let dir = outbox(folder.path());
        for n in 0..=MAX_FILES {
            fs::write(dir.join(format!("f{n:02}")), "x").unwrap();
        }
        let taken = take(folder.path());
        assert_eq!(taken.files.len(), MAX_FILES);
        assert_eq!(taken.kept.len(), 1);
        assert!(taken.kept[0].starts_with("`f10` waits"), "{:?}", taken.kept);
    }
}
