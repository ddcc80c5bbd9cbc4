//! `--input-format stream-json`: stdin carries the prompt as a user
//! message, then answers to the control requests this fake prints (with
//! `--permission-prompt-tool stdio`, one `can_use_tool` per call its rules
//! refuse) and `interrupt` requests. As the real CLI: the run ends its turn
//! on an interrupt with a result, and after the result waits for the next
//! user message (another turn of the same session) until stdin closes.

use crate::output::Out;
use serde_json::{Value, json};
use std::io::BufRead;
use std::sync::mpsc::{Receiver, channel};

pub struct Control {
    lines: Receiver<Value>,
    /// The image blocks of the last user message read, as
    /// `{media_type, data}` for the invocation record.
    images: std::cell::RefCell<Vec<Value>>,
    /// `--permission-prompt-tool stdio`: refused calls are asked about.
    pub asks: bool,
}

/// What came back for a `can_use_tool` request.
pub enum Answer {
    /// The input to run, and the rules (as `--allowedTools` entries) the
    /// answer added for the rest of this process.
    Allow(Value, Vec<String>),
    Deny(String),
    /// An interrupt came instead.
    Interrupted,
    /// stdin closed: the real CLI denies what is pending.
    Closed,
}

impl Control {
    /// Reads stdin on a thread of its own, one JSON value per line.
    pub fn start(asks: bool) -> Self {
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { return };
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && tx.send(value).is_err()
                {
                    return;
                }
            }
        });
        Self {
            lines,
            images: Default::default(),
            asks,
        }
    }

    /// The text of the first user message; empty if stdin closed first.
    pub fn prompt(&self) -> String {
        while let Ok(value) = self.lines.recv() {
            if value["type"] == "user" {
                let content = &value["message"]["content"];
                *self.images.borrow_mut() = images_of(content);
                return text_of(content);
            }
        }
        String::new()
    }

    /// Prints a `can_use_tool` request and waits for its answer.
    pub fn ask(&self, out: &mut Out, session: &str, tool: &str, input: &Value, id: &str) -> Answer {
        let request_id = format!("req-{id}");
        out.emit(json!({
            "type": "control_request", "request_id": request_id,
            "request": {"subtype": "can_use_tool", "tool_name": tool, "display_name": tool,
                "input": input, "permission_suggestions": [], "tool_use_id": id},
            "session_id": session,
        }));
        while let Ok(value) = self.lines.recv() {
            if is_interrupt(&value) {
                answer_interrupt(out, &value);
                return Answer::Interrupted;
            }
            let response = &value["response"];
            if value["type"] != "control_response" || response["request_id"] != request_id {
                continue;
            }
            let decision = &response["response"];
            return match decision["behavior"].as_str() {
                Some("allow") => Answer::Allow(
                    decision["updatedInput"].clone(),
                    rules_of(&decision["updatedPermissions"]),
                ),
                _ => Answer::Deny(decision["message"].as_str().unwrap_or_default().to_string()),
            };
        }
        Answer::Closed
    }

    /// Blocks until an interrupt arrives (true) or stdin closes (false).
    pub fn wait_for_interrupt(&self, out: &mut Out) -> bool {
        while let Ok(value) = self.lines.recv() {
            if is_interrupt(&value) {
                answer_interrupt(out, &value);
                return true;
            }
        }
        false
    }

    /// The image blocks of the user message read last.
    pub fn images(&self) -> Vec<Value> {
        self.images.borrow().clone()
    }

    /// After a result: the next user message's text, or `None` once stdin
    /// closes.
    pub fn next_prompt(&self) -> Option<String> {
        let prompt = self.prompt();
        (!prompt.is_empty()).then_some(prompt)
    }
}

fn is_interrupt(value: &Value) -> bool {
    value["type"] == "control_request" && value["request"]["subtype"] == "interrupt"
}

fn answer_interrupt(out: &mut Out, request: &Value) {
    out.emit(json!({
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request["request_id"]},
    }));
}

/// `addRules` updates for this session, as `Tool(content)` entries.
fn rules_of(updates: &Value) -> Vec<String> {
    let updates = updates.as_array().cloned().unwrap_or_default();
    updates
        .iter()
        .filter(|u| {
            u["type"] == "addRules" && u["behavior"] == "allow" && u["destination"] == "session"
        })
        .flat_map(|u| u["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| {
            let tool = r["toolName"].as_str()?;
            Some(match r["ruleContent"].as_str() {
                Some(content) => format!("{tool}({content})"),
                None => tool.to_string(),
            })
        })
        .collect()
}

/// A message's image blocks, as `{media_type, data}`.
fn images_of(content: &Value) -> Vec<Value> {
    let blocks = content.as_array().into_iter().flatten();
    blocks
        .filter(|b| b["type"] == "image")
        .map(|b| json!({"media_type": b["source"]["media_type"], "data": b["source"]["data"]}))
        .collect()
}

/// A message's content: a string, or text blocks.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
