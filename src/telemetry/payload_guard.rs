//! Records of dependencies that would carry message text never reach the
//! file or stderr. serenity dumps a gateway frame it cannot parse
//! ("Err deserializing text: …; text: <the frame>", at WARN), its bytes at
//! DEBUG ("Failing bytes"), and an unknown event whole at DEBUG; any of
//! them can hold a user's message. Those records are dropped for every
//! layer. (tracing drops records made while a record is being handled, so
//! no replacement is written here; serenity still reports the error it
//! returns when the shard reconnects.)

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// How the message of a record that carries a payload begins.
const PAYLOAD_MESSAGES: [&str; 4] = [
    "Err deserializing",
    "Err decompressing",
    "Failing bytes",
    "An unknown event was received",
];

pub struct PayloadGuard;

impl<S: Subscriber> Layer<S> for PayloadGuard {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        if !event.metadata().target().starts_with("serenity") {
            return true;
        }
        let mut message = Message::default();
        event.record(&mut message);
        !carries_payload(&message.0)
    }
}

fn carries_payload(message: &str) -> bool {
    PAYLOAD_MESSAGES.iter().any(|p| message.starts_with(p))
}

/// The record's `message` field.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
}
