//! WorktreeSweeper: every `[sessions] worktree_sweep_secs` (the first time
//! within a minute of starting), asks the session of each thread that has a
//! worktree, in projects with `thread_worktrees`, to look its thread up
//! (`SessionCommand::SweepWorktree`). A thread archived or deleted loses
//! its worktree and branch when nothing in them would be lost. A kept one
//! is told once, in the project's channel: a post into an archived thread
//! would unarchive it, and a deleted one takes none. Threads are swept one
//! at a time, so a sweep costs one REST call in flight.
//!
//! Runs on its own timer. Handles `StopSweeping`, after which no further
//! thread is swept.

use super::messages::{
    CommandReply, Outgoing, SessionCommand, StopSweeping, Sweep, ThreadIs, ToSession, WorktreeReply,
};
use crate::config::SharedConfig;
use crate::domain::{ChannelId, ProjectName};
use crate::worktree;
use actix::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

const FIRST_SWEEP_WITHIN: Duration = Duration::from_secs(60);

pub struct WorktreeSweeper {
    config: SharedConfig,
    sessions: Recipient<ToSession>,
    discord: Recipient<Outgoing>,
    /// Threads whose kept worktree the project's channel was told of.
    told: HashSet<ChannelId>,
}

impl WorktreeSweeper {
    pub fn new(
        config: SharedConfig,
        sessions: Recipient<ToSession>,
        discord: Recipient<Outgoing>,
    ) -> Self {
        Self {
            config,
            sessions,
            discord,
            told: HashSet::new(),
        }
    }

    fn sweep_after(&self, after: Duration, ctx: &mut Context<Self>) {
        ctx.run_later(after, |act, ctx| act.sweep(ctx));
    }

    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let config = self.config.current();
        let projects: Vec<_> = config
            .projects
            .iter()
            .filter(|p| p.thread_worktrees)
            .map(|p| (p.name.clone(), p.channel_id, p.path.clone()))
            .collect();
        let (sessions, discord) = (self.sessions.clone(), self.discord.clone());
        let told = std::mem::take(&mut self.told);
        let work = async move {
            let mut sweep = Sweeping {
                sessions,
                discord,
                told,
            };
            for (name, channel, path) in projects {
                sweep.project(&name, channel, path).await;
            }
            sweep.told
        };
        // Spawned, not waited on, so that `StopSweeping` is taken at once.
        ctx.spawn(work.into_actor(self).map(|told, act, ctx| {
            act.told = told;
            let every = act.config.current().sessions.worktree_sweep;
            act.sweep_after(every, ctx);
        }));
    }
}

impl Actor for WorktreeSweeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let every = self.config.current().sessions.worktree_sweep;
        self.sweep_after(every.min(FIRST_SWEEP_WITHIN), ctx);
    }
}

impl Handler<StopSweeping> for WorktreeSweeper {
    type Result = ();

    fn handle(&mut self, _: StopSweeping, ctx: &mut Self::Context) {
        // Drops a sweep in progress between two threads.
        ctx.stop();
    }
}

/// One sweep's work, off the actor.
struct Sweeping {
    sessions: Recipient<ToSession>,
    discord: Recipient<Outgoing>,
    told: HashSet<ChannelId>,
}

impl Sweeping {
    async fn project(&mut self, name: &ProjectName, channel: ChannelId, path: PathBuf) {
        for thread in worktree::listed(&path).await {
            let ask = ToSession {
                channel: thread,
                project: Some(name.clone()),
                command: SessionCommand::SweepWorktree,
            };
            if let Ok(Ok(CommandReply::Swept(sweep))) = self.sessions.send(ask).await {
                self.found(channel, thread, sweep).await;
            }
        }
    }

    async fn found(&mut self, channel: ChannelId, thread: ChannelId, sweep: Sweep) {
        let Sweep::Closed {
            thread: state,
            removal,
        } = sweep
        else {
            return;
        };
        let WorktreeReply::Kept { branch, why } = removal else {
            self.told.remove(&thread);
            return;
        };
        if self.told.contains(&thread) {
            return;
        }
        let post = Outgoing::Post {
            channel,
            content: kept_notice(thread, state, &branch, &why),
            reply_to: None,
            attachment: None,
            notify: false,
        };
        let refused = match self.discord.send(post).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        let channel_id = channel.get();
        match refused {
            None => {
                tracing::warn!(channel_id, thread_id = thread.get(), %branch, why, "a closed thread's worktree was kept; its project's channel was told");
                self.told.insert(thread);
            }
            Some(error) => {
                tracing::warn!(
                    channel_id,
                    error,
                    "cannot tell of a kept worktree; the next sweep tries again"
                );
            }
        }
    }
}

/// The project channel's notice of a closed thread's kept worktree. Names
/// the branch, never the host's path.
fn kept_notice(thread: ChannelId, state: ThreadIs, branch: &str, why: &str) -> String {
    let (what, next) = match state {
        ThreadIs::Gone => (
            "was deleted",
            "It stays on the host until an operator removes it.",
        ),
        _ => (
            "was archived",
            "Reopen the thread and use `/worktree remove` once the work is saved.",
        ),
    };
    format!(
        "🌿 Thread <#{thread}> {what}, but its worktree (branch `{branch}`) was kept: {why}. {next}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::messages::{OutgoingError, SessionUnavailable};
    use crate::config::Config;
    use crate::domain::MessageId;
    use tokio::sync::{mpsc, oneshot};

    /// Stands in for the router: reports each thread asked about and
    /// answers the first only once `release` fires.
    struct Sessions {
        asked: mpsc::UnboundedSender<ChannelId>,
        release: Option<oneshot::Receiver<()>>,
    }

    impl Actor for Sessions {
        type Context = Context<Self>;
    }

    impl Handler<ToSession> for Sessions {
        type Result = ResponseFuture<Result<CommandReply, SessionUnavailable>>;

        fn handle(&mut self, msg: ToSession, _: &mut Self::Context) -> Self::Result {
            let _ = self.asked.send(msg.channel);
            let release = self.release.take();
            Box::pin(async move {
                if let Some(release) = release {
                    let _ = release.await;
                }
                Ok(CommandReply::Swept(Sweep::Skipped))
            })
        }
    }

    struct Nowhere;

    impl Actor for Nowhere {
        type Context = Context<Self>;
    }

    impl Handler<Outgoing> for Nowhere {
        type Result = Result<Option<MessageId>, OutgoingError>;

        fn handle(&mut self, _: Outgoing, _: &mut Self::Context) -> Self::Result {
            Ok(None)
        }
    }

    /// A project with thread_worktrees whose worktrees folder holds the
    /// folders of threads 11 and 12 (a sweep only lists them).
    fn config(dir: &std::path::Path) -> Config {
        let project = dir.join("shop");
        std::fs::create_dir_all(project.join(".git")).unwrap();
        for thread in ["11", "12"] {
            std::fs::create_dir_all(project.join(worktree::WORKTREES_DIR).join(thread)).unwrap();
        }
        let text = format!(
            "[discord]\nallowed_users = [\"1\"]\n\n[[projects]]\nname = \"shop\"\n\
             channel_id = \"5\"\npath = '{}'\nthread_worktrees = true\n",
            project.display()
        );
        let mut config = Config::from_toml_str(&text, &dir.join("c.toml")).unwrap();
        config.sessions.worktree_sweep = Duration::from_millis(10);
        config
    }

    #[actix_rt::test]
    async fn once_told_to_stop_a_sweep_asks_about_no_further_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (asked, mut seen) = mpsc::unbounded_channel();
        let (release, held) = oneshot::channel();
        let sessions = Sessions {
            asked,
            release: Some(held),
        }
        .start();
        let sweeper = WorktreeSweeper::new(
            config(dir.path()).into(),
            sessions.recipient(),
            Nowhere.start().recipient(),
        )
        .start();
        assert_eq!(seen.recv().await, Some(ChannelId(11)));
        sweeper.send(StopSweeping).await.unwrap();
        let _ = release.send(());
        assert_eq!(seen.recv().await, None, "thread 12 was not asked about");
    }

    #[test]
    fn the_notice_names_the_thread_branch_and_reason_but_no_path() {
        let archived = kept_notice(
            ChannelId(7),
            ThreadIs::Archived,
            "thread/x-7",
            "1 file(s) have uncommitted changes",
        );
        assert!(archived.contains("<#7> was archived"), "{archived}");
        assert!(archived.contains("`thread/x-7`"), "{archived}");
        assert!(archived.contains("uncommitted"), "{archived}");
        assert!(archived.contains("/worktree remove"), "{archived}");
        let gone = kept_notice(ChannelId(7), ThreadIs::Gone, "thread/x-7", "why");
        assert!(gone.contains("was deleted"), "{gone}");
        assert!(!gone.contains("/worktree"), "the thread is gone: {gone}");
    }
}
