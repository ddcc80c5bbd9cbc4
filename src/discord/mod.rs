//! The serenity/poise face: the gateway client and its event handler, the
//! Discord actor (inbound messages in, `Outgoing` posts out), the slash
//! commands, the rules for which messages reach Claude, and the one place
//! serenity's ids become the domain's.

pub mod actor;
pub mod attachments;
mod clicks;
pub mod client;
pub mod commands;
pub mod handler;
mod ids;
mod inbound;
pub mod intake;
pub mod messages;
pub mod rest;
mod retry;
