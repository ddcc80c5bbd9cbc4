//! Builders for the CLI's stream-json messages, with the fields the real
//! CLI 2.1 writes that a reader may rely on, so parsers are tested against
//! the real shape.

use crate::api_error::ApiFailure;
use serde_json::{Map, Value, json};
use std::time::Instant;

pub const VERSION: &str = "2.1.328";

/// The init line's tools in 2.1.328 (no Glob, Grep or LS any more).
const TOOLS: [&str; 22] = [
    "Task",
    "Bash",
    "CronCreate",
    "CronDelete",
    "CronList",
    "Edit",
    "EnterWorktree",
    "ExitWorktree",
    "ListAgents",
    "Monitor",
    "NotebookEdit",
    "Read",
    "ReportFindings",
    "ScheduleWakeup",
    "SendMessage",
    "Skill",
    "TaskStop",
    "ToolSearch",
    "WebFetch",
    "WebSearch",
    "Workflow",
    "Write",
];

/// The `modelUsage` token counts that add up over a session (as does `costUSD`).
const COUNTERS: [&str; 5] = [
    "inputTokens",
    "outputTokens",
    "cacheReadInputTokens",
    "cacheCreationInputTokens",
    "webSearchRequests",
];

pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn model_id(alias: Option<&str>) -> String {
    match alias {
        None | Some("default" | "sonnet") => "claude-sonnet-4-5-20250929".into(),
        Some("opus") => "claude-opus-4-1-20250805".into(),
        Some("haiku") => "claude-haiku-4-5-20251001".into(),
        Some(other) => other.into(),
    }
}

pub fn init(session: &str, cwd: &str, model: &str, permission_mode: &str) -> Value {
    json!({
        "type": "system", "subtype": "init", "cwd": cwd, "session_id": session,
        "tools": TOOLS,
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

/// The user line with the result of a tool that ran.
pub fn tool_result(session: &str, tool_use_id: &str, content: &str) -> Value {
    let decision = json!({"decision": "accept", "source": "config", "reason_type": "rule"});
    json!({
        "type": "user",
        "message": {"role": "user", "content": [
            {"tool_use_id": tool_use_id, "type": "tool_result", "content": content, "is_error": false}
        ]},
        "parent_tool_use_id": null, "session_id": session, "uuid": uuid(),
        "tool_use_result": {"stdout": content, "stderr": "", "interrupted": false,
                            "isImage": false, "noOutputExpected": false},
        "tool_result_meta": [{"id": tool_use_id, "permission_decision": decision}],
    })
}

/// The line 2.1 prints when the permission rules refuse a tool call.
pub fn permission_denied(
    session: &str,
    tool_name: &str,
    tool_use_id: &str,
    message: &str,
) -> Value {
    json!({
        "type": "system", "subtype": "permission_denied", "tool_name": tool_name,
        "tool_use_id": tool_use_id, "message": message, "uuid": uuid(), "session_id": session,
    })
}

/// The user line that tells the model a tool call was refused.
pub fn denied_result(session: &str, tool_use_id: &str, message: &str) -> Value {
    let decision = json!({"decision": "reject", "source": "config"});
    json!({
        "type": "user",
        "message": {"role": "user", "content": [
            {"type": "tool_result", "content": message, "is_error": true, "tool_use_id": tool_use_id}
        ]},
        "parent_tool_use_id": null, "session_id": session, "uuid": uuid(),
        "tool_use_result": format!("Error: {message}"),
        "tool_result_meta": [{"id": tool_use_id, "non_execution_kind": "user-rejected",
                              "permission_decision": decision}],
    })
}

/// The final line. `text: None` leaves out `result`, as error subtypes do.
/// `prior` is the session's `modelUsage` before this run: as in the real
/// CLI, `total_cost_usd` and `modelUsage` cover the whole session, and only
/// `model_usage_since_last_result` this run.
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
    /// Set when the run ended in an API error.
    pub api_error: Option<ApiFailure>,
    pub prior: Value,
}

impl ResultSpec<'_> {
    pub fn build(self) -> Value {
        let elapsed = self.started.elapsed().as_millis() as u64;
        let (usage, own) = self.own_usage();
        let total = add_usage(self.prior.clone(), &own);
        let cost: f64 = total.as_object().map_or(0.0, |m| {
            m.values().filter_map(|u| u["costUSD"].as_f64()).sum()
        });
        let mut result = json!({
            "type": "result", "subtype": self.subtype, "is_error": self.is_error,
            "duration_ms": elapsed, "duration_api_ms": elapsed + 37, "num_turns": self.num_turns,
            "session_id": self.session, "total_cost_usd": cost, "usage": usage,
            "modelUsage": total, "permission_denials": self.denials, "uuid": uuid(),
        });
        if self.subtype == "success" {
            result["terminal_reason"] = json!(self.terminal_reason());
            result["api_error_status"] = json!(self.api_error.map(ApiFailure::status));
            result["model_usage_since_last_result"] = own;
        }
        result["stop_reason"] = json!(self.stop_reason());
        if let Some(failure) = self.api_error {
            result["api_error_type"] = json!(failure.type_name());
        }
        if let Some(text) = self.text {
            result["result"] = json!(text);
        }
        if let Some(errors) = self.errors {
            result["errors"] = json!(errors);
        }
        result
    }

    fn terminal_reason(&self) -> &'static str {
        match self.api_error {
            Some(_) => "api_error",
            None => "completed",
        }
    }

    /// The last API message's: none when the run failed before or without
    /// one, the synthetic message's after an API error.
    fn stop_reason(&self) -> Option<&'static str> {
        match (self.subtype, self.api_error) {
            ("success", Some(_)) => Some("stop_sequence"),
            ("success", None) => Some("end_turn"),
            _ => None,
        }
    }

    /// This run's `usage` and its `modelUsage` entry (none when no API
    /// call was made or all failed).
    fn own_usage(&self) -> (Value, Value) {
        let output_tokens = self.text.map_or(0, |t| t.len() as u64 / 4 + 1);
        let called = self.num_turns > 0 && self.api_error.is_none();
        let (input, cache_write, cache_read) = if called { (12, 4521, 13890) } else { (0, 0, 0) };
        let output_tokens = if called { output_tokens } else { 0 };
        let cost = (input * 3 + cache_write * 375 / 100 + cache_read * 3 / 10 + output_tokens * 15)
            as f64
            / 1e6;
        let usage = json!({
            "input_tokens": input, "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read, "output_tokens": output_tokens,
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "service_tier": "standard",
            "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": cache_write},
        });
        if !called {
            return (usage, json!({}));
        }
        let own = json!({self.model: {
            "inputTokens": input, "outputTokens": output_tokens,
            "cacheReadInputTokens": cache_read, "cacheCreationInputTokens": cache_write,
            "webSearchRequests": 0, "costUSD": cost, "contextWindow": 200000, "maxOutputTokens": 64000,
        }});
        (usage, own)
    }
}

/// `total` with each model's counters in `run` added to it.
fn add_usage(total: Value, run: &Value) -> Value {
    let mut total = match total {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (model, usage) in run.as_object().into_iter().flatten() {
        let entry = total.entry(model.clone()).or_insert_with(|| json!({}));
        let mut summed = usage.clone();
        for counter in COUNTERS {
            let add = |v: &Value| v[counter].as_u64().unwrap_or(0);
            summed[counter] = json!(add(entry) + add(usage));
        }
        let cost = |v: &Value| v["costUSD"].as_f64().unwrap_or(0.0);
        summed["costUSD"] = json!(cost(entry) + cost(usage));
        *entry = summed;
    }
    Value::Object(total)
}
