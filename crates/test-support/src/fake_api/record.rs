//! What the fake keeps of each request, with accessors for what a test
//! usually asserts: model, system prompt, messages, tool results, session.

use serde_json::Value;

/// One request as received. Header names are lower-cased; `body` is the
/// parsed JSON (`Null` when the body was empty or not JSON); `connection`
/// numbers the TCP connections from 0, so reuse shows.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub connection: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl ApiRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `X-Claude-Code-Session-Id`, which the CLI sends on every call.
    pub fn session_id(&self) -> Option<&str> {
        self.header("x-claude-code-session-id")
    }

    pub fn is_messages_call(&self) -> bool {
        self.method == "POST" && self.path == "/v1/messages"
    }

    pub fn is_stream(&self) -> bool {
        self.body["stream"] == Value::Bool(true)
    }

    pub fn model(&self) -> Option<&str> {
        self.body["model"].as_str()
    }

    /// The system prompt as texts: one per block, or the one string.
    pub fn system_texts(&self) -> Vec<&str> {
        match &self.body["system"] {
            Value::String(text) => vec![text.as_str()],
            Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect(),
            _ => vec![],
        }
    }

    pub fn messages(&self) -> &[Value] {
        self.body["messages"].as_array().map_or(&[], Vec::as_slice)
    }

    /// Every text of every message with the given role, in order.
    pub fn texts_of(&self, role: &str) -> Vec<&str> {
        self.messages()
            .iter()
            .filter(|m| m["role"] == role)
            .flat_map(|m| content_texts(&m["content"]))
            .collect()
    }

    /// The texts of the last user message.
    pub fn last_user_texts(&self) -> Vec<&str> {
        self.messages()
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .map_or_else(Vec::new, |m| content_texts(&m["content"]))
    }

    /// The `tool_result` blocks of the last user message.
    pub fn last_tool_results(&self) -> Vec<&Value> {
        self.messages()
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_array())
            .map_or_else(Vec::new, |blocks| {
                blocks
                    .iter()
                    .filter(|b| b["type"] == "tool_result")
                    .collect()
            })
    }
}

/// The texts of a message's content: the string itself, or each text
/// block (and the text inside `tool_result` blocks).
fn content_texts(content: &Value) -> Vec<&str> {
    match content {
        Value::String(text) => vec![text.as_str()],
        Value::Array(blocks) => blocks.iter().flat_map(block_texts).collect(),
        _ => vec![],
    }
}

fn block_texts(block: &Value) -> Vec<&str> {
    match block["type"].as_str() {
        Some("text") => block["text"].as_str().into_iter().collect(),
        Some("tool_result") => content_texts(&block["content"]),
        _ => vec![],
    }
}
