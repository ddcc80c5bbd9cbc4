//! The actix actors and the typed messages between them. None of them hold
//! serenity types: they reach Discord through a `Recipient<Outgoing>`.

pub mod claude_pool;
pub mod discord;
pub mod error_reporter;
pub mod messages;
pub mod recorder;
pub mod router;
pub mod session;
pub mod typing;
