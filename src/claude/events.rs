//! stream-json lines (and `--output-format json` documents) into typed
//! events. Parsing is lenient on purpose: unknown types, subtypes and fields
//! are ignored, and a field with an unexpected type reads as absent, because
//! the CLI adds message kinds between releases.

use super::Progress;
use super::control::{ControlRequest, request_of};
use super::outcome::{PermissionDenial, Usage};
use super::targets::{ProjectRoots, changed_file, tool_target};
use crate::domain::ClaudeSessionId;
use serde_json::Value;

/// One thing the CLI reported: progress to pass on, or the final result.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Progress(Progress),
    Result(ResultMessage),
    /// The CLI waits for an answer on stdin.
    Control(ControlRequest),
}

/// The CLI's final `result` object, the fields this crate uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultMessage {
    pub subtype: String,
    pub is_error: bool,
    pub duration_ms: Option<u64>,
    pub num_turns: u32,
    /// Absent on `error_*` subtypes.
    pub result: Option<String>,
    pub session_id: Option<ClaudeSessionId>,
    /// `total_cost_usd`, or the pre-1.0.22 `cost_usd` / `total_cost`. After
    /// `--resume` the CLI makes this the session's running total.
    pub cost_usd: f64,
    /// This run's own cost: the sum of `model_usage_since_last_result`'s
    /// `costUSD`, when the CLI gives it (2.1 does).
    pub run_cost_usd: Option<f64>,
    pub usage: Usage,
    pub permission_denials: Vec<PermissionDenial>,
    pub errors: Vec<String>,
    /// The HTTP status of the API call that ended the run, if one did
    /// (`api_error_status`, 2.1).
    pub api_error_status: Option<u16>,
}

#[derive(Debug, thiserror::Error)]
pub enum JsonOutputError {
    #[error("the CLI output is not JSON")]
    NotJson(#[from] serde_json::Error),
    #[error("the CLI output holds no result object")]
    NoResult,
}

/// Parses one stream-json line; anything unknown or malformed yields
/// nothing. With no project known, tool targets show absolute paths as
/// their file name only.
pub fn parse_line(line: &str) -> Vec<StreamEvent> {
    parse_line_in(line, &ProjectRoots::default())
}

/// Parses one line of a run in the project at `roots`: tool targets inside
/// it are shown relative to it.
pub fn parse_line_in(line: &str, roots: &ProjectRoots) -> Vec<StreamEvent> {
    match serde_json::from_str::<Value>(line.trim()) {
        Ok(value) => events_of(&value, roots),
        Err(_) => Vec::new(),
    }
}

/// Parses `--output-format json` output: one result object, or (with
/// `--verbose`) an array of every message whose last result is the answer.
pub fn parse_json_output(text: &str) -> Result<ResultMessage, JsonOutputError> {
    let value: Value = serde_json::from_str(text.trim())?;
    let candidates = match &value {
        Value::Array(items) => items.iter().rev().collect(),
        other => vec![other],
    };
    candidates
        .into_iter()
        .find(|v| str_at(v, "type") == Some("result"))
        .map(|v| result_of(v, &ProjectRoots::default()))
        .ok_or(JsonOutputError::NoResult)
}

fn events_of(value: &Value, roots: &ProjectRoots) -> Vec<StreamEvent> {
    match (str_at(value, "type"), str_at(value, "subtype")) {
        (Some("system"), Some("init")) => init_of(value).into_iter().collect(),
        (Some("system"), Some("api_retry")) => api_retry_of(value).into_iter().collect(),
        (Some("assistant"), _) => blocks(value)
            .filter_map(|b| assistant_block(b, roots))
            .collect(),
        (Some("user"), _) => blocks(value).filter_map(user_block).collect(),
        (Some("result"), _) => vec![StreamEvent::Result(result_of(value, roots))],
        (Some("control_request"), _) => request_of(value)
            .map(StreamEvent::Control)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

fn init_of(value: &Value) -> Option<StreamEvent> {
    Some(StreamEvent::Progress(Progress::Init {
        session_id: session_of(value)?,
        model: str_at(value, "model").unwrap_or_default().to_string(),
    }))
}

fn api_retry_of(value: &Value) -> Option<StreamEvent> {
    let number = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    Some(StreamEvent::Progress(Progress::ApiRetry {
        attempt: number("attempt")?,
        max_retries: number("max_retries").unwrap_or(0),
    }))
}

fn blocks(value: &Value) -> impl Iterator<Item = &Value> {
    value
        .pointer("/message/content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn assistant_block(block: &Value, roots: &ProjectRoots) -> Option<StreamEvent> {
    match str_at(block, "type")? {
        "text" => {
            let text = str_at(block, "text")?;
            (!text.is_empty()).then(|| StreamEvent::Progress(Progress::Text(text.to_string())))
        }
        "tool_use" => {
            let (name, input) = (str_at(block, "name")?, block.get("input"));
            Some(StreamEvent::Progress(Progress::ToolUse {
                id: str_at(block, "id").unwrap_or_default().to_string(),
                name: name.to_string(),
                target: input.and_then(|i| tool_target(i, roots)),
                changes: input.and_then(|i| changed_file(name, i, roots)),
            }))
        }
        _ => None,
    }
}

fn user_block(block: &Value) -> Option<StreamEvent> {
    (str_at(block, "type")? == "tool_result").then(|| {
        StreamEvent::Progress(Progress::ToolResult {
            id: str_at(block, "tool_use_id").unwrap_or_default().to_string(),
            is_error: block
                .get("is_error")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    })
}

fn result_of(value: &Value, roots: &ProjectRoots) -> ResultMessage {
    let cost = ["total_cost_usd", "cost_usd", "total_cost"]
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_f64));
    ResultMessage {
        subtype: str_at(value, "subtype").unwrap_or_default().to_string(),
        is_error: value
            .get("is_error")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        duration_ms: value.get("duration_ms").and_then(Value::as_u64),
        num_turns: value
            .get("num_turns")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        result: str_at(value, "result").map(str::to_string),
        session_id: session_of(value),
        cost_usd: cost.unwrap_or(0.0),
        run_cost_usd: value
            .get("model_usage_since_last_result")
            .and_then(run_cost_of),
        usage: value.get("usage").map(usage_of).unwrap_or_default(),
        permission_denials: array_at(value, "permission_denials")
            .filter_map(|d| denial_of(d, roots))
            .collect(),
        errors: array_at(value, "errors")
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string))
            .collect(),
        api_error_status: api_error_status_of(value),
    }
}

/// `api_error_status`, or a status for `terminal_reason: api_error`
/// without one (0: unknown).
fn api_error_status_of(value: &Value) -> Option<u16> {
    let status = value
        .get("api_error_status")
        .and_then(Value::as_u64)
        .and_then(|n| u16::try_from(n).ok());
    let api_error = str_at(value, "terminal_reason") == Some("api_error");
    status.or(api_error.then_some(0))
}

/// The per-model costs of one run, summed; `None` unless it is an object
/// whose entries carry `costUSD`.
fn run_cost_of(per_model: &Value) -> Option<f64> {
    let costs: Vec<f64> = per_model
        .as_object()?
        .values()
        .filter_map(|m| m.get("costUSD").and_then(Value::as_f64))
        .collect();
    (!costs.is_empty()).then(|| costs.iter().sum())
}

fn usage_of(usage: &Value) -> Usage {
    let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input_tokens: n("input_tokens"),
        output_tokens: n("output_tokens"),
        cache_creation_input_tokens: n("cache_creation_input_tokens"),
        cache_read_input_tokens: n("cache_read_input_tokens"),
    }
}

fn denial_of(denial: &Value, roots: &ProjectRoots) -> Option<PermissionDenial> {
    let tool_name = str_at(denial, "tool_name")?.to_string();
    let summary = match denial.get("tool_input").and_then(|i| tool_target(i, roots)) {
        Some(target) => format!("{tool_name}({target})"),
        None => tool_name.clone(),
    };
    Some(PermissionDenial { tool_name, summary })
}

fn session_of(value: &Value) -> Option<ClaudeSessionId> {
    str_at(value, "session_id").and_then(|s| ClaudeSessionId::parse(s).ok())
}

fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn array_at<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests;
