//! A worktree per thread, against a real git repository: the thread's
//! first message makes it on its own branch, its runs and attachments
//! live there, /status names the branch, and /worktree remove keeps a
//! dirty one and removes a clean one with its branch, as the sweep does
//! for threads since archived or deleted.

use super::daemon::git;
use super::{Daemon, Options, poll};
use test_support::fake_discord::{InteractionReplyKind, SlashCommand, UserMessage};

fn with_worktrees() -> Options {
    Options {
        thread_worktrees: true,
        max_warm: Some(0),
        ..Options::default()
    }
}

impl Daemon {
    fn worktree(&self) -> std::path::PathBuf {
        self.worktree_of(self.thread)
    }

    fn worktree_of(&self, thread: u64) -> std::path::PathBuf {
        self.cli
            .project()
            .canonicalize()
            .expect("alpha")
            .join(format!(".claude-coordinator/worktrees/{thread}"))
    }

    fn kept_records(&self, thread: u64) -> usize {
        self.log_records()
            .iter()
            .filter(|r| {
                r["msg"] == "thread closed; its worktree was kept" && r["channel_id"] == thread
            })
            .count()
    }

    async fn remove_worktree(&self, user: u64) -> String {
        let command = SlashCommand::new("worktree", self.thread, user).subcommand("remove");
        self.slash(command).await
    }
}

#[tokio::test]
async fn a_threads_runs_work_in_its_own_worktree_on_its_own_branch() {
    let d = Daemon::start(with_worktrees()).await;
    let message = UserMessage::new(d.thread, d.alice, "look at this")
        .mentioning_bot()
        .with_attachment("notes.txt", "text/plain", b"hello\n");
    let asked = d.fake.user_message(message).await;
    let answer = &d.reply_to(d.thread, asked).await[0].content;
    assert!(!answer.contains('⚠'), "{answer}");
    let worktree = d.worktree();
    let run = d.cli.record();
    assert_eq!(
        run["cwd"].as_str().map(std::path::PathBuf::from),
        Some(worktree.clone())
    );
    let branch = format!("thread/thread-{0}-{0}", d.thread);
    assert_eq!(git(&worktree, &["branch", "--show-current"]).trim(), branch);
    let saved = worktree.join(format!(".claude-coordinator/attachments/{asked}/notes.txt"));
    assert_eq!(std::fs::read_to_string(saved).expect("moved in"), "hello\n");
    assert_eq!(
        git(&d.cli.project(), &["status", "--porcelain"]),
        "",
        "nothing shows in the project"
    );

    let status = d
        .slash(SlashCommand::new("status", d.thread, d.alice))
        .await;
    assert!(status.contains(&format!("branch `{branch}`")), "{status}");
    let status = d.slash(SlashCommand::new("status", d.alpha, d.alice)).await;
    assert!(
        !status.contains("branch"),
        "the channel itself has none: {status}"
    );

    d.ask(d.alpha, "in the channel").await;
    let records = d.cli.records();
    let channel_run = records[1]["cwd"].as_str().map(std::path::PathBuf::from);
    assert_eq!(
        channel_run,
        Some(d.cli.project().canonicalize().expect("alpha"))
    );
}

#[tokio::test]
async fn worktree_remove_keeps_a_dirty_one_and_removes_a_clean_one_with_its_branch() {
    // Warm processes on: one left in a removed worktree must not be reused.
    let d = Daemon::start(Options {
        max_warm: None,
        ..with_worktrees()
    })
    .await;
    assert!(d.remove_worktree(d.alice).await.contains("no worktree"));
    d.ask(d.thread, "start").await;
    let worktree = d.worktree();
    std::fs::write(worktree.join("draft.rs"), "fn x() {}\n").expect("dirty");
    let kept = d.remove_worktree(d.alice).await;
    assert!(
        kept.contains("Kept") && kept.contains("uncommitted"),
        "{kept}"
    );
    assert!(worktree.join("draft.rs").exists(), "nothing lost");
    assert!(
        d.remove_worktree(d.bob)
            .await
            .contains("Only those who may run Claude")
    );

    std::fs::remove_file(worktree.join("draft.rs")).expect("clean");
    let removed = d.remove_worktree(d.alice).await;
    assert!(removed.contains("Removed"), "{removed}");
    assert!(!worktree.exists());
    assert_eq!(git(&d.cli.project(), &["branch", "--list", "thread/*"]), "");

    d.ask(d.thread, "again").await;
    assert!(worktree.join("README.md").is_file(), "a fresh worktree");
    assert_eq!(
        super::argvs(&d.cli).len(),
        2,
        "the warm process, whose folder was removed, is not reused"
    );
}

#[tokio::test]
async fn changed_files_and_file_in_a_thread_are_relative_to_its_worktree() {
    let d = Daemon::start(with_worktrees()).await;
    let answer = d.ask(d.thread, "fix it FAKE:tools").await;
    assert!(answer.ends_with("📝 Changed: `src/main.rs`."), "{answer}");
    std::fs::write(d.worktree().join("only-here.txt"), "branch work\n").expect("file");
    let command =
        SlashCommand::new("file", d.thread, d.alice).string_option("path", "only-here.txt");
    let handle = d.fake.slash_command(command).await;
    d.fake
        .wait_for(super::LIMIT, |_| {
            !d.fake.interaction_replies(&handle).is_empty()
        })
        .await;
    let got = d.fake.interaction_replies(&handle).remove(0);
    assert_eq!(got.files.len(), 1, "{got:?}");
    assert_eq!(got.files[0].bytes, b"branch work\n");
}

#[tokio::test]
async fn a_sweep_removes_a_closed_threads_clean_worktree_and_tells_the_channel_of_a_kept_one() {
    let d = Daemon::start(Options {
        extra_threads: 1,
        worktree_sweep_secs: Some(1),
        ..with_worktrees()
    })
    .await;
    let (archived, deleted) = (d.thread, d.threads[0]);
    d.ask(archived, "start").await;
    d.ask(deleted, "start").await;
    let dirty = d.worktree_of(deleted).join("draft.rs");
    std::fs::write(&dirty, "fn x() {}\n").expect("dirty");
    let posts_before = d.fake.posted_messages(archived).len();
    let lookup = format!("/channels/{archived}");
    // The first lookup is refused; the next waits until the worktree was
    // seen kept, as the sweeps come every second.
    let mut refused = d.fake.hold_next("GET", &lookup);
    d.fake.fail_next("GET", &lookup, 403);
    d.fake.archive_thread(archived);
    d.fake.delete_channel(deleted);
    refused.reached(super::LIMIT).await;
    let mut next = d.fake.hold_next("GET", &lookup);
    refused.release();

    let failed_lookup = |r: &serde_json::Value| {
        r["msg"] == "cannot look up a thread" && r["channel_id"] == archived
    };
    poll(
        || d.log_records().iter().any(failed_lookup).then_some(()),
        "a lookup Discord refused",
    )
    .await;
    assert!(d.worktree().exists(), "kept while its state is unknown");
    next.reached(super::LIMIT).await;
    next.release();
    poll(
        || (!d.worktree().exists()).then_some(()),
        "the archived thread's worktree to go",
    )
    .await;
    let branches = git(&d.cli.project(), &["branch", "--list", "thread/*"]);
    assert!(!branches.contains(&format!("-{archived}")), "{branches}");
    assert!(
        branches.contains(&format!("-{deleted}")),
        "kept: {branches}"
    );
    assert!(dirty.exists(), "nothing lost");
    assert_eq!(d.fake.posted_messages(archived).len(), posts_before);
    assert!(d.fake.is_archived(archived), "no post unarchived it");

    poll(
        || (d.kept_records(deleted) >= 2).then_some(()),
        "a second sweep",
    )
    .await;
    let notices: Vec<_> = d
        .fake
        .posted_messages(d.alpha)
        .into_iter()
        .filter(|m| m.content.contains("was kept"))
        .collect();
    assert_eq!(notices.len(), 1, "told once: {notices:?}");
    let notice = &notices[0].content;
    let branch = format!("thread/thread-{0}-{0}", deleted);
    assert!(
        notice.contains(&format!("<#{deleted}> was deleted")),
        "{notice}"
    );
    assert!(
        notice.contains(&branch) && notice.contains("uncommitted"),
        "{notice}"
    );
    assert!(
        !notice.contains(&d.cli.project().display().to_string()),
        "{notice}"
    );

    d.ask(archived, "back again").await;
    assert!(d.worktree().join("README.md").is_file(), "a fresh worktree");
}

#[tokio::test]
async fn while_a_worktree_is_made_the_thread_shows_typing_and_a_command_is_deferred_not_lost() {
    let d = Daemon::start(Options {
        gated_git: true,
        ..with_worktrees()
    })
    .await;
    d.hold_git();
    let asked = d.say(d.thread, d.alice, "start").await;
    d.git_held().await;
    poll(
        || (d.fake.typing_count(d.thread) > 0).then_some(()),
        "typing while the worktree is made",
    )
    .await;
    let status = SlashCommand::new("status", d.thread, d.alice);
    let handle = d.fake.slash_command(status).await;
    let deferred = poll(
        || {
            let replies = d.fake.interaction_replies(&handle);
            replies
                .into_iter()
                .find(|r| r.kind == InteractionReplyKind::Callback(5))
        },
        "a deferred answer",
    )
    .await;
    assert_eq!(
        deferred.body["flags"].as_u64(),
        Some(64),
        "ephemeral, as /status is"
    );
    d.release_git();
    let answer = poll(
        || {
            let replies = d.fake.interaction_replies(&handle);
            let followup = replies
                .into_iter()
                .find(|r| r.kind == InteractionReplyKind::Followup)?;
            followup.content().map(str::to_string)
        },
        "the status after the worktree",
    )
    .await;
    assert!(answer.contains("alpha"), "{answer}");
    let reply = &d.reply_to(d.thread, asked).await[0].content;
    assert!(!reply.contains('⚠'), "{reply}");
}
