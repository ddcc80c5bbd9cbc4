//! What the serenity side hands the Discord actor: gateway messages as
//! plain data, the connection once it is ready, and the daemon's own
//! notices and shutdown word. The actors below never see these.

use crate::domain::{ChannelId, GuildId, MessageId, RoleId, UserId};
use actix::Message;

/// A file on a Discord message, before it is downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAttachment {
    pub filename: String,
    pub size: u64,
    pub url: String,
    pub content_type: Option<String>,
}

/// A guild message as the gateway delivered it, as plain data, for the
/// Discord actor to judge (`intake::decide`) and turn into a `Request`.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct GatewayMessage {
    pub id: MessageId,
    pub channel: ChannelId,
    /// Set when `channel` is a thread: the channel it lives under.
    pub parent: Option<ChannelId>,
    /// The thread's name, with `parent`.
    pub thread_name: Option<String>,
    pub guild: Option<GuildId>,
    pub author: UserId,
    pub author_is_bot: bool,
    pub roles: Vec<RoleId>,
    pub mentions_bot: bool,
    pub content: String,
    pub attachments: Vec<GatewayAttachment>,
}

/// The serenity client is connected: the REST handle and who the bot is.
#[derive(Clone, Message)]
#[rtype(result = "()")]
pub struct Connected {
    pub http: std::sync::Arc<serenity::http::Http>,
    pub bot: UserId,
}

/// A message of the daemon's own, sent once the gateway is ready (restart
/// recovery uses it before Discord is connected): a notice, or the close of
/// a prompt a restart left open. Nobody awaits it.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Announce(pub crate::actors::messages::Outgoing);

/// The daemon is stopping: answer new messages with a "restarting" reply.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct BeginShutdown;
