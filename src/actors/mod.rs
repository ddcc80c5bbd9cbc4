//! The actix actors of the core and the typed messages between them. None
//! of them know serenity: they reach Discord through a `Recipient<Outgoing>`
//! and take requests as plain data.

pub mod claude_pool;
pub mod error_reporter;
pub mod graph;
pub mod messages;
#[cfg(any(test, feature = "testing"))]
pub mod recorder;
pub mod reloader;
pub mod router;
pub mod session;
pub mod sweeper;
pub mod typing;
