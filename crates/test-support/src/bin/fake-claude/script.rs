//! What one run does, chosen by `FAKE:` words in the prompt (`words.rs`):
//! slow=<ms>, hang, hang-ignore-term, error, api-error[=<status>] (see
//! `api_error.rs`), garbage, no-result, huge=<bytes> (one long text line),
//! huge-line=<bytes> (no newline, then hang), tools, deny, echo, recall
//! (answers with the session's earlier prompts), linger (hangs after its
//! result, taking no more turns), ghost[=<ms>] (a stray result line after
//! the result, at once or that much later), invalid-utf8,
//! long=<chars>, child (a background tool shell in its own session, which
//! the run waits for after its result; see `shell.rs`),
//! fork (resume yields a new id), gate=<n> (answers once the test creates
//! `gate-<n>` in FAKE_CLAUDE_STATE_DIR). Without any: a short answer. With
//! stream-json input, `deny`'s calls are asked about over stdio (with
//! `--permission-prompt-tool stdio`; `again` repeats its Bash call at the
//! end) unless `--allowedTools` or an answer's session rule allows the
//! exact call, and `hang` ends on an interrupt; `question` asks an
//! AskUserQuestion and `plan` an ExitPlanMode, and the answer says what
//! came back; `die-asking` exits (3, no result) after its first ask, once
//! the test says so (`die-now` in FAKE_CLAUDE_STATE_DIR). With stream-json
//! input each user message after a result is one more turn of the session,
//! as in the real CLI, with its own words.

use crate::api_error::ApiFailure;
use crate::args::Args;
use crate::control::{Answer, Control};
use crate::messages::{self as msg, ResultSpec};
use crate::output::Out;
use crate::shell;
use crate::state::{Invocation, Session, Sessions};
use crate::words::Words;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// What a tool failing mid-run (`FAKE:error`) reports.
const TOOL_ERROR: &str = "Tool execution failed: EACCES: permission denied, open 'src/lib.rs'";

/// How a run that prints a result ends.
enum Ending {
    Answer(String),
    ToolError,
    ApiError(ApiFailure),
    /// An interrupt on stdin ended the turn.
    Interrupted,
}

impl Ending {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Answer(_) | Self::Interrupted => 0,
            Self::ToolError | Self::ApiError(_) => 1,
        }
    }
}

/// An interrupt arrived: the turn ends now.
struct Interrupt;

struct Run {
    out: Out,
    session: String,
    model: String,
    cwd: String,
    turns: u32,
    /// Numbers the API messages: the blocks of one share its id, and a
    /// tool result ends it.
    message: usize,
    /// The `permission_denials` entries so far.
    denials: Vec<Value>,
    /// stdin in stream-json: control requests go out and answers come in.
    control: Option<Control>,
    /// Calls allowed without asking: `--allowedTools` entries, and the
    /// rules answers added in this process.
    allowed: Vec<String>,
    /// What the user's answers to questions and plans were, for the answer.
    heard: Vec<String>,
    /// `die-asking`: exit without a result right after asking.
    dies_asking: bool,
}

impl Run {
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

    /// A call the permission rules refuse: asked about over stdio when
    /// the run may ask, else refused as 2.1 reports it.
    fn refused(&mut self, name: &str, input: Value, message: &str) -> Result<(), Interrupt> {
        let id = self.call(name, input.clone());
        if self.allowed.contains(&rule_for(name, &input)) {
            self.out
                .emit(msg::tool_result(&self.session, &id, &format!("ran {name}")));
            return Ok(());
        }
        if self.dies_asking {
            let request = json!({"type": "control_request", "request_id": format!("req-{id}"),
                "request": {"subtype": "can_use_tool", "tool_name": name, "input": input, "tool_use_id": id}});
            self.out.emit(request);
            wait_for_the_order_to_die();
            eprintln!("fake-claude: crashed while waiting for an approval");
            std::process::exit(3);
        }
        let answer = match &self.control {
            Some(control) if control.asks => {
                control.ask(&mut self.out, &self.session, name, &input, &id)
            }
            _ => {
                self.refuse(name, &input, &id, message);
                return Ok(());
            }
        };
        match answer {
            Answer::Allow(input, rules) => {
                let ran = format!("ran {name} {input}");
                self.out.emit(msg::tool_result(&self.session, &id, &ran));
                self.allowed.extend(rules);
            }
            Answer::Deny(reason) => self.refuse(name, &input, &id, &reason),
            Answer::Closed => self.refuse(name, &input, &id, "stdin closed"),
            Answer::Interrupted => return Err(Interrupt),
        }
        Ok(())
    }

    /// A tool that always asks the user (AskUserQuestion, ExitPlanMode);
    /// what came back is told in the answer.
    fn interact(&mut self, name: &str, input: Value) -> Result<(), Interrupt> {
        let id = self.call(name, input.clone());
        let Some(control) = self.control.as_ref().filter(|c| c.asks) else {
            let message = format!("No such tool available: {name}");
            self.out
                .emit(msg::denied_result(&self.session, &id, &message));
            return Ok(());
        };
        let heard = match control.ask(&mut self.out, &self.session, name, &input, &id) {
            Answer::Allow(input, _) => format!("{name} allowed; answers: {}", input["answers"]),
            Answer::Deny(reason) => format!("{name} denied: {reason}"),
            Answer::Closed => format!("{name} denied: stdin closed"),
            Answer::Interrupted => return Err(Interrupt),
        };
        self.out.emit(msg::tool_result(&self.session, &id, &heard));
        self.heard.push(heard);
        Ok(())
    }

    fn refuse(&mut self, name: &str, input: &Value, id: &str, message: &str) {
        let denied = msg::permission_denied(&self.session, name, id, message);
        self.out.emit(denied);
        self.out
            .emit(msg::denied_result(&self.session, id, message));
        let entry = json!({"tool_name": name, "tool_use_id": id, "tool_input": input});
        self.denials.push(entry);
    }

    /// Starts the tool shell and says its pid.
    fn start_shell(&mut self) {
        match shell::start() {
            Ok(pid) => self.say(msg::text(&format!("started helper pid {pid}"))),
            Err(e) => eprintln!("fake-claude: cannot start the helper: {e}"),
        }
    }

    /// Everything between init and result; `Err` is an exit code for a run
    /// that ends without a result.
    fn script(
        &mut self,
        words: &Words,
        prompt: &str,
        history: &[String],
        failure: Option<ApiFailure>,
    ) -> Result<Ending, u8> {
        self.before_any_call(words)?;
        if let Some(failure) = failure {
            failure.report(&mut self.out, &self.session);
            return Ok(Ending::ApiError(failure));
        }
        self.say(json!({"type": "thinking", "thinking": "The user wants a change.", "signature": "EqQBCkYIBxgC"}));
        self.say(msg::text("Let me look at the project."));
        if self.work(words).is_err() {
            return Ok(Ending::Interrupted);
        }
        if words.has("no-result") {
            return Err(0);
        }
        if words.has("error") {
            self.say(msg::text("Something went wrong."));
            return Ok(Ending::ToolError);
        }
        let mut answer = answer(words, prompt, history);
        for heard in &self.heard {
            answer.push_str(&format!("\n{heard}"));
        }
        self.say(msg::text(&answer));
        Ok(Ending::Answer(answer))
    }

    /// What happens before the first API call: garbage, an endless line,
    /// ignoring SIGTERM, the tool shell.
    fn before_any_call(&mut self, words: &Words) -> Result<(), u8> {
        if words.has("garbage") {
            self.out.raw(
                b"Welcome to Claude Code!\n{\"type\":\"assistant\",\"mess\n\x1b[31mnot json\x1b[0m\n",
            );
            eprintln!("Error: unexpected end of JSON input");
            return Err(1);
        }
        if let Some(n) = words.number("huge-line") {
            self.out.raw(&vec![b'x'; n]);
            hang();
        }
        if words.has("hang-ignore-term") {
            // SAFETY: installing SIG_IGN has no preconditions.
            unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
        }
        if words.has("child") {
            self.start_shell();
        }
        Ok(())
    }

    /// The turn's tool calls and other output before the answer.
    fn work(&mut self, words: &Words) -> Result<(), Interrupt> {
        if words.has("tools") {
            tools(self);
        }
        if words.has("deny") {
            deny(self, words.has("again"))?;
        }
        if words.has("question") {
            self.interact("AskUserQuestion", question_input())?;
        }
        if words.has("plan") {
            let plan = json!({"plan": "1. Read the parser\n2. Fix the off-by-one\n3. Add a test"});
            self.interact("ExitPlanMode", plan)?;
        }
        if words.has("invalid-utf8") {
            self.invalid_utf8();
        }
        if let Some(n) = words.number("huge") {
            self.say(msg::text(&"x".repeat(n)));
        }
        if words.has("hang") {
            // Stream-json input: an interrupt ends the turn.
            if let Some(control) = &self.control
                && control.wait_for_interrupt(&mut self.out)
            {
                return Err(Interrupt);
            }
            hang();
        }
        if words.has("hang-ignore-term") {
            hang();
        }
        if let Some(ms) = words.number("slow") {
            std::thread::sleep(Duration::from_millis(ms as u64));
        }
        if let Some(n) = words.number("gate") {
            wait_for_file(&format!("gate-{n}"));
        }
        Ok(())
    }

    /// A line that is not UTF-8, then an assistant line with a broken byte.
    fn invalid_utf8(&mut self) {
        self.out.raw(b"\xff\xfe not utf-8 \xc3\x28\n");
        let line = msg::assistant(
            &self.session,
            &self.model,
            "msg_01Bad",
            msg::text("caf\u{e9} BROKEN"),
        );
        let bytes = line.to_string().replace("BROKEN", "\u{1}").into_bytes();
        let broken: Vec<u8> = bytes
            .into_iter()
            .map(|b| if b == 1 { 0xff } else { b })
            .collect();
        self.out.raw(&[broken.as_slice(), b"\n"].concat());
    }

    /// The result line; `prior` is the session's `modelUsage` before.
    fn result(&self, ending: &Ending, started: Instant, prior: Value) -> Value {
        let (subtype, is_error, text, errors, api_error) = match ending {
            Ending::Answer(text) => ("success", false, Some(text.as_str()), None, None),
            Ending::ToolError => (
                "error_during_execution",
                true,
                None,
                Some(vec![TOOL_ERROR.to_string()]),
                None,
            ),
            Ending::ApiError(f) => ("success", true, Some(f.text()), None, Some(*f)),
            Ending::Interrupted => ("error_during_execution", true, None, None, None),
        };
        let spec = ResultSpec {
            subtype,
            is_error,
            text,
            session: &self.session,
            model: &self.model,
            num_turns: self.turns,
            started,
            denials: self.denials.clone(),
            errors,
            api_error,
            prior,
        };
        let mut result = spec.build();
        if matches!(ending, Ending::Interrupted) {
            result["terminal_reason"] = json!("aborted_streaming");
        }
        result
    }
}

/// `--resume` of a session this fake never issued: no init, the requested
/// id in the result, and the reason on stderr too.
fn unknown_session(mut out: Out, id: &str, args: &Args, started: Instant) -> u8 {
    let model = msg::model_id(args.model.as_deref());
    let error = format!("No conversation found with session ID: {id}");
    eprintln!("{error}");
    let spec = ResultSpec {
        subtype: "error_during_execution",
        is_error: true,
        text: None,
        session: id,
        model: &model,
        num_turns: 0,
        started,
        denials: vec![],
        errors: Some(vec![error]),
        api_error: None,
        prior: json!({}),
    };
    out.emit(spec.build());
    out.finish();
    1
}

/// Runs the first turn and, with stream-json input, one more turn of the
/// same session for each user message after it, until stdin closes.
pub fn perform(
    args: &Args,
    prompt: String,
    cwd: &Path,
    control: Option<Control>,
    mut record: Invocation,
) -> u8 {
    let sessions = Sessions::from_env();
    let mut out = Out::new(args);
    let mut control = control;
    let mut resume = args.resume.clone();
    let mut allowed = args.allowed_tools.clone();
    let mut prompt = prompt;
    let mut spent = 0.0;
    loop {
        let turn = TurnArgs {
            args,
            resume: resume.as_deref(),
            cwd,
            sessions: &sessions,
            spent_before: spent,
        };
        let done = match turn.run(&prompt, out, control, allowed) {
            Ok(done) => done,
            Err(code) => return code,
        };
        if done.linger {
            done.run.out.finish();
            hang();
        }
        let next = done.run.control.as_ref().and_then(Control::next_prompt);
        let Some(next) = next else {
            done.run.out.finish();
            shell::wait();
            return done.code;
        };
        let images = done.run.control.as_ref().map(Control::images);
        record.add_turn(&next, images.unwrap_or_default());
        spent += done.own_cost;
        prompt = next;
        resume = Some(done.run.session.clone());
        allowed = done.run.allowed;
        out = done.run.out;
        control = done.run.control;
    }
}

/// What one turn starts from.
struct TurnArgs<'a> {
    args: &'a Args,
    /// The session to continue: `--resume`, or this process's own.
    resume: Option<&'a str>,
    cwd: &'a Path,
    sessions: &'a Sessions,
    /// What this process's earlier turns cost, for `--max-budget-usd`.
    spent_before: f64,
}

/// A turn that printed its result.
struct Done {
    run: Run,
    code: u8,
    linger: bool,
    own_cost: f64,
}

impl TurnArgs<'_> {
    /// One turn, init to result; `Err` is the exit code of a process that
    /// ends without one.
    fn run(
        &self,
        prompt: &str,
        mut out: Out,
        control: Option<Control>,
        allowed: Vec<String>,
    ) -> Result<Done, u8> {
        let started = Instant::now();
        let words = Words::of(prompt);
        let failure = ApiFailure::chosen(&words).map_err(|message| {
            eprintln!("{message}");
            1
        })?;
        let (session, parent) = match self.resume {
            Some(id) if !self.sessions.knows(id) => {
                return Err(unknown_session(out, id, self.args, started));
            }
            // A fork starts with its parent's history and totals.
            Some(id) if words.has("fork") => (msg::uuid(), self.sessions.load(id)),
            Some(id) => (id.to_string(), self.sessions.load(id)),
            None => (msg::uuid(), Session::default()),
        };
        let model = msg::model_id(self.args.model.as_deref().or(parent.model.as_deref()));
        let mut stored = parent.continued(&model, prompt);
        // Known from the start, as the real CLI writes its transcript as it goes.
        self.sessions.save(&session, &stored);
        let mode = self.args.permission_mode.as_deref().unwrap_or("default");
        let cwd = self.cwd.to_string_lossy().into_owned();
        out.emit(msg::init(&session, &cwd, &model, mode));
        let mut run = Run {
            out,
            session,
            model,
            cwd,
            turns: 1,
            message: 1,
            denials: Vec::new(),
            control,
            allowed,
            heard: Vec::new(),
            dies_asking: words.has("die-asking"),
        };
        let ending = run.script(&words, prompt, &parent.prompts, failure)?;
        let mut result = run.result(&ending, started, parent.usage);
        let own_cost = own_cost(&result);
        let over = self
            .args
            .max_budget_usd
            .filter(|cap| self.spent_before + own_cost > *cap);
        if let Some(cap) = over {
            over_budget(&mut result, cap);
        }
        stored.usage = result["modelUsage"].clone();
        self.sessions.save(&run.session, &stored);
        run.out.emit(result);
        let late = words.number("ghost");
        if words.has("ghost") || late.is_some() {
            // A stray line after the result, as a confused process might
            // print between turns; with `ghost=<ms>`, that much later.
            std::thread::sleep(Duration::from_millis(late.unwrap_or(0) as u64));
            let ghost = json!({"type": "result", "subtype": "success", "is_error": false,
                "result": "a stale answer", "session_id": run.session, "total_cost_usd": 0.0});
            run.out.emit(ghost);
        }
        Ok(Done {
            code: if over.is_some() {
                1
            } else {
                ending.exit_code()
            },
            linger: words.has("linger"),
            run,
            own_cost,
        })
    }
}

/// `model_usage_since_last_result[*].costUSD` summed: the turn's own cost.
fn own_cost(result: &Value) -> f64 {
    let models = result["model_usage_since_last_result"].as_object();
    models.map_or(0.0, |m| {
        m.values().filter_map(|u| u["costUSD"].as_f64()).sum()
    })
}

/// The result as 2.1 prints it when the process passed its
/// `--max-budget-usd` (checked after the API call, so the cost counts).
fn over_budget(result: &mut Value, cap: f64) {
    result["subtype"] = json!("error_max_budget_usd");
    result["is_error"] = json!(true);
    result["errors"] = json!([format!("Reached maximum budget (${cap})")]);
    if let Some(fields) = result.as_object_mut() {
        fields.remove("result");
    }
}

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
/// 2.1 wording, or asked about one after the other.
fn deny(run: &mut Run, again: bool) -> Result<(), Interrupt> {
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
    run.refused("Bash", rm.clone(), &rm_refused)?;
    run.refused("Write", write, &write_refused)?;
    if again {
        run.refused("Bash", rm, &rm_refused)?;
    }
    Ok(())
}

/// `die-asking` waits, asking, until the test creates `die-now` in
/// FAKE_CLAUDE_STATE_DIR (at once without one), so it dies at a moment the
/// test chose.
fn wait_for_the_order_to_die() {
    wait_for_file("die-now");
}

/// Waits until the test creates `name` in FAKE_CLAUDE_STATE_DIR (not at
/// all without one).
fn wait_for_file(name: &str) {
    let Some(dir) = std::env::var_os("FAKE_CLAUDE_STATE_DIR") else {
        return;
    };
    let order = Path::new(&dir).join(name);
    while !order.exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One question of two options, as the CLI's AskUserQuestion takes it.
fn question_input() -> Value {
    json!({"questions": [{
        "question": "Which database should I use?",
        "header": "Database",
        "multiSelect": false,
        "options": [
            {"label": "SQLite", "description": "One file, no server"},
            {"label": "Postgres", "description": "A server"}
        ]
    }]})
}

/// The `--allowedTools` entry that allows exactly this call.
fn rule_for(name: &str, input: &Value) -> String {
    let key = if name == "Bash" {
        "command"
    } else {
        "file_path"
    };
    match input[key].as_str() {
        Some(content) => format!("{name}({content})"),
        None => name.to_string(),
    }
}

fn hang() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
