//! The fake Messages API's wire protocol, checked with a raw HTTP/1.1
//! client: SSE event order and shapes, the non-streamed form, error bodies
//! and headers, keep-alive, chunked request bodies, scripting and recording.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_support::fake_api::{ErrorKind, FakeApi, Match, Reply, Usage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response as the raw client read it.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The SSE events as (name, data) pairs.
    fn events(&self) -> Vec<(String, Value)> {
        let text = String::from_utf8(self.body.clone()).expect("UTF-8 SSE");
        text.split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|event| {
                let name = field(event, "event: ");
                let data = serde_json::from_str(&field(event, "data: ")).expect("JSON data");
                (name, data)
            })
            .collect()
    }
}

fn field(event: &str, prefix: &str) -> String {
    let line = event
        .lines()
        .find(|l| l.starts_with(prefix))
        .expect("SSE field");
    line[prefix.len()..].to_string()
}

/// A keep-alive client connection with its read buffer.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(api: &FakeApi) -> Self {
        let addr = api.base_url().trim_start_matches("http://").to_string();
        let stream = TcpStream::connect(addr).await.expect("connect");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    async fn post(&mut self, path: &str, body: &Value) -> Response {
        let body = body.to_string();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-claude-code-session-id: s-1\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        self.send(format!("{head}{body}").as_bytes()).await
    }

    async fn send(&mut self, bytes: &[u8]) -> Response {
        self.stream.write_all(bytes).await.expect("write");
        self.read_response().await
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    async fn read_response(&mut self) -> Response {
        let (status, headers) = loop {
            if let Some(parsed) = self.parse_head() {
                break parsed;
            }
            self.fill().await;
        };
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v == "chunked");
        let body = if chunked {
            self.read_chunked().await
        } else {
            let length = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .map_or(0, |(_, v)| v.parse().expect("length"));
            self.take(length).await
        };
        Response {
            status,
            headers,
            body,
        }
    }

    fn parse_head(&mut self) -> Option<(u16, Vec<(String, String)>)> {
        let mut slots = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut slots);
        let httparse::Status::Complete(len) = response.parse(&self.buf).expect("a response") else {
            return None;
        };
        let headers = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let status = response.code.expect("status");
        self.buf.drain(..len);
        Some((status, headers))
    }

    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill().await;
        }
        self.buf.drain(..n).collect()
    }

    async fn read_chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            while !self.buf.windows(2).any(|w| w == b"\r\n") {
                self.fill().await;
            }
            let at = self
                .buf
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("CRLF");
            let size =
                usize::from_str_radix(std::str::from_utf8(&self.buf[..at]).expect("hex"), 16)
                    .expect("size");
            self.buf.drain(..at + 2);
            let chunk = self.take(size + 2).await;
            if size == 0 {
                return body;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

fn request(stream: bool) -> Value {
    json!({
        "model": "claude-opus-5-5",
        "max_tokens": 1024,
        "stream": stream,
        "system": [{"type": "text", "text": "You are terse."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
    })
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

fn deltas<'a>(events: &'a [(String, Value)], kind: &str, key: &str) -> Vec<&'a str> {
    events
        .iter()
        .filter(|(_, d)| d["type"] == "content_block_delta" && d["delta"]["type"] == kind)
        .filter_map(|(_, d)| d["delta"][key].as_str())
        .collect()
}

#[tokio::test]
async fn streamed_text_follows_the_api_event_order() {
    let api = FakeApi::start().await;
    api.push(Reply::text("Hello world"));
    let response = Client::connect(&api)
        .await
        .post("/v1/messages?beta=true", &request(true))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert!(
        response
            .header("request-id")
            .is_some_and(|id| id.starts_with("req_01"))
    );
    let events = response.events();
    let expected = [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ];
    assert_eq!(names(&events), expected);
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str());
    }
    let message = &events[0].1["message"];
    assert!(
        message["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("msg_01"))
    );
    assert_eq!(message["model"], "claude-opus-5-5");
    assert_eq!(message["content"], json!([]));
    assert_eq!(message["usage"]["input_tokens"], 1200);
    assert_eq!(
        deltas(&events, "text_delta", "text").concat(),
        "Hello world"
    );
    assert_eq!(events[7].1["delta"]["stop_reason"], "end_turn");
    assert_eq!(events[7].1["usage"]["output_tokens"], 20);
}

#[tokio::test]
async fn tool_use_streams_its_input_as_json_pieces() {
    let api = FakeApi::start().await;
    let input = json!({"command": "touch x", "description": "Create x"});
    api.push(Reply::text_then_tool_use(
        "Creating.",
        "Bash",
        input.clone(),
    ));
    let events = Client::connect(&api)
        .await
        .post("/v1/messages", &request(true))
        .await
        .events();
    let starts: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| &d["content_block"])
        .collect();
    assert_eq!(starts[1]["type"], "tool_use");
    assert_eq!(starts[1]["name"], "Bash");
    assert_eq!(starts[1]["input"], json!({}));
    assert!(
        starts[1]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("toolu_01"))
    );
    let pieces = deltas(&events, "input_json_delta", "partial_json");
    assert_eq!(pieces.len(), 4);
    assert_eq!(pieces[0], "");
    let joined: Value = serde_json::from_str(&pieces.concat()).expect("pieces join to JSON");
    assert_eq!(joined, input);
    let stop = events
        .iter()
        .find(|(n, _)| n == "message_delta")
        .expect("message_delta");
    assert_eq!(stop.1["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn thinking_streams_thinking_then_a_signature() {
    let api = FakeApi::start().await;
    api.push(Reply::thinking("Let me think.", "Answer."));
    let events = Client::connect(&api)
        .await
        .post("/v1/messages", &request(true))
        .await
        .events();
    let first = events
        .iter()
        .find(|(n, _)| n == "content_block_start")
        .expect("a block");
    assert_eq!(
        first.1["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(
        deltas(&events, "thinking_delta", "thinking").concat(),
        "Let me think."
    );
    assert_eq!(deltas(&events, "signature_delta", "signature").len(), 1);
    assert_eq!(deltas(&events, "text_delta", "text").concat(), "Answer.");
}

#[tokio::test]
async fn a_request_without_stream_gets_the_whole_message() {
    let api = FakeApi::start().await;
    api.push(Reply::tool_use("Read", json!({"file_path": "/p/a.rs"})));
    let mut body = request(false);
    body.as_object_mut().expect("object").remove("stream");
    let response = Client::connect(&api)
        .await
        .post("/v1/messages", &body)
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let message = response.json();
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["stop_reason"], "tool_use");
    assert_eq!(
        message["content"][0]["input"],
        json!({"file_path": "/p/a.rs"})
    );
    assert_eq!(message["usage"]["output_tokens"], 20);
}

#[tokio::test]
async fn errors_carry_their_status_and_the_api_error_body() {
    let api = FakeApi::start().await;
    let kinds = [
        (ErrorKind::Overloaded, 529, "overloaded_error"),
        (ErrorKind::RateLimit, 429, "rate_limit_error"),
        (ErrorKind::Api, 500, "api_error"),
        (ErrorKind::Authentication, 401, "authentication_error"),
    ];
    let mut client = Client::connect(&api).await;
    for (kind, status, name) in kinds {
        api.push(Reply::error(kind));
        let response = client.post("/v1/messages", &request(true)).await;
        assert_eq!(response.status, status);
        assert_eq!(response.header("x-should-retry"), None);
        let body = response.json();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], name);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(body["request_id"].as_str(), response.header("request-id"));
    }
}

#[tokio::test]
async fn should_retry_false_adds_the_header() {
    let api = FakeApi::start().await;
    api.push(Reply::error_with(ErrorKind::Overloaded, "Busy.").should_retry(false));
    let response = Client::connect(&api)
        .await
        .post("/v1/messages", &request(false))
        .await;
    assert_eq!(response.status, 529);
    assert_eq!(response.header("x-should-retry"), Some("false"));
    assert_eq!(response.json()["error"]["message"], "Busy.");
}

#[tokio::test]
async fn a_stream_error_sends_an_error_event_after_the_partial_text() {
    let api = FakeApi::start().await;
    api.push(Reply::stream_error(ErrorKind::Overloaded, "Half an ans"));
    api.push(Reply::stream_error(ErrorKind::Overloaded, ""));
    let mut client = Client::connect(&api).await;
    let events = client.post("/v1/messages", &request(true)).await.events();
    let last = events.last().expect("events");
    assert_eq!(last.0, "error");
    assert_eq!(last.1["error"]["type"], "overloaded_error");
    assert_eq!(
        deltas(&events, "text_delta", "text").concat(),
        "Half an ans"
    );
    assert!(!names(&events).contains(&"message_stop"));
    let whole = client.post("/v1/messages", &request(false)).await;
    assert_eq!(
        whole.status, 529,
        "a non-streamed call gets the plain error"
    );
}

#[tokio::test]
async fn slow_text_waits_between_deltas() {
    let api = FakeApi::start().await;
    api.push(Reply::slow_text("a b c d", 4, Duration::from_millis(100)));
    let started = Instant::now();
    let events = Client::connect(&api)
        .await
        .post("/v1/messages", &request(true))
        .await
        .events();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        deltas(&events, "text_delta", "text"),
        ["a ", "b ", "c ", "d"]
    );
}

#[tokio::test]
async fn the_script_is_used_in_order_then_the_default_answers() {
    let api = FakeApi::start().await;
    api.push(Reply::text("first"));
    api.push(Reply::text("second"));
    let mut client = Client::connect(&api).await;
    let mut texts = Vec::new();
    for _ in 0..3 {
        let message = client.post("/v1/messages", &request(false)).await.json();
        texts.push(
            message["content"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert_eq!(texts, ["first", "second", "OK."]);
    api.set_default(Reply::text("fallback"));
    let message = client.post("/v1/messages", &request(false)).await.json();
    assert_eq!(message["content"][0]["text"], "fallback");
}

#[tokio::test]
async fn matching_steps_answer_out_of_order_and_always_steps_repeat() {
    let api = FakeApi::start().await;
    api.push_when(Match::tool_result(), Reply::text("after the tool"));
    api.always_when(Match::model("claude-haiku"), Reply::text("haiku"));
    api.push(Reply::text("plain"));
    assert_eq!(api.pending(), 2);
    let mut client = Client::connect(&api).await;
    let text = |v: Value| {
        v["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let mut haiku = request(false);
    haiku["model"] = json!("claude-haiku-5-5");
    assert_eq!(
        text(client.post("/v1/messages", &haiku).await.json()),
        "haiku"
    );
    assert_eq!(
        text(client.post("/v1/messages", &haiku).await.json()),
        "haiku"
    );
    assert_eq!(
        text(client.post("/v1/messages", &request(false)).await.json()),
        "plain"
    );
    let mut with_result = request(false);
    with_result["messages"] = json!([{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done", "is_error": false}
    ]}]);
    assert_eq!(
        text(client.post("/v1/messages", &with_result).await.json()),
        "after the tool"
    );
    assert_eq!(api.pending(), 0);
}

#[tokio::test]
async fn every_request_is_recorded_with_path_headers_and_body() {
    let api = FakeApi::start().await;
    let mut client = Client::connect(&api).await;
    client.post("/v1/messages?beta=true", &request(true)).await;
    let missing = client.post("/v1/other", &json!({})).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["type"], "not_found_error");
    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(api.message_calls().len(), 1);
    let call = &requests[0];
    assert_eq!(
        (
            call.method.as_str(),
            call.path.as_str(),
            call.query.as_str()
        ),
        ("POST", "/v1/messages", "beta=true")
    );
    assert_eq!(call.session_id(), Some("s-1"));
    assert_eq!(call.header("Content-Type"), Some("application/json"));
    assert_eq!(call.model(), Some("claude-opus-5-5"));
    assert_eq!(call.system_texts(), ["You are terse."]);
    assert_eq!(call.last_user_texts(), ["Hi"]);
    assert!(call.is_stream());
}

#[tokio::test]
async fn keep_alive_and_chunked_request_bodies_work_on_one_connection() {
    let api = FakeApi::start().await;
    let mut client = Client::connect(&api).await;
    let body = request(false).to_string();
    let (a, b) = body.split_at(body.len() / 2);
    let chunked = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nexpect: 100-continue\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let continued = client.send(chunked.as_bytes()).await;
    assert_eq!(continued.status, 100);
    assert_eq!(client.read_response().await.status, 200);
    assert_eq!(
        client.post("/v1/messages", &request(true)).await.status,
        200
    );
    let calls = api.message_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].last_user_texts(), ["Hi"]);
    assert_eq!((calls[0].connection, calls[1].connection), (0, 0));
    let mut other = Client::connect(&api).await;
    other.post("/v1/messages", &request(false)).await;
    assert_eq!(api.message_calls()[2].connection, 1);
}

#[tokio::test]
async fn wait_for_calls_returns_once_enough_calls_arrived() {
    let api = FakeApi::start().await;
    assert!(!api.wait_for_calls(1, Duration::from_millis(50)).await);
    let mut client = Client::connect(&api).await;
    let body = request(false);
    let wait = api.wait_for_calls(1, Duration::from_secs(5));
    let (waited, _) = tokio::join!(wait, client.post("/v1/messages", &body));
    assert!(waited);
}

#[tokio::test]
async fn usage_and_user_text_matching_can_be_scripted() {
    let api = FakeApi::start().await;
    let usage = Usage {
        input_tokens: 3,
        cache_creation_input_tokens: 4521,
        cache_read_input_tokens: 13890,
        output_tokens: 57,
    };
    api.push_when(Match::user_text("Hi"), Reply::text("costly").usage(usage));
    let events = Client::connect(&api)
        .await
        .post("/v1/messages", &request(true))
        .await
        .events();
    let start = &events[0].1["message"]["usage"];
    assert_eq!(start["cache_read_input_tokens"], 13890);
    assert_eq!(start["cache_creation"]["ephemeral_5m_input_tokens"], 4521);
    assert_eq!(
        start["output_tokens"], 1,
        "message_start counts one output token"
    );
    let delta = events
        .iter()
        .find(|(n, _)| n == "message_delta")
        .expect("message_delta");
    assert_eq!(delta.1["usage"]["output_tokens"], 57);
    assert_eq!(api.pending(), 0);
}
