//! The session pipeline end to end, short of Discord: serialization,
//! parallelism, the queue bound, cancel, reset, status, idle stop and
//! revival, errors with ids, and live progress.

use crate::pipeline_harness::{
    ALICE, BOB, LIMIT, Pipeline, content, replies, reply_to, wait_status,
};
use claude_coordinator::actors::messages::{
    CancelReply, CommandReply, CountSessions, Outgoing, SessionCommand,
};
use claude_coordinator::domain::{ChannelId, ClaudeSessionId, RequestStatus};
use std::time::{Duration, Instant};

fn resume_arg(record: &serde_json::Value) -> Option<String> {
    let argv: Vec<String> = serde_json::from_value(record["argv"].clone()).unwrap();
    let at = argv.iter().position(|a| a == "--resume")?;
    argv.get(at + 1).cloned()
}

#[actix_rt::test]
async fn an_answer_replies_to_the_message_and_the_session_is_stored() {
    let p = Pipeline::start(|_| {}).await;
    let (id, message) = p.say(1, ALICE, "hello there");
    let answers = p.replies(1).await;
    assert_eq!(reply_to(&answers[0]), Some(message));
    assert!(!content(&answers[0]).is_empty());

    assert_eq!(
        wait_status(&p, id, RequestStatus::Done).await,
        RequestStatus::Done
    );
    let events = p.rec.events();
    assert!(
        events.iter().any(|e| matches!(e, Outgoing::Typing { .. })),
        "{events:?}"
    );
    let status_posts = events
        .iter()
        .filter(|e| matches!(e, Outgoing::Post { reply_to: None, .. }))
        .count();
    assert_eq!(
        status_posts, 0,
        "a quick answer needs no status message: {events:?}"
    );
    let row = p.db.request(id).await.unwrap().unwrap();
    assert!(row.session_id_returned.is_some());
    let session = p.db.session(ChannelId(1)).await.unwrap().unwrap();
    assert_eq!(session.message_count, 1);
    assert_eq!(session.claude_session_id, row.session_id_returned);
    assert!(session.total_cost_usd > 0.0);
}

#[actix_rt::test]
async fn the_second_message_resumes_the_first_session() {
    let p = Pipeline::start(|c| c.claude.max_warm = 0).await;
    let (first, _) = p.say(1, ALICE, "one");
    p.replies(1).await;
    p.say(1, ALICE, "two");
    p.replies(2).await;
    let records = p.cli.records();
    assert_eq!(resume_arg(&records[0]), None);
    let stored =
        p.db.request(first)
            .await
            .unwrap()
            .unwrap()
            .session_id_returned;
    assert_eq!(resume_arg(&records[1]), stored.map(|s| s.to_string()));
}

#[actix_rt::test]
async fn the_second_message_goes_to_the_first_ones_warm_process() {
    let p = Pipeline::start(|_| {}).await;
    let (first, _) = p.say(1, ALICE, "one");
    p.replies(1).await;
    let (second, _) = p.say(1, ALICE, "two");
    p.replies(2).await;
    assert_eq!(p.cli.records().len(), 1, "no second spawn");
    let turns = p.cli.turns();
    assert_eq!(turns[1]["stdin"], "two");
    assert_eq!(turns[1]["warm"], true);
    let one = p.db.request(first).await.unwrap().unwrap();
    let two = p.db.request(second).await.unwrap().unwrap();
    assert!(one.session_id_returned.is_some());
    assert_eq!(two.session_id_used, one.session_id_returned);
    assert_eq!(two.session_id_returned, one.session_id_returned);
}

#[actix_rt::test]
async fn requests_in_one_channel_run_one_at_a_time_in_order() {
    let p = Pipeline::start(|_| {}).await;
    let messages: Vec<_> = (0..3)
        .map(|i| {
            p.say(1, ALICE, &format!("FAKE:slow=150 FAKE:echo number {i}"))
                .1
        })
        .collect();
    let events = p.rec.wait_for(LIMIT, |e| answers(e).len() == 3).await;
    let order: Vec<_> = answers(&events)
        .iter()
        .map(|e| reply_to(e).unwrap())
        .collect();
    assert_eq!(order, messages);
    assert_eq!(p.cli.max_concurrency(), 1);
}

/// Waits until the live status message of a run is up.
async fn status_message_posted(p: &Pipeline) {
    p.rec
        .wait_for(LIMIT, |e| {
            e.iter()
                .any(|x| matches!(x, Outgoing::Post { reply_to: None, .. }))
        })
        .await;
}

async fn cancel(p: &Pipeline, by: claude_coordinator::domain::UserId, admin: bool) -> CommandReply {
    p.command(1, SessionCommand::Cancel { by, admin }).await
}

/// Replies that are answers, not queue notices.
fn answers(events: &[Outgoing]) -> Vec<Outgoing> {
    replies(events)
        .into_iter()
        .filter(|e| !content(e).starts_with("⏳ Queued"))
        .collect()
}

#[actix_rt::test]
async fn channels_run_in_parallel() {
    let p = Pipeline::start(|_| {}).await;
    let started = Instant::now();
    p.say(1, ALICE, "FAKE:slow=2000 a");
    p.say(2, ALICE, "FAKE:slow=2000 b");
    p.replies(2).await;
    assert_eq!(p.cli.max_concurrency(), 2, "both channels' runs overlapped");
    assert!(
        started.elapsed() < Duration::from_millis(3900),
        "{:?}",
        started.elapsed()
    );
}

#[actix_rt::test]
async fn a_full_queue_refuses_with_an_error_id_and_queued_users_learn_their_position() {
    let p = Pipeline::start(|c| c.sessions.queue_size = 2).await;
    p.say(1, ALICE, "FAKE:hang");
    p.say(1, ALICE, "second");
    p.say(1, ALICE, "third");
    let (_, refused) = p.say(1, BOB, "fourth");
    let got = p.replies(3).await;
    assert!(content(&got[0]).contains("position 1"), "{got:?}");
    assert!(content(&got[1]).contains("position 2"), "{got:?}");
    assert_eq!(reply_to(&got[2]), Some(refused));
    assert!(content(&got[2]).contains("queue is full"), "{got:?}");
    assert!(content(&got[2]).contains("error id"), "{got:?}");
    let status = p.command(1, SessionCommand::Status).await;
    assert!(
        matches!(status, CommandReply::Status(s) if s.queue_len == 2 && s.running_for.is_some())
    );
}

#[actix_rt::test]
async fn cancel_stops_the_running_request_for_its_owner_only() {
    let p = Pipeline::start(|_| {}).await;
    let (id, _) = p.say(1, ALICE, "FAKE:hang");
    status_message_posted(&p).await;
    let denied = cancel(&p, BOB, false).await;
    assert_eq!(denied, CommandReply::Cancel(CancelReply::NotAllowed));
    let done = cancel(&p, ALICE, false).await;
    assert_eq!(done, CommandReply::Cancel(CancelReply::Running));
    let got = p.replies(1).await;
    assert!(content(&got[0]).contains("Cancelled"), "{got:?}");
    assert!(!content(&got[0]).contains("error id"));
    let row = wait_status(&p, id, RequestStatus::Cancelled).await;
    assert_eq!(row, RequestStatus::Cancelled);
}

#[actix_rt::test]
async fn an_admin_may_cancel_someone_elses_running_request() {
    let p = Pipeline::start(|_| {}).await;
    let (running, _) = p.say(1, ALICE, "FAKE:hang");
    status_message_posted(&p).await;
    let reply = cancel(&p, BOB, true).await;
    assert_eq!(reply, CommandReply::Cancel(CancelReply::Running));
    assert_eq!(
        wait_status(&p, running, RequestStatus::Cancelled).await,
        RequestStatus::Cancelled
    );
}

#[actix_rt::test]
async fn a_caller_cancels_their_queued_request_before_it_runs() {
    let p = Pipeline::start(|_| {}).await;
    p.say(1, ALICE, "FAKE:hang");
    let (queued, _) = p.say(1, BOB, "FAKE:echo queued words");
    p.replies(1).await;
    let reply = cancel(&p, BOB, false).await;
    assert_eq!(reply, CommandReply::Cancel(CancelReply::Queued));
    assert_eq!(
        wait_status(&p, queued, RequestStatus::Cancelled).await,
        RequestStatus::Cancelled
    );
    let reply = cancel(&p, BOB, false).await;
    assert_eq!(reply, CommandReply::Cancel(CancelReply::NotAllowed));
    cancel(&p, ALICE, false).await;
    p.rec.wait_for(LIMIT, |e| answers(e).len() == 1).await;
    let ran_queued = p
        .cli
        .records()
        .iter()
        .any(|r| r.to_string().contains("queued words"));
    assert!(!ran_queued, "a cancelled queued request must never run");
    let reply = cancel(&p, ALICE, false).await;
    assert_eq!(reply, CommandReply::Cancel(CancelReply::Nothing));
}

#[actix_rt::test]
async fn reset_forgets_the_session_but_history_keeps_it() {
    let p = Pipeline::start(|_| {}).await;
    let (first, _) = p.say(1, ALICE, "one");
    p.replies(1).await;
    let reply = p.command(1, SessionCommand::Reset).await;
    assert_eq!(reply, CommandReply::Reset { had_session: true });
    p.say(1, ALICE, "two");
    p.replies(2).await;
    assert_eq!(
        resume_arg(&p.cli.records()[1]),
        None,
        "a reset session is not resumed"
    );
    assert!(
        p.db.request(first)
            .await
            .unwrap()
            .unwrap()
            .session_id_returned
            .is_some()
    );
}

#[actix_rt::test]
async fn slash_clear_resets_and_slash_model_is_refused_without_running_claude() {
    let p = Pipeline::start(|_| {}).await;
    p.say(1, ALICE, "one");
    p.replies(1).await;
    p.say(1, ALICE, "/clear");
    let cleared = p.replies(2).await;
    assert!(
        content(&cleared[1]).contains("new conversation"),
        "{cleared:?}"
    );
    p.say(1, ALICE, "/model haiku");
    let refused = p.replies(3).await;
    assert!(content(&refused[2]).contains("`/model`"), "{refused:?}");
    p.say(1, ALICE, "/compact");
    p.replies(4).await;
    p.say(1, ALICE, "two");
    p.replies(5).await;
    let records = p.cli.turns();
    assert_eq!(records.len(), 3, "only one, /compact and two ran the CLI");
    assert_eq!(resume_arg(&records[1]), None, "/clear forgot the session");
    let prompts: Vec<String> = records.iter().map(|r| r["stdin"].to_string()).collect();
    assert!(prompts[1].contains("/compact"), "{prompts:?}");
}

#[actix_rt::test]
async fn status_and_model_override_describe_the_session() {
    let p = Pipeline::start(|_| {}).await;
    p.say(1, ALICE, "one");
    p.replies(1).await;
    let set = p
        .command(1, SessionCommand::SetModel(Some("opus".into())))
        .await;
    assert_eq!(
        set,
        CommandReply::ModelSet {
            model: Some("opus".into())
        }
    );
    let CommandReply::Status(status) = p.command(1, SessionCommand::Status).await else {
        panic!("not a status");
    };
    assert_eq!(status.message_count, 1);
    assert_eq!(status.model.as_deref(), Some("opus"));
    assert_eq!(status.session_short.as_ref().map(String::len), Some(8));
    assert_eq!(status.queue_len, 0);
    p.say(1, ALICE, "two");
    p.replies(2).await;
    let argv = p.cli.records()[1]["argv"].to_string();
    assert!(argv.contains("opus"), "{argv}");
}

#[actix_rt::test]
async fn model_default_after_an_override_tells_the_resumed_cli_so() {
    let p = Pipeline::start(|_| {}).await;
    p.say(1, ALICE, "one");
    p.replies(1).await;
    p.command(1, SessionCommand::SetModel(Some("haiku".into())))
        .await;
    p.say(1, ALICE, "two");
    p.replies(2).await;
    p.command(1, SessionCommand::SetModel(None)).await;
    p.say(1, ALICE, "three");
    p.replies(3).await;
    let argv: Vec<String> = p
        .cli
        .records()
        .iter()
        .map(|r| r["argv"].to_string())
        .collect();
    // A resumed CLI keeps the session's last model unless told otherwise.
    assert!(!argv[0].contains("--model"), "{}", argv[0]);
    assert!(argv[1].contains("--model=haiku"), "{}", argv[1]);
    assert!(argv[2].contains("--model=default"), "{}", argv[2]);
}

#[actix_rt::test]
async fn an_idle_session_stops_and_a_new_one_resumes_from_sqlite() {
    let p = Pipeline::start(|c| {
        c.sessions.idle_timeout = Duration::from_millis(100);
        c.claude.max_warm = 0;
    })
    .await;
    p.say(1, ALICE, "one");
    p.replies(1).await;
    let deadline = Instant::now() + LIMIT;
    while p.router.send(CountSessions).await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the session never went idle");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    p.say(1, ALICE, "two");
    p.replies(2).await;
    let records = p.cli.records();
    let stored = p.db.session(ChannelId(1)).await.unwrap().unwrap();
    assert!(resume_arg(&records[1]).is_some());
    assert_eq!(stored.message_count, 2);
}

#[actix_rt::test]
async fn worktree_sweeps_do_not_keep_an_idle_session_alive() {
    use claude_coordinator::actors::messages::{Sweep, ToSession};
    let p = Pipeline::start(|c| {
        c.sessions.idle_timeout = Duration::from_millis(300);
        c.claude.max_warm = 0;
    })
    .await;
    p.say(1, ALICE, "one");
    p.replies(1).await;
    let sweep = || ToSession {
        channel: ChannelId(1),
        project: None,
        command: SessionCommand::SweepWorktree,
    };
    let deadline = Instant::now() + LIMIT;
    // Swept six times per idle timeout; `None` reaches only a live session.
    while let Ok(reply) = p.router.send(sweep()).await.unwrap() {
        assert_eq!(reply, CommandReply::Swept(Sweep::Skipped), "no worktree");
        assert!(
            Instant::now() < deadline,
            "the sweeps kept the session alive"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(p.router.send(CountSessions).await.unwrap(), 0);
}

#[actix_rt::test]
async fn a_claude_error_is_reported_with_an_id_that_lands_in_the_database() {
    let p = Pipeline::start(|_| {}).await;
    let (id, _) = p.say(1, ALICE, "FAKE:error");
    let got = p.replies(1).await;
    let text = content(&got[0]);
    assert!(text.contains("error id"), "{text}");
    let row = wait_status(&p, id, RequestStatus::Failed).await;
    assert_eq!(row, RequestStatus::Failed);
    let row = p.db.request(id).await.unwrap().unwrap();
    let error_id = row.error_id.expect("error id stored");
    assert!(text.contains(error_id.as_str()), "{text}");
    assert_eq!(row.error_kind.as_deref(), Some("claude_error"));
}

#[actix_rt::test]
async fn a_run_past_its_timeout_is_stopped_and_reported() {
    let p = Pipeline::start(|c| c.claude.timeout = Duration::from_millis(300)).await;
    let (id, _) = p.say(1, ALICE, "FAKE:hang");
    let got = p.replies(1).await;
    assert!(content(&got[0]).contains("took too long"), "{got:?}");
    assert_eq!(
        wait_status(&p, id, RequestStatus::Timeout).await,
        RequestStatus::Timeout
    );
}

#[actix_rt::test]
async fn an_unknown_stored_session_starts_fresh_and_says_so() {
    let p = Pipeline::start(|_| {}).await;
    let stale = ClaudeSessionId::new_random();
    let project = claude_coordinator::domain::ProjectName::new("p0");
    p.db.ensure_session(ChannelId(1), &project).await.unwrap();
    p.db.set_claude_session_id(ChannelId(1), Some(stale))
        .await
        .unwrap();
    p.say(1, ALICE, "hello");
    let got = p.replies(1).await;
    assert!(content(&got[0]).contains("could not be resumed"), "{got:?}");
    let stored =
        p.db.session(ChannelId(1))
            .await
            .unwrap()
            .unwrap()
            .claude_session_id;
    assert!(stored.is_some() && stored != Some(stale));
}

#[actix_rt::test]
async fn a_long_answer_is_split_under_the_limit() {
    let p = Pipeline::start(|_| {}).await;
    let (id, message) = p.say(1, ALICE, "FAKE:long=5000");
    wait_status(&p, id, RequestStatus::Done).await;
    let events = p.rec.events();
    let posts: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Outgoing::Post { .. }) && !content(e).starts_with("⏳"))
        .collect();
    assert!(posts.len() >= 3, "{posts:?}");
    assert!(posts.iter().all(|e| content(e).chars().count() <= 2000));
    assert_eq!(reply_to(posts[0]), Some(message));
}

#[actix_rt::test]
async fn permission_denials_are_shown_after_the_answer() {
    let p = Pipeline::start(approvals_off).await;
    p.say(1, ALICE, "FAKE:deny");
    let got = p.replies(1).await;
    assert!(content(&got[0]).contains("not allowed to use"), "{got:?}");
}

fn approvals_off(config: &mut claude_coordinator::config::Config) {
    config.claude.approvals = claude_coordinator::config::Approvals::Off;
}

/// A run slow enough for status edits; returns what was sent up to the
/// status message's deletion after the answer.
async fn tools_until_the_status_is_deleted(p: &Pipeline) -> Vec<Outgoing> {
    p.say(1, ALICE, "FAKE:tools FAKE:slow=400");
    p.rec
        .wait_for(LIMIT, |e| {
            e.iter().any(|x| matches!(x, Outgoing::Delete { .. }))
        })
        .await
}

#[actix_rt::test]
async fn the_status_message_shows_tools_and_is_replaced_by_the_answer() {
    let p = Pipeline::start(|_| {}).await;
    let events = tools_until_the_status_is_deleted(&p).await;
    let edits: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Outgoing::Edit { .. }))
        .collect();
    assert!(!edits.is_empty(), "{events:?}");
    assert!(
        edits.iter().any(|e| content(e).contains("tool")),
        "{edits:?}"
    );
    let status_id = events.iter().find_map(|e| match e {
        Outgoing::Post { reply_to: None, .. } => Some(()),
        _ => None,
    });
    assert!(status_id.is_some());
    let typing_stopped_before_answer = events
        .iter()
        .filter(|e| matches!(e, Outgoing::Typing { .. }))
        .count();
    assert!(typing_stopped_before_answer >= 1);
}

#[actix_rt::test]
async fn progress_and_denials_show_project_relative_paths_never_the_host_folder() {
    let p = Pipeline::start(approvals_off).await;
    let host = p.cli.project().display().to_string();
    let events = tools_until_the_status_is_deleted(&p).await;
    assert!(events.iter().any(|e| matches!(e, Outgoing::Edit { .. })));
    p.say(2, ALICE, "FAKE:deny");
    let denied = p.replies(2).await;
    assert!(
        content(&denied[1]).contains("Write(src/x.rs)"),
        "{denied:?}"
    );
    for event in p.rec.events() {
        assert!(
            !content(&event).contains(&host),
            "a host path reached Discord: {event:?}"
        );
    }
}

#[actix_rt::test]
async fn shutdown_lets_a_short_run_finish_and_stops_a_long_one_telling_everyone() {
    use claude_coordinator::actors::messages::{Shutdown, ShutdownSummary};
    let p = Pipeline::start(|_| {}).await;
    let (short, _) = p.say(1, ALICE, "FAKE:slow=300 short");
    let (long, _) = p.say(2, ALICE, "FAKE:hang long");
    let (queued, queued_msg) = p.say(2, ALICE, "queued behind the long one");
    p.rec
        .wait_for(LIMIT, |e| {
            e.iter()
                .filter(|x| matches!(x, Outgoing::Post { reply_to: None, .. }))
                .count()
                == 2
        })
        .await;
    let summary = p
        .router
        .send(Shutdown {
            grace: Duration::from_millis(1500),
        })
        .await
        .unwrap();
    assert_eq!(
        summary,
        ShutdownSummary {
            finished: 1,
            stopped: 1,
            undelivered: 0
        }
    );
    assert_eq!(
        wait_status(&p, short, RequestStatus::Done).await,
        RequestStatus::Done
    );
    assert_eq!(
        wait_status(&p, long, RequestStatus::Interrupted).await,
        RequestStatus::Interrupted
    );
    assert_eq!(
        wait_status(&p, queued, RequestStatus::Interrupted).await,
        RequestStatus::Interrupted
    );
    let events = p.rec.events();
    let told_queued = events
        .iter()
        .any(|e| reply_to(e) == Some(queued_msg) && content(e).contains("restarting"));
    assert!(told_queued, "{events:?}");
    let told_long = replies(&events)
        .iter()
        .any(|e| content(e).contains("Stopped: the bot is restarting"));
    assert!(told_long, "{events:?}");
    assert!(
        !p.cli
            .records()
            .iter()
            .any(|r| r.to_string().contains("queued behind"))
    );

    let (late, late_msg) = p.say(1, ALICE, "after the shutdown began");
    let events = p
        .rec
        .wait_for(LIMIT, |e| e.iter().any(|x| reply_to(x) == Some(late_msg)))
        .await;
    let answer = events
        .iter()
        .find(|x| reply_to(x) == Some(late_msg))
        .unwrap();
    assert!(content(answer).contains("restarting"), "{answer:?}");
    assert!(
        p.db.request(late)
            .await
            .unwrap()
            .is_none_or(|r| r.status == RequestStatus::Interrupted)
    );
}

#[actix_rt::test]
async fn a_panicking_session_is_replaced_and_the_conversation_goes_on() {
    use claude_coordinator::actors::messages::CrashSession;
    let p = Pipeline::start(|_| {}).await;
    let (first, _) = p.say(1, ALICE, "first");
    p.replies(1).await;
    assert_eq!(
        wait_status(&p, first, RequestStatus::Done).await,
        RequestStatus::Done
    );
    let stored =
        p.db.session(ChannelId(1))
            .await
            .unwrap()
            .unwrap()
            .claude_session_id;
    let (hung, _) = p.say(1, ALICE, "FAKE:hang");
    wait_status(&p, hung, RequestStatus::Running).await;

    p.router.do_send(CrashSession(ChannelId(1)));
    let deadline = Instant::now() + LIMIT;
    while p.router.send(CountSessions).await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the session never died");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    p.say(1, ALICE, "after the crash");
    let events = p
        .rec
        .wait_for(LIMIT, |e| {
            e.iter().any(|x| content(x).contains("interrupted")) && answers(e).len() == 2
        })
        .await;
    let notice = events
        .iter()
        .find(|x| content(x).contains("interrupted"))
        .unwrap();
    assert!(content(notice).contains("error id"), "{notice:?}");
    assert_eq!(
        p.db.request(hung).await.unwrap().unwrap().status,
        RequestStatus::Interrupted
    );
    let last = p.cli.records().into_iter().last().unwrap();
    assert_eq!(resume_arg(&last), stored.map(|s| s.to_string()));
}

/// How many channels the typing actor still renews.
async fn typing_channels(p: &Pipeline) -> usize {
    use claude_coordinator::actors::messages::TypingTick;
    p.typing.send(TypingTick).await.unwrap()
}

#[actix_rt::test]
async fn typing_stops_when_a_request_ends_whatever_the_outcome() {
    let p = Pipeline::start(|_| {}).await;
    let (hung, _) = p.say(1, ALICE, "FAKE:hang");
    wait_status(&p, hung, RequestStatus::Running).await;
    assert_eq!(typing_channels(&p).await, 1, "typing while running");
    cancel(&p, ALICE, false).await;
    p.replies(1).await;
    assert_eq!(typing_channels(&p).await, 0, "after a cancel");

    p.say(1, ALICE, "FAKE:error");
    p.replies(2).await;
    assert_eq!(typing_channels(&p).await, 0, "after an error");

    p.say(1, ALICE, "fine");
    p.replies(3).await;
    assert_eq!(typing_channels(&p).await, 0, "after an answer");
}

#[actix_rt::test]
async fn an_answer_whose_turn_cannot_be_stored_is_posted_and_the_user_gets_an_error_id() {
    let p = Pipeline::start(|c| c.claude.max_warm = 0).await;
    // The store refuses to finish any request, as a full disk would.
    sqlx::query(
        "CREATE TRIGGER refuse_the_end BEFORE UPDATE OF finished_at ON requests
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    )
    .execute(p.db.pool())
    .await
    .unwrap();
    let (id, message) = p.say(1, ALICE, "FAKE:echo kept-answer-31");
    let posted = p.replies(2).await;
    assert!(content(&posted[0]).contains("kept-answer-31"), "{posted:?}");
    let notice = content(&posted[1]);
    assert_eq!(reply_to(&posted[1]), Some(message));
    assert!(
        notice.contains("could not save this turn") && notice.contains("error id"),
        "{notice}"
    );
    let row = p.db.request(id).await.unwrap().unwrap();
    assert_eq!(row.finished_at, None, "the refused write changed nothing");
    // The channel goes on: the next turn resumes the same session.
    sqlx::query("DROP TRIGGER refuse_the_end")
        .execute(p.db.pool())
        .await
        .unwrap();
    let (next, _) = p.say(1, ALICE, "FAKE:echo after the fault");
    p.replies(3).await;
    assert_eq!(
        wait_status(&p, next, RequestStatus::Done).await,
        RequestStatus::Done
    );
    let records = p.cli.records();
    assert!(resume_arg(&records[1]).is_some(), "{records:?}");
}
