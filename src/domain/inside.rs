//! A path a user gave, relative to a folder, resolved inside it: one step
//! at a time, `..` may not leave the folder, and a symlink is followed
//! only when its target lies inside it too.

use std::path::{Component, Path, PathBuf};

/// `name` as a file name that cannot climb out of its folder or surprise
/// a shell: letters, digits, `.`, `-` and `_`, others made `_`, no
/// leading dot; `None` when nothing is left.
pub fn tame_file_name(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// Why a path does not resolve inside its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    Empty,
    Absolute,
    /// `..` climbs out.
    Escapes,
    /// A symlink on the way leads out.
    SymlinkOut,
    /// A symlink on the way leads nowhere.
    Broken,
    Missing,
}

/// The canonical path `relative` names under `root` (which must be
/// canonical), existing, reached without leaving `root`.
pub fn resolve_inside(root: &Path, relative: &str) -> Result<PathBuf, Outside> {
    let relative = relative.trim();
    if relative.is_empty() {
        return Err(Outside::Empty);
    }
    let mut at = root.to_path_buf();
    for part in Path::new(relative).components() {
        match part {
            Component::Normal(step) => at = step_into(root, &at.join(step))?,
            Component::CurDir => {}
            Component::ParentDir => {
                at.pop();
                if !at.starts_with(root) {
                    return Err(Outside::Escapes);
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(Outside::Absolute),
        }
    }
    Ok(at)
}

/// `next`, or the target of the symlink it is, when inside `root`.
fn step_into(root: &Path, next: &Path) -> Result<PathBuf, Outside> {
    let meta = std::fs::symlink_metadata(next).map_err(|_| Outside::Missing)?;
    if !meta.file_type().is_symlink() {
        return Ok(next.to_path_buf());
    }
    match std::fs::canonicalize(next) {
        Ok(target) if target.starts_with(root) => Ok(target),
        Ok(_) => Err(Outside::SymlinkOut),
        Err(_) => Err(Outside::Broken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_inside_and_every_way_out_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "x").unwrap();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, root.join(name)).unwrap();
        };
        link(outside.path(), "out");
        link(&root.join("src"), "code");
        link(&root.join("gone"), "dangling");
        let resolve = |p| resolve_inside(&root, p);
        assert_eq!(resolve("src/lib.rs"), Ok(root.join("src/lib.rs")));
        assert_eq!(resolve("./src/deep/../lib.rs"), Ok(root.join("src/lib.rs")));
        assert_eq!(resolve("code/lib.rs"), Ok(root.join("src/lib.rs")));
        assert_eq!(resolve("."), Ok(root.clone()));
        assert_eq!(resolve("../x"), Err(Outside::Escapes));
        assert_eq!(resolve("/etc/passwd"), Err(Outside::Absolute));
        assert_eq!(resolve("out"), Err(Outside::SymlinkOut));
        assert_eq!(resolve("dangling"), Err(Outside::Broken));
        assert_eq!(resolve("src/nope.rs"), Err(Outside::Missing));
        assert_eq!(resolve("  "), Err(Outside::Empty));
    }
}
