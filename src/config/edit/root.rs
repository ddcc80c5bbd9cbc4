//! Where `/add-project` may point: a folder under `[discord] projects_root`,
//! reached without leaving the root, not even through a symlink that
//! comes back into it.

use std::path::{Component, Path, PathBuf};

/// The canonical folder `relative` names under `root` (canonical itself),
/// or why it is refused, in words that name no host path.
pub fn resolve_in_root(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let shown = relative.trim();
    let outside = || format!("`{shown}` is outside the projects root.");
    if shown.is_empty() {
        return Err("Give the project's folder, relative to the projects root.".into());
    }
    let mut at = root.to_path_buf();
    for part in Path::new(shown).components() {
        match part {
            Component::Normal(step) => at = step_into(root, &at, step, shown)?,
            Component::CurDir => {}
            Component::ParentDir => {
                at.pop();
                if !at.starts_with(root) {
                    return Err(outside());
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "`{shown}` must be relative to the projects root, not an absolute path."
                ));
            }
        }
    }
    if at == root {
        return Err("The projects root itself cannot be a project; name a folder under it.".into());
    }
    match std::fs::metadata(&at) {
        Ok(m) if m.is_dir() => Ok(at),
        Ok(_) => Err(format!("`{shown}` is not a folder.")),
        Err(_) => Err(format!("`{shown}` does not exist under the projects root.")),
    }
}

/// Goes one step down from `at`; a symlink is followed only when its
/// target lies in the root.
fn step_into(
    root: &Path,
    at: &Path,
    step: &std::ffi::OsStr,
    shown: &str,
) -> Result<PathBuf, String> {
    let next = at.join(step);
    let Ok(meta) = std::fs::symlink_metadata(&next) else {
        return Err(format!("`{shown}` does not exist under the projects root."));
    };
    if !meta.file_type().is_symlink() {
        return Ok(next);
    }
    match std::fs::canonicalize(&next) {
        Ok(target) if target.starts_with(root) => Ok(target),
        Ok(_) => Err(format!(
            "`{shown}` goes through a symlink that leads out of the projects root."
        )),
        Err(_) => Err(format!("`{shown}` goes through a broken symlink.")),
    }
}
