//! Files Claude hands the user: whatever a successful turn left in its
//! session's outbox, `.claude-coordinator/outbox/<channel id>/` in its
//! working folder, is attached after the answer, one message per file,
//! and removed once Discord took it. A channel and its threads may share
//! a folder, so each session has its own outbox, and it is read before
//! the session's next turn starts. Only real files directly in a real
//! folder count (no symlink anywhere on the way); one over Discord's
//! upload limit stays, and the user is told.

use crate::domain::ChannelId;
use crate::format::{MAX_UPLOAD_BYTES, byte_size, size_against};
use std::fs::{self, File};
use std::io::Read as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

pub const OUTBOX_DIR: &str = ".claude-coordinator/outbox";

/// At most this many files go with one answer; the rest wait for the next.
pub const MAX_FILES: usize = 10;

/// At most this many files that stay are named, so the note fits in one
/// Discord message.
const MAX_NAMED: usize = 5;

/// The session's outbox, relative to its working folder.
pub fn outbox_of(channel: ChannelId) -> String {
    format!("{OUTBOX_DIR}/{channel}")
}

/// Told to Claude with every run, after the project's own system prompt.
pub fn hint(channel: ChannelId) -> String {
    format!(
        "To hand the user a file, write it in {}/ in the working folder: after your answer it is attached to the chat (up to 10 MB) and removed from there.",
        outbox_of(channel)
    )
}

/// One file to attach.
#[derive(Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub name: String,
    pub path: PathBuf,
    pub body: Vec<u8>,
    /// The file as it was read: it is removed only if it is still that.
    stamp: Stamp,
}

/// Which file, of what size, last changed when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Self {
        Self {
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }
}

impl Outgoing {
    /// What it takes to remove the file once posted.
    pub fn removal(&self) -> Removal {
        Removal {
            path: self.path.clone(),
            stamp: self.stamp,
        }
    }
}

/// A posted file to remove, as it was read.
pub struct Removal {
    path: PathBuf,
    stamp: Stamp,
}

impl Removal {
    /// Removes the file, unless it was written again since it was read
    /// (the next turn may reuse its name). Blocking.
    pub fn remove_if_unchanged(&self) -> std::io::Result<bool> {
        let now = fs::symlink_metadata(&self.path)?;
        if Stamp::of(&now) != self.stamp {
            return Ok(false);
        }
        fs::remove_file(&self.path).map(|()| true)
    }
}

/// What the outbox holds now.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub files: Vec<Outgoing>,
    /// One line per file left in place, for the user.
    pub kept: Vec<String>,
}

/// Reads the outbox of `channel`'s session in `folder`, in name order.
/// Blocking: call it off the actor's thread.
pub fn take(folder: &Path, channel: ChannelId) -> Taken {
    let mut taken = Taken::default();
    let Some(dir) = real_dir(folder, &outbox_of(channel)) else {
        return taken;
    };
    let Ok(entries) = fs::read_dir(&dir) else {
        return taken;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(fs::DirEntry::file_name);
    let (mut waiting, mut unnamed) = (0, 0);
    for entry in entries {
        // Past the limit, files are counted, not read.
        if taken.files.len() >= MAX_FILES {
            waiting += usize::from(entry.file_type().is_ok_and(|t| t.is_file()));
            continue;
        }
        // Shown in inline code: a backtick would end it.
        let name = entry.file_name().to_string_lossy().replace('`', "'");
        match read(&entry.path()) {
            Ok((body, stamp)) => taken.files.push(Outgoing {
                name,
                path: entry.path(),
                body,
                stamp,
            }),
            Err(Some(_)) if taken.kept.len() >= MAX_NAMED => unnamed += 1,
            Err(Some(why)) => taken.kept.push(format!("`{name}` {why}")),
            Err(None) => {}
        }
    }
    if unnamed > 0 {
        taken
            .kept
            .push(format!("{unnamed} more stay in the outbox"));
    }
    if waiting > 0 {
        let files = if waiting == 1 {
            "file waits"
        } else {
            "files wait"
        };
        taken.kept.push(format!(
            "{waiting} more {files} for the next answer (at most {MAX_FILES} go with one)"
        ));
    }
    taken
}

/// `folder/relative`, if it and every folder on the way are real folders.
fn real_dir(folder: &Path, relative: &str) -> Option<PathBuf> {
    let mut at = folder.to_path_buf();
    for part in relative.split('/') {
        at.push(part);
        let meta = fs::symlink_metadata(&at).ok()?;
        if !meta.is_dir() {
            return None;
        }
    }
    Some(at)
}

/// A regular file's bytes and stamp; `Err(None)` for what is not a file
/// at all (a folder), `Err(Some(why))` for one that stays.
fn read(path: &Path) -> Result<(Vec<u8>, Stamp), Option<String>> {
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
    let stamp = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .and_then(|f| {
            let stamp = Stamp::of(&f.metadata()?);
            f.take(MAX_UPLOAD_BYTES + 1).read_to_end(&mut body)?;
            Ok(stamp)
        })
        .map_err(|e| Some(format!("could not be read ({})", e.kind())))?;
    if body.len() as u64 > MAX_UPLOAD_BYTES {
        let limit = byte_size(MAX_UPLOAD_BYTES);
        return Err(Some(format!(
            "grew past Discord's upload limit of {limit}; it stays in the outbox"
        )));
    }
    Ok((body, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANNEL: ChannelId = ChannelId(42);

    fn outbox(folder: &Path) -> PathBuf {
        let dir = folder.join(outbox_of(CHANNEL));
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
        let taken = take(folder.path(), CHANNEL);
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
        let taken = take(folder.path(), CHANNEL);
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
        assert_eq!(take(folder.path(), CHANNEL), Taken::default());
        assert_eq!(
            take(&folder.path().join("missing"), CHANNEL),
            Taken::default()
        );
    }

    #[test]
    fn past_the_file_limit_the_rest_wait() {
        let folder = tempfile::tempdir().unwrap();
        let dir = outbox(folder.path());
        for n in 0..=MAX_FILES {
            fs::write(dir.join(format!("f{n:02}")), "x").unwrap();
        }
        let taken = take(folder.path(), CHANNEL);
        assert_eq!(taken.files.len(), MAX_FILES);
        assert_eq!(
            taken.kept,
            ["1 more file waits for the next answer (at most 10 go with one)"]
        );
    }

    #[test]
    fn a_crowded_outbox_makes_a_note_that_fits_one_message() {
        let folder = tempfile::tempdir().unwrap();
        let dir = outbox(folder.path());
        for n in 0..40 {
            let long = format!("a-link-{n:02}-{}", "x".repeat(200));
            std::os::unix::fs::symlink("/etc/hostname", dir.join(long)).unwrap();
        }
        for n in 0..500 {
            fs::write(dir.join(format!("f{n:03}")), "x").unwrap();
        }
        let taken = take(folder.path(), CHANNEL);
        assert_eq!(taken.files.len(), MAX_FILES);
        let note = format!("📎 Not attached: {}.", taken.kept.join("; "));
        assert!(
            note.chars().count() < 2000,
            "{} chars",
            note.chars().count()
        );
        assert!(note.contains("35 more stay in the outbox"), "{note}");
        assert!(note.contains("490 more files wait"), "{note}");
    }

    #[test]
    fn each_session_reads_only_its_own_outbox() {
        let folder = tempfile::tempdir().unwrap();
        fs::write(outbox(folder.path()).join("mine.csv"), "1\n").unwrap();
        let other = folder.path().join(outbox_of(ChannelId(43)));
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("theirs.csv"), "2\n").unwrap();
        let taken = take(folder.path(), CHANNEL);
        let names: Vec<&str> = taken.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["mine.csv"]);
        assert!(hint(CHANNEL).contains(".claude-coordinator/outbox/42/"));
    }

    #[test]
    fn a_file_written_again_since_it_was_read_is_not_removed() {
        let folder = tempfile::tempdir().unwrap();
        let dir = outbox(folder.path());
        fs::write(dir.join("a.csv"), "first\n").unwrap();
        fs::write(dir.join("b.csv"), "first\n").unwrap();
        let taken = take(folder.path(), CHANNEL);
        fs::write(dir.join("b.csv"), "the next turn's, longer\n").unwrap();
        assert!(taken.files[0].removal().remove_if_unchanged().unwrap());
        assert!(!taken.files[1].removal().remove_if_unchanged().unwrap());
        assert!(!dir.join("a.csv").exists());
        assert_eq!(
            fs::read(dir.join("b.csv")).unwrap(),
            b"the next turn's, longer\n"
        );
    }
}
