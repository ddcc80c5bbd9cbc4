//! Writes one answer: the script's reply as an SSE stream or a whole JSON
//! message (as the request asks), or an HTTP error with the API's error
//! body, each with a `request-id` header like the API's.

use super::ids;
use super::record::ApiRequest;
use super::render;
use super::reply::{ApiError, Body, ErrorKind, Reply};
use crate::http::{self, Conn};
use serde_json::Value;
use std::io;

/// The model named in replies when a request names none.
const FALLBACK_MODEL: &str = "claude-opus-5-5";

pub(super) async fn answer(
    conn: &mut Conn,
    request: &ApiRequest,
    reply: &Reply,
    close: bool,
) -> io::Result<()> {
    let model = request.model().unwrap_or(FALLBACK_MODEL);
    let request_id = ids::next("req_01");
    if let Body::Error {
        error,
        should_retry,
    } = &reply.body
    {
        return send_error(conn, error, *should_retry, &request_id, close).await;
    }
    if request.is_stream() {
        return send_stream(conn, reply, model, &request_id, close).await;
    }
    match render::whole(reply, model) {
        Ok(message) => send_json(conn, 200, &message, &request_id, &[], close).await,
        Err(error) => send_error(conn, &error, None, &request_id, close).await,
    }
}

pub(super) async fn not_found(conn: &mut Conn, close: bool) -> io::Result<()> {
    let error = ApiError {
        kind: ErrorKind::NotFound,
        message: "Not found".into(),
    };
    send_error(conn, &error, None, &ids::next("req_01"), close).await
}

async fn send_error(
    conn: &mut Conn,
    error: &ApiError,
    should_retry: Option<bool>,
    request_id: &str,
    close: bool,
) -> io::Result<()> {
    let extra: Vec<(&str, String)> = should_retry
        .map(|retry| ("x-should-retry", retry.to_string()))
        .into_iter()
        .collect();
    let body = error.body(request_id);
    send_json(conn, error.kind.status(), &body, request_id, &extra, close).await
}

async fn send_json(
    conn: &mut Conn,
    status: u16,
    body: &Value,
    request_id: &str,
    extra: &[(&str, String)],
    close: bool,
) -> io::Result<()> {
    let body = body.to_string();
    let mut headers = vec![
        ("content-type", "application/json".to_string()),
        ("content-length", body.len().to_string()),
        ("request-id", request_id.to_string()),
    ];
    headers.extend(extra.iter().cloned());
    push_connection(&mut headers, close);
    let mut bytes = http::head(status, &headers).into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    conn.write(&bytes).await
}

async fn send_stream(
    conn: &mut Conn,
    reply: &Reply,
    model: &str,
    request_id: &str,
    close: bool,
) -> io::Result<()> {
    let mut headers = vec![
        (
            "content-type",
            "text/event-stream; charset=utf-8".to_string(),
        ),
        ("cache-control", "no-cache".to_string()),
        ("transfer-encoding", "chunked".to_string()),
        ("request-id", request_id.to_string()),
    ];
    push_connection(&mut headers, close);
    conn.write(http::head(200, &headers).as_bytes()).await?;
    for event in render::stream(reply, model, request_id) {
        if !event.delay.is_zero() {
            tokio::time::sleep(event.delay).await;
        }
        conn.write(&http::chunk(event.to_sse().as_bytes())).await?;
    }
    conn.write(http::LAST_CHUNK).await
}

fn push_connection(headers: &mut Vec<(&str, String)>, close: bool) {
    let value = if close { "close" } else { "keep-alive" };
    headers.push(("connection", value.to_string()));
}
