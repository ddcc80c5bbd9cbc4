//! Spans carry fields, not records. tracing-bunyan-formatter writes a
//! record when a span opens and when it closes, and prefixes
//! `[NAME - EVENT] ` to the message of every event inside one. The daemon
//! uses spans only to put `request_id`, `channel_id` and `project` on the
//! records logged inside them, so this writer drops the open and close
//! records and the prefix: a record's `msg` is what the code logged.

use std::io::{self, Write};
use tracing_subscriber::fmt::MakeWriter;

/// Wraps the sink the bunyan layer writes each record to, whole, in one
/// `write_all`.
#[derive(Debug, Clone)]
pub struct SpanFields<W>(pub W);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for SpanFields<W> {
    type Writer = Records<W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Records(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        Records(self.0.make_writer_for(meta))
    }
}

pub struct Records<W>(W);

impl<W: Write> Write for Records<W> {
    fn write(&mut self, record: &[u8]) -> io::Result<usize> {
        match span_part(record) {
            None => self.0.write_all(record)?,
            Some(SpanPart::Bookkeeping) => {}
            Some(SpanPart::Prefix(start, end)) => {
                self.0.write_all(&record[..start])?;
                self.0.write_all(&record[end..])?;
            }
        }
        Ok(record.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[derive(Debug, PartialEq, Eq)]
enum SpanPart {
    /// A span's `[NAME - START]` or `[NAME - END]` record.
    Bookkeeping,
    /// The byte range of an event's `[NAME - EVENT] ` prefix.
    Prefix(usize, usize),
}

/// Bunyan's core fields come first (`v`, `name`, `msg`), so the message
/// starts within the record's first bytes.
fn span_part(record: &[u8]) -> Option<SpanPart> {
    const MSG: &[u8] = b"\"msg\":\"[";
    let head = &record[..record.len().min(256)];
    let at = head.windows(MSG.len()).position(|w| w == MSG)? + MSG.len() - 1;
    let close = at + record[at..].iter().take(128).position(|&b| b == b']')?;
    let tag = std::str::from_utf8(&record[at + 1..close]).ok()?;
    let (name, kind) = tag.split_once(" - ")?;
    if name.is_empty() || name.bytes().any(|b| b.is_ascii_lowercase() || b == b'"') {
        return None;
    }
    match kind {
        "START" | "END" if record.get(close + 1) == Some(&b'"') => Some(SpanPart::Bookkeeping),
        "EVENT" if record.get(close + 1) == Some(&b' ') => Some(SpanPart::Prefix(at, close + 2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(record: &str) -> String {
        let mut out = Records(Vec::new());
        out.write_all(record.as_bytes()).expect("write");
        String::from_utf8(out.0).expect("utf-8")
    }

    #[test]
    fn span_open_and_close_records_are_dropped() {
        let start = r#"{"v":0,"name":"claude-coordinator","msg":"[REQUEST - START]","level":50}"#;
        let end = r#"{"v":0,"name":"claude-coordinator","msg":"[REQUEST - END]","level":50}"#;
        assert_eq!(through(start), "");
        assert_eq!(through(end), "");
    }

    #[test]
    fn an_event_inside_a_span_keeps_its_own_message() {
        let event = r#"{"v":0,"name":"claude-coordinator","msg":"[REQUEST - EVENT] request finished","request_id":"r"}"#;
        assert_eq!(
            through(event),
            r#"{"v":0,"name":"claude-coordinator","msg":"request finished","request_id":"r"}"#
        );
    }

    #[test]
    fn other_records_pass_unchanged_even_if_they_start_with_a_bracket() {
        for record in [
            r#"{"v":0,"name":"claude-coordinator","msg":"request finished"}"#,
            r#"{"v":0,"name":"claude-coordinator","msg":"[not a span] text"}"#,
            r#"{"v":0,"name":"claude-coordinator","msg":"[lower - EVENT] text"}"#,
            r#"{"v":0,"name":"claude-coordinator","msg":"[X - START] trailing"}"#,
        ] {
            assert_eq!(through(record), record);
        }
    }
}
