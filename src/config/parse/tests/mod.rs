//! Checks that files load into the right values and that every class of
//! mistake is reported with its place and key.

use super::super::{Config, ConfigError};
use std::path::PathBuf;
use tempfile::TempDir;

mod problems;
mod values;

pub(super) struct Fixture {
    pub dir: TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("web")).unwrap();
        std::fs::create_dir(dir.path().join("api")).unwrap();
        Self { dir }
    }

    pub fn source(&self) -> PathBuf {
        self.dir.path().join("coordinator.toml")
    }

    pub fn folder(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A valid project table for channel `channel` in folder `web`.
    pub fn project(&self, name: &str, channel: u64) -> String {
        self.project_at(name, channel, &self.folder("web"))
    }

    pub fn project_at(&self, name: &str, channel: u64, path: &str) -> String {
        format!("[[projects]]\nname = {name:?}\nchannel_id = \"{channel}\"\npath = {path:?}\n")
    }

    pub fn load(&self, text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(text, &self.source())
    }

    pub fn problems(&self, text: &str) -> Vec<String> {
        match self.load(text) {
            Ok(_) => panic!("expected problems in:\n{text}"),
            Err(e) => e.problems.iter().map(ToString::to_string).collect(),
        }
    }
}

pub(super) fn has(problems: &[String], needles: &[&str]) -> bool {
    problems
        .iter()
        .any(|p| needles.iter().all(|n| p.contains(n)))
}
