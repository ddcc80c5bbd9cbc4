//! An in-memory log sink for tests across the crate (unit and integration).

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

/// Collects everything a subscriber writes. Clones share one buffer, so hand
/// a clone to `get_subscriber` and read the original afterwards.
#[derive(Clone, Default)]
pub struct CapturedLogs {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl CapturedLogs {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// Every non-empty line parsed as JSON.
    ///
    /// # Panics
    /// When a line is not JSON: this is a test helper, and a broken line is
    /// exactly what tests should fail on.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("captured log line is not JSON ({e}): {line}"))
            })
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A test that panicked mid-write must not hide the logs from the next assertion.
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn clones_share_one_buffer() {
        let logs = CapturedLogs::default();
        logs.make_writer().write_all(b"{\"a\":1}\n\n").unwrap();
        logs.clone().write_all(b"{\"a\":2}\n").unwrap();
        let values: Vec<i64> = logs
            .lines()
            .iter()
            .map(|v| v["a"].as_i64().unwrap())
            .collect();
        assert_eq!(values, vec![1, 2]);
        assert_eq!(logs.text(), "{\"a\":1}\n\n{\"a\":2}\n");
    }

    #[test]
    #[should_panic(expected = "captured log line is not JSON")]
    fn a_line_that_is_not_json_fails_the_test() {
        let logs = CapturedLogs::default();
        logs.make_writer().write_all(b"plain text\n").unwrap();
        logs.lines();
    }
}
