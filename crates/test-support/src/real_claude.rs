//! Where the real Claude Code CLI for the contract tests is: the binary
//! named by `CLAUDE_REAL_BIN`, else the native binary of the version pinned
//! in `tests/real-cli/package.json` (installed there by `npm ci`).

use std::path::{Path, PathBuf};

/// The pinned install, relative to the workspace root.
pub const PINNED_DIR: &str = "tests/real-cli";

/// The real CLI binary's path and whether something is there.
#[derive(Clone, Debug)]
pub struct RealClaude {
    path: PathBuf,
}

impl RealClaude {
    /// `CLAUDE_REAL_BIN` if set, else the pinned install's native binary.
    pub fn locate() -> Self {
        let path = std::env::var_os("CLAUDE_REAL_BIN").map_or_else(pinned_binary, PathBuf::from);
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file is there; whether it runs is for the tests to find out.
    pub fn is_installed(&self) -> bool {
        self.path.is_file()
    }
}

/// npm puts the native binary in a platform package; the `bin/claude.exe`
/// beside it is only a copy when the postinstall script ran.
fn pinned_binary() -> PathBuf {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "x64",
    };
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = crate_dir.ancestors().nth(2).unwrap_or(crate_dir);
    workspace.join(PINNED_DIR).join(format!(
        "node_modules/@anthropic-ai/claude-code-linux-{arch}/claude"
    ))
}
