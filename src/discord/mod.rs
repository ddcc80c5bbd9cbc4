//! The serenity/poise side: the gateway client, its event handler, the
//! slash commands, and the rules for which messages reach Claude.

pub mod attachments;
pub mod client;
pub mod commands;
pub mod handler;
pub mod intake;
pub mod rest;
