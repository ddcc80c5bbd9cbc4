//! A loopback fake of the Anthropic Messages API, so tests can drive the
//! real Claude Code CLI offline (`ANTHROPIC_BASE_URL=<base_url>`): each test
//! scripts the replies (text, thinking, tool calls, slow streams, errors) and
//! reads back every request the CLI sent.
//!
//! ```no_run
//! # async fn demo() {
//! use test_support::fake_api::{FakeApi, Match, Reply};
//! let api = FakeApi::start().await;
//! api.push(Reply::tool_use("Bash", serde_json::json!({"command": "touch x"})));
//! api.push_when(Match::tool_result(), Reply::text("Done."));
//! // ... run the CLI with ANTHROPIC_BASE_URL = api.base_url() ...
//! assert_eq!(api.message_calls().len(), 2);
//! # }
//! ```

mod ids;
mod record;
mod render;
mod reply;
mod respond;
mod script;
mod server;

pub use record::ApiRequest;
pub use reply::{Block, ErrorKind, Reply, Usage};
pub use script::Match;
pub use server::FakeApi;
