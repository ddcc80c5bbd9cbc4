//! What one run does, chosen by `FAKE:` words in the prompt:
//! slow=<ms>, hang, hang-ignore-term, error, api-error, garbage, no-result,
//! huge=<bytes> (one long text line), huge-line=<bytes> (no newline, then
//! hang), tools, deny, echo, recall (answers with the session's earlier
//! prompts), linger, invalid-utf8, long=<chars>, child (a sleeping
//! grandchild in the group), fork (resume yields a new id).
//! Without any: a short answer.

use crate::args::Args;
use crate::messages::{self as msg, ResultSpec};
use crate::output::Out;
use crate::state::{Session, Sessions};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

struct Words<'a>(Vec<&'a str>);

impl<'a> Words<'a> {
    fn of(prompt: &'a str) -> Self {
        Self(
            prompt
                .split_whitespace()
                .filter_map(|w| w.strip_prefix("FAKE:"))
                .collect(),
        )
    }
    fn has(&self, word: &str) -> bool {
        self.0.contains(&word)
    }
    fn number(&self, word: &str) -> Option<usize> {
        self.0
            .iter()
            .find_map(|w| w.strip_prefix(word)?.strip_prefix('=')?.parse().ok())
    }
}

struct Run<'a> {
    out: Out,
    session: String,
    model: String,
    cwd: String,
    turns: u32,
    /// Numbers the API messages: the blocks of one share its id, and a
    /// tool result ends it.
    message: usize,
    _args: &'a Args,
}

impl Run<'_> {
    fn say(&mut self, block: Value) {
        let id = format!("msg_01Fake{:04}", self.message);
        let line = msg::assistant(&self.session, &self.model, &id, block);
        self.out.emit(line);
    }

    /// A call to `name`; returns its tool_use id.
    fn call(&mut self, name: &str, input: Value) -> String {
        self.turns += 1;
        let id = format!("toolu_01Fake{:04}", self.turns);
        self.say(msg::tool_use(&id, name, input));
        self.message += 1;
        id
    }

    fn tool(&mut self, name: &str, input: Value, output: &str) {
        let id = self.call(name, input);
        self.out.emit(msg::tool_result(&self.session, &id, output));
    }

    /// A call the permission rules refuse, as 2.1 reports it; returns its
    /// `permission_denials` entry.
    fn refused(&mut self, name: &str, input: Value, message: &str) -> Value {
        let id = self.call(name, input.clone());
        let denied = msg::permission_denied(&self.session, name, &id, message);
        self.out.emit(denied);
        self.out
            .emit(msg::denied_result(&self.session, &id, message));
        json!({"tool_name": name, "tool_use_id": id, "tool_input": input})
    }
}

/// `--resume` of a session this fake never issued: no init, the requested
/// id in the result, and the reason on stderr too.
fn unknown_session(mut out: Out, id: &str, model: &str, started: Instant) -> u8 {
    let error = format!("No conversation found with session ID: {id}");
    eprintln!("{error}");
    let spec = ResultSpec {
        subtype: "error_during_execution",
        is_error: true,
        text: None,
        session: id,
        model,
        num_turns: 0,
        started,
        denials: vec![],
        errors: Some(vec![error]),
        api_error_status: None,
        prior: json!({}),
    };
    out.emit(spec.build());
    out.finish();
    1
}

pub fn perform(args: &Args, prompt: &str, cwd: &Path) -> u8 {
    let started = Instant::now();
    let words = Words::of(prompt);
    let sessions = Sessions::from_env();
    let mut out = Out::new(args);
    let (session, parent) = match &args.resume {
        Some(id) if !sessions.knows(id) => {
            let model = msg::model_id(args.model.as_deref());
            return unknown_session(out, id, &model, started);
        }
        // A fork starts with its parent's history and totals.
        Some(id) if words.has("fork") => (msg::uuid(), sessions.load(id)),
        Some(id) => (id.clone(), sessions.load(id)),
        None => (msg::uuid(), Session::default()),
    };
    // Without --model a resumed session stays on its last model.
    let model = msg::model_id(args.model.as_deref().or(parent.model.as_deref()));
    let mut stored = parent.continued(&model, prompt);
    // Known from the start, as the real CLI writes its transcript as it goes.
    sessions.save(&session, &stored);
    let mode = args
        .permission_mode
        .clone()
        .unwrap_or_else(|| "default".into());
    let cwd = cwd.to_string_lossy().into_owned();
    out.emit(msg::init(&session, &cwd, &model, &mode));
    let mut run = Run {
        out,
        session,
        model,
        cwd,
        turns: 1,
        message: 1,
        _args: args,
    };
    if words.has("garbage") {
        run.out.raw(
            b"Welcome to Claude Code!\n{\"type\":\"assistant\",\"mess\n\x1b[31mnot json\x1b[0m\n",
        );
        eprintln!("Error: unexpected end of JSON input");
        return 1;
    }
    if let Some(n) = words.number("huge-line") {
        run.out.raw(&vec![b'x'; n]);
        hang();
    }
    if words.has("hang-ignore-term") {
        // SAFETY: installing SIG_IGN has no preconditions.
        unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
    }
    if words.has("child") {
        let child = std::process::Command::new("sleep").arg("1000").spawn();
        let pid = child.map(|c| c.id()).unwrap_or(0);
        run.say(msg::text(&format!("started helper pid {pid}")));
    }
    run.say(json!({"type": "thinking", "thinking": "The user wants a change.", "signature": "EqQBCkYIBxgC"}));
    run.say(msg::text("Let me look at the project."));
    if words.has("tools") {
        tools(&mut run);
    }
    let denials = if words.has("deny") {
        deny(&mut run)
    } else {
        vec![]
    };
    if words.has("invalid-utf8") {
        run.out.raw(b"\xff\xfe not utf-8 \xc3\x28\n");
        let line = msg::assistant(
            &run.session,
            &run.model,
            "msg_01Bad",
            msg::text("caf\u{e9} BROKEN"),
        );
        let bytes = line.to_string().replace("BROKEN", "\u{1}").into_bytes();
        let broken: Vec<u8> = bytes
            .into_iter()
            .map(|b| if b == 1 { 0xff } else { b })
            .collect();
        run.out.raw(&[broken.as_slice(), b"\n"].concat());
    }
    if let Some(n) = words.number("huge") {
        run.say(msg::text(&"x".repeat(n)));
    }
    if words.has("hang") || words.has("hang-ignore-term") {
        hang();
    }
    if let Some(ms) = words.number("slow") {
        std::thread::sleep(Duration::from_millis(ms as u64));
    }
    if words.has("no-result") {
        return 0;
    }
    let answer = answer(&words, prompt, &parent.prompts);
    let api_error_status = words.has("api-error").then_some(529);
    let (subtype, is_error, text, errors, code) = if words.has("error") {
        (
            "error_during_execution",
            true,
            None,
            Some(vec![
                "Tool execution failed: EACCES: permission denied, open 'src/lib.rs'".to_string(),
            ]),
            1,
        )
    } else if words.has("api-error") {
        ("success", true, Some(API_ERROR.to_string()), None, 1)
    } else {
        ("success", false, Some(answer), None, 0)
    };
    run.say(msg::text(
        text.as_deref().unwrap_or("Something went wrong."),
    ));
    let spec = ResultSpec {
        subtype,
        is_error,
        text: text.as_deref(),
        session: &run.session,
        model: &run.model,
        num_turns: run.turns,
        started,
        denials,
        errors,
        api_error_status,
        prior: parent.usage,
    };
    let result = spec.build();
    stored.usage = result["modelUsage"].clone();
    sessions.save(&run.session, &stored);
    run.out.emit(result);
    run.out.finish();
    if words.has("linger") {
        hang();
    }
    code
}

/// What 2.1 answers after the API kept saying 529.
const API_ERROR: &str = "API Error: 529 Overloaded. This is a server-side issue, usually \
    temporary — try again in a moment. If it persists, check your inference gateway \
    (api.anthropic.com).";

fn answer(words: &Words, prompt: &str, history: &[String]) -> String {
    if words.has("echo") {
        return prompt.to_string();
    }
    if words.has("recall") {
        return format!("Earlier in this session: {}", history.join(" | "));
    }
    let Some(n) = words.number("long") else {
        return "Done. The project builds and all tests pass.".into();
    };
    let section = "## Changes\n\nI updated the parser so that **every** line is checked:\n\n```rust\nfn parse(line: &str) -> Option<Event> {\n    serde_json::from_str(line).ok()\n}\n```\n\n- keeps going on bad input\n- reports the line number\n\n";
    section
        .repeat(n / section.len() + 1)
        .chars()
        .take(n)
        .collect()
}

fn tools(run: &mut Run) {
    let file = format!("{}/src/main.rs", run.cwd);
    run.tool(
        "Read",
        json!({"file_path": file}),
        "     1\u{2192}fn main() {\n     2\u{2192}    println!(\"hi\");\n     3\u{2192}}\n",
    );
    run.tool("Edit", json!({"file_path": file, "old_string": "\"hi\"", "new_string": "\"hello\"", "replace_all": false}),
        &format!("The file {file} has been updated."));
    run.tool("Bash", json!({"command": "cargo test --quiet 2>&1 | tail -3", "description": "Run the test suite"}),
        "test result: ok. 12 passed; 0 failed; 0 ignored");
}

/// A Bash call that would remove files and a Write, both refused in the
/// 2.1 wording.
fn deny(run: &mut Run) -> Vec<Value> {
    let cwd = run.cwd.clone();
    let rm = json!({"command": "rm -rf build", "description": "Remove the build folder"});
    let rm_refused = format!(
        "rm in '{cwd}/build' needs approval. The path is inside the working directories \
         for this session ('{cwd}'), and Claude Code asks before a shell command creates, \
         changes or removes files there."
    );
    let file = format!("{cwd}/src/x.rs");
    let write = json!({"file_path": file, "content": "pub fn x() {}\n"});
    let write_refused =
        format!("Claude requested permissions to write to {file}, but you haven't granted it yet.");
    vec![
        run.refused("Bash", rm, &rm_refused),
        run.refused("Write", write, &write_refused),
    ]
}

fn hang() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
