//! One daemon per database. `run` holds an exclusive `flock` on
//! `<database>.lock` for as long as it lives; the kernel releases it when
//! the process ends, however it ends (kill -9 included), so a stale lock
//! file never blocks a start. The file holds the holder's pid, for the
//! message a second daemon prints. `check` and `sessions` take no lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Held while the daemon runs; dropping it (or exiting) releases the lock.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another claude-coordinator ({holder}) is running on the database {}; stop it first, or give this one its own DATABASE_URL",
        .database.display()
    )]
    Held { database: PathBuf, holder: String },
    #[error("cannot lock the database {} through {}: {source}", .database.display(), .lock.display())]
    Io {
        database: PathBuf,
        lock: PathBuf,
        source: std::io::Error,
    },
}

impl DaemonLock {
    /// Locks `database` (a file path) for this process, or says who holds it.
    pub fn acquire(database: &Path) -> Result<DaemonLock, LockError> {
        let path = lock_path(database);
        let io = |source| LockError::Io {
            database: database.to_path_buf(),
            lock: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if !try_lock(&file).map_err(io)? {
            let holder = holder_of(&mut file);
            return Err(LockError::Held {
                database: database.to_path_buf(),
                holder,
            });
        }
        write_pid(&mut file).map_err(io)?;
        Ok(DaemonLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// True if this process now holds the lock; false if another does.
fn try_lock(file: &File) -> std::io::Result<bool> {
    // SAFETY: flock takes a descriptor this File owns and changes only its
    // lock; the lock goes with the descriptor.
    let done = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if done == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        _ => Err(error),
    }
}

fn holder_of(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    match text.trim().parse::<u32>() {
        Ok(pid) => format!("pid {pid}"),
        Err(_) => "a process that has not written its pid yet".to_string(),
    }
}

fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{}", std::process::id())?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_database_names_the_holder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("coordinator.db");
        let held = DaemonLock::acquire(&db).expect("first lock");
        assert!(held.path().ends_with("coordinator.db.lock"));
        let err = DaemonLock::acquire(&db).expect_err("second lock");
        let text = err.to_string();
        assert!(text.contains(&db.display().to_string()), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
    }

    #[test]
    fn the_lock_is_free_again_once_its_holder_is_gone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("coordinator.db");
        drop(DaemonLock::acquire(&db).expect("first lock"));
        let again = DaemonLock::acquire(&db).expect("lock after release");
        drop(again);
        let other = dir.path().join("other.db");
        let _a = DaemonLock::acquire(&db).expect("one database");
        let _b = DaemonLock::acquire(&other).expect("another database");
    }
}
