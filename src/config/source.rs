//! Where the configuration comes from: the file, and what the environment
//! overrides in it. `run` loads it at start and again on every reload.

use super::{Config, ConfigError, EnvSettings};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSource {
    pub path: PathBuf,
    /// `CLAUDE_BIN`, which wins over `[claude] binary`.
    pub claude_bin: Option<String>,
}

impl ConfigSource {
    /// The file alone, with no overrides.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            claude_bin: None,
        }
    }

    pub fn from_env(env: &EnvSettings) -> Self {
        Self {
            path: env.config_path.clone(),
            claude_bin: env.claude_bin.clone(),
        }
    }

    /// Reads and validates the file, then applies the overrides.
    pub fn load(&self) -> Result<Config, ConfigError> {
        Config::load(&self.path).map(|c| self.overridden(c))
    }

    /// Validates `text` as the file's next content, overrides applied.
    pub fn parse(&self, text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(text, &self.path).map(|c| self.overridden(c))
    }

    fn overridden(&self, mut config: Config) -> Config {
        if let Some(bin) = &self.claude_bin {
            config.claude.binary = bin.clone();
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_bin_from_the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[claude]\nbinary = \"/usr/bin/claude\"\n[discord]\nallowed_users = [1]\n[[projects]]\nname = \"web\"\nchannel_id = 2\npath = {:?}\n",
            dir.path().display().to_string()
        );
        let file = ConfigSource::file(dir.path().join("c.toml"));
        assert_eq!(file.parse(&text).unwrap().claude.binary, "/usr/bin/claude");
        let env = EnvSettings::from_lookup(|k| (k == "CLAUDE_BIN").then(|| "/opt/claude".into()));
        let overridden = ConfigSource {
            path: file.path.clone(),
            ..ConfigSource::from_env(&env)
        };
        assert_eq!(
            overridden.parse(&text).unwrap().claude.binary,
            "/opt/claude"
        );
    }
}
