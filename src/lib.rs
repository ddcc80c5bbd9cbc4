//! claude-coordinator: runs the Claude Code CLI from Discord, one Claude
//! session per channel, each channel mapped to a project folder.
//!
//! # Layout
//!
//! Top to bottom; each module uses only those below it (a test keeps it
//! so), and docs/ARCHITECTURE.md draws the arrows.
//!
//! - `cli`: the command line (`run`, `check`, `sessions`).
//! - `app`: the daemon's life: logging, the store, the actors, the Discord
//!   client, and `serve` until its shutdown future completes.
//! - `discord`: the serenity/poise face: the client, the Discord actor,
//!   slash commands, the intake rules, attachments.
//! - `actors`: the core: session router, one session per channel, the
//!   Claude worker pool, typing, the error reporter, and `graph`, the one
//!   place they are wired.
//! - `claude`: runs the Claude Code CLI and reads its stream-json.
//! - `db`: the SQLite store, a `Db` with queries grouped by table.
//! - `format`: answers cut to fit Discord, and progress lines.
//! - `config`: the environment and `coordinator.toml`, validated.
//! - `telemetry`: bunyan JSON logs and their filter.
//! - `memory`: keeps resident memory near the live heap.
//! - `worktree`: a git worktree per thread (`thread_worktrees`).
//! - `domain`: newtypes every layer shares.

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
pub mod worktree;
