//! A stand-in for the Claude Code CLI in print mode. It parses the real
//! flags, enforces the real argument errors, keeps sessions (by id alone,
//! so they resume from any folder, as the real ones do; see `state.rs`),
//! speaks stream-json / json / text, takes stream-json input with the
//! control protocol (`control.rs`), and on SIGTERM ends its tool shell and
//! exits 143 without a result line (`shell.rs`).
//! Words in the prompt (`FAKE:<word>[=<n>]`) choose a behaviour; see
//! `script.rs`. Env: FAKE_CLAUDE_STATE_DIR (known sessions),
//! FAKE_CLAUDE_RECORD_DIR (one JSON file per invocation),
//! FAKE_CLAUDE_COUNT_DIR (start/end log for concurrency checks),
//! CLAUDE_CODE_MAX_RETRIES (as the real CLI reads it).

mod api_error;
mod args;
mod control;
mod messages;
mod output;
mod script;
mod shell;
mod state;
mod words;

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    shell::exit_143_on_sigterm();
    let counter = state::LiveCounter::start();
    let code = run();
    drop(counter);
    ExitCode::from(code)
}

fn run() -> u8 {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::Args::parse(&argv) {
        Ok(args) => args,
        Err(message) => return fail(&message),
    };
    if !args.print {
        return fail("Error: fake-claude only supports --print mode");
    }
    if args.output_format == "stream-json" && !args.verbose {
        return fail("Error: When using --print, --output-format=stream-json requires --verbose");
    }
    let streamed = args.input_format == "stream-json";
    if streamed && args.output_format != "stream-json" {
        return fail("Error: --input-format=stream-json requires output-format=stream-json.");
    }
    let bypass =
        args.skip_permissions || args.permission_mode.as_deref() == Some("bypassPermissions");
    // SAFETY: getuid has no preconditions.
    if bypass && unsafe { libc::getuid() } == 0 {
        return fail(
            "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons",
        );
    }
    // An empty prompt argument counts as none: the real CLI reads stdin.
    let given = args.prompt.clone().filter(|p| !p.is_empty());
    let asks = args.permission_prompt_tool.as_deref() == Some("stdio");
    let control = streamed.then(|| control::Control::start(asks));
    let stdin = match (&given, &control) {
        (Some(_), _) => String::new(),
        (None, Some(control)) => control.prompt(),
        (None, None) => {
            let mut bytes = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let images = control.as_ref().map(control::Control::images);
    let record = state::record_invocation(&argv, &stdin, images.unwrap_or_default(), &cwd);
    let prompt = given.unwrap_or(stdin);
    if let Some(error) = unusable(&prompt) {
        return fail(error);
    }
    script::perform(&args, prompt, &cwd, control, record)
}

/// Why the real CLI refuses a prompt, if it does.
fn unusable(prompt: &str) -> Option<&'static str> {
    if prompt.is_empty() {
        Some(
            "Error: Input must be provided either through stdin or as a prompt argument when using --print",
        )
    } else if prompt.trim().is_empty() {
        Some(
            "Error: Input contained only whitespace. Provide a prompt with text through stdin or as a prompt argument when using --print",
        )
    } else {
        None
    }
}

fn fail(message: &str) -> u8 {
    eprintln!("{message}");
    1
}
