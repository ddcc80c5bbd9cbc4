//! A faithful fake Discord on loopback: REST (`/api/v10/...`) and a gateway
//! websocket that the real serenity client talks to. One per test; nothing
//! leaves 127.0.0.1. Tests drive it (user messages, slash commands, injected
//! errors) and read back what the bot did.

mod gateway;
mod http;
pub mod model;
mod recorder;
mod rest;
mod scripted;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use recorder::{
    InteractionHandle, InteractionReply, InteractionReplyKind, PostedMessage, RecordedFile,
    RecordedRequest,
};
pub use scripted::{
    FakeAttachment, MANAGE_MESSAGES, MEMBER_PERMISSIONS, SlashCommand, UserMessage,
};

pub const BOT_USERNAME: &str = "claude-bot";
/// The token the fake accepts; pass it to `HttpBuilder::new`.
pub const TOKEN: &str = "fake-bot-token.for-tests-only";
/// How long Discord waits for an interaction's first answer.
pub const INTERACTION_DEADLINE: Duration = Duration::from_secs(3);

pub(crate) struct Shared {
    pub bot_user_id: u64,
    pub application_id: u64,
    pub guild_id: u64,
    pub api_base: String,
    pub gateway_url: String,
    state: Mutex<recorder::State>,
    changes: watch::Sender<u64>,
    next_id: AtomicU64,
}

impl Shared {
    /// The state, and a bump of the change counter when the guard drops.
    pub fn state(&self) -> StateGuard<'_> {
        StateGuard {
            guard: self.state.lock().unwrap_or_else(|e| e.into_inner()),
            changes: &self.changes,
        }
    }

    /// The state for reading; no change is signalled.
    pub fn read(&self) -> MutexGuard<'_, recorder::State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn snowflake(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn bot_user(&self) -> Value {
        model::user(self.bot_user_id, BOT_USERNAME, true)
    }
}

pub(crate) struct StateGuard<'a> {
    guard: MutexGuard<'a, recorder::State>,
    changes: &'a watch::Sender<u64>,
}

impl std::ops::Deref for StateGuard<'_> {
    type Target = recorder::State;
    fn deref(&self) -> &Self::Target {
        &self.guard
    }
}

impl std::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.guard
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        self.changes.send_modify(|n| *n += 1);
    }
}

/// A request the fake holds back (`FakeDiscord::hold_next`).
pub struct Held {
    release: watch::Sender<bool>,
    reached: watch::Receiver<bool>,
}

impl Held {
    /// Waits until the held request has arrived; panics after `limit`.
    pub async fn reached(&mut self, limit: Duration) {
        let arrived = tokio::time::timeout(limit, self.reached.wait_for(|r| *r)).await;
        assert!(
            matches!(arrived, Ok(Ok(_))),
            "fake Discord: the request to hold did not come within {limit:?}"
        );
    }

    /// Lets a `hold_next` request go on.
    pub fn release(&self) {
        self.release.send_replace(true);
    }
}

pub struct FakeDiscord {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let rest = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake REST port");
        let ws = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake gateway port");
        let rest_addr = rest.local_addr().expect("REST address");
        let ws_addr = ws.local_addr().expect("gateway address");
        let first_id = (now_ms().saturating_sub(model::DISCORD_EPOCH_MS)) << 22;
        let shared = Arc::new(Shared {
            bot_user_id: first_id,
            application_id: first_id + 1,
            guild_id: first_id + 2,
            api_base: format!("http://{rest_addr}"),
            gateway_url: format!("ws://{ws_addr}"),
            state: Mutex::new(recorder::State::default()),
            changes: watch::channel(0).0,
            next_id: AtomicU64::new(first_id + 3),
        });
        shared.state().roles.push(model::role(
            shared.guild_id,
            "@everyone",
            0,
            EVERYONE_PERMISSIONS,
        ));
        let tasks = vec![
            rest::serve(rest, Arc::clone(&shared)),
            gateway::serve(ws, Arc::clone(&shared)),
        ];
        FakeDiscord { shared, tasks }
    }

    /// What `DISCORD_API_BASE` is set to; serenity appends `/api/v10/...`.
    pub fn api_base(&self) -> String {
        self.shared.api_base.clone()
    }

    pub fn token(&self) -> &'static str {
        TOKEN
    }

    pub fn bot_user_id(&self) -> u64 {
        self.shared.bot_user_id
    }

    pub fn application_id(&self) -> u64 {
        self.shared.application_id
    }

    pub fn guild_id(&self) -> u64 {
        self.shared.guild_id
    }

    /// A fresh snowflake, for channel, user and role ids in tests.
    pub fn new_id(&self) -> u64 {
        self.shared.snowflake()
    }

    /// A guild text channel. Add channels before `wait_ready` so GUILD_CREATE
    /// carries them (sent only if the client asked for the GUILDS intent).
    pub fn add_channel(&self, id: u64, name: &str) {
        let mut state = self.shared.state();
        let position = state.channels.len() as u16;
        let json = model::text_channel(id, self.shared.guild_id, name, position);
        state.channels.push(recorder::Channel {
            id,
            json,
            is_thread: false,
            in_guild: true,
        });
    }

    /// A public thread (type 11) under `parent`.
    pub fn add_thread(&self, id: u64, parent: u64) {
        let json = model::public_thread(
            id,
            self.shared.guild_id,
            parent,
            self.shared.bot_user_id,
            &format!("thread-{id}"),
        );
        self.shared.state().channels.push(recorder::Channel {
            id,
            json,
            is_thread: true,
            in_guild: true,
        });
    }

    /// Archives a thread, as its auto-archive or a moderator would. A post
    /// in it unarchives it again, as on Discord.
    pub fn archive_thread(&self, id: u64) {
        self.shared.state().set_archived(id, true);
    }

    pub fn is_archived(&self, id: u64) -> bool {
        let state = self.shared.read();
        let channel = state.channel(id).expect("a thread the fake knows");
        channel.json["thread_metadata"]["archived"] == true
    }

    /// Deletes a channel or thread: from now on it is Unknown Channel (404).
    pub fn delete_channel(&self, id: u64) {
        self.shared.state().channels.retain(|c| c.id != id);
    }

    /// A guild role (members can carry it in `roles`).
    pub fn add_role(&self, id: u64, name: &str) {
        let mut state = self.shared.state();
        let position = state.roles.len() as u16;
        state.roles.push(model::role(id, name, position, 0));
    }

    /// Until the client IDENTIFYed and was sent READY (and GUILD_CREATE, if
    /// it asked for the GUILDS intent).
    pub async fn wait_ready(&self, limit: Duration) {
        self.wait_until(limit, "the client to IDENTIFY and get READY", live_session)
            .await;
    }

    /// Until a client is connected (up to 10 s), as Discord would hold an
    /// event for a session that is resuming.
    pub(crate) async fn wait_for_session(&self, what: &str) {
        self.wait_until(Duration::from_secs(10), what, live_session)
            .await;
    }

    /// Every IDENTIFY payload (`d`) received, the token included.
    pub fn identifies(&self) -> Vec<Value> {
        self.shared.read().identifies.clone()
    }

    /// The event name (`t`) of every dispatch sent, oldest first.
    pub fn dispatched(&self) -> Vec<String> {
        self.shared.read().dispatched.clone()
    }

    pub fn gateway_connections(&self) -> u64 {
        self.shared.read().gateway_connections
    }

    /// How many RESUME (op 6) payloads the gateway received.
    pub fn resumes(&self) -> u64 {
        self.shared.read().resumes
    }

    /// Asks the client to reconnect (op 7), as Discord does before it moves a
    /// session; serenity then opens a new connection and RESUMEs.
    /// Sends a text frame as it is on the live session (e.g. JSON with a
    /// lone `\ud800` escape, which serenity cannot parse).
    pub fn send_text_frame(&self, text: &str) {
        let sent = gateway::send_text(&self.shared, text);
        assert!(sent, "fake Discord: no live gateway session for a frame");
    }

    pub fn request_reconnect(&self) {
        let sent = gateway::send_raw(
            &self.shared,
            &model::gateway_payload(7, Value::Null, None, None),
        );
        assert!(
            sent,
            "fake Discord: no live gateway session to ask to reconnect"
        );
    }

    /// Sends a dispatch event (op 0) on the live gateway session; returns its sequence number.
    pub async fn dispatch(&self, event: &str, data: Value) -> u64 {
        self.wait_for_session("a gateway session to dispatch on")
            .await;
        gateway::dispatch(&self.shared, event, data).expect("a live gateway session")
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.read().requests.clone()
    }

    /// Shows `visit` the requests recorded since the first `from`, without
    /// copying them; returns how many are recorded now. For callers that
    /// poll while load runs, where cloning every request each time would
    /// compete with the program under test.
    pub fn visit_requests(&self, from: usize, mut visit: impl FnMut(&RecordedRequest)) -> usize {
        let state = self.shared.read();
        state.requests.iter().skip(from).for_each(&mut visit);
        state.requests.len()
    }

    /// Awaits a change to the recorded requests until `pred` holds; panics
    /// with everything recorded when `limit` passes.
    pub async fn wait_for(
        &self,
        limit: Duration,
        pred: impl Fn(&[RecordedRequest]) -> bool,
    ) -> Vec<RecordedRequest> {
        self.try_wait_for(limit, pred)
            .await
            .unwrap_or_else(|requests| {
                let summary: Vec<String> = requests.iter().map(RecordedRequest::summary).collect();
                panic!("fake Discord: condition not met within {limit:?}; requests: {summary:#?}");
            })
    }

    /// As `wait_for`, but a timeout returns what was recorded, for a caller
    /// that has more to say about what did not happen.
    pub async fn try_wait_for(
        &self,
        limit: Duration,
        pred: impl Fn(&[RecordedRequest]) -> bool,
    ) -> Result<Vec<RecordedRequest>, Vec<RecordedRequest>> {
        let mut changes = self.shared.changes.subscribe();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let requests = self.requests();
            if pred(&requests) {
                return Ok(requests);
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .is_err()
            {
                return Err(requests);
            }
        }
    }

    /// The download address of every attachment the fake hosts, oldest
    /// first: for a client that fetches them as the bot would.
    pub fn attachment_urls(&self) -> Vec<String> {
        let state = self.shared.read();
        let base = &self.shared.api_base;
        state
            .attachments
            .iter()
            .map(|(path, _, _)| format!("{base}{path}"))
            .collect()
    }

    pub fn posted_messages(&self, channel: u64) -> Vec<PostedMessage> {
        self.shared
            .read()
            .messages
            .iter()
            .filter(|m| m.channel_id == channel)
            .cloned()
            .collect()
    }

    pub fn typing_count(&self, channel: u64) -> usize {
        let path = format!("/channels/{channel}/typing");
        self.shared
            .read()
            .requests
            .iter()
            .filter(|r| r.is("POST", &path) && r.status == 204)
            .count()
    }

    pub fn registered_commands(&self) -> Vec<(Option<u64>, Value)> {
        self.shared.read().commands.clone()
    }

    /// The replies to one interaction: callbacks, follow-ups and edits, in order.
    pub fn interaction_replies(&self, handle: &InteractionHandle) -> Vec<InteractionReply> {
        rest::interaction_replies(
            &self.shared.read().requests,
            self.shared.application_id,
            handle,
        )
    }

    /// Shortens (or lengthens) the time an interaction's first answer must
    /// come in, so a test of a late one need not wait 3 s.
    pub fn set_interaction_deadline(&self, deadline: Duration) {
        self.shared.state().interaction_deadline = Some(deadline);
    }

    /// The next `method` request whose path starts with `path_prefix` (without
    /// `/api/v10`) is answered with `status` and Discord's error JSON for it.
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16) {
        self.shared.state().failures.push(recorder::Failure {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            status,
        });
    }

    /// The next `method` request whose path starts with `path_prefix`
    /// (without `/api/v10`) waits, unanswered and not yet carried out,
    /// until the returned handle is released or dropped.
    pub fn hold_next(&self, method: &str, path_prefix: &str) -> Held {
        self.hold(method, path_prefix, recorder::HoldMode::UntilReleased)
    }

    /// The next matching request is carried out (a post is created), but
    /// its answer never comes, as when a response is lost on the way.
    pub fn lose_next_answer(&self, method: &str, path_prefix: &str) -> Held {
        self.hold(method, path_prefix, recorder::HoldMode::AnswerLost)
    }

    fn hold(&self, method: &str, path_prefix: &str, mode: recorder::HoldMode) -> Held {
        let (release, released) = watch::channel(false);
        let (reached_tx, reached) = watch::channel(false);
        self.shared.state().holds.push(recorder::Hold {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            mode,
            release: released,
            reached: reached_tx,
        });
        Held { release, reached }
    }

    /// From now on one in `every` of the bot's channel writes (posts,
    /// edits, deletes, typing) fails once, with 429, 500, 502 and 503 in
    /// turn; returns nothing, `flaky_failures` says how many failed.
    pub fn fail_one_in(&self, every: u64) {
        self.shared.state().flaky = Some(recorder::Flaky {
            every: every.max(1),
            statuses: vec![429, 500, 502, 503],
            seen: 0,
            failed: 0,
        });
    }

    /// How many requests `fail_one_in` has failed so far.
    pub fn flaky_failures(&self) -> u64 {
        self.shared.read().flaky.as_ref().map_or(0, |f| f.failed)
    }

    pub async fn shutdown(self) {
        gateway::close_session(&self.shared);
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            let _ = task.await;
        }
    }

    async fn wait_until(
        &self,
        limit: Duration,
        what: &str,
        pred: impl Fn(&recorder::State) -> bool,
    ) {
        let mut changes = self.shared.changes.subscribe();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if pred(&self.shared.read()) {
                return;
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .is_err()
            {
                let requests: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
                    .collect();
                panic!("fake Discord: waited {limit:?} for {what}; requests: {requests:#?}");
            }
        }
    }
}

/// VIEW_CHANNEL, SEND_MESSAGES, READ_MESSAGE_HISTORY, ATTACH_FILES,
/// SEND_MESSAGES_IN_THREADS, USE_APPLICATION_COMMANDS.
const EVERYONE_PERMISSIONS: u64 =
    (1 << 10) | (1 << 11) | (1 << 16) | (1 << 15) | (1 << 38) | (1 << 31);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(model::DISCORD_EPOCH_MS)
}

fn live_session(state: &recorder::State) -> bool {
    state.session.as_ref().is_some_and(|s| !s.tx.is_closed())
}
