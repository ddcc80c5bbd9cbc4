use super::{Fixture, has};
use crate::config::Place;

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
        "[claude]\ntimeout_secs = 0\nmax_concurrent = 0\n[discord]\nmax_chunks = 0\nrequest_timeout_secs = 0\n\
         [sessions]\nqueue_size = 0\nidle_timeout_secs = -1\n{}timeout_secs = 0\n",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    for key in [
        "[claude]: timeout_secs",
        "max_concurrent",
        "max_chunks",
        "request_timeout_secs",
        "queue_size",
        "idle_timeout_secs",
        "(#1): timeout_secs",
    ] {
        assert!(
            has(&p, &[key, "must be a positive whole number"]),
            "{key}: {p:?}"
        );
    }
    assert_eq!(p.len(), 7, "{p:?}");
}

#[test]
fn unknown_permission_modes_and_triggers_list_the_valid_values() {
    let fx = Fixture::new();
    let text = format!(
        "[claude]\npermission_mode = \"yolo\"\n[discord]\ntrigger = \"always\"\n{}permission_mode = \"automatic\"\n",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(
        has(
            &p,
            &[
                "[claude]: permission_mode:",
                "`yolo`",
                "default, acceptEdits, auto, manual, plan, bypassPermissions, dontAsk"
            ]
        ),
        "{p:?}"
    );
    assert!(
        has(&p, &["(#1): permission_mode:", "`automatic`", "dontAsk"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["[discord]: trigger:", "`always`", "mention, all"]),
        "{p:?}"
    );
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

#[test]
fn a_system_prompt_too_long_for_the_command_line_is_a_problem() {
    let fx = Fixture::new();
    let long = "x".repeat(200 * 1024);
    let text = format!("{}system_prompt = \"{long}\"\n", fx.project("web", 1));
    let p = fx.problems(&text);
    assert!(
        has(
            &p,
            &[
                "(#1): system_prompt:",
                "204800 bytes",
                "command-line argument",
                "shorten"
            ]
        ),
        "{p:?}"
    );
    let fits = format!(
        "{}system_prompt = \"{}\"\n",
        fx.project("web", 1),
        "x".repeat(100 * 1024)
    );
    assert!(fx.load(&fits).is_ok());
}

#[test]
fn an_unknown_approvals_value_lists_the_valid_ones() {
    let fx = Fixture::new();
    let text = format!(
        "[claude]\napprovals = \"maybe\"\napproval_timeout_secs = 0\n{}",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(
        has(&p, &["approvals", "unknown value `maybe`", "discord, off"]),
        "{p:?}"
    );
    assert!(
        has(
            &p,
            &["approval_timeout_secs", "must be a positive whole number"]
        ),
        "{p:?}"
    );
}

#[test]
fn a_switch_that_is_not_true_or_false_is_named() {
    let fx = Fixture::new();
    let text = format!(
        "[discord]\nnotify_requester = \"yes\"\n[claude]\nwarm_secs = 0\n{}",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(
        has(&p, &["[discord]: notify_requester", "true or false"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["[claude]: warm_secs", "positive whole number"]),
        "{p:?}"
    );
    assert_eq!(p.len(), 2, "{p:?}");
}

#[test]
fn a_metrics_address_that_does_not_parse_is_named_with_an_example() {
    let fx = Fixture::new();
    let text = format!(
        "[metrics]\nlisten = \"localhost\"\nport = 1\n{}",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(
        has(
            &p,
            &[
                "[metrics]: listen",
                "`localhost` is not an address and port",
                "127.0.0.1:9464"
            ]
        ),
        "{p:?}"
    );
    assert!(has(&p, &["[metrics]", "port"]), "{p:?}");
    assert_eq!(p.len(), 2, "{p:?}");
}

#[test]
fn budgets_must_be_amounts_above_zero() {
    let fx = Fixture::new();
    let text = format!(
        "[budgets]\ndaily_budget_usd = 0\nuser_daily_budget_usd = \"5\"\nadmin_exempt = 1\n{}daily_budget_usd = -2.5\n",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(
        has(&p, &["[budgets]: daily_budget_usd", "above 0, not 0"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["user_daily_budget_usd", "an amount of US dollars"]),
        "{p:?}"
    );
    assert!(has(&p, &["admin_exempt", "true or false"]), "{p:?}");
    assert!(has(&p, &["(#1): daily_budget_usd", "not -2.5"]), "{p:?}");
    assert_eq!(p.len(), 4, "{p:?}");
}

#[test]
fn thread_worktrees_need_a_git_repository() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.dir.path().join("api/.git")).unwrap();
    let text = format!(
        "{}thread_worktrees = true\n{}thread_worktrees = true\n",
        fx.project("web", 1),
        fx.project_at("api", 2, &fx.folder("api"))
    );
    let p = fx.problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        has(
            &p,
            &["\"web\" (#1): thread_worktrees:", "needs a git repository"]
        ),
        "{p:?}"
    );
    let ok = format!(
        "{}thread_worktrees = true\n",
        fx.project_at("api", 2, &fx.folder("api"))
    );
    assert!(fx.load(&ok).unwrap().projects[0].thread_worktrees);
}

#[test]
fn thread_worktrees_need_the_top_folder_of_the_repository() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.dir.path().join("mono/.git")).unwrap();
    std::fs::create_dir_all(fx.dir.path().join("mono/app")).unwrap();
    let text = format!(
        "{}thread_worktrees = true\n",
        fx.project_at("app", 1, &fx.folder("mono/app"))
    );
    let p = fx.problems(&text);
    assert!(
        has(
            &p,
            &[
                "thread_worktrees:",
                "top folder of a git repository",
                "inside one"
            ]
        ),
        "{p:?}"
    );
}

#[test]
fn an_image_limit_above_what_claudes_api_takes_is_refused() {
    let fx = Fixture::new();
    let text = format!(
        "[discord]\nmax_image_bytes = 5242880\n{}",
        fx.project("web", 1)
    );
    let p = fx.problems(&text);
    assert!(
        has(
            &p,
            &[
                "[discord]: max_image_bytes:",
                "at most 3932160",
                "5 MiB once base64"
            ]
        ),
        "{p:?}"
    );
    let at_the_limit = format!(
        "[discord]\nmax_image_bytes = 3932160\n{}",
        fx.project("web", 1)
    );
    assert!(fx.load(&at_the_limit).is_ok());
}
