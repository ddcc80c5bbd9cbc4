//! The child's three pipes: stdin fed the lines the run sends (the prompt,
//! then control answers) and closed when their sender goes, stdout read
//! line by line under a byte budget, stderr kept as a capped tail.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStderr, ChildStdin};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

#[derive(Debug, PartialEq, Eq)]
pub(super) enum LineRead {
    /// `line` holds one line (with its newline, unless it ended the stream).
    Line,
    Eof,
    /// The budget ran out before the line ended.
    OverBudget,
}

/// Reads one line into `line`, charging every byte to `budget`. Memory stays
/// bounded by the budget even for a line without a newline. Cancel-safe:
/// bytes already taken stay in `line`.
pub(super) async fn next_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    budget: &mut usize,
) -> std::io::Result<LineRead> {
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if line.is_empty() {
                LineRead::Eof
            } else {
                LineRead::Line
            });
        }
        let (take, complete) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if take > *budget {
            return Ok(LineRead::OverBudget);
        }
        *budget -= take;
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if complete {
            return Ok(LineRead::Line);
        }
    }
}

/// Writes each line sent on `lines` to stdin, and closes stdin once every
/// sender is gone, so the CLI then stops waiting for more. A CLI that
/// exits without reading gives EPIPE, which is not our failure.
pub(super) fn feed_stdin(stdin: Option<ChildStdin>, mut lines: UnboundedReceiver<String>) {
    let Some(mut stdin) = stdin else { return };
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            if stdin.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = stdin.shutdown().await;
    });
}

/// Collects the last `cap` bytes of stderr, for logs.
pub(super) fn collect_stderr(stderr: Option<ChildStderr>, cap: usize) -> JoinHandle<String> {
    tokio::spawn(async move {
        let Some(mut stderr) = stderr else {
            return String::new();
        };
        let mut tail = Vec::new();
        let mut chunk = vec![0u8; 8192];
        while let Ok(n @ 1..) = stderr.read(&mut chunk).await {
            tail.extend_from_slice(&chunk[..n]);
            if tail.len() > cap {
                tail.drain(..tail.len() - cap);
            }
        }
        String::from_utf8_lossy(&tail).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], mut budget: usize) -> Vec<Result<String, LineRead>> {
        let mut reader = tokio::io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        let mut line = Vec::new();
        loop {
            match next_line(&mut reader, &mut line, &mut budget)
                .await
                .unwrap()
            {
                LineRead::Line => out.push(Ok(String::from_utf8_lossy(&line).into_owned())),
                end => {
                    out.push(Err(end));
                    return out;
                }
            }
            line.clear();
        }
    }

    #[tokio::test]
    async fn lines_split_at_newlines_and_keep_an_unterminated_tail() {
        assert_eq!(
            lines(b"one\ntwo three\nend", 100).await,
            [
                Ok("one\n".into()),
                Ok("two three\n".into()),
                Ok("end".into()),
                Err(LineRead::Eof)
            ]
        );
    }

    #[tokio::test]
    async fn a_line_longer_than_the_budget_stops_the_read() {
        assert_eq!(
            lines(b"ok\nxxxxxxxxxxxxxxxxxxxx", 10).await,
            [Ok("ok\n".into()), Err(LineRead::OverBudget)]
        );
        assert_eq!(lines(b"12345\n12345\n", 12).await.len(), 3);
        assert_eq!(
            lines(b"12345\n12345\n", 11).await.last(),
            Some(&Err(LineRead::OverBudget))
        );
    }
}
