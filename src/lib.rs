//! claude-coordinator: runs the Claude Code CLI from Discord, one Claude
//! session per channel, each channel mapped to a project folder.

#![warn(clippy::too_many_lines)]

pub mod actors;
pub mod app;
pub mod claude;
pub mod cli;
pub mod config;
pub mod db;
pub mod discord;
pub mod domain;
pub mod format;
pub mod memory;
pub mod telemetry;
