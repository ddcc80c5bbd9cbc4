//! What the fake remembers: every REST call, the bot's messages with their
//! edits and deletions, registered commands, injected failures, and the
//! gateway session. Changes bump a watch counter so tests can await them.

use std::time::Instant;

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

/// One REST call as the fake received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Without the `/api/v10` prefix, e.g. `/channels/1/messages`.
    pub path: String,
    pub query: Option<String>,
    /// The JSON body, or the `payload_json` part of a multipart body.
    pub json: Option<Value>,
    pub files: Vec<RecordedFile>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub status: u16,
    pub at: Instant,
}

impl RecordedRequest {
    /// One line for a failure message: method, path, status and body.
    pub fn summary(&self) -> String {
        format!(
            "{} {} -> {} {:?}",
            self.method, self.path, self.status, self.json
        )
    }

    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }
}

/// A file part of a multipart upload.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedFile {
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A message the bot posted with `POST /channels/{id}/messages`, as it
/// stands after later edits and deletion.
#[derive(Clone, Debug)]
pub struct PostedMessage {
    pub id: u64,
    pub channel_id: u64,
    pub content: String,
    pub embeds: Vec<Value>,
    pub allowed_mentions: Option<Value>,
    pub message_reference: Option<Value>,
    pub attachments: Vec<RecordedFile>,
    /// Its action rows (buttons, menus) as last posted or edited.
    pub components: Vec<Value>,
    /// The nonce it was posted with, if Discord was asked to enforce it.
    pub nonce: Option<String>,
    pub edits: usize,
    pub deleted: bool,
}

/// What a test gets back from [`super::FakeDiscord::slash_command`].
#[derive(Clone, Debug)]
pub struct InteractionHandle {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    /// For a click: the message whose component it was.
    pub message_id: Option<u64>,
    /// When it was dispatched: Discord takes its first answer (the
    /// callback) only within `INTERACTION_DEADLINE` of that.
    pub created: Instant,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InteractionReplyKind {
    /// `POST /interactions/{id}/{token}/callback` with this response type
    /// (4 message, 5 deferred message, ...).
    Callback(u64),
    Followup,
    EditOriginal,
    /// `PATCH /webhooks/{app}/{token}/messages/{id}` of a follow-up.
    EditFollowup(u64),
    DeleteOriginal,
}

#[derive(Clone, Debug)]
pub struct InteractionReply {
    pub kind: InteractionReplyKind,
    /// For callbacks the `data` object; otherwise the message body.
    pub body: Value,
    pub files: Vec<RecordedFile>,
}

impl InteractionReply {
    pub fn content(&self) -> Option<&str> {
        self.body.get("content").and_then(Value::as_str)
    }
}

/// What a held request does (`FakeDiscord::hold_next`,
/// `FakeDiscord::lose_next_answer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HoldMode {
    /// Waits, not yet carried out, until released.
    UntilReleased,
    /// Is carried out (a post is created), but never answered.
    AnswerLost,
}

pub(crate) struct Hold {
    pub method: String,
    pub path_prefix: String,
    pub mode: HoldMode,
    /// Flips to true (or closes) when the test releases the request.
    pub release: tokio::sync::watch::Receiver<bool>,
    /// Set when the request arrives.
    pub reached: tokio::sync::watch::Sender<bool>,
}

pub(crate) struct Failure {
    pub method: String,
    pub path_prefix: String,
    pub status: u16,
}

pub(crate) struct Channel {
    pub id: u64,
    pub json: Value,
    pub is_thread: bool,
    pub in_guild: bool,
}

pub(crate) struct Session {
    pub id: String,
    pub tx: UnboundedSender<String>,
    pub seq: u64,
    pub intents: u64,
}

#[derive(Default)]
pub(crate) struct State {
    pub channels: Vec<Channel>,
    pub roles: Vec<Value>,
    pub members: Vec<(u64, Value)>,
    pub requests: Vec<RecordedRequest>,
    pub messages: Vec<PostedMessage>,
    pub commands: Vec<(Option<u64>, Value)>,
    pub failures: Vec<Failure>,
    pub holds: Vec<Hold>,
    /// Fails one in `n` of the bot's channel writes, cycling through the
    /// statuses (`FakeDiscord::fail_one_in`).
    pub flaky: Option<Flaky>,
    pub attachments: Vec<(String, String, Vec<u8>)>,
    pub interactions: Vec<InteractionHandle>,
    /// Interactions whose callback was taken; a second one is refused.
    pub acknowledged: Vec<u64>,
    /// Replaces `INTERACTION_DEADLINE` (`FakeDiscord::set_interaction_deadline`).
    pub interaction_deadline: Option<std::time::Duration>,
    pub identifies: Vec<Value>,
    /// The event name of every dispatch sent, oldest first.
    pub dispatched: Vec<String>,
    /// Every user message dispatched, by id, for `replay_message`.
    pub user_messages: Vec<(u64, Value)>,
    pub gateway_connections: u64,
    pub resumes: u64,
    pub session: Option<Session>,
}

impl State {
    pub fn channel(&self, id: u64) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// Sets a thread's `thread_metadata.archived`; other channels have none.
    pub fn set_archived(&mut self, id: u64, archived: bool) {
        let thread = self.channels.iter_mut().find(|c| c.id == id && c.is_thread);
        if let Some(thread) = thread {
            thread.json["thread_metadata"]["archived"] = archived.into();
        }
    }

    pub fn take_hold(&mut self, method: &str, path: &str) -> Option<Hold> {
        let index = self.holds.iter().position(|h| {
            h.method.eq_ignore_ascii_case(method) && path.starts_with(&h.path_prefix)
        })?;
        Some(self.holds.remove(index))
    }

    pub fn take_failure(&mut self, method: &str, path: &str) -> Option<u16> {
        if let Some(index) = self
            .failures
            .iter()
            .position(|f| f.method.eq_ignore_ascii_case(method) && path.starts_with(&f.path_prefix))
        {
            return Some(self.failures.remove(index).status);
        }
        let writes = method != "GET" && path.starts_with("/channels/");
        self.flaky.as_mut().filter(|_| writes).and_then(Flaky::next)
    }
}

/// One in `every` requests fails, with the next of `statuses`.
#[derive(Debug, Clone)]
pub struct Flaky {
    pub every: u64,
    pub statuses: Vec<u16>,
    pub seen: u64,
    pub failed: u64,
}

impl Flaky {
    fn next(&mut self) -> Option<u16> {
        self.seen += 1;
        if self.statuses.is_empty() || !self.seen.is_multiple_of(self.every) {
            return None;
        }
        let status = self.statuses[(self.failed as usize) % self.statuses.len()];
        self.failed += 1;
        Some(status)
    }
}

/// Splits a `multipart/form-data` body into its `payload_json` and files.
pub(crate) fn parse_multipart(
    content_type: &str,
    body: &[u8],
) -> (Option<Value>, Vec<RecordedFile>) {
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return (None, Vec::new());
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let mut payload = None;
    let mut files = Vec::new();
    for part in split(body, delimiter.as_bytes()).into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(head_end) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..head_end]).to_string();
        let content = part[head_end + 4..].to_vec();
        let field = disposition_value(&head, "name").unwrap_or_default();
        match disposition_value(&head, "filename") {
            Some(filename) => files.push(RecordedFile {
                field,
                filename,
                content_type: head.lines().find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-type:")
                        .map(|v| v.trim().to_string())
                }),
                bytes: content,
            }),
            None if field == "payload_json" => payload = serde_json::from_slice(&content).ok(),
            None => {}
        }
    }
    (payload, files)
}

fn disposition_value(head: &str, key: &str) -> Option<String> {
    let marker = format!("{key}=\"");
    let line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?;
    let start = line.find(&marker)? + marker.len();
    let end = line[start..].find('"')?;
    Some(line[start..start + end].to_string())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(pos) = find(body, delimiter) {
        parts.push(&body[..pos]);
        body = &body[pos + delimiter.len()..];
    }
    parts.push(body);
    parts.retain(|p| !p.starts_with(b"--"));
    parts
}
