//! /add-project and /remove-project against the real daemon: an admin maps
//! an unmapped channel to a folder under `projects_root` and it answers at
//! once; the TOML keeps its comments, with one backup; every refusal says
//! why and changes nothing; the folder of a removed project stays.

use super::{Daemon, Options};
use test_support::fake_discord::SlashCommand;

fn with_root() -> Options {
    Options {
        projects_root: true,
        ..Options::default()
    }
}

impl Daemon {
    async fn add_project(&self, user: u64, channel: u64, name: &str, path: &str) -> String {
        let command = SlashCommand::new("add-project", channel, user)
            .string_option("name", name)
            .string_option("path", path);
        self.slash(command).await
    }

    fn config_text(&self) -> String {
        std::fs::read_to_string(self.config_path()).expect("config")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_maps_a_channel_which_answers_at_once_and_the_file_keeps_its_comments() {
    let d = Daemon::start(with_root()).await;
    let site = d.projects_root().join("site");
    std::fs::create_dir(&site).expect("site folder");
    let before = format!("# Ops: edit with care.\n{}", d.config_text());
    std::fs::write(d.config_path(), &before).expect("comment");

    let reply = d.add_project(d.admin, d.unmapped, "site", "site").await;
    assert!(reply.contains("now project **site**"), "{reply}");
    assert!(
        !reply.contains(d.projects_root().to_str().unwrap()),
        "no host path: {reply}"
    );

    let after = d.config_text();
    assert!(
        after.starts_with(&before),
        "comments and layout kept:\n{after}"
    );
    let site = site.canonicalize().expect("site");
    assert!(
        after.contains(&format!("path = {:?}", site.display().to_string())),
        "{after}"
    );
    let backup = d.config_path().with_file_name("coordinator.toml.bak");
    assert_eq!(std::fs::read_to_string(backup).expect("backup"), before);
    let logged = d
        .wait_log(|r| r["msg"] == "project added from Discord")
        .await;
    assert_eq!(logged["admin_id"], d.admin);
    assert_eq!(logged["project"], "site");

    let answer = d.ask(d.unmapped, "hello site").await;
    assert!(!answer.contains('⚠'), "{answer}");
    let run = d.cli.record();
    assert_eq!(
        run["cwd"].as_str().map(std::path::PathBuf::from),
        Some(site)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_additions_say_why_and_leave_the_file_alone() {
    let d = Daemon::start(with_root()).await;
    std::fs::create_dir(d.projects_root().join("site")).expect("site");
    let outside = d.cli.dir("outside");
    std::fs::create_dir(&outside).expect("outside");
    std::os::unix::fs::symlink(&outside, d.projects_root().join("sneaky")).expect("symlink");
    let before = d.config_text();

    let cases = [
        (d.alice, "site", "site", "Only bot admins"),
        (d.admin, "site", "../outside", "outside the projects root"),
        (d.admin, "site", "sneaky", "symlink that leads out"),
        (d.admin, "alpha", "site", "exists already"),
        (d.admin, "site", "missing", "does not exist"),
    ];
    for (user, name, path, why) in cases {
        let reply = d.add_project(user, d.unmapped, name, path).await;
        assert!(reply.contains(why), "{name} {path}: {reply}");
    }
    let reply = d.add_project(d.admin, d.alpha, "site", "site").await;
    assert!(reply.contains("already mapped to **alpha**"), "{reply}");
    assert_eq!(d.config_text(), before);
    assert!(
        !d.config_path()
            .with_file_name("coordinator.toml.bak")
            .exists()
    );
    let refusals = d
        .log_records()
        .into_iter()
        .filter(|r| r["msg"] == "project edit refused")
        .count();
    assert_eq!(refusals, 4, "the admin's refused edits are logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_projects_root_the_command_answers_that_it_is_disabled() {
    let d = Daemon::start(Options::default()).await;
    let before = d.config_text();
    let reply = d.add_project(d.admin, d.unmapped, "site", "site").await;
    assert!(
        reply.contains("disabled") && reply.contains("projects_root"),
        "{reply}"
    );
    assert_eq!(d.config_text(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_project_unmaps_the_channel_and_leaves_its_folder() {
    let d = Daemon::start(with_root()).await;
    let refused = d
        .slash(SlashCommand::new("remove-project", d.beta, d.alice))
        .await;
    assert!(refused.contains("Only bot admins"), "{refused}");
    let reply = d
        .slash(SlashCommand::new("remove-project", d.beta, d.admin))
        .await;
    assert!(reply.contains("**beta** is no longer mapped"), "{reply}");
    assert!(!d.config_text().contains("name = \"beta\""));
    assert!(d.cli.dir("project-beta").is_dir(), "the folder stays");
    let logged = d
        .wait_log(|r| r["msg"] == "project removed from Discord")
        .await;
    assert_eq!(logged["admin_id"], d.admin);

    let ignored = d.say(d.beta, d.alice, "anyone here?").await;
    d.ask(d.alpha, "alpha still answers").await;
    let replies = d.fake.posted_messages(d.beta);
    assert!(
        !replies
            .iter()
            .any(|m| super::replies_to(m) == Some(ignored)),
        "an unmapped channel gets no answer"
    );
    let status = d.slash(SlashCommand::new("status", d.beta, d.alice)).await;
    assert!(status.contains("not mapped"), "{status}");
}
