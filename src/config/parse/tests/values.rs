use super::Fixture;
use crate::config::{Config, Trigger};
use crate::domain::{ChannelId, GuildId, PermissionMode, RoleId, UserId};
use std::path::Path;
use std::time::Duration;

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
    assert_eq!(c.discord.max_image_bytes, 3_932_160, "5 MiB once base64");
    assert_eq!(c.discord.request_timeout, Duration::from_secs(15));
    assert_eq!(c.sessions.idle_timeout, Duration::from_secs(900));
    assert_eq!(c.metrics.listen, None, "no port unless asked for");
    assert_eq!(c.budgets, Default::default(), "no budgets unless set");
    assert_eq!(c.source, fx.source());
}

#[test]
fn every_setting_is_read_into_its_typed_field() {
    let fx = Fixture::new();
    let text = format!(
        "[claude]\nbinary = \"/opt/claude\"\ntimeout_secs = 60\nmax_concurrent = 7\nmodel = \"opus\"\n\
         permission_mode = \"plan\"\nallowed_tools = [\"Read\"]\nmax_output_bytes = 99\n\
         max_warm = 0\nwarm_secs = 30\n\
         [discord]\ntrigger = \"all\"\nallowed_users = [5]\nallowed_roles = [\"6\"]\nadmin_users = [\"7\"]\n\
         guild_id = 8\nmax_attachment_bytes = 0\nmax_chunks = 2\nrequest_timeout_secs = 4\n\
         notify_requester = false\n\
         [sessions]\nqueue_size = 1\nidle_timeout_secs = 10\nshutdown_grace_secs = 0\n{}\
         model = \"haiku\"\nsystem_prompt = \"be brief\"\npermission_mode = \"dontAsk\"\n\
         allowed_tools = []\nallowed_users = [9]\nallowed_roles = [10]\ntimeout_secs = 30\n\
         daily_budget_usd = 3\nuser_daily_budget_usd = 0.5\n",
        fx.project("web", 1)
    );
    let c = fx.load(&text).unwrap();
    assert_eq!(c.claude.binary, "/opt/claude");
    assert_eq!(c.claude.max_concurrent, 7);
    assert_eq!(c.claude.permission_mode, Some(PermissionMode::Plan));
    assert_eq!(c.discord.trigger, Trigger::All);
    assert_eq!(c.discord.guild_id, Some(GuildId(8)));
    assert_eq!(c.discord.admin_users, vec![UserId(7)]);
    assert_eq!(c.discord.request_timeout, Duration::from_secs(4));
    assert!(!c.discord.notify_requester);
    assert_eq!(c.claude.max_warm, 0);
    assert_eq!(c.claude.warm_idle, Duration::from_secs(30));
    assert_eq!(c.sessions.shutdown_grace, Duration::ZERO);
    let p = &c.projects[0];
    assert_eq!(p.permission_mode, Some(PermissionMode::DontAsk));
    assert_eq!(p.allowed_tools, Some(vec![]));
    assert_eq!(p.allowed_roles, vec![RoleId(10)]);
    assert_eq!(p.timeout, Some(Duration::from_secs(30)));
    assert_eq!(p.system_prompt.as_deref(), Some("be brief"));
    assert_eq!(
        (p.daily_budget_usd, p.user_daily_budget_usd),
        (Some(3.0), Some(0.5))
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

proptest::proptest! {
    #[test]
    fn no_input_makes_loading_panic(text in "\\PC{0,200}") {
        let _ = Config::from_toml_str(&text, Path::new("c.toml"));
    }

    #[test]
    fn no_value_in_a_known_key_makes_loading_panic(
        key in proptest::sample::select(&crate::config::parse::PROJECT_KEYS[..]),
        value in "(-?[0-9]{1,25}|\"[^\"\\\\]{0,10}\"|\\[[0-9, ]{0,10}\\]|true|1\\.5)",
    ) {
        let text = format!("[claude]\n[[projects]]\n{key} = {value}\n");
        let _ = Config::from_toml_str(&text, Path::new("c.toml"));
    }
}

#[test]
fn approvals_are_read_globally_and_per_project() {
    let fx = Fixture::new();
    let text = format!(
        "[claude]\napprovals = \"off\"\napproval_timeout_secs = 45\n{}\
         approvals = \"discord\"\napproval_timeout_secs = 20\n",
        fx.project("web", 1)
    );
    let c = fx.load(&text).unwrap();
    assert_eq!(c.claude.approvals, crate::config::Approvals::Off);
    assert_eq!(c.claude.approval_timeout, Duration::from_secs(45));
    let p = &c.projects[0];
    assert_eq!(p.approvals, Some(crate::config::Approvals::Discord));
    assert_eq!(p.approval_timeout, Some(Duration::from_secs(20)));
}
