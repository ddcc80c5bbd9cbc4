//! What one run does, chosen by `FAKE:` words in the prompt:
//! slow=<ms>, hang, hang-ignore-term, error, api-error, garbage, no-result,
//! huge=<bytes> (one long text line), huge-line=<bytes> (no newline, then
//! hang), tools, deny, echo, linger, invalid-utf8, long=<chars>, child
//! (a sleeping grandchild in the group), fork (resume yields a new id).
//! Without any: a short answer.

use crate::args::Args;
use crate::messages::{self as msg, ResultSpec};
use crate::output::Out;
use crate::state::Sessions;
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
    message: usize,
    _args: &'a Args,
}

impl Run<'_> {
    fn say(&mut self, block: Value) {
        self.message += 1;
        let id = format!("msg_01Fake{:04}", self.message);
        let line = msg::assistant(&self.session, &self.model, &id, block);
        self.out.emit(line);
    }

    fn tool(&mut self, name: &str, input: Value, output: &str, is_error: bool) {
        self.turns += 1;
        let id = format!("toolu_01Fake{:04}", self.turns);
        self.say(msg::tool_use(&id, name, input));
        self.out
            .emit(msg::tool_result(&self.session, &id, output, is_error));
    }
}

pub fn perform(args: &Args, prompt: &str, cwd: &Path) -> u8 {
    let started = Instant::now();
    let words = Words::of(prompt);
    let sessions = Sessions::for_cwd(cwd);
    let model = msg::model_id(args.model.as_deref());
    let mut out = Out::new(args);
    let session = match &args.resume {
        Some(id) if !sessions.knows(id) => {
            // The real CLI answers with a brand-new id it never saved.
            let error = format!("No conversation found with session ID: {id}");
            let spec = ResultSpec {
                subtype: "error_during_execution",
                is_error: true,
                text: None,
                session: &msg::uuid(),
                model: &model,
                num_turns: 0,
                started,
                denials: vec![],
                errors: Some(vec![error]),
            };
            out.emit(spec.build());
            out.finish();
            return 1;
        }
        Some(_) if words.has("fork") => msg::uuid(),
        Some(id) => id.clone(),
        None => msg::uuid(),
    };
    sessions.remember(&session);
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
        message: 0,
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
    let answer = answer(&words, prompt);
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
        ("success", true, Some(r#"API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#.to_string()), None, 1)
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
    };
    run.out.emit(spec.build());
    run.out.finish();
    if words.has("linger") {
        hang();
    }
    code
}

fn answer(words: &Words, prompt: &str) -> String {
    if words.has("echo") {
        return prompt.to_string();
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
        false,
    );
    run.tool("Edit", json!({"file_path": file, "old_string": "\"hi\"", "new_string": "\"hello\"", "replace_all": false}),
        &format!("The file {file} has been updated."), false);
    run.tool("Bash", json!({"command": "cargo test --quiet 2>&1 | tail -3", "description": "Run the test suite"}),
        "test result: ok. 12 passed; 0 failed; 0 ignored", false);
}

fn deny(run: &mut Run) -> Vec<Value> {
    let file = format!("{}/src/x.rs", run.cwd);
    let refused = [
        (
            "Bash",
            json!({"command": "rm -rf build", "description": "Remove the build folder"}),
        ),
        (
            "Write",
            json!({"file_path": file, "content": "pub fn x() {}\n"}),
        ),
    ];
    let mut denials = Vec::new();
    for (name, input) in refused {
        let message =
            format!("Claude requested permissions to use {name}, but you haven't granted it yet.");
        run.tool(name, input.clone(), &message, true);
        let id = format!("toolu_01Fake{:04}", run.turns);
        denials.push(json!({"tool_name": name, "tool_use_id": id, "tool_input": input}));
    }
    denials
}

fn hang() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
