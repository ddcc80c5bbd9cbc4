//! Edits of the configuration file from Discord (`/add-project`,
//! `/remove-project`). The file keeps its comments and layout (toml_edit);
//! the edited text is validated whole before it is written; it is written
//! atomically (a temporary file, fsync, rename), the previous file kept
//! beside it as `<name>.bak`.

mod root;

use super::{Config, ConfigError, ConfigSource};
use crate::domain::ChannelId;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

pub use root::resolve_in_root;

/// A change to the `[[projects]]` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectEdit {
    /// Maps `channel` to the folder `path`, relative to `projects_root`.
    Add {
        name: String,
        channel: ChannelId,
        path: String,
    },
    /// Unmaps the project of `channel`; its folder is left alone.
    Remove { channel: ChannelId },
}

/// Why an edit was not made. `Refused` carries text for the admin, which
/// names no host path; the others are logged under an error id.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    Refused(String),
    #[error("the edited file would not be valid:\n{0}")]
    Invalid(ConfigError),
    #[error("{0:#}")]
    Io(anyhow::Error),
}

/// An edit made: the file as now written, and the project concerned.
#[derive(Debug)]
pub struct Edited {
    pub config: Config,
    pub project: String,
    /// The folder mapped or unmapped, absolute.
    pub path: PathBuf,
}

/// Makes `edit` to the file `source` names, as `running` sees the
/// projects now. Nothing is written unless the whole result is valid.
pub fn edit_projects(
    source: &ConfigSource,
    running: &Config,
    edit: &ProjectEdit,
) -> Result<Edited, EditError> {
    let text = std::fs::read_to_string(&source.path)
        .map_err(|e| io(e, format!("cannot read {}", source.path.display())))?;
    let mut doc: DocumentMut = text.parse().map_err(|e| {
        EditError::Io(anyhow::anyhow!(
            "{} is not valid TOML any more: {e}",
            source.path.display()
        ))
    })?;
    let (project, path) = match edit {
        ProjectEdit::Add {
            name,
            channel,
            path,
        } => add(&mut doc, running, name, *channel, path)?,
        ProjectEdit::Remove { channel } => remove(&mut doc, running, *channel)?,
    };
    let edited = doc.to_string();
    let config = source.parse(&edited).map_err(EditError::Invalid)?;
    write_atomically(&source.path, &edited).map_err(EditError::Io)?;
    Ok(Edited {
        config,
        project,
        path,
    })
}

fn add(
    doc: &mut DocumentMut,
    running: &Config,
    name: &str,
    channel: ChannelId,
    relative: &str,
) -> Result<(String, PathBuf), EditError> {
    let refuse = |why: String| Err(EditError::Refused(why));
    let Some(root) = &running.discord.projects_root else {
        return refuse(NO_ROOT.into());
    };
    if !is_valid_name(name) {
        return refuse(format!(
            "`{}` cannot be a project name: use 1 to {MAX_NAME} letters, digits, `-`, `_` or `.`.",
            name.chars().take(MAX_NAME).collect::<String>()
        ));
    }
    if let Some(p) = running.project_for_channel(channel) {
        return refuse(format!("This channel is already mapped to **{}**.", p.name));
    }
    if running.project_named(name).is_some() {
        return refuse(format!(
            "A project named **{name}** exists already; pick another name."
        ));
    }
    let folder = resolve_in_root(root, relative).map_err(EditError::Refused)?;
    if let Some(p) = running.projects.iter().find(|p| p.path == folder) {
        return refuse(format!(
            "`{relative}` is already the folder of project **{}**.",
            p.name
        ));
    }
    let mut table = Table::new();
    table["name"] = value(name);
    table["channel_id"] = value(channel.to_string());
    table["path"] = value(folder.display().to_string());
    projects_mut(doc)?.push(table);
    Ok((name.to_string(), folder))
}

fn remove(
    doc: &mut DocumentMut,
    running: &Config,
    channel: ChannelId,
) -> Result<(String, PathBuf), EditError> {
    let Some(project) = running.project_for_channel(channel) else {
        return Err(EditError::Refused(
            "This channel is not mapped to a project; run it in the project's own channel.".into(),
        ));
    };
    let name = project.name.as_str();
    if running.projects.len() == 1 {
        return Err(EditError::Refused(format!(
            "**{name}** is the only project, and the bot needs at least one; add another before removing it."
        )));
    }
    let list = projects_mut(doc)?;
    let found = list
        .iter()
        .position(|t| t.get("name").and_then(Item::as_str) == Some(name));
    let Some(index) = found else {
        return Err(EditError::Refused(format!(
            "Project **{name}** is not in the configuration file any more (it was edited by hand); reload the daemon to apply that edit."
        )));
    };
    list.remove(index);
    Ok((name.to_string(), project.path.clone()))
}

/// The `[[projects]]` list; the file always has one, since a file without
/// projects does not load.
fn projects_mut(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables, EditError> {
    doc.get_mut("projects")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| {
            EditError::Io(anyhow::anyhow!(
                "the file's projects are not written as [[projects]] tables, so they cannot be edited"
            ))
        })
}

const MAX_NAME: usize = 64;

fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub const NO_ROOT: &str =
    "Adding projects from Discord is disabled: the operator has not set `[discord] projects_root`.";

fn io(e: std::io::Error, what: String) -> EditError {
    EditError::Io(anyhow::Error::new(e).context(what))
}

/// Replaces `path`'s content with `text` so that a crash leaves either the
/// old file or the new one: the new text goes to a temporary file in the
/// same folder, synced, then renamed over the old one; the old one is
/// first copied to `<name>.bak` (one backup, the previous version). A
/// symlinked file is written at its target.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let target = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let dir = target.parent().context("the file has no folder")?;
    let name = target
        .file_name()
        .context("the file has no name")?
        .to_string_lossy()
        .into_owned();
    let permissions = std::fs::metadata(&target)
        .with_context(|| format!("cannot read {}", target.display()))?
        .permissions();
    let backup = dir.join(format!("{name}.bak"));
    std::fs::copy(&target, &backup)
        .with_context(|| format!("cannot back up to {}", backup.display()))?;
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.set_permissions(permissions)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("cannot write {}", temp.display()));
    }
    std::fs::rename(&temp, &target).with_context(|| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot replace {}", target.display())
    })?;
    // The rename is durable once the folder is synced.
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
