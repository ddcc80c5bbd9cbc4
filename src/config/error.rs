//! Configuration problems: each names the file, the place in it and the key,
//! and `ConfigError` carries every problem found so the operator can fix them
//! in one pass.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file a problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The file as a whole (missing, unreadable, no projects at all).
    File,
    /// Keys outside any section.
    TopLevel,
    /// A line (and column, when known), for syntax errors.
    Position { line: usize, column: Option<usize> },
    /// A table such as `[claude]`.
    Section(&'static str),
    /// One `[[projects]]` entry; `index` counts from 1 in file order.
    Project { index: usize, name: Option<String> },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File => Ok(()),
            Self::TopLevel => f.write_str("top level"),
            Self::Position { line, column: None } => write!(f, "line {line}"),
            Self::Position {
                line,
                column: Some(column),
            } => write!(f, "line {line}, column {column}"),
            Self::Section(name) => write!(f, "[{name}]"),
            Self::Project {
                index,
                name: Some(name),
            } => write!(f, "[[projects]] {name:?} (#{index})"),
            Self::Project { index, name: None } => write!(f, "[[projects]] #{index}"),
        }
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: PathBuf,
    pub place: Place,
    pub key: Option<String>,
    pub message: String,
}

impl ConfigProblem {
    pub fn new(file: &Path, place: Place, key: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            place,
            key: key.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        if self.place != Place::File {
            write!(f, "{}: ", self.place)?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found, one per line in Display.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", one_per_line(.problems))]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl ConfigError {
    pub fn single(problem: ConfigProblem) -> Self {
        Self {
            problems: vec![problem],
        }
    }
}

impl From<ConfigProblem> for ConfigError {
    fn from(problem: ConfigProblem) -> Self {
        Self::single(problem)
    }
}

fn one_per_line(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_problem_names_file_project_index_and_key() {
        let p = ConfigProblem::new(
            Path::new("coordinator.toml"),
            Place::Project {
                index: 2,
                name: Some("web".into()),
            },
            Some("path"),
            "/srv/web does not exist",
        );
        assert_eq!(
            p.to_string(),
            r#"coordinator.toml: [[projects]] "web" (#2): path: /srv/web does not exist"#
        );
    }

    #[test]
    fn file_level_problems_have_no_empty_separators() {
        let p = ConfigProblem::new(Path::new("c.toml"), Place::File, None, "not found");
        assert_eq!(p.to_string(), "c.toml: not found");
    }

    #[test]
    fn an_error_lists_each_problem_on_its_own_line() {
        let file = Path::new("c.toml");
        let err = ConfigError {
            problems: vec![
                ConfigProblem::new(file, Place::Section("claude"), Some("timeout_secs"), "a"),
                ConfigProblem::new(
                    file,
                    Place::Position {
                        line: 3,
                        column: Some(7),
                    },
                    None,
                    "b",
                ),
            ],
        };
        assert_eq!(
            err.to_string(),
            "c.toml: [claude]: timeout_secs: a\nc.toml: line 3, column 7: b"
        );
    }
}
