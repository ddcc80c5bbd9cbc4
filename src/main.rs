//! The `claude-coordinator` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    claude_coordinator::memory::limit_arenas();
    claude_coordinator::cli::main()
}
