//! Files back: the answer lists what the turn changed, files Claude left
//! in the outbox are attached and removed, and /file attaches one from
//! the project folder, inside it only.

use super::{Daemon, Options, poll, replies_to};
use test_support::fake_discord::{InteractionReply, PostedMessage, SlashCommand};

#[tokio::test]
async fn an_answer_lists_the_files_its_turn_changed_and_not_the_denied_ones() {
    let d = Daemon::start(Options::default()).await;
    let answer = d.ask(d.alpha, "fix it FAKE:tools").await;
    assert!(answer.ends_with("📝 Changed: `src/main.rs`."), "{answer}");
    let asked = d.say(d.alpha, d.alice, "FAKE:deny clean up").await;
    let prompt = super::approvals::prompt(&d, asked, 1).await;
    super::approvals::click(&d, &prompt, "Deny", d.alice).await;
    let second = super::approvals::prompt(&d, asked, 2).await;
    super::approvals::click(&d, &second, "Deny", d.alice).await;
    let text = super::approvals::answer(&d, asked).await;
    assert!(
        !text.contains("📝"),
        "a denied Write changed nothing: {text}"
    );
}

/// Every post in alpha after the reply to `asked`, once `n` have come.
async fn posts_after(d: &Daemon, asked: u64, n: usize) -> Vec<PostedMessage> {
    posts_after_in(d, d.alpha, asked, n).await
}

/// Every post in `channel` after the reply to `asked`, once `n` have come.
async fn posts_after_in(d: &Daemon, channel: u64, asked: u64, n: usize) -> Vec<PostedMessage> {
    poll(
        || {
            let posts = d.fake.posted_messages(channel);
            let first = posts.iter().position(|m| replies_to(m) == Some(asked))?;
            let after: Vec<_> = posts[first..]
                .iter()
                .filter(|m| !m.deleted)
                .cloned()
                .collect();
            (after.len() >= n).then_some(after)
        },
        "the answer and its files",
    )
    .await
}

#[tokio::test]
async fn files_left_in_the_outbox_are_attached_after_the_answer_and_removed() {
    let d = Daemon::start(Options::default()).await;
    let outbox = d
        .cli
        .project()
        .join(format!(".claude-coordinator/outbox/{}", d.alpha));
    std::fs::create_dir_all(&outbox).expect("outbox");
    std::fs::write(outbox.join("report.csv"), "a,b\n1,2\n").expect("report");
    let big = std::fs::File::create(outbox.join("dump.bin")).expect("dump");
    big.set_len(11 * 1024 * 1024).expect("sparse file");
    std::os::unix::fs::symlink("/etc/hostname", outbox.join("host")).expect("symlink");

    let asked = d.say(d.alpha, d.alice, "make the report").await;
    let posts = posts_after(&d, asked, 3).await;
    let file = posts
        .iter()
        .find(|m| !m.attachments.is_empty())
        .unwrap_or_else(|| panic!("no attachment in {posts:#?}"));
    assert_eq!(file.content, "📎 `report.csv`");
    assert_eq!(file.attachments[0].filename, "report.csv");
    assert_eq!(file.attachments[0].bytes, b"a,b\n1,2\n");
    let kept = posts
        .iter()
        .find(|m| m.content.starts_with("📎 Not attached"))
        .unwrap_or_else(|| panic!("no note in {posts:#?}"));
    assert!(
        kept.content.contains("`dump.bin` is 11.0 MB"),
        "{}",
        kept.content
    );
    assert!(
        kept.content.contains("`host` is a symlink"),
        "{}",
        kept.content
    );
    assert!(
        !outbox.join("report.csv").exists(),
        "a posted file is removed"
    );
    assert!(outbox.join("dump.bin").exists(), "a kept file stays");
    let records = d.cli.record();
    let argv = records["argv"].to_string();
    assert!(
        argv.contains(&format!(".claude-coordinator/outbox/{}/", d.alpha)),
        "Claude is told: {argv}"
    );
}

#[tokio::test]
async fn a_threads_outbox_file_goes_to_the_thread_not_the_channel_it_shares_a_folder_with() {
    let d = Daemon::start(Options::default()).await;
    let outbox = d
        .cli
        .project()
        .join(format!(".claude-coordinator/outbox/{}", d.thread));
    std::fs::create_dir_all(&outbox).expect("outbox");
    std::fs::write(outbox.join("private.txt"), "the thread's\n").expect("file");

    d.ask(d.alpha, "anything for me?").await;
    d.delivered_requests(d.alpha, 1).await;
    let in_channel = d.fake.posted_messages(d.alpha);
    assert!(
        in_channel.iter().all(|m| m.attachments.is_empty()),
        "{in_channel:#?}"
    );
    assert!(outbox.join("private.txt").exists());

    let asked = d.say(d.thread, d.alice, "and here?").await;
    let posts = posts_after_in(&d, d.thread, asked, 2).await;
    let file = posts
        .iter()
        .find(|m| !m.attachments.is_empty())
        .unwrap_or_else(|| panic!("no attachment in {posts:#?}"));
    assert_eq!(file.attachments[0].bytes, b"the thread's\n");
    assert!(!outbox.join("private.txt").exists());
}

impl Daemon {
    async fn fetch_file(&self, user: u64, path: &str) -> InteractionReply {
        let command = SlashCommand::new("file", self.alpha, user).string_option("path", path);
        let handle = self.fake.slash_command(command).await;
        self.fake
            .wait_for(super::LIMIT, |_| {
                !self.fake.interaction_replies(&handle).is_empty()
            })
            .await;
        self.fake.interaction_replies(&handle).remove(0)
    }
}

#[tokio::test]
async fn file_attaches_a_project_file_publicly_and_refuses_everything_outside() {
    let d = Daemon::start(Options::default()).await;
    let project = d.cli.project();
    std::fs::create_dir_all(project.join("docs")).expect("docs");
    std::fs::write(project.join("docs/plan.md"), "# Plan\n").expect("plan");
    let outside = d.cli.dir("secret.txt");
    std::fs::write(&outside, "secret").expect("secret");
    std::os::unix::fs::symlink(&outside, project.join("leak")).expect("symlink");
    let big = std::fs::File::create(project.join("big.bin")).expect("big");
    big.set_len(10 * 1024 * 1024 + 1).expect("sparse");

    let got = d.fetch_file(d.alice, "docs/plan.md").await;
    assert_eq!(got.content(), Some("📎 `docs/plan.md`"), "{got:?}");
    assert_eq!(got.files.len(), 1, "{got:?}");
    assert_eq!(got.files[0].bytes, b"# Plan\n");
    assert_eq!(got.body["flags"].as_u64().unwrap_or(0) & 64, 0, "public");

    let cases = [
        (d.alice, "../secret.txt", "outside the project folder"),
        (d.alice, "leak", "symlink that leads out"),
        (d.alice, "/etc/hostname", "not an absolute path"),
        (
            d.alice,
            "big.bin",
            "is 10,485,761 bytes, and Discord takes files up to 10,485,760 bytes",
        ),
        (d.alice, "docs", "is not a file"),
        (d.alice, "nope.md", "does not exist"),
        (d.bob, "docs/plan.md", "Only those who may run Claude here"),
    ];
    for (user, path, why) in cases {
        let reply = d.fetch_file(user, path).await;
        let text = reply.content().unwrap_or_default();
        assert!(text.contains(why), "{path}: {text}");
        assert!(reply.files.is_empty(), "{path}: nothing attached");
        assert!(
            !text.contains(project.to_str().unwrap()),
            "no host path: {text}"
        );
    }
}
