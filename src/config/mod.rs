//! Configuration: secrets and deployment knobs from the environment (`.env`),
//! the channel-to-project mapping and limits from `coordinator.toml`.
//! Loading reports every problem at once, each naming file, place and key.

mod budgets;
pub mod edit;
mod env;
mod error;
mod fields;
mod parse;
mod projects;
pub mod reload;
mod settings;
mod shared;
mod source;
mod warnings;

pub use budgets::{BudgetScope, BudgetUse};
pub use env::{DEFAULT_CONFIG_PATH, DEFAULT_DATABASE_URL, DEFAULT_LOG_LEVEL, EnvSettings};
pub use error::{ConfigError, ConfigProblem, Place};
pub use settings::{
    API_IMAGE_BYTES, Approvals, BudgetSettings, ClaudeSettings, Config, DiscordSettings,
    MetricsSettings, Project, SessionSettings, Trigger,
};
pub use shared::SharedConfig;
pub use source::ConfigSource;

use std::path::Path;

impl Config {
    /// Reads and validates the file. A missing file is one clear problem
    /// that says how to create it.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let message = match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "file not found; copy coordinator.example.toml to this path and edit it (or point COORDINATOR_CONFIG at your file)".to_string()
                }
                std::io::ErrorKind::InvalidData => "is not UTF-8 text".to_string(),
                _ => format!("cannot be read: {e}"),
            };
            ConfigProblem::new(path, Place::File, None, message)
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Loads the file the environment names, with the environment's
    /// overrides (`CLAUDE_BIN`) applied: what `run` and `check` use.
    pub fn load_for(env: &EnvSettings) -> Result<Config, ConfigError> {
        ConfigSource::from_env(env).load()
    }

    /// Validates `text` as if it were the file at `source`; relative project
    /// paths are resolved against `source`'s folder.
    pub fn from_toml_str(text: &str, source: &Path) -> Result<Config, ConfigError> {
        parse::parse(text, source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../coordinator.example.toml");

    /// Points each `path = ...` line of the example at its own temp folder.
    fn example_with_real_paths(root: &Path) -> String {
        let mut n = 0;
        EXAMPLE
            .lines()
            .map(|line| {
                if line.trim_start().starts_with("path =") {
                    n += 1;
                    let dir = root.join(format!("project{n}"));
                    std::fs::create_dir_all(&dir).expect("temp folder");
                    format!("path = {:?}", dir.display().to_string())
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_example_file_loads_once_its_project_paths_exist() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("coordinator.toml");
        std::fs::write(&file, example_with_real_paths(dir.path())).unwrap();
        let config = Config::load(&file).unwrap_or_else(|e| panic!("example is invalid:\n{e}"));
        assert!(!config.projects.is_empty());
        assert!(
            config
                .projects
                .iter()
                .all(|p| p.path.starts_with(dir.path().canonicalize().unwrap()))
        );
    }

    #[test]
    fn the_example_file_documents_every_known_key() {
        let all = parse::CLAUDE_KEYS
            .iter()
            .chain(&parse::DISCORD_KEYS)
            .chain(&parse::SESSION_KEYS)
            .chain(&parse::METRICS_KEYS)
            .chain(&parse::BUDGET_KEYS)
            .chain(&parse::PROJECT_KEYS);
        for key in all {
            let documented = EXAMPLE.lines().any(|l| {
                let l = l.trim_start_matches(['#', ' ']);
                l.starts_with(&format!("{key} =")) || l.starts_with(&format!("{key}="))
            });
            assert!(documented, "coordinator.example.toml does not show `{key}`");
        }
        for section in [
            "[claude]",
            "[discord]",
            "[sessions]",
            "[metrics]",
            "[budgets]",
            "[[projects]]",
        ] {
            assert!(EXAMPLE.contains(section), "example lacks {section}");
        }
    }

    #[test]
    fn a_missing_file_is_one_problem_naming_the_path_and_the_example() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nope.toml");
        let err = Config::load(&file).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        let text = err.to_string();
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains("coordinator.example.toml"), "{text}");
    }

    #[test]
    fn a_file_that_is_not_utf8_is_reported_not_panicked_on() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, [0xff, 0xfe, 0x00, 0x80]).unwrap();
        let err = Config::load(&file).unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }
}
