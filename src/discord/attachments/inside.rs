//! Writing a file strictly inside a folder: every directory on the way is
//! opened relative to the one before it with `O_NOFOLLOW`, so a symlink
//! anywhere below the project root (a cloned repository can carry one at
//! `.claude-coordinator`) makes the write fail instead of following it
//! elsewhere. The check and the use are the same system call: nothing can
//! swap a link in between.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Writes `text` to `root/dirs.../name`, making the folders as needed (a
/// file already there is replaced). Fails with `ELOOP` or `ENOTDIR` when
/// any part below `root`, the file included, is a symlink or not a folder.
pub fn write_new_file(root: &Path, dirs: &[&str], name: &str, text: &[u8]) -> io::Result<()> {
    let mut dir = open_dir(libc::AT_FDCWD, root.as_os_str().as_bytes(), false)?;
    for part in dirs {
        dir = enter(&dir, part)?;
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let fd = openat(dir.as_raw_fd(), name.as_bytes(), flags, 0o644)?;
    let mut file = File::from(fd);
    file.write_all(text)
}

/// `part` inside `dir`, made if missing, never through a symlink.
fn enter(dir: &OwnedFd, part: &str) -> io::Result<OwnedFd> {
    let name = c_name(part.as_bytes())?;
    // SAFETY: mkdirat reads a NUL-terminated name relative to an open
    // directory descriptor this function borrows.
    let made = unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o755) };
    if made != 0 {
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EEXIST) {
            return Err(error);
        }
    }
    open_dir(dir.as_raw_fd(), part.as_bytes(), true)
}

fn open_dir(at: libc::c_int, path: &[u8], no_follow: bool) -> io::Result<OwnedFd> {
    let mut flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    if no_follow {
        flags |= libc::O_NOFOLLOW;
    }
    openat(at, path, flags, 0)
}

fn openat(
    at: libc::c_int,
    path: &[u8],
    flags: libc::c_int,
    mode: libc::mode_t,
) -> io::Result<OwnedFd> {
    let name = c_name(path)?;
    // SAFETY: openat reads a NUL-terminated path; on success the returned
    // descriptor is new and owned by nobody else, so OwnedFd may close it.
    let fd = unsafe { libc::openat(at, name.as_ptr(), flags, libc::c_uint::from(mode)) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh, valid descriptor (checked above).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn c_name(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a path"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn folders_are_made_and_the_file_written() {
        let root = tempfile::tempdir().expect("temp dir");
        write_new_file(root.path(), &["a", "b"], "n.txt", b"hi").expect("write");
        let text = std::fs::read(root.path().join("a/b/n.txt")).expect("read back");
        assert_eq!(text, b"hi");
        write_new_file(root.path(), &["a", "b"], "m.txt", b"more").expect("existing folders");
    }

    #[test]
    fn a_symlinked_folder_below_the_root_is_refused_and_nothing_lands_outside() {
        let root = tempfile::tempdir().expect("temp dir");
        let outside = tempfile::tempdir().expect("temp dir");
        symlink(outside.path(), root.path().join(".claude-coordinator")).expect("symlink");
        let err = write_new_file(
            root.path(),
            &[".claude-coordinator", "attachments"],
            "x",
            b"x",
        )
        .expect_err("a symlink on the way");
        assert!(
            matches!(err.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)),
            "{err}"
        );
        assert_eq!(
            std::fs::read_dir(outside.path()).expect("outside").count(),
            0
        );
    }

    #[test]
    fn a_symlink_in_place_of_the_file_is_not_followed() {
        let root = tempfile::tempdir().expect("temp dir");
        let target = root.path().join("elsewhere.txt");
        std::fs::create_dir(root.path().join("d")).expect("mkdir");
        symlink(&target, root.path().join("d/n.txt")).expect("symlink");
        assert!(write_new_file(root.path(), &["d"], "n.txt", b"x").is_err());
        assert!(!target.exists());
    }
}
