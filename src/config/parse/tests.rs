use super::super::{Config, ConfigError, Place, Trigger};
use crate::domain::{ChannelId, GuildId, PermissionMode, RoleId, UserId};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("web")).unwrap();
        std::fs::create_dir(dir.path().join("api")).unwrap();
        Self { dir }
    }

    fn source(&self) -> PathBuf {
        self.dir.path().join("coordinator.toml")
    }

    fn folder(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A valid project table for channel `channel` in folder `web`.
    fn project(&self, name: &str, channel: u64) -> String {
        self.project_at(name, channel, &self.folder("web"))
    }

    fn project_at(&self, name: &str, channel: u64, path: &str) -> String {
        format!("[[projects]]\nname = {name:?}\nchannel_id = \"{channel}\"\npath = {path:?}\n")
    }

    fn load(&self, text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(text, &self.source())
    }

    fn problems(&self, text: &str) -> Vec<String> {
        match self.load(text) {
            Ok(_) => panic!("expected problems in:\n{text}"),
            Err(e) => e.problems.iter().map(ToString::to_string).collect(),
        }
    }
}

fn has(problems: &[String], needles: &[&str]) -> bool {
    problems
        .iter()
        .any(|p| needles.iter().all(|n| p.contains(n)))
}

#[test]
fn a_minimal_file_gets_every_default() {
    let fx = Fixture::new();
    let c = fx.load(&fx.project("web", 1)).unwrap();
    assert_eq!(c.claude, Default::default());
    assert_eq!(c.discord, Default::default());
    assert_eq!(c.sessions, Default::default());
    assert_eq!(c.claude.binary, "claude");
    assert_eq!(c.claude.timeout, Duration::from_secs(300));
    assert_eq!(c.claude.max_output_bytes, 16_777_216);
    assert_eq!(c.discord.trigger, Trigger::Mention);
    assert_eq!(c.discord.max_attachment_bytes, 1_048_576);
    assert_eq!(c.sessions.idle_timeout, Duration::from_secs(900));
    assert_eq!(c.source, fx.source());
}

#[test]
fn every_setting_is_read_into_its_typed_field() {
    let fx = Fixture::new();
    let text = format!(
        "[claude]\nbinary = \"/opt/claude\"\ntimeout_secs = 60\nmax_concurrent = 7\nmodel = \"opus\"\n\
         permission_mode = \"plan\"\nallowed_tools = [\"Read\"]\nmax_output_bytes = 99\n\
         [discord]\ntrigger = \"all\"\nallowed_users = [5]\nallowed_roles = [\"6\"]\nadmin_users = [\"7\"]\n\
         guild_id = 8\nmax_attachment_bytes = 0\nmax_chunks = 2\n\
         [sessions]\nqueue_size = 1\nidle_timeout_secs = 10\nshutdown_grace_secs = 0\n{}\
         model = \"haiku\"\nsystem_prompt = \"be brief\"\npermission_mode = \"dontAsk\"\n\
         allowed_tools = []\nallowed_users = [9]\nallowed_roles = [10]\ntimeout_secs = 30\n",
        fx.project("web", 1)
    );
    let c = fx.load(&text).unwrap();
    assert_eq!(c.claude.binary, "/opt/claude");
    assert_eq!(c.claude.max_concurrent, 7);
    assert_eq!(c.claude.permission_mode, Some(PermissionMode::Plan));
    assert_eq!(c.discord.trigger, Trigger::All);
    assert_eq!(c.discord.guild_id, Some(GuildId(8)));
    assert_eq!(c.discord.admin_users, vec![UserId(7)]);
    assert_eq!(c.sessions.shutdown_grace, Duration::ZERO);
    let p = &c.projects[0];
    assert_eq!(p.permission_mode, Some(PermissionMode::DontAsk));
    assert_eq!(p.allowed_tools, Some(vec![]));
    assert_eq!(p.allowed_roles, vec![RoleId(10)]);
    assert_eq!(p.timeout, Some(Duration::from_secs(30)));
    assert_eq!(p.system_prompt.as_deref(), Some("be brief"));
}

#[test]
fn malformed_toml_is_reported_with_line_and_column() {
    let fx = Fixture::new();
    let err = fx.load("[claude]\ntimeout_secs = = 3\n").unwrap_err();
    assert_eq!(err.problems.len(), 1);
    assert!(
        matches!(err.problems[0].place, Place::Position { line: 2, column: Some(c) } if c > 1),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{}: line 2, column", fx.source().display()))
    );
}

#[test]
fn unknown_keys_are_reported_in_every_section_with_typo_hints() {
    let fx = Fixture::new();
    let text = format!(
        "colour = 1\n[claude]\ntimout_secs = 5\n[discord]\ntriger = \"all\"\n\
         [sessions]\nqueue = 3\n{}sytem_prompt = \"x\"\n",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(has(&p, &["top level: colour: unknown key"]), "{p:?}");
    assert!(
        has(
            &p,
            &["[claude]: timout_secs:", "did you mean `timeout_secs`"]
        ),
        "{p:?}"
    );
    assert!(has(&p, &["[discord]: triger:", "`trigger`"]), "{p:?}");
    assert!(has(&p, &["[sessions]: queue: unknown key"]), "{p:?}");
    assert!(
        has(&p, &["\"web\" (#1): sytem_prompt:", "`system_prompt`"]),
        "{p:?}"
    );
    assert_eq!(p.len(), 5, "{p:?}");
}

#[test]
fn a_token_pasted_into_the_file_is_never_echoed() {
    let fx = Fixture::new();
    let text = format!(
        "[discord]\ndiscord_token = \"MTIz.secret.value\"\n{}",
        fx.project("w", 1)
    );
    let err = fx.load(&text).unwrap_err().to_string();
    assert!(err.contains("DISCORD_TOKEN"), "{err}");
    assert!(!err.contains("secret"), "{err}");
}

#[test]
fn wrong_types_name_the_key_and_the_type_found() {
    let fx = Fixture::new();
    let text = format!(
        "claude = 3\n[discord]\nallowed_users = \"1\"\nmax_chunks = 1.5\n{}model = 4\nallowed_tools = [\"Read\", 2]\n",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(
        has(&p, &["top level: claude: must be a table", "integer"]),
        "{p:?}"
    );
    assert!(
        has(
            &p,
            &["[discord]: allowed_users: must be a list", "found string"]
        ),
        "{p:?}"
    );
    assert!(
        has(
            &p,
            &["[discord]: max_chunks: must be a whole number, found float"]
        ),
        "{p:?}"
    );
    assert!(
        has(&p, &["(#1): model: must be a string, found integer"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["(#1): allowed_tools: item 2 must be a string"]),
        "{p:?}"
    );
}

#[test]
fn a_string_where_a_number_belongs_is_a_type_problem() {
    let fx = Fixture::new();
    let text = format!("[claude]\ntimeout_secs = \"x\"\n{}", fx.project("web", 1));
    let p = fx.problems(&text);
    assert_eq!(
        p,
        [format!(
            "{}: [claude]: timeout_secs: must be a whole number, found string",
            fx.source().display()
        )]
    );
}

#[test]
fn zero_limits_and_timeouts_are_rejected() {
    let fx = Fixture::new();
    let text = format!(
        "[claude]\ntimeout_secs = 0\nmax_concurrent = 0\n[discord]\nmax_chunks = 0\n\
         [sessions]\nqueue_size = 0\nidle_timeout_secs = -1\n{}timeout_secs = 0\n",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    for key in [
        "[claude]: timeout_secs",
        "max_concurrent",
        "max_chunks",
        "queue_size",
        "idle_timeout_secs",
        "(#1): timeout_secs",
    ] {
        assert!(
            has(&p, &[key, "must be a positive whole number"]),
            "{key}: {p:?}"
        );
    }
    assert_eq!(p.len(), 6, "{p:?}");
}

#[test]
fn unknown_permission_modes_and_triggers_list_the_valid_values() {
    let fx = Fixture::new();
    let text = format!(
        "[claude]\npermission_mode = \"yolo\"\n[discord]\ntrigger = \"always\"\n{}permission_mode = \"auto\"\n",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(
        has(
            &p,
            &[
                "[claude]: permission_mode:",
                "`yolo`",
                "acceptEdits, plan, bypassPermissions"
            ]
        ),
        "{p:?}"
    );
    assert!(
        has(&p, &["(#1): permission_mode:", "`auto`", "dontAsk"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["[discord]: trigger:", "`always`", "mention, all"]),
        "{p:?}"
    );
}

#[test]
fn snowflakes_may_be_strings_or_integers() {
    let fx = Fixture::new();
    let text = format!(
        "[discord]\nallowed_users = [\"123456789012345678\", 223456789012345678]\nguild_id = \"42\"\n{}{}",
        fx.project("a", 1),
        fx.project("b", 1).replace("\"1\"", "987654321098765432")
    );
    let c = fx.load(&text).unwrap();
    assert_eq!(
        c.discord.allowed_users,
        vec![UserId(123456789012345678), UserId(223456789012345678)]
    );
    assert_eq!(c.discord.guild_id, Some(GuildId(42)));
    assert_eq!(c.projects[1].channel_id, ChannelId(987654321098765432));
}

#[test]
fn invalid_snowflakes_are_reported_per_item() {
    let fx = Fixture::new();
    let text = format!(
        "[discord]\nallowed_users = [1, \"abc\", 0]\nguild_id = -3\n{}",
        fx.project("web", 1).replace("\"1\"", "\"12x\"")
    );
    let p = fx.problems(&text);
    assert!(
        has(&p, &["allowed_users: item 2:", "`abc` is not a Discord id"]),
        "{p:?}"
    );
    assert!(has(&p, &["allowed_users: item 3:", "`0`"]), "{p:?}");
    assert!(has(&p, &["guild_id:", "`-3`"]), "{p:?}");
    assert!(has(&p, &["\"web\" (#1): channel_id:", "`12x`"]), "{p:?}");
}

#[test]
fn duplicate_names_and_channels_point_at_the_earlier_project() {
    let fx = Fixture::new();
    let text = format!(
        "{}{}{}",
        fx.project("web", 1),
        fx.project("api", 1),
        fx.project("web", 2)
    );
    let p = fx.problems(&text);
    assert!(
        has(
            &p,
            &["\"api\" (#2): channel_id: channel 1 is already mapped to project \"web\" (#1)"]
        ),
        "{p:?}"
    );
    assert!(has(&p, &["\"web\" (#3): name:", "project #1"]), "{p:?}");
    assert_eq!(p.len(), 2, "{p:?}");
}

#[test]
fn missing_paths_and_files_that_are_not_folders_are_reported() {
    let fx = Fixture::new();
    std::fs::write(fx.dir.path().join("file.txt"), "x").unwrap();
    let text = format!(
        "{}{}{}",
        fx.project_at("a", 1, &fx.folder("gone")),
        fx.project_at("b", 2, &fx.folder("file.txt")),
        fx.project_at("c", 3, "~/code")
    );
    let p = fx.problems(&text);
    assert!(
        has(&p, &["\"a\" (#1): path:", "gone does not exist"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["\"b\" (#2): path:", "file.txt is not a folder"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["\"c\" (#3): path:", "~ is not expanded"]),
        "{p:?}"
    );
}

#[test]
fn relative_paths_are_resolved_against_the_config_folder() {
    let fx = Fixture::new();
    let nested = fx.dir.path().join("etc");
    std::fs::create_dir(&nested).unwrap();
    let text = "[[projects]]\nname = \"api\"\nchannel_id = 1\npath = \"../api\"\n";
    let c = Config::from_toml_str(text, &nested.join("coordinator.toml")).unwrap();
    assert_eq!(
        c.projects[0].path,
        fx.dir.path().join("api").canonicalize().unwrap()
    );
    assert!(c.projects[0].path.is_absolute());
}

#[test]
fn a_relative_config_path_still_yields_absolute_project_paths() {
    let text = "[[projects]]\nname = \"here\"\nchannel_id = 1\npath = \".\"\n";
    let c = Config::from_toml_str(text, Path::new("coordinator.toml")).unwrap();
    assert_eq!(
        c.projects[0].path,
        std::env::current_dir().unwrap().canonicalize().unwrap()
    );
}

#[test]
fn zero_projects_is_a_problem_however_it_is_written() {
    let fx = Fixture::new();
    for text in ["", "projects = []", "[projects]\nname = \"x\""] {
        let p = fx.problems(text);
        assert_eq!(p.len(), 1, "{text}: {p:?}");
        assert!(p[0].contains("[[projects]]"), "{p:?}");
    }
}

#[test]
fn required_project_keys_are_named_and_other_keys_still_checked() {
    let fx = Fixture::new();
    let p = fx.problems("[[projects]]\nmodel = 3\n");
    assert!(has(&p, &["[[projects]] #1: name: is required"]), "{p:?}");
    assert!(has(&p, &["#1: channel_id: is required"]), "{p:?}");
    assert!(has(&p, &["#1: path: is required"]), "{p:?}");
    assert!(has(&p, &["#1: model: must be a string"]), "{p:?}");
}

#[test]
fn every_problem_in_every_project_is_reported_together() {
    let fx = Fixture::new();
    let text = format!(
        "[claude]\nmax_concurrent = 0\n[discord]\ntrigger = \"x\"\n{}permission_mode = \"nope\"\n{}timeout_secs = \"soon\"\n{}",
        fx.project_at("web", 1, &fx.folder("missing")),
        fx.project("api", 2),
        fx.project("web", 2)
    );
    let p = fx.problems(&text);
    assert!(has(&p, &["[claude]: max_concurrent"]), "{p:?}");
    assert!(has(&p, &["[discord]: trigger"]), "{p:?}");
    assert!(has(&p, &["\"web\" (#1): permission_mode"]), "{p:?}");
    assert!(has(&p, &["\"api\" (#2): timeout_secs"]), "{p:?}");
    assert!(
        has(&p, &["\"web\" (#3): channel_id", "\"api\" (#2)"]),
        "{p:?}"
    );
    assert!(has(&p, &["\"web\" (#3): name", "project #1"]), "{p:?}");
    assert!(has(&p, &["\"web\" (#1): path", "does not exist"]), "{p:?}");
    assert_eq!(p.len(), 7, "{p:?}");
    let shown = fx.load(&text).unwrap_err().to_string();
    assert_eq!(shown.lines().count(), 7);
}

proptest::proptest! {
    #[test]
    fn no_input_makes_loading_panic(text in "\\PC{0,200}") {
        let _ = Config::from_toml_str(&text, Path::new("c.toml"));
    }

    #[test]
    fn no_value_in_a_known_key_makes_loading_panic(
        key in proptest::sample::select(&super::PROJECT_KEYS[..]),
        value in "(-?[0-9]{1,25}|\"[^\"\\\\]{0,10}\"|\\[[0-9, ]{0,10}\\]|true|1\\.5)",
    ) {
        let text = format!("[claude]\n[[projects]]\n{key} = {value}\n");
        let _ = Config::from_toml_str(&text, Path::new("c.toml"));
    }
}
