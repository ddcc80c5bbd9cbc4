//! The subscriber: bunyan JSON records to a sink, optional plain text to stderr.

use std::io::{self, IsTerminal};

use super::payload_guard::PayloadGuard;
use super::span_fields::SpanFields;
use tracing::Subscriber;
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_bunyan_formatter::{BunyanFormattingLayer, JsonStorageLayer};
use tracing_subscriber::fmt::{self, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Registry};

/// Bunyan JSON (one record a line) to `json_sink`; when `console`, also
/// human-readable text to stderr. The filter applies to both. Spans only
/// add their fields to the records inside them (see `span_fields`).
pub fn get_subscriber<W>(
    name: &str,
    filter: EnvFilter,
    json_sink: W,
    console: bool,
) -> impl Subscriber + Send + Sync + use<W>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let console_layer = console.then(|| {
        fmt::layer()
            .with_writer(io::stderr)
            .with_ansi(io::stderr().is_terminal())
    });
    Registry::default()
        .with(filter)
        .with(PayloadGuard)
        .with(JsonStorageLayer)
        .with(BunyanFormattingLayer::new(
            name.to_owned(),
            SpanFields(json_sink),
        ))
        .with(console_layer)
}

/// Moves file writes off the logging threads. Lossless: when the queue is
/// full the logging thread waits rather than dropping records, because an
/// error record that vanished is worse than a brief stall.
pub fn non_blocking_lossless<W>(writer: W) -> (NonBlocking, WorkerGuard)
where
    W: io::Write + Send + 'static,
{
    NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("claude-coordinator-log")
        .finish(writer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DiscordToken;
    use crate::telemetry::{CapturedLogs, env_filter};

    const BUNYAN_FIELDS: [&str; 7] = ["v", "name", "msg", "level", "hostname", "pid", "time"];

    fn capture(emit: impl FnOnce()) -> CapturedLogs {
        let logs = CapturedLogs::default();
        let subscriber = get_subscriber(
            "claude-coordinator",
            env_filter("trace", None).unwrap(),
            logs.clone(),
            false,
        );
        tracing::subscriber::with_default(subscriber, emit);
        logs
    }

    #[test]
    fn every_line_is_json_with_the_bunyan_fields() {
        let logs = capture(|| {
            let span = tracing::info_span!("request", request_id = "r-1", channel_id = 42u64);
            let _entered = span.enter();
            tracing::trace!("trace");
            tracing::debug!(kind = "claude", "debug");
            tracing::info!(duration_ms = 12u64, cost_usd = 0.25, "info");
            tracing::warn!("warn");
            tracing::error!(error_id = "AB12CD34", "error");
        });
        let text = logs.text();
        let lines = logs.lines();
        assert_eq!(text.lines().count(), lines.len());
        assert_eq!(lines.len(), 5, "five events, no span records:\n{text}");
        for line in &lines {
            for field in BUNYAN_FIELDS {
                assert!(line.get(field).is_some(), "{field} missing from {line}");
            }
            assert_eq!(line["v"], 0);
            assert_eq!(line["name"], "claude-coordinator");
            assert_eq!(line["pid"], std::process::id());
            assert!(line["time"].as_str().unwrap().contains('T'));
        }
        let levels: Vec<u64> = lines.iter().map(|l| l["level"].as_u64().unwrap()).collect();
        assert_eq!(levels, vec![10, 20, 30, 40, 50]);
    }

    #[test]
    fn events_carry_their_own_fields_and_their_spans_fields() {
        let logs = capture(|| {
            let span = tracing::info_span!("request", request_id = "r-1", channel_id = 42u64);
            let _entered = span.enter();
            tracing::error!(
                error_id = "AB12CD34",
                kind = "claude_exit",
                "request failed"
            );
        });
        let error = logs.lines().into_iter().find(|l| l["level"] == 50).unwrap();
        assert_eq!(error["error_id"], "AB12CD34");
        assert_eq!(error["kind"], "claude_exit");
        assert_eq!(error["request_id"], "r-1");
        assert_eq!(error["channel_id"], 42);
        assert_eq!(error["msg"], "request failed");
        assert!(
            error["target"]
                .as_str()
                .unwrap()
                .starts_with("claude_coordinator")
        );
        assert!(error["line"].as_u64().is_some());
        assert!(error["file"].as_str().unwrap().ends_with("subscriber.rs"));
    }

    #[test]
    fn a_frame_serenity_cannot_read_never_reaches_the_log_whole() {
        let logs = capture(|| {
            let frame = r#"{"t":"MESSAGE_CREATE","d":{"content":"secret-marker-42 \ud800"}}"#;
            tracing::warn!(
                target: "serenity::gateway::ws",
                "Err deserializing text: unpaired surrogate; text: {frame}"
            );
            tracing::debug!(target: "serenity::gateway::ws", "Failing bytes: {frame:?}");
            tracing::debug!(target: "serenity::client::dispatch", "An unknown event was received: {frame}");
            tracing::warn!(target: "serenity::gateway::shard", "[Shard 0] heartbeat missed");
        });
        let text = logs.text();
        assert!(!text.contains("secret-marker-42"), "{text}");
        assert!(
            text.contains("heartbeat missed"),
            "other records stay: {text}"
        );
    }

    #[test]
    fn the_token_never_reaches_the_log() {
        let secret = "MTIzNDU2Nzg5.secret-part.do-not-log";
        let token = DiscordToken::new(secret);
        let logs = capture(|| {
            let span = tracing::info_span!("connect", token = ?token);
            let _entered = span.enter();
            tracing::info!(?token, "connecting with debug");
            tracing::info!(%token, "connecting with display");
            tracing::warn!("token was {token} / {token:?}");
        });
        let text = logs.text();
        assert_eq!(logs.lines().len(), 3);
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("secret-part"), "{text}");
        assert!(text.contains("REDACTED"), "{text}");
    }
}
