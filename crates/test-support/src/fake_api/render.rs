//! Turns a [`Reply`] into what the API sends: the SSE events of a streamed
//! message (`message_start`, `ping`, `content_block_*`, `message_delta`,
//! `message_stop`, or an `error` event), or the JSON of a non-streamed one.

use super::ids;
use super::reply::{ApiError, Block, Body, Reply, Usage};
use serde_json::{Value, json};
use std::time::Duration;

/// One SSE event, sent after waiting `delay`.
#[derive(Debug)]
pub struct Event {
    pub name: &'static str,
    pub data: Value,
    pub delay: Duration,
}

impl Event {
    fn now(name: &'static str, data: Value) -> Self {
        Self {
            name,
            data,
            delay: Duration::ZERO,
        }
    }

    /// `event: <name>\ndata: <json>\n\n`.
    pub fn to_sse(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.name, self.data)
    }
}

/// A block with the ids and signature it is sent with.
enum Sent<'a> {
    Text(&'a str),
    Thinking {
        thinking: &'a str,
        signature: String,
    },
    ToolUse {
        id: String,
        name: &'a str,
        input: &'a Value,
    },
}

fn resolve(blocks: &[Block]) -> Vec<Sent<'_>> {
    blocks
        .iter()
        .map(|block| match block {
            Block::Text(text) => Sent::Text(text),
            Block::Thinking(thinking) => Sent::Thinking {
                thinking,
                signature: ids::next("EqMBCkgIBhABGAIiQ"),
            },
            Block::ToolUse { name, input } => Sent::ToolUse {
                id: ids::next("toolu_01"),
                name,
                input,
            },
        })
        .collect()
}

fn full_block(block: &Sent) -> Value {
    match block {
        Sent::Text(text) => json!({"type": "text", "text": text}),
        Sent::Thinking {
            thinking,
            signature,
        } => {
            json!({"type": "thinking", "thinking": thinking, "signature": signature})
        }
        Sent::ToolUse { id, name, input } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": input})
        }
    }
}

fn message(model: &str, content: Vec<Value>, stop_reason: Option<&str>, usage: Usage) -> Value {
    json!({
        "id": ids::next("msg_01"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": usage.to_json(),
    })
}

/// The non-streamed answer: `Ok(message JSON)` or `Err(error)` for an HTTP error.
/// A stream error becomes its HTTP error here, as the API has no partial
/// non-streamed message.
pub fn whole(reply: &Reply, model: &str) -> Result<Value, ApiError> {
    match &reply.body {
        Body::Message {
            blocks,
            stop_reason,
        } => {
            let content = resolve(blocks).iter().map(full_block).collect();
            Ok(message(model, content, Some(stop_reason), reply.usage))
        }
        Body::Error { error, .. } | Body::StreamError { error, .. } => Err(error.clone()),
    }
}

/// The SSE events of a streamed answer (never called for `Body::Error`).
pub fn stream(reply: &Reply, model: &str, request_id: &str) -> Vec<Event> {
    let start_usage = Usage {
        output_tokens: 1,
        ..reply.usage
    };
    let start =
        json!({"type": "message_start", "message": message(model, vec![], None, start_usage)});
    let mut events = vec![Event::now("message_start", start), ping()];
    let mut writer = BlockWriter {
        events: &mut events,
        reply,
        deltas: 0,
    };
    match &reply.body {
        Body::Message {
            blocks,
            stop_reason,
        } => {
            for (index, block) in resolve(blocks).iter().enumerate() {
                writer.block(index, block, true);
            }
            events.push(message_delta(stop_reason, reply.usage));
            events.push(Event::now("message_stop", json!({"type": "message_stop"})));
        }
        Body::StreamError { before, error } => {
            for (index, block) in resolve(before).iter().enumerate() {
                writer.block(index, block, false);
            }
            events.push(Event::now("error", error.body(request_id)));
        }
        Body::Error { .. } => {}
    }
    events
}

fn ping() -> Event {
    Event::now("ping", json!({"type": "ping"}))
}

fn message_delta(stop_reason: &str, usage: Usage) -> Event {
    let data = json!({
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": null},
        "usage": {
            "input_tokens": usage.input_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "output_tokens": usage.output_tokens,
        },
    });
    Event::now("message_delta", data)
}

/// Appends the start, deltas and (optionally) stop of each block, putting
/// the reply's delay before every delta but the first.
struct BlockWriter<'a> {
    events: &'a mut Vec<Event>,
    reply: &'a Reply,
    deltas: usize,
}

impl BlockWriter<'_> {
    fn block(&mut self, index: usize, block: &Sent, stop: bool) {
        let opening = match block {
            Sent::Text(_) => json!({"type": "text", "text": ""}),
            Sent::Thinking { .. } => json!({"type": "thinking", "thinking": "", "signature": ""}),
            Sent::ToolUse { id, name, .. } => {
                json!({"type": "tool_use", "id": id, "name": name, "input": {}})
            }
        };
        let start =
            json!({"type": "content_block_start", "index": index, "content_block": opening});
        self.events.push(Event::now("content_block_start", start));
        self.deltas_of(index, block);
        if stop {
            let data = json!({"type": "content_block_stop", "index": index});
            self.events.push(Event::now("content_block_stop", data));
        }
    }

    fn deltas_of(&mut self, index: usize, block: &Sent) {
        let pieces = self.reply.pieces;
        match block {
            Sent::Text(text) => {
                for piece in split(text, pieces) {
                    self.delta(index, json!({"type": "text_delta", "text": piece}));
                }
            }
            Sent::Thinking {
                thinking,
                signature,
            } => {
                for piece in split(thinking, pieces) {
                    self.delta(index, json!({"type": "thinking_delta", "thinking": piece}));
                }
                self.delta(
                    index,
                    json!({"type": "signature_delta", "signature": signature}),
                );
            }
            Sent::ToolUse { input, .. } => {
                self.delta(
                    index,
                    json!({"type": "input_json_delta", "partial_json": ""}),
                );
                for piece in split(&input.to_string(), pieces) {
                    self.delta(
                        index,
                        json!({"type": "input_json_delta", "partial_json": piece}),
                    );
                }
            }
        }
    }

    fn delta(&mut self, index: usize, delta: Value) {
        let delay = if self.deltas == 0 {
            Duration::ZERO
        } else {
            self.reply.delta_delay
        };
        self.deltas += 1;
        let data = json!({"type": "content_block_delta", "index": index, "delta": delta});
        self.events.push(Event {
            name: "content_block_delta",
            data,
            delay,
        });
    }
}

/// `text` cut into at most `pieces` non-empty parts on character boundaries.
fn split(text: &str, pieces: usize) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let size = chars.len().div_ceil(pieces.max(1)).max(1);
    let mut parts = Vec::new();
    let mut start = 0;
    for chunk in chars.chunks(size).skip(1) {
        let end = chunk[0].0;
        parts.push(&text[start..end]);
        start = end;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_keeps_every_character_in_order() {
        assert_eq!(split("hello world", 3), ["hell", "o wo", "rld"]);
        assert_eq!(split("héé", 5), ["h", "é", "é"]);
        assert_eq!(split("", 3), [""]);
        assert_eq!(split("ab", 1), ["ab"]);
    }
}
