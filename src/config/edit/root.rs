//! Where `/add-project` may point: a folder under `[discord] projects_root`,
//! reached without leaving the root, not even through a symlink.

use crate::domain::{Outside, resolve_inside};
use std::path::{Path, PathBuf};

/// The canonical folder `relative` names under `root` (canonical itself),
/// or why it is refused, in words that name no host path.
pub fn resolve_in_root(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let shown = relative.trim();
    let at = resolve_inside(root, relative).map_err(|why| match why {
        Outside::Empty => "Give the project's folder, relative to the projects root.".to_string(),
        Outside::Absolute => {
            format!("`{shown}` must be relative to the projects root, not an absolute path.")
        }
        Outside::Escapes => format!("`{shown}` is outside the projects root."),
        Outside::SymlinkOut => {
            format!("`{shown}` goes through a symlink that leads out of the projects root.")
        }
        Outside::Broken => format!("`{shown}` goes through a broken symlink."),
        Outside::Missing => format!("`{shown}` does not exist under the projects root."),
    })?;
    if at == root {
        return Err("The projects root itself cannot be a project; name a folder under it.".into());
    }
    if at.is_dir() {
        Ok(at)
    } else {
        Err(format!("`{shown}` is not a folder."))
    }
}
