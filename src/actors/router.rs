//! SessionRouter: finds or starts the SessionActor of a channel or thread
//! and hands it requests and commands, numbered so that an idle session is
//! stopped only when nothing reached it after it went quiet. While
//! requests come in and sessions stop it gives freed heap pages back to
//! the kernel, at most once per `RELEASE_EVERY`.
//!
//! Handles: `Request`, `ToSession`, `SessionIdle`, `CountSessions`,
//! `ProjectsRemoved` (passed to every session), `Shutdown`, and (for
//! tests) `CrashSession`.

use super::messages::{
    CommandReply, CountSessions, Drain, ProjectsRemoved, Request, Routed, SessionIdle,
    SessionUnavailable, Shutdown, ShutdownSummary, StopForShutdown, StopSession, ToSession,
};
#[cfg(any(test, feature = "testing"))]
use super::messages::{Crash, CrashSession};
use super::session::{SessionActor, SessionDeps};
use crate::domain::{ChannelId, ProjectName};
use crate::memory;
use actix::prelude::*;
use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::sync::Arc;
use std::time::Duration;

/// How long after the first request or stopped session a release runs;
/// later ones in that window share it. Short, so that RSS follows the
/// sessions down within seconds.
const RELEASE_EVERY: Duration = Duration::from_secs(2);

struct Entry {
    addr: Addr<SessionActor>,
    /// The number of the last message sent to it.
    seq: u64,
}

pub struct SessionRouter {
    deps: Arc<SessionDeps>,
    sessions: HashMap<ChannelId, Entry>,
    release_pending: bool,
}

impl SessionRouter {
    pub fn new(deps: Arc<SessionDeps>) -> Self {
        Self {
            deps,
            sessions: HashMap::new(),
            release_pending: false,
        }
    }

    /// Requests leave parsed events, CLI output and rows behind between
    /// long-lived sessions, and a stopped session frees its own; glibc
    /// keeps those pages until asked. Asking costs a few milliseconds, so
    /// it runs once per window and on a blocking thread.
    fn release_memory_soon(&mut self, ctx: &mut Context<Self>) {
        if self.release_pending {
            return;
        }
        self.release_pending = true;
        ctx.run_later(RELEASE_EVERY, |router, _| {
            router.release_pending = false;
            tokio::task::spawn_blocking(|| {
                let started = std::time::Instant::now();
                let released = memory::release_free();
                tracing::debug!(
                    released,
                    micros = started.elapsed().as_micros() as u64,
                    "gave free heap pages back"
                );
            });
        });
    }

    /// The channel's session, started if needed, and the next number to use.
    fn route(
        &mut self,
        channel: ChannelId,
        project: &ProjectName,
        ctx: &mut Context<Self>,
    ) -> (Addr<SessionActor>, u64) {
        let entry = match self.sessions.entry(channel) {
            MapEntry::Occupied(e) => e.into_mut(),
            MapEntry::Vacant(e) => e.insert(Entry {
                addr: start_session(channel, project, &self.deps, ctx),
                seq: 0,
            }),
        };
        // A session that panicked is gone; a new one takes over from SQLite.
        if !entry.addr.connected() {
            tracing::error!(
                channel_id = channel.get(),
                "session actor died; starting a new one"
            );
            entry.addr = start_session(channel, project, &self.deps, ctx);
        }
        entry.seq += 1;
        let routed = (entry.addr.clone(), entry.seq);
        self.deps.metrics.set_sessions(self.sessions.len());
        routed
    }
}

impl SessionRouter {
    /// The channel's session if it is alive, and the next number to use.
    fn alive(&mut self, channel: ChannelId) -> Option<(Addr<SessionActor>, u64)> {
        let entry = self
            .sessions
            .get_mut(&channel)
            .filter(|e| e.addr.connected())?;
        entry.seq += 1;
        Some((entry.addr.clone(), entry.seq))
    }
}

fn start_session(
    channel: ChannelId,
    project: &ProjectName,
    deps: &Arc<SessionDeps>,
    ctx: &mut Context<SessionRouter>,
) -> Addr<SessionActor> {
    let router = ctx.address().recipient();
    SessionActor::new(channel, project.clone(), deps.clone(), router).start()
}

impl Actor for SessionRouter {
    type Context = Context<Self>;
}

impl Handler<Request> for SessionRouter {
    type Result = ();

    fn handle(&mut self, request: Request, ctx: &mut Self::Context) {
        let (addr, seq) = self.route(request.channel, &request.project, ctx);
        addr.do_send(Routed {
            seq,
            inner: request,
        });
        self.release_memory_soon(ctx);
    }
}

impl Handler<ToSession> for SessionRouter {
    type Result = ResponseFuture<Result<CommandReply, SessionUnavailable>>;

    fn handle(&mut self, msg: ToSession, ctx: &mut Self::Context) -> Self::Result {
        let routed = match &msg.project {
            Some(project) => Some(self.route(msg.channel, project, ctx)),
            None => self.alive(msg.channel),
        };
        let Some((addr, seq)) = routed else {
            return Box::pin(async { Err(SessionUnavailable) });
        };
        let command = msg.command;
        Box::pin(async move {
            addr.send(Routed {
                seq,
                inner: command,
            })
            .await
            .map_err(|_| SessionUnavailable)
        })
    }
}

impl Handler<SessionIdle> for SessionRouter {
    type Result = ();

    fn handle(&mut self, idle: SessionIdle, ctx: &mut Self::Context) {
        let current = self
            .sessions
            .get(&idle.channel)
            .is_some_and(|e| e.seq == idle.seq);
        if current && let Some(entry) = self.sessions.remove(&idle.channel) {
            entry.addr.do_send(StopSession);
            self.deps.metrics.set_sessions(self.sessions.len());
            self.release_memory_soon(ctx);
        }
    }
}

#[cfg(any(test, feature = "testing"))]
impl Handler<CrashSession> for SessionRouter {
    type Result = ();

    fn handle(&mut self, CrashSession(channel): CrashSession, _: &mut Self::Context) {
        if let Some(entry) = self.sessions.get(&channel) {
            entry.addr.do_send(Crash);
        }
    }
}

impl Handler<ProjectsRemoved> for SessionRouter {
    type Result = ();

    fn handle(&mut self, removed: ProjectsRemoved, _: &mut Self::Context) {
        for entry in self.sessions.values() {
            entry.addr.do_send(removed.clone());
        }
    }
}

impl Handler<CountSessions> for SessionRouter {
    type Result = usize;

    /// Counts live sessions; one that panicked no longer counts.
    fn handle(&mut self, _: CountSessions, _: &mut Self::Context) -> usize {
        self.sessions
            .values()
            .filter(|e| e.addr.connected())
            .count()
    }
}

impl Handler<Shutdown> for SessionRouter {
    type Result = ResponseFuture<ShutdownSummary>;

    fn handle(&mut self, Shutdown { grace }: Shutdown, _: &mut Self::Context) -> Self::Result {
        let sessions: Vec<Addr<SessionActor>> =
            self.sessions.values().map(|e| e.addr.clone()).collect();
        Box::pin(shut_down(sessions, grace))
    }
}

/// Drains every session: each gets `grace` to finish its run and deliver
/// its posts; then running requests are stopped and get `STOP_WAIT` to
/// end and say so. Posts still pending after that are given up.
async fn shut_down(sessions: Vec<Addr<SessionActor>>, grace: Duration) -> ShutdownSummary {
    let deadline = tokio::time::Instant::now() + grace;
    let mut waiting = Vec::new();
    for addr in sessions {
        // Answered at once (no session awaits Discord), but bounded.
        if let Ok(Ok(Some(draining))) = tokio::time::timeout_at(deadline, addr.send(Drain)).await {
            waiting.push((addr, draining));
        }
    }
    let mut summary = ShutdownSummary::default();
    let mut late = Vec::new();
    for (addr, mut draining) in waiting {
        match tokio::time::timeout_at(deadline, &mut draining.done).await {
            Ok(_) => summary.finished += usize::from(draining.running),
            Err(_) => late.push((addr, draining.done)),
        }
    }
    let mut stopping = Vec::new();
    for (addr, done) in late {
        if addr.send(StopForShutdown).await.unwrap_or(false) {
            summary.stopped += 1;
            stopping.push(done);
        } else {
            summary.undelivered += 1;
        }
    }
    let deadline = tokio::time::Instant::now() + STOP_WAIT;
    for done in stopping {
        if tokio::time::timeout_at(deadline, done).await.is_err() {
            summary.undelivered += 1;
        }
    }
    summary
}

/// How long a stopped run may take to be killed, reported and told.
const STOP_WAIT: Duration = Duration::from_secs(15);
