//! SIGHUP reloads the configuration while requests run: a valid edit
//! applies to new requests at once (projects, allowlists, models), queued
//! and running ones keep the settings they had; an invalid edit is
//! rejected whole in one record; queued requests of a removed project are
//! told.

use super::{Daemon, Options, poll};
use serde_json::Value;

fn argv(record: &Value) -> String {
    record["argv"].to_string()
}

impl Daemon {
    /// Rewrites the config file through `edit`.
    fn edit_config(&self, edit: impl FnOnce(String) -> String) {
        let path = self.config_path();
        let text = std::fs::read_to_string(&path).expect("config");
        std::fs::write(&path, edit(text)).expect("write config");
    }

    /// Lets every run waiting on `FAKE:gate=<n>` answer.
    fn open_gate(&self, n: u32) {
        std::fs::write(self.cli.dir("state").join(format!("gate-{n}")), "").expect("gate");
    }

    /// Waits until `n` fake CLIs have started.
    async fn started(&self, n: usize) {
        poll(
            || (self.cli.records().len() >= n).then_some(()),
            "the CLI to start",
        )
        .await;
    }

    /// Waits for the answer to a request that was queued: the reply to
    /// `message` after its "Queued" notice.
    async fn answer_after_queue(&self, channel: u64, message: u64) -> String {
        poll(
            || {
                self.fake
                    .posted_messages(channel)
                    .into_iter()
                    .filter(|m| super::replies_to(m) == Some(message))
                    .find(|m| !m.content.contains("Queued"))
                    .map(|m| m.content)
            },
            "the answer to a queued request",
        )
        .await
    }

    /// Waits for the "Queued" notice that replies to `message`.
    async fn queued(&self, channel: u64, message: u64) {
        let replies = self.reply_to(channel, message).await;
        assert!(
            replies[0].content.contains("Queued"),
            "{:?}",
            replies[0].content
        );
    }
}

fn no_warm() -> Options {
    Options {
        max_warm: Some(0),
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_edit_applies_to_new_requests_and_spares_running_and_queued_ones() {
    let d = Daemon::start(no_warm()).await;
    let running = d.say(d.alpha, d.alice, "FAKE:gate=1 first").await;
    d.started(1).await;
    let queued = d.say(d.alpha, d.alice, "second").await;
    d.queued(d.alpha, queued).await;

    let gamma = d.cli.dir("project-gamma");
    std::fs::create_dir(&gamma).expect("gamma folder");
    d.edit_config(|text| {
        let text = text.replace("name = \"alpha\"\n", "name = \"alpha\"\nmodel = \"opus\"\n");
        let text = text.replace(
            &format!("allowed_users = [\"{}\"", d.alice),
            &format!("allowed_users = [\"{}\", \"{}\"", d.alice, d.bob),
        );
        format!(
            "{text}\n[[projects]]\nname = \"gamma\"\nchannel_id = \"{}\"\npath = '{}'\n",
            d.unmapped,
            gamma.display()
        )
    });
    let record = d.reload().await;
    assert_eq!(record["msg"], "configuration reloaded", "{record}");
    assert_eq!(record["projects"], 3);
    assert_eq!(record["added"], "gamma");

    d.open_gate(1);
    let first = d.reply_to(d.alpha, running).await;
    assert!(!first[0].content.contains('⚠'), "{:?}", first[0].content);
    let second = d.answer_after_queue(d.alpha, queued).await;
    assert!(!second.contains('⚠'), "{second}");
    let records = d.cli.records();
    assert!(
        !argv(&records[0]).contains("--model=opus"),
        "the running request kept its model"
    );
    assert!(
        !argv(&records[1]).contains("--model=opus"),
        "the queued request kept its model"
    );

    d.ask(d.alpha, "third").await;
    assert!(
        argv(&d.cli.records()[2]).contains("\"--model=opus\""),
        "a new request has the new model"
    );

    let answer = d.ask(d.unmapped, "hello gamma").await;
    assert!(!answer.contains('⚠'), "{answer}");
    let gamma_run = &d.cli.records()[3];
    assert_eq!(
        gamma_run["cwd"].as_str().map(std::path::PathBuf::from),
        Some(gamma.canonicalize().expect("gamma"))
    );

    let asked = d.say(d.beta, d.bob, "bob may now").await;
    let reply = &d.reply_to(d.beta, asked).await[0].content;
    assert!(!reply.contains("not allowed"), "{reply}");
    assert_eq!(d.cli.records().len(), 5, "Bob's request ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_edit_is_rejected_whole_and_the_running_config_stays() {
    let d = Daemon::start(no_warm()).await;
    let running = d.say(d.alpha, d.alice, "FAKE:gate=1 first").await;
    d.started(1).await;
    d.edit_config(|text| {
        let text = text.replace("queue_size = 5", "queue_size = 0");
        let beta = "name = \"beta\"\nmodle = \"opus\"\nthread_worktrees = true\n";
        text.replace("name = \"beta\"\n", beta)
    });
    let record = d.reload().await;
    assert_eq!(
        record["msg"], "configuration not reloaded; the running one stays",
        "{record}"
    );
    assert_eq!(record["problems"], 3, "{record}");
    let problems = record["error"].as_str().unwrap_or_default();
    assert!(
        ["queue_size", "modle", "thread_worktrees"]
            .iter()
            .all(|p| problems.contains(p)),
        "{problems}"
    );
    assert_eq!(
        d.log_records()
            .iter()
            .filter(|r| r["msg"] == record["msg"])
            .count(),
        1,
        "one record holds every problem"
    );
    d.open_gate(1);
    let first = d.reply_to(d.alpha, running).await;
    assert!(!first[0].content.contains('⚠'), "{:?}", first[0].content);
    let answer = d.ask(d.beta, "still mapped").await;
    assert!(!answer.contains('⚠'), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_requests_of_a_removed_project_are_told_and_the_running_one_finishes() {
    let d = Daemon::start(no_warm()).await;
    let running = d.say(d.beta, d.alice, "FAKE:gate=1 first").await;
    d.started(1).await;
    let queued = d.say(d.beta, d.alice, "second").await;
    d.queued(d.beta, queued).await;
    d.edit_config(|text| {
        let at = text.rfind("[[projects]]").expect("beta is last");
        text[..at].to_string()
    });
    let record = d.reload().await;
    assert_eq!(record["removed"], "beta", "{record}");
    let told = poll(
        || {
            d.fake
                .posted_messages(d.beta)
                .into_iter()
                .find(|m| m.content.contains("was removed"))
        },
        "the removal notice",
    )
    .await;
    assert_eq!(super::replies_to(&told), Some(queued));
    assert!(told.content.contains("**beta**"), "{}", told.content);

    d.open_gate(1);
    let first = d.reply_to(d.beta, running).await;
    assert!(!first[0].content.contains('⚠'), "{:?}", first[0].content);
    assert_eq!(d.cli.records().len(), 1, "the queued request never ran");
    let db = d.db().await;
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM requests ORDER BY created_at")
            .fetch_all(db.pool())
            .await
            .expect("rows");
    assert_eq!(statuses, ["done", "cancelled"]);

    let before = d.fake.posted_messages(d.beta).len();
    d.say(d.beta, d.alice, "anyone?").await;
    let answer = d.ask(d.alpha, "alpha still answers").await;
    assert!(!answer.contains('⚠'), "{answer}");
    assert_eq!(
        d.fake.posted_messages(d.beta).len(),
        before,
        "beta is unmapped now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_moved_or_renamed_by_a_reload_answers_under_its_new_mapping() {
    let d = Daemon::start(no_warm()).await;
    d.ask(d.beta, "before").await;
    d.edit_config(|text| {
        let text = text.replace(&format!("\"{}\"", d.alpha), &format!("\"{}\"", d.unmapped));
        text.replace("name = \"beta\"", "name = \"gamma\"")
    });
    let record = d.reload().await;
    assert_eq!(
        (record["added"].as_str(), record["removed"].as_str()),
        (Some("gamma"), Some("beta"))
    );

    let answer = d.ask(d.unmapped, "alpha moved here").await;
    assert!(!answer.contains('⚠'), "{answer}");
    assert_eq!(
        d.cli.records()[1]["cwd"]
            .as_str()
            .map(std::path::PathBuf::from),
        Some(d.cli.project().canonicalize().expect("alpha folder")),
        "alpha's folder, in its new channel"
    );
    let renamed = d.ask(d.beta, "after the rename").await;
    assert!(!renamed.contains('⚠'), "{renamed}");
    let records = d.cli.records();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[2]["cwd"], records[0]["cwd"],
        "gamma has beta's folder"
    );
    assert!(
        !argv(&records[2]).contains("--resume"),
        "a new project starts a new conversation: {}",
        argv(&records[2])
    );
    let db = d.db().await;
    let project: String = sqlx::query_scalar("SELECT project FROM sessions WHERE channel_id = ?")
        .bind(d.beta.to_string())
        .fetch_one(db.pool())
        .await
        .expect("beta's session row");
    assert_eq!(project, "gamma");

    let before = d.cli.records().len();
    let ignored = d.say(d.alpha, d.alice, "anyone?").await;
    d.ask(d.unmapped, "still here").await;
    assert_eq!(
        d.cli.records().len(),
        before + 1,
        "alpha's old channel runs nothing"
    );
    assert!(
        !d.fake
            .posted_messages(d.alpha)
            .iter()
            .any(|m| super::replies_to(m) == Some(ignored))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_of_a_running_request_can_be_answered_after_its_project_is_removed() {
    use super::approvals::{answer, click, current, prompt};
    let d = Daemon::start(Options::default()).await;
    let asked = d.say(d.alpha, d.alice, "FAKE:deny clean up").await;
    let first = prompt(&d, asked, 1).await;
    d.edit_config(|text| {
        let alpha = text.find("[[projects]]").expect("alpha");
        let beta = text.rfind("[[projects]]").expect("beta");
        format!("{}{}", &text[..alpha], &text[beta..])
    });
    assert_eq!(d.reload().await["removed"], "alpha");
    click(&d, &first, "Allow", d.alice).await;
    assert!(current(&d, first.id).content.contains("Allowed by"));
    let second = prompt(&d, asked, 2).await;
    click(&d, &second, "Deny", d.alice).await;
    let text = answer(&d, asked).await;
    assert!(
        text.contains("Write(src/x.rs)") && !text.contains('⚠'),
        "{text}"
    );
}
