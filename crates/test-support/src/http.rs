//! Just enough HTTP/1.1 for the fakes' clients (serenity, the Claude CLI):
//! keep-alive connections, request bodies with `Content-Length` or
//! `Transfer-Encoding: chunked`, `Expect: 100-continue`, and response heads
//! for bodies of a fixed length or chunked.

use std::io::{Error, ErrorKind, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;
const MAX_HEADERS: usize = 100;

/// One request as read off the wire; header names are lower-cased.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the client asked to close the connection after this exchange.
    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// A connection with its read buffer.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Turns Nagle off: a head and its body go out as separate writes, and
    /// without this the second waits on loopback for a delayed ACK (~40 ms).
    pub fn new(stream: TcpStream) -> Self {
        let _ = stream.set_nodelay(true);
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// The next request, or `None` when the client closed between requests.
    pub async fn read_request(&mut self) -> Result<Option<Request>> {
        let Some(mut request) = self.read_head().await? else {
            return Ok(None);
        };
        if request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            self.write(head(100, &[]).as_bytes()).await?;
        }
        request.body = self.read_body(&request).await?;
        Ok(Some(request))
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads more bytes into the buffer; an error on end of stream.
    async fn fill(&mut self) -> Result<()> {
        self.buf.reserve(16 * 1024);
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            let eof = "client closed mid-request";
            return Err(Error::new(ErrorKind::UnexpectedEof, eof));
        }
        Ok(())
    }

    async fn read_head(&mut self) -> Result<Option<Request>> {
        loop {
            if let Some(request) = self.parse_head()? {
                return Ok(Some(request));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("request head too large"));
            }
            match self.fill().await {
                Err(e) if e.kind() == ErrorKind::UnexpectedEof && self.buf.is_empty() => {
                    return Ok(None);
                }
                other => other?,
            }
        }
    }

    /// Parses a complete head off the front of the buffer, if there is one.
    fn parse_head(&mut self) -> Result<Option<Request>> {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut slots);
        let len = match parsed.parse(&self.buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(invalid(&e.to_string())),
        };
        let headers = parsed
            .headers
            .iter()
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).into_owned();
                (h.name.to_ascii_lowercase(), value)
            })
            .collect();
        let request = Request {
            method: parsed.method.unwrap_or_default().to_string(),
            target: parsed.path.unwrap_or_default().to_string(),
            headers,
            body: Vec::new(),
        };
        self.buf.drain(..len);
        Ok(Some(request))
    }

    async fn read_body(&mut self, request: &Request) -> Result<Vec<u8>> {
        let chunked = request
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            return self.read_chunked().await;
        }
        let length = match request.header("content-length") {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| invalid("bad content-length"))?,
            None => 0,
        };
        self.take(length).await
    }

    /// Exactly `n` bytes from the connection.
    async fn take(&mut self, n: usize) -> Result<Vec<u8>> {
        if n > MAX_BODY {
            return Err(invalid("request body too large"));
        }
        while self.buf.len() < n {
            self.fill().await?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// One CRLF-terminated line, without the CRLF.
    async fn line(&mut self) -> Result<String> {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..at]).into_owned();
                self.buf.drain(..at + 2);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("chunk line too long"));
            }
            self.fill().await?;
        }
    }

    async fn read_chunked(&mut self) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.line().await?;
            let size_text = line.split(';').next().unwrap_or_default().trim();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| invalid("bad chunk size"))?;
            if size == 0 {
                while !self.line().await?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY {
                return Err(invalid("request body too large"));
            }
            body.extend(self.take(size).await?);
            if !self.line().await?.is_empty() {
                return Err(invalid("chunk not followed by CRLF"));
            }
        }
    }
}

fn invalid(message: &str) -> Error {
    Error::new(ErrorKind::InvalidData, message.to_string())
}

/// A response head: status line, the given headers, and the blank line.
pub fn head(status: u16, headers: &[(&str, String)]) -> String {
    let mut text = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        text.extend([name, ": ", value.as_str(), "\r\n"]);
    }
    text.push_str("\r\n");
    text
}

/// One chunk of a chunked body.
pub fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The end of a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        529 => "Site Overloaded",
        _ => "Unknown",
    }
}
