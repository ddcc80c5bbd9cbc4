//! Test doubles for claude-coordinator, kept out of the shipped package:
//! a fake Discord (REST and gateway on loopback), a fake of the Anthropic
//! Messages API (for the real Claude CLI), the fake Claude CLI binary with
//! the function that finds (and builds) it, and the one that finds the
//! pinned real CLI.

pub mod fake_api;
pub mod fake_discord;
mod http;
mod real_claude;

pub use real_claude::RealClaude;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The fake CLI's path, built for the caller's profile on first use so a
/// test or bench never runs a stale one.
pub fn fake_claude() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| build_bin("fake-claude"))
}

/// Builds one of this crate's binaries with the profile the calling test
/// or bench was built with (cargo has released its lock while tests run)
/// and returns its path.
fn build_bin(name: &str) -> String {
    let dir = profile_dir();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "--bin", name, "--manifest-path"]);
    build.arg(&manifest);
    if dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
    assert!(status.success(), "cargo could not build {name}");
    dir.join(name).to_string_lossy().into_owned()
}

/// `target/<profile>`: test and bench executables live in its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no current exe: {e}"));
    let parent = exe.parent().unwrap_or(Path::new("."));
    let dir = if parent.ends_with("deps") {
        parent.parent().unwrap_or(parent)
    } else {
        parent
    };
    dir.to_path_buf()
}
