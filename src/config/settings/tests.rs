use super::*;

fn project(name: &str, channel: u64) -> Project {
    Project {
        name: ProjectName::new(name),
        channel_id: ChannelId(channel),
        path: PathBuf::from(format!("/srv/{name}")),
        model: None,
        system_prompt: None,
        permission_mode: None,
        allowed_tools: None,
        allowed_users: Vec::new(),
        allowed_roles: Vec::new(),
        timeout: None,
        approvals: None,
        approval_timeout: None,
        daily_budget_usd: None,
        user_daily_budget_usd: None,
        thread_worktrees: false,
    }
}

fn config(projects: Vec<Project>) -> Config {
    Config {
        source: PathBuf::from("coordinator.toml"),
        claude: ClaudeSettings::default(),
        discord: DiscordSettings::default(),
        sessions: SessionSettings::default(),
        metrics: Default::default(),
        budgets: Default::default(),
        projects,
    }
}

#[test]
fn projects_fall_back_to_global_claude_values() {
    let claude = ClaudeSettings {
        model: Some("sonnet".into()),
        permission_mode: Some(PermissionMode::AcceptEdits),
        allowed_tools: vec!["Read".into()],
        ..ClaudeSettings::default()
    };
    let p = project("web", 1);
    assert_eq!(p.effective_model(&claude), Some("sonnet"));
    assert_eq!(p.effective_timeout(&claude), Duration::from_secs(300));
    assert_eq!(
        p.effective_permission_mode(&claude),
        Some(PermissionMode::AcceptEdits)
    );
    assert_eq!(p.effective_allowed_tools(&claude), ["Read".to_string()]);
}

#[test]
fn per_project_values_win_over_global_ones() {
    let claude = ClaudeSettings {
        model: Some("sonnet".into()),
        allowed_tools: vec!["Read".into(), "Edit".into()],
        ..ClaudeSettings::default()
    };
    let p = Project {
        model: Some("opus".into()),
        timeout: Some(Duration::from_secs(42)),
        permission_mode: Some(PermissionMode::Plan),
        allowed_tools: Some(vec![]),
        ..project("web", 1)
    };
    assert_eq!(p.effective_model(&claude), Some("opus"));
    assert_eq!(p.effective_timeout(&claude), Duration::from_secs(42));
    assert_eq!(
        p.effective_permission_mode(&claude),
        Some(PermissionMode::Plan)
    );
    assert!(p.effective_allowed_tools(&claude).is_empty());
}

#[test]
fn nobody_is_allowed_by_default() {
    let d = DiscordSettings::default();
    let p = project("web", 1);
    assert!(!p.is_user_allowed(&d, UserId(7), &[RoleId(8)]));
    assert!(!p.admits_anyone(&d));
}

#[test]
fn a_globally_listed_user_is_allowed_everywhere_and_others_are_not() {
    let d = DiscordSettings {
        allowed_users: vec![UserId(7)],
        ..DiscordSettings::default()
    };
    assert!(project("web", 1).is_user_allowed(&d, UserId(7), &[]));
    assert!(project("api", 2).is_user_allowed(&d, UserId(7), &[]));
    assert!(!project("web", 1).is_user_allowed(&d, UserId(8), &[]));
}

#[test]
fn holding_a_listed_role_is_enough() {
    let d = DiscordSettings {
        allowed_roles: vec![RoleId(50)],
        ..DiscordSettings::default()
    };
    let p = project("web", 1);
    assert!(p.is_user_allowed(&d, UserId(9), &[RoleId(3), RoleId(50)]));
    assert!(!p.is_user_allowed(&d, UserId(9), &[RoleId(3)]));
}

#[test]
fn per_project_users_and_roles_only_open_that_project() {
    let d = DiscordSettings::default();
    let web = Project {
        allowed_users: vec![UserId(7)],
        allowed_roles: vec![RoleId(50)],
        ..project("web", 1)
    };
    let api = project("api", 2);
    assert!(web.is_user_allowed(&d, UserId(7), &[]));
    assert!(web.is_user_allowed(&d, UserId(8), &[RoleId(50)]));
    assert!(!api.is_user_allowed(&d, UserId(7), &[RoleId(50)]));
}

#[test]
fn only_listed_admins_are_admins() {
    let d = DiscordSettings {
        admin_users: vec![UserId(1)],
        allowed_users: vec![UserId(2)],
        ..DiscordSettings::default()
    };
    assert!(d.is_admin(UserId(1)));
    assert!(!d.is_admin(UserId(2)));
}

#[test]
fn channels_map_to_their_project_and_nothing_else() {
    let c = config(vec![project("web", 1), project("api", 2)]);
    assert_eq!(
        c.project_for_channel(ChannelId(2)).map(|p| p.name.as_str()),
        Some("api")
    );
    assert!(c.project_for_channel(ChannelId(3)).is_none());
    assert_eq!(
        c.project_named("web").map(|p| p.channel_id),
        Some(ChannelId(1))
    );
}

#[test]
fn an_unreachable_bot_is_warned_about_once() {
    let w = config(vec![project("web", 1), project("api", 2)]).warnings();
    let hits = w
        .iter()
        .filter(|w| w.contains("nobody can run Claude"))
        .count();
    assert_eq!(hits, 1, "{w:?}");
    assert!(w[0].contains("allowed_users and allowed_roles are empty everywhere"));
}

#[test]
fn a_project_nobody_can_use_is_named_in_a_warning() {
    let open = Project {
        allowed_users: vec![UserId(7)],
        ..project("web", 1)
    };
    let mut c = config(vec![open, project("api", 2)]);
    c.discord.admin_users = vec![UserId(7)];
    assert_eq!(
        c.warnings(),
        [
            "project \"api\": nobody can run Claude here: no allowed_users or allowed_roles apply to it"
        ]
    );
}

#[test]
fn risky_but_valid_choices_are_warned_about() {
    let mut c = config(vec![project("web", 1), project("api", 2)]);
    c.projects[1].path = c.projects[0].path.clone();
    c.claude.permission_mode = Some(PermissionMode::BypassPermissions);
    let w = c.warnings_as(false);
    assert!(w.iter().any(|w| w.contains("no admin_users")), "{w:?}");
    assert_eq!(
        w.iter().filter(|w| w.contains("bypassPermissions")).count(),
        2,
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("web, api share the folder /srv/web")),
        "{w:?}"
    );
}

#[test]
fn bypass_permissions_as_root_is_warned_to_fail_every_run() {
    let mut c = config(vec![project("web", 1)]);
    c.projects[0].permission_mode = Some(PermissionMode::BypassPermissions);
    let as_root = c.warnings_as(true);
    assert!(
        as_root
            .iter()
            .any(|w| w.contains("\"web\"") && w.contains("fails every run") && w.contains("root")),
        "{as_root:?}"
    );
    let as_user = c.warnings_as(false);
    assert!(!as_user.iter().any(|w| w.contains("root")), "{as_user:?}");
}

#[test]
fn approvals_and_their_timeout_come_from_the_project_else_the_globals() {
    let claude = ClaudeSettings::default();
    let mut p = project("web", 1);
    assert_eq!(p.effective_approvals(&claude), Approvals::Discord);
    assert_eq!(
        p.effective_approval_timeout(&claude),
        Duration::from_secs(600)
    );
    p.approvals = Some(Approvals::Off);
    p.approval_timeout = Some(Duration::from_secs(30));
    assert_eq!(p.effective_approvals(&claude), Approvals::Off);
    assert_eq!(
        p.effective_approval_timeout(&claude),
        Duration::from_secs(30)
    );
}

#[test]
fn a_metrics_address_anyone_can_reach_is_warned_about_and_loopback_is_not() {
    let mut c = config(vec![project("web", 1)]);
    let about_metrics = |c: &Config| {
        c.warnings_as(false)
            .into_iter()
            .filter(|w| w.contains("[metrics] listen"))
            .count()
    };
    for quiet in ["127.0.0.1:9464", "[::1]:9464"] {
        c.metrics.listen = Some(quiet.parse().unwrap());
        assert_eq!(about_metrics(&c), 0, "{quiet}");
    }
    c.metrics.listen = Some("0.0.0.0:9464".parse().unwrap());
    assert_eq!(about_metrics(&c), 1);
}
