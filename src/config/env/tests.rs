use super::*;
use std::collections::HashMap;

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn nothing_set_gives_the_documented_defaults() {
    let env = EnvSettings::from_lookup(|_| None);
    assert_eq!(env.discord_token, None);
    assert_eq!(env.discord_api_base, None);
    assert_eq!(env.config_path, PathBuf::from("./coordinator.toml"));
    assert_eq!(env.database_url, "sqlite:data/coordinator.db");
    assert_eq!(env.claude_bin, None);
    assert_eq!(env.log_level, "info");
    assert_eq!(env.rust_log, None);
    assert_eq!(env.log_dir, None);
}

#[test]
fn every_variable_is_read_into_its_field() {
    let env = EnvSettings::from_lookup(lookup(&[
        ("DISCORD_TOKEN", " tok.en \n"),
        ("DISCORD_API_BASE", "http://127.0.0.1:9/api"),
        ("COORDINATOR_CONFIG", "/etc/cc.toml"),
        ("DATABASE_URL", "sqlite::memory:"),
        ("CLAUDE_BIN", "/opt/claude"),
        ("LOG_LEVEL", "debug"),
        ("RUST_LOG", "warn"),
        ("LOG_DIR", "/var/log/cc"),
    ]));
    assert_eq!(
        env.discord_token.as_ref().map(|t| t.expose_secret()),
        Some("tok.en")
    );
    assert_eq!(
        env.discord_api_base.as_deref(),
        Some("http://127.0.0.1:9/api")
    );
    assert_eq!(env.config_path, PathBuf::from("/etc/cc.toml"));
    assert_eq!(env.database_url, "sqlite::memory:");
    assert_eq!(env.claude_bin.as_deref(), Some("/opt/claude"));
    assert_eq!(env.log_level, "debug");
    assert_eq!(env.rust_log.as_deref(), Some("warn"));
    assert_eq!(env.log_dir, Some(PathBuf::from("/var/log/cc")));
}

#[test]
fn empty_values_count_as_unset() {
    let env = EnvSettings::from_lookup(lookup(&[
        ("DISCORD_TOKEN", ""),
        ("LOG_LEVEL", "  "),
        ("CLAUDE_BIN", ""),
    ]));
    assert_eq!(env.discord_token, None);
    assert_eq!(env.log_level, "info");
    assert_eq!(env.claude_bin, None);
}

#[test]
fn debug_output_never_shows_the_token() {
    let env = EnvSettings::from_lookup(lookup(&[("DISCORD_TOKEN", "MTIzNDU2.abc.very-secret")]));
    let shown = format!("{env:?} {env:#?}");
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(!shown.contains("MTIzNDU2"), "{shown}");
    assert!(shown.contains("REDACTED"));
}

#[test]
fn a_missing_env_file_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load_dotenv(&dir.path().join(".env")).is_ok());
}

#[test]
fn a_malformed_env_file_names_the_file_line_and_variable_but_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let text = "# abc secret-part\nCC_TEST_GOOD=1\nDISCORD_TOKEN=abc secret-part\nnot a line\n";
    std::fs::write(&path, text).unwrap();
    let err = load_dotenv(&path).unwrap_err();
    let shown = err.to_string();
    assert_eq!(err.problems.len(), 2, "{shown}");
    assert!(
        shown.contains(&format!("{}: line 3: DISCORD_TOKEN:", path.display())),
        "{shown}"
    );
    assert!(shown.contains("line 4:"), "{shown}");
    assert!(!shown.contains("secret-part"), "{shown}");
    assert!(!shown.contains("abc"), "{shown}");
    assert!(
        std::env::var("CC_TEST_GOOD").is_err(),
        "a bad file must not be half-loaded"
    );
}

#[test]
fn a_valid_env_file_fills_unset_variables_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let text = "\u{feff}CC_CONFIG_TEST_FILLED=from-file\nexport CC_CONFIG_TEST_QUOTED=\"a b\"\nPATH=/nowhere\n";
    std::fs::write(&path, text).unwrap();
    load_dotenv(&path).unwrap();
    assert_eq!(
        std::env::var("CC_CONFIG_TEST_FILLED").as_deref(),
        Ok("from-file")
    );
    assert_eq!(std::env::var("CC_CONFIG_TEST_QUOTED").as_deref(), Ok("a b"));
    assert_ne!(std::env::var("PATH").as_deref(), Ok("/nowhere"));
}

#[test]
fn an_unclosed_quote_is_reported_at_the_line_where_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "CC_A=1\nCC_B=\"never closed\nCC_C=2\n").unwrap();
    let err = load_dotenv(&path).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    let shown = err.to_string();
    assert!(shown.contains("line 2: CC_B: cannot be parsed"), "{shown}");
    assert!(!shown.contains("never closed"), "{shown}");
}
