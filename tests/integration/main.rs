//! One integration test binary (one link step) with a module per area.

mod budgets;
mod claude_pool;
mod claude_runner;
mod cli;
mod contract;
mod e2e;
mod fake_discord_model;
mod fake_discord_probe;
mod helpers;
mod hostile_input;
mod layering;
mod metrics;
mod pipeline_harness;
mod session_pipeline;
mod warm_pool;
