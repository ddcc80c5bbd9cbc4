//! `FAKE:api-error[=<status>]`: every API call fails, with 529 (the
//! default), 429, 500 or 401. As the real CLI 2.1 does, the run prints one
//! `system/api_retry` line per retry (CLAUDE_CODE_MAX_RETRIES of them,
//! default 10), then a `<synthetic>` assistant line that carries the error;
//! its result (see `messages.rs`) says `success` with `is_error: true` and
//! `terminal_reason: api_error`, costs nothing, and the exit code is 1. The
//! real backoff (0.5 s growing to 40 s) is scaled down a thousandfold.

use crate::messages::uuid;
use crate::output::Out;
use crate::words::Words;
use serde_json::{Value, json};
use std::time::Duration;

/// The retries the real CLI makes when CLAUDE_CODE_MAX_RETRIES is unset.
const DEFAULT_MAX_RETRIES: u32 = 10;

/// How the API keeps failing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiFailure {
    Overloaded,
    RateLimit,
    Server,
    Authentication,
}

impl ApiFailure {
    /// The failure a run's `FAKE:` words choose: `Ok(None)` for none, an
    /// error for a status this fake cannot play.
    pub fn chosen(words: &Words) -> Result<Option<Self>, String> {
        let failure = match (words.number("api-error"), words.has("api-error")) {
            (Some(529), _) | (None, true) => Self::Overloaded,
            (Some(429), _) => Self::RateLimit,
            (Some(500), _) => Self::Server,
            (Some(401), _) => Self::Authentication,
            (None, false) => return Ok(None),
            (Some(other), _) => {
                return Err(format!(
                    "fake-claude: FAKE:api-error={other}: only 401, 429, 500 and 529 are scripted"
                ));
            }
        };
        Ok(Some(failure))
    }

    pub fn status(self) -> u16 {
        match self {
            Self::Overloaded => 529,
            Self::RateLimit => 429,
            Self::Server => 500,
            Self::Authentication => 401,
        }
    }

    /// The API's `error.type`, which the CLI repeats as `api_error_type`.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Overloaded => "overloaded_error",
            Self::RateLimit => "rate_limit_error",
            Self::Server => "api_error",
            Self::Authentication => "authentication_error",
        }
    }

    /// The `error` of a `system/api_retry` line.
    fn retry_error(self) -> &'static str {
        match self {
            Self::Overloaded => "overloaded",
            Self::RateLimit => "rate_limit",
            Self::Server => "server_error",
            Self::Authentication => "authentication_failed",
        }
    }

    /// The `error` of the synthetic assistant line (a 529 is a server error).
    fn synthetic_error(self) -> &'static str {
        match self {
            Self::Overloaded | Self::Server => "server_error",
            other => other.retry_error(),
        }
    }

    /// The answer, in 2.1.328's words (which name the API host).
    pub fn text(self) -> &'static str {
        match self {
            Self::Overloaded => {
                "API Error: 529 Overloaded. This is a server-side issue, usually temporary \
                 — try again in a moment. If it persists, check your inference gateway \
                 (api.anthropic.com)."
            }
            Self::RateLimit => {
                "API Error: Request rejected (429) · Number of request tokens has exceeded \
                 your per-minute rate limit"
            }
            Self::Server => {
                "API Error: 500 Internal server error. This is a server-side issue, usually \
                 temporary — try again in a moment. If it persists, check your inference \
                 gateway (api.anthropic.com)."
            }
            Self::Authentication => "Invalid API key · Fix external API key",
        }
    }

    /// Prints a `system/api_retry` line per retry, waiting a thousandth of
    /// each announced delay, then the synthetic assistant line.
    pub fn report(self, out: &mut Out, session: &str) {
        let max = max_retries();
        for attempt in 1..=max {
            let delay = retry_delay_ms(attempt);
            out.emit(json!({
                "type": "system", "subtype": "api_retry", "attempt": attempt,
                "max_retries": max, "retry_delay_ms": delay,
                "error_status": self.status(), "error": self.retry_error(),
                "session_id": session, "uuid": uuid(),
            }));
            std::thread::sleep(Duration::from_micros(delay));
        }
        out.emit(self.synthetic_line(session));
    }

    /// The assistant line the CLI makes up once it gives up.
    fn synthetic_line(self, session: &str) -> Value {
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let request_id = format!("req_01{}", &uuid::Uuid::new_v4().simple().to_string()[..24]);
        let message = json!({
            "diagnostics": null, "id": uuid(), "container": null, "model": "<synthetic>",
            "role": "assistant", "stop_details": null, "stop_reason": "stop_sequence",
            "stop_sequence": "", "type": "message", "usage": synthetic_usage(),
            "content": [{"type": "text", "text": self.text()}], "context_management": null,
        });
        json!({
            "type": "assistant", "message": message, "parent_tool_use_id": null,
            "session_id": session, "uuid": uuid(), "timestamp": timestamp,
            "error": self.synthetic_error(), "request_id": request_id,
            "is_api_error_message": true, "api_error_status": self.status(),
            "api_error_type": self.type_name(),
        })
    }
}

/// CLAUDE_CODE_MAX_RETRIES, or the CLI's default when unset or unreadable.
fn max_retries() -> u32 {
    std::env::var("CLAUDE_CODE_MAX_RETRIES")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_RETRIES)
}

/// 0.5 s doubling up to 32 s, plus a fixed fifth standing in for the real
/// CLI's jitter: 600 ms, 1.2 s, ... 38.4 s.
fn retry_delay_ms(attempt: u32) -> u64 {
    let base = 500u64 << attempt.saturating_sub(1).min(6);
    base + base / 5
}

fn synthetic_usage() -> Value {
    json!({
        "output_tokens_details": null, "input_tokens": 0, "output_tokens": 0,
        "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        "service_tier": null,
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        "inference_geo": null, "iterations": null, "speed": null, "fallback_credit": null,
    })
}
