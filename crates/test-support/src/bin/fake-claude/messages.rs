//! Builders for the CLI's stream-json messages, with every field the real
//! CLI 2.1 writes, so parsers are tested against the full shape.

use serde_json::{Value, json};
use std::time::Instant;

pub const VERSION: &str = "2.1.3";

pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn model_id(alias: Option<&str>) -> String {
    match alias {
        None | Some("sonnet") => "claude-sonnet-4-5-20250929".into(),
        Some("opus") => "claude-opus-4-1-20250805".into(),
        Some("haiku") => "claude-haiku-4-5-20251001".into(),
        Some(other) => other.into(),
    }
}

pub fn init(session: &str, cwd: &str, model: &str, permission_mode: &str) -> Value {
    json!({
        "type": "system", "subtype": "init", "cwd": cwd, "session_id": session,
        "tools": ["Task", "Bash", "Glob", "Grep", "LS", "Read", "Edit", "MultiEdit", "Write",
                  "NotebookEdit", "WebFetch", "TodoWrite", "WebSearch", "BashOutput", "KillShell"],
        "mcp_servers": [], "model": model, "permissionMode": permission_mode,
        "slash_commands": ["compact", "context", "cost", "init", "review"],
        "apiKeySource": "ANTHROPIC_API_KEY", "claude_code_version": VERSION,
        "output_style": "default", "agents": ["general-purpose", "Explore", "Plan"],
        "skills": [], "plugins": [], "uuid": uuid(),
    })
}

/// One assistant line holding one content block.
pub fn assistant(session: &str, model: &str, message_id: &str, block: Value) -> Value {
    json!({
        "type": "assistant",
        "message": {
            "model": model, "id": message_id, "type": "message", "role": "assistant",
            "content": [block], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 4, "cache_creation_input_tokens": 318,
                      "cache_read_input_tokens": 14210, "output_tokens": 27,
                      "service_tier": "standard"},
            "context_management": null,
        },
        "parent_tool_use_id": null, "session_id": session, "uuid": uuid(),
    })
}

pub fn text(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

pub fn tool_use(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "tool_use", "id": id, "name": name, "input": input})
}

pub fn tool_result(session: &str, tool_use_id: &str, content: &str, is_error: bool) -> Value {
    json!({
        "type": "user",
        "message": {"role": "user", "content": [
            {"tool_use_id": tool_use_id, "type": "tool_result", "content": content, "is_error": is_error}
        ]},
        "parent_tool_use_id": null, "session_id": session, "uuid": uuid(),
        "tool_use_result": if is_error { json!(format!("Error: {content}")) } else { json!({"stdout": content, "stderr": "", "interrupted": false}) },
    })
}

/// The final line. `text: None` leaves out `result`, as error subtypes do.
pub struct ResultSpec<'a> {
    pub subtype: &'a str,
    pub is_error: bool,
    pub text: Option<&'a str>,
    pub session: &'a str,
    pub model: &'a str,
    pub num_turns: u32,
    pub started: Instant,
    pub denials: Vec<Value>,
    pub errors: Option<Vec<String>>,
}

impl ResultSpec<'_> {
    pub fn build(self) -> Value {
        let elapsed = self.started.elapsed().as_millis() as u64;
        let output_tokens = self.text.map_or(0, |t| t.len() as u64 / 4 + 1);
        let (input, cache_write, cache_read) = if self.num_turns == 0 {
            (0, 0, 0)
        } else {
            (12, 4521, 13890)
        };
        let cost = (input * 3 + cache_write * 375 / 100 + cache_read * 3 / 10 + output_tokens * 15)
            as f64
            / 1e6;
        let mut result = json!({
            "type": "result", "subtype": self.subtype, "is_error": self.is_error,
            "duration_ms": elapsed, "duration_api_ms": elapsed + 37, "num_turns": self.num_turns,
            "session_id": self.session, "total_cost_usd": cost,
            "usage": {
                "input_tokens": input, "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read, "output_tokens": output_tokens,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": "standard",
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": cache_write},
            },
            "modelUsage": {self.model: {
                "inputTokens": input, "outputTokens": output_tokens,
                "cacheReadInputTokens": cache_read, "cacheCreationInputTokens": cache_write,
                "webSearchRequests": 0, "costUSD": cost, "contextWindow": 200000, "maxOutputTokens": 64000,
            }},
            "permission_denials": self.denials, "uuid": uuid(),
        });
        if let Some(text) = self.text {
            result["result"] = json!(text);
        }
        if let Some(errors) = self.errors {
            result["errors"] = json!(errors);
        }
        result
    }
}
