//! What the fake answers to one request: a message made of content blocks,
//! an HTTP error with the API's error body, or a stream that breaks with an
//! `error` event. Built with the constructors on [`Reply`].

use serde_json::{Value, json};
use std::time::Duration;

/// The `error.type` values of the Messages API, each with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    RequestTooLarge,
    RateLimit,
    Api,
    Overloaded,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Authentication => 401,
            Self::Permission => 403,
            Self::NotFound => 404,
            Self::RequestTooLarge => 413,
            Self::RateLimit => 429,
            Self::Api => 500,
            Self::Overloaded => 529,
        }
    }

    pub fn type_name(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request_error",
            Self::Authentication => "authentication_error",
            Self::Permission => "permission_error",
            Self::NotFound => "not_found_error",
            Self::RequestTooLarge => "request_too_large",
            Self::RateLimit => "rate_limit_error",
            Self::Api => "api_error",
            Self::Overloaded => "overloaded_error",
        }
    }

    /// The message the API itself uses for this kind.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::InvalidRequest => "Invalid request",
            Self::Authentication => "invalid x-api-key",
            Self::Permission => {
                "Your API key does not have permission to use the specified resource."
            }
            Self::NotFound => "Not found",
            Self::RequestTooLarge => "Request exceeds the maximum allowed number of bytes.",
            Self::RateLimit => "Number of request tokens has exceeded your per-minute rate limit",
            Self::Api => "Internal server error",
            Self::Overloaded => "Overloaded",
        }
    }
}

/// One error as the API words it.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    /// `{"type":"error","error":{"type":..,"message":..},"request_id":..}`.
    pub fn body(&self, request_id: &str) -> Value {
        json!({
            "type": "error",
            "error": {"type": self.kind.type_name(), "message": self.message},
            "request_id": request_id,
        })
    }
}

/// One content block of an assistant message.
#[derive(Clone, Debug)]
pub enum Block {
    Text(String),
    /// Streamed as `thinking_delta`s then one `signature_delta`.
    Thinking(String),
    /// Gets a fresh `toolu_` id each time it is sent.
    ToolUse {
        name: String,
        input: Value,
    },
}

/// Token counts reported for one message; the CLI prices them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

impl Default for Usage {
    fn default() -> Self {
        Self {
            input_tokens: 1200,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            output_tokens: 20,
        }
    }
}

impl Usage {
    pub fn to_json(self) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_input_tokens,
                "ephemeral_1h_input_tokens": 0,
            },
            "output_tokens": self.output_tokens,
            "service_tier": "standard",
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Body {
    Message {
        blocks: Vec<Block>,
        stop_reason: String,
    },
    Error {
        error: ApiError,
        should_retry: Option<bool>,
    },
    StreamError {
        before: Vec<Block>,
        error: ApiError,
    },
}

/// A scripted answer. Streams split each text into `pieces` deltas and wait
/// `delta_delay` between deltas.
#[derive(Clone, Debug)]
pub struct Reply {
    pub(crate) body: Body,
    pub(crate) usage: Usage,
    pub(crate) pieces: usize,
    pub(crate) delta_delay: Duration,
}

impl Reply {
    fn of(body: Body) -> Self {
        Self {
            body,
            usage: Usage::default(),
            pieces: 3,
            delta_delay: Duration::ZERO,
        }
    }

    /// Any blocks, ending with the given stop reason (`end_turn`, `tool_use`, `max_tokens`).
    pub fn blocks(blocks: Vec<Block>, stop_reason: &str) -> Self {
        let stop_reason = stop_reason.to_string();
        Self::of(Body::Message {
            blocks,
            stop_reason,
        })
    }

    /// A plain text answer that ends the turn.
    pub fn text(text: &str) -> Self {
        Self::blocks(vec![Block::Text(text.into())], "end_turn")
    }

    /// Thinking (with a signature) followed by a text answer.
    pub fn thinking(thinking: &str, text: &str) -> Self {
        let blocks = vec![Block::Thinking(thinking.into()), Block::Text(text.into())];
        Self::blocks(blocks, "end_turn")
    }

    /// A call to tool `name`, ending with stop reason `tool_use`.
    pub fn tool_use(name: &str, input: Value) -> Self {
        Self::blocks(vec![tool_block(name, input)], "tool_use")
    }

    /// Some text, then a tool call, in one message.
    pub fn text_then_tool_use(text: &str, name: &str, input: Value) -> Self {
        let blocks = vec![Block::Text(text.into()), tool_block(name, input)];
        Self::blocks(blocks, "tool_use")
    }

    /// Text streamed in `pieces` deltas with `delay` between them.
    pub fn slow_text(text: &str, pieces: usize, delay: Duration) -> Self {
        Self::text(text).pieces(pieces).delta_delay(delay)
    }

    /// An HTTP error status with the API's error body.
    pub fn error(kind: ErrorKind) -> Self {
        Self::error_with(kind, kind.default_message())
    }

    pub fn error_with(kind: ErrorKind, message: &str) -> Self {
        let error = ApiError {
            kind,
            message: message.into(),
        };
        Self::of(Body::Error {
            error,
            should_retry: None,
        })
    }

    /// A stream that starts, sends `partial` text, then an `error` event.
    pub fn stream_error(kind: ErrorKind, partial: &str) -> Self {
        let error = ApiError {
            kind,
            message: kind.default_message().into(),
        };
        let before = match partial {
            "" => vec![],
            text => vec![Block::Text(text.into())],
        };
        Self::of(Body::StreamError { before, error })
    }

    /// Adds `x-should-retry: <value>` to an error response.
    pub fn should_retry(mut self, value: bool) -> Self {
        if let Body::Error { should_retry, .. } = &mut self.body {
            *should_retry = Some(value);
        }
        self
    }

    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    pub fn pieces(mut self, pieces: usize) -> Self {
        self.pieces = pieces.max(1);
        self
    }

    pub fn delta_delay(mut self, delay: Duration) -> Self {
        self.delta_delay = delay;
        self
    }
}

fn tool_block(name: &str, input: Value) -> Block {
    Block::ToolUse {
        name: name.into(),
        input,
    }
}
