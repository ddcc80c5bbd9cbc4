use super::*;
use std::fs;

/// A config folder with a projects root holding `web` (mapped) and `api`.
struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    source: ConfigSource,
}

const HEAD: &str = "# The team's bot.\n[discord]\nallowed_users = [1] # Ada\n";

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("projects");
    let outside = base.join("elsewhere");
    for d in [root.join("web"), root.join("api"), outside.clone()] {
        fs::create_dir_all(d).unwrap();
    }
    let file = base.join("coordinator.toml");
    let text = format!(
        "{HEAD}projects_root = {:?}\n\n# Web comes first.\n[[projects]]\nname = \"web\"\nchannel_id = \"10\"\npath = {:?} # the site\n",
        root.display().to_string(),
        root.join("web").display().to_string()
    );
    fs::write(&file, text).unwrap();
    Setup {
        _dir: dir,
        root,
        outside,
        source: ConfigSource::file(file),
    }
}

impl Setup {
    fn running(&self) -> Config {
        self.source.load().unwrap()
    }

    fn text(&self) -> String {
        fs::read_to_string(&self.source.path).unwrap()
    }

    fn add(&self, name: &str, path: &str) -> Result<Edited, EditError> {
        let edit = ProjectEdit::Add {
            name: name.into(),
            channel: ChannelId(20),
            path: path.into(),
        };
        edit_projects(&self.source, &self.running(), &edit)
    }

    fn refused(&self, name: &str, path: &str) -> String {
        let before = self.text();
        let why = match self.add(name, path) {
            Err(EditError::Refused(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(self.text(), before, "a refused edit writes nothing");
        assert!(
            !why.contains(self.root.to_str().unwrap()),
            "a host path reached the admin: {why}"
        );
        why
    }
}

#[test]
fn an_added_project_keeps_the_files_comments_and_writes_the_resolved_path() {
    let s = setup();
    let before = s.text();
    let edited = s.add("api", "./api/").unwrap();
    let after = s.text();
    assert!(
        after.starts_with(&before),
        "the old text stays as it was:\n{after}"
    );
    for kept in [
        "# The team's bot.",
        "# Ada",
        "# Web comes first.",
        "# the site",
    ] {
        assert!(after.contains(kept), "lost {kept:?}:\n{after}");
    }
    let api = edited.config.project_named("api").unwrap();
    assert_eq!(api.path, s.root.join("api"));
    assert_eq!(api.channel_id, ChannelId(20));
    assert!(after.contains(&format!(
        "path = {:?}",
        s.root.join("api").display().to_string()
    )));
    assert_eq!(
        s.running(),
        edited.config,
        "the file loads as the edit says"
    );
    let backup = s.source.path.with_file_name("coordinator.toml.bak");
    assert_eq!(fs::read_to_string(backup).unwrap(), before);
}

#[test]
fn each_edit_keeps_one_backup_of_the_file_before_it() {
    let s = setup();
    s.add("api", "api").unwrap();
    let between = s.text();
    let remove = ProjectEdit::Remove {
        channel: ChannelId(20),
    };
    edit_projects(&s.source, &s.running(), &remove).unwrap();
    let backup = s.source.path.with_file_name("coordinator.toml.bak");
    assert_eq!(fs::read_to_string(backup).unwrap(), between);
    let dir = s.source.path.parent().unwrap();
    let names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn a_removed_project_leaves_the_others_and_the_comments() {
    let s = setup();
    s.add("api", "api").unwrap();
    let remove = ProjectEdit::Remove {
        channel: ChannelId(20),
    };
    let edited = edit_projects(&s.source, &s.running(), &remove).unwrap();
    assert_eq!(edited.project, "api");
    assert!(edited.config.project_named("api").is_none());
    assert!(edited.config.project_named("web").is_some());
    let text = s.text();
    assert!(
        text.contains("# Web comes first.") && !text.contains("\"api\""),
        "{text}"
    );
    assert!(s.root.join("api").is_dir(), "the folder is left alone");
}

#[test]
fn removing_the_last_project_is_refused() {
    let s = setup();
    let remove = ProjectEdit::Remove {
        channel: ChannelId(10),
    };
    match edit_projects(&s.source, &s.running(), &remove) {
        Err(EditError::Refused(why)) => assert!(why.contains("only project"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_edit_that_would_leave_the_file_invalid_writes_nothing() {
    let s = setup();
    let running = s.running();
    // A hand edit, not yet reloaded, broke the file.
    let broken = s.text().replace(
        "[discord]",
        "[discord]
max_chunks = 0",
    );
    fs::write(&s.source.path, &broken).unwrap();
    let edit = ProjectEdit::Add {
        name: "api".into(),
        channel: ChannelId(20),
        path: "api".into(),
    };
    match edit_projects(&s.source, &running, &edit) {
        Err(EditError::Invalid(e)) => assert!(e.to_string().contains("max_chunks"), "{e}"),
        other => panic!("expected an invalid result, got {other:?}"),
    }
    assert_eq!(s.text(), broken);
    assert!(
        !s.source
            .path
            .with_file_name("coordinator.toml.bak")
            .exists()
    );
}

#[test]
fn a_path_outside_the_root_is_refused() {
    let s = setup();
    assert!(
        s.refused("x", "../elsewhere")
            .contains("outside the projects root")
    );
    assert!(
        s.refused("x", "api/../..")
            .contains("outside the projects root")
    );
    let absolute = s.outside.display().to_string();
    assert!(
        s.refused("x", &absolute)
            .contains("relative to the projects root")
    );
}

#[test]
fn a_symlink_out_of_the_root_is_refused_and_one_within_it_followed() {
    let s = setup();
    std::os::unix::fs::symlink(&s.outside, s.root.join("escape")).unwrap();
    assert!(s.refused("x", "escape").contains("symlink that leads out"));
    std::os::unix::fs::symlink(s.root.join("api"), s.root.join("alias")).unwrap();
    let edited = s.add("api", "alias").unwrap();
    assert_eq!(edited.path, s.root.join("api"));
}

#[test]
fn names_folders_and_channels_already_taken_are_refused() {
    let s = setup();
    assert!(s.refused("web", "api").contains("exists already"));
    assert!(
        s.refused("x", "web")
            .contains("already the folder of project **web**")
    );
    let edit = ProjectEdit::Add {
        name: "api".into(),
        channel: ChannelId(10),
        path: "api".into(),
    };
    match edit_projects(&s.source, &s.running(), &edit) {
        Err(EditError::Refused(why)) => assert!(why.contains("already mapped"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_files_and_odd_names_are_refused() {
    let s = setup();
    fs::write(s.root.join("notes.txt"), "x").unwrap();
    assert!(s.refused("x", "nope").contains("does not exist"));
    assert!(s.refused("x", "notes.txt").contains("not a folder"));
    assert!(s.refused("x", ".").contains("root itself"));
    assert!(s.refused("x", " ").contains("Give the project's folder"));
    assert!(s.refused("a b", "api").contains("cannot be a project name"));
    assert!(s.refused("", "api").contains("cannot be a project name"));
}

#[test]
fn without_a_projects_root_adding_is_disabled() {
    let s = setup();
    let text = s.text().replace("projects_root", "# projects_root");
    fs::write(&s.source.path, text).unwrap();
    assert_eq!(s.refused("api", "api"), NO_ROOT);
}

#[test]
fn a_symlinked_file_is_written_at_its_target() {
    let s = setup();
    let link = s.source.path.with_file_name("link.toml");
    std::os::unix::fs::symlink(&s.source.path, &link).unwrap();
    write_atomically(&link, "# new\n").unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(s.text(), "# new\n");
}
