//! Reads typed values out of one TOML table, recording a problem (with the
//! key) for every wrong value instead of stopping, so one mistake never hides
//! another.

use super::error::{ConfigProblem, Place};
use super::settings::Approvals;
use crate::domain::{InvalidSnowflake, PermissionMode};
use std::path::Path;
use std::str::FromStr;
use toml::{Table, Value};

pub(super) struct Fields<'a> {
    table: &'a Table,
    file: &'a Path,
    place: Place,
    problems: &'a mut Vec<ConfigProblem>,
}

impl<'a> Fields<'a> {
    pub fn new(
        table: &'a Table,
        file: &'a Path,
        place: Place,
        problems: &'a mut Vec<ConfigProblem>,
    ) -> Self {
        Self {
            table,
            file,
            place,
            problems,
        }
    }

    pub fn problem(&mut self, key: &str, message: impl Into<String>) {
        let p = ConfigProblem::new(self.file, self.place.clone(), Some(key), message);
        self.problems.push(p);
    }

    /// Reports every key not in `known`, suggesting the nearest one for typos.
    /// Values are never echoed: a token pasted into the wrong place stays out
    /// of the error.
    pub fn reject_unknown_keys(&mut self, known: &[&str]) {
        let unknown: Vec<&String> = self
            .table
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .collect();
        for key in unknown {
            let message = match closest(key, known) {
                Some(near) => format!("unknown key (did you mean `{near}`?)"),
                None if key.to_ascii_lowercase().contains("token") => {
                    "unknown key; the bot token belongs in the DISCORD_TOKEN environment variable, never in this file".to_string()
                }
                None => format!("unknown key (known keys: {})", known.join(", ")),
            };
            self.problem(key, message);
        }
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        match self.table.get(key)? {
            Value::String(s) if s.trim().is_empty() => {
                self.problem(key, "must not be empty");
                None
            }
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong_type(key, "a string", other);
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.table.get(key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.wrong_type(key, "true or false", other);
                None
            }
        }
    }

    pub fn required_string(&mut self, key: &str) -> Option<String> {
        if !self.table.contains_key(key) {
            self.problem(key, "is required");
            return None;
        }
        self.string(key)
    }

    /// A whole number of at least `min`; absent means `default`.
    pub fn number(&mut self, key: &str, min: u64, default: u64) -> u64 {
        self.optional_number(key, min).unwrap_or(default)
    }

    pub fn optional_number(&mut self, key: &str, min: u64) -> Option<u64> {
        match self.table.get(key)? {
            Value::Integer(n) => match u64::try_from(*n) {
                Ok(n) if n >= min => Some(n),
                _ if min == 1 => {
                    self.problem(key, format!("must be a positive whole number, not {n}"));
                    None
                }
                _ => {
                    self.problem(key, format!("must be a whole number ≥ {min}, not {n}"));
                    None
                }
            },
            other => {
                self.wrong_type(key, "a whole number", other);
                None
            }
        }
    }

    /// An amount of US dollars above 0 (a float or a whole number).
    pub fn dollars(&mut self, key: &str) -> Option<f64> {
        let amount = match self.table.get(key)? {
            Value::Float(x) => *x,
            Value::Integer(n) => *n as f64,
            other => {
                self.wrong_type(key, "an amount of US dollars", other);
                return None;
            }
        };
        if amount.is_finite() && amount > 0.0 {
            return Some(amount);
        }
        self.problem(
            key,
            format!("must be an amount of US dollars above 0, not {amount}"),
        );
        None
    }

    pub fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        let items = self.array(key)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) if !s.trim().is_empty() => out.push(s.clone()),
                Value::String(_) => self.problem(key, format!("item {} is empty", i + 1)),
                other => self.problem(
                    key,
                    format!(
                        "item {} must be a string, found {}",
                        i + 1,
                        other.type_str()
                    ),
                ),
            }
        }
        Some(out)
    }

    /// A Discord id written as a string or an integer.
    pub fn id<T: FromStr<Err = InvalidSnowflake>>(&mut self, key: &str) -> Option<T> {
        let value = self.table.get(key)?;
        match parse_id(value) {
            Ok(id) => Some(id),
            Err(message) => {
                self.problem(key, message);
                None
            }
        }
    }

    pub fn ids<T: FromStr<Err = InvalidSnowflake>>(&mut self, key: &str) -> Vec<T> {
        let Some(items) = self.array(key) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match parse_id(item) {
                Ok(id) => out.push(id),
                Err(message) => self.problem(key, format!("item {}: {message}", i + 1)),
            }
        }
        out
    }

    pub fn approvals(&mut self, key: &str) -> Option<Approvals> {
        let text = self.string(key)?;
        let parsed = Approvals::parse(&text);
        if parsed.is_none() {
            let names = Approvals::NAMES.join(", ");
            self.problem(
                key,
                format!("unknown value `{text}` (expected one of: {names})"),
            );
        }
        parsed
    }

    pub fn permission_mode(&mut self, key: &str) -> Option<PermissionMode> {
        let text = self.string(key)?;
        match text.parse() {
            Ok(mode) => Some(mode),
            Err(message) => {
                self.problem(key, message);
                None
            }
        }
    }

    fn array(&mut self, key: &str) -> Option<&'a Vec<Value>> {
        match self.table.get(key)? {
            Value::Array(items) => Some(items),
            other => {
                self.wrong_type(key, "a list such as [\"a\", \"b\"]", other);
                None
            }
        }
    }

    fn wrong_type(&mut self, key: &str, expected: &str, found: &Value) {
        let message = format!("must be {expected}, found {}", found.type_str());
        self.problem(key, message);
    }
}

fn parse_id<T: FromStr<Err = InvalidSnowflake>>(value: &Value) -> Result<T, String> {
    match value {
        Value::String(s) => s.parse().map_err(|e: InvalidSnowflake| e.to_string()),
        Value::Integer(n) => n
            .to_string()
            .parse()
            .map_err(|e: InvalidSnowflake| e.to_string()),
        other => Err(format!(
            "must be a Discord id (string or integer), found {}",
            other.type_str()
        )),
    }
}

/// The known key within edit distance 2 of `key`, if it is clearly a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len() / 2 + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            row[j + 1] = substitute.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_the_nearest_known_key() {
        let known = ["timeout_secs", "model", "binary"];
        assert_eq!(closest("timout_secs", &known), Some("timeout_secs"));
        assert_eq!(closest("modle", &known), Some("model"));
        assert_eq!(closest("colour", &known), None);
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
