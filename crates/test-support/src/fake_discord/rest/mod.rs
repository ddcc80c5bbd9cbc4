//! The REST API under `/api/v10`: routes the bot uses, answered with the JSON
//! Discord sends; every call is recorded; anything else is a recorded 404.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::http::{HttpResponse, serve as serve_http};
use super::recorder::{Hold, HoldMode, RecordedFile, RecordedRequest, parse_multipart};
use super::{Shared, TOKEN, model};
use crate::http::Request;
pub(super) use interactions::interaction_replies;
use interactions::{commands, interaction_channel, put_commands, webhook_message};
use messages::{attachment, create_message, delete_message, edit_message, interaction_callback};
pub(super) use messages::{message_json, store_attachments};

mod interactions;
mod messages;

const API_PREFIX: &str = "/api/v10";

pub fn serve(listener: TcpListener, shared: Arc<Shared>) -> JoinHandle<()> {
    serve_http(listener, move |request| {
        let shared = Arc::clone(&shared);
        async move {
            let hold = held(&shared, &request);
            let Some(mut hold) = hold else {
                return handle(&shared, request);
            };
            hold.reached.send_replace(true);
            match hold.mode {
                HoldMode::UntilReleased => {
                    // A closed channel (the handle dropped) releases too.
                    let _ = hold.release.wait_for(|released| *released).await;
                    handle(&shared, request)
                }
                HoldMode::AnswerLost => {
                    let _ = handle(&shared, request);
                    std::future::pending().await
                }
            }
        }
    })
}

fn held(shared: &Shared, request: &Request) -> Option<Hold> {
    let path = request.target.split('?').next().unwrap_or_default();
    let path = path.strip_prefix(API_PREFIX)?;
    shared.state().take_hold(&request.method, path)
}

struct Call {
    method: String,
    path: String,
    json: Option<Value>,
    files: Vec<RecordedFile>,
}

fn handle(shared: &Shared, request: Request) -> HttpResponse {
    let (path, query) = match request.target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (request.target.clone(), None),
    };
    let content_type = request.header("content-type").map(str::to_string);
    let (json, files) = match &content_type {
        Some(ct) if ct.starts_with("multipart/form-data") => parse_multipart(ct, &request.body),
        _ => (serde_json::from_slice(&request.body).ok(), Vec::new()),
    };
    let api_path = path.strip_prefix(API_PREFIX).map(str::to_string);
    let call = Call {
        method: request.method.clone(),
        path: api_path.clone().unwrap_or(path),
        json,
        files,
    };
    let authorization = request.header("authorization").map(str::to_string);
    let response = if api_path.is_none() {
        attachment(shared, &call.path)
    } else if let Some(status) = shared.state().take_failure(&call.method, &call.path) {
        HttpResponse::json(status, &error_body(status, &call.path))
    } else if needs_auth(&call.path) && authorization.as_deref() != Some(&format!("Bot {TOKEN}")) {
        HttpResponse::json(401, &json!({ "message": "401: Unauthorized", "code": 0 }))
    } else {
        route(shared, &call)
    };
    shared.state().requests.push(RecordedRequest {
        method: call.method,
        path: call.path,
        query,
        json: call.json,
        files: call.files,
        authorization,
        content_type,
        status: response.status,
        at: Instant::now(),
    });
    response
}

fn needs_auth(path: &str) -> bool {
    !(path == "/gateway" || path.starts_with("/interactions/") || path.starts_with("/webhooks/"))
}

fn route(shared: &Shared, call: &Call) -> HttpResponse {
    let segments: Vec<&str> = call.path.trim_start_matches('/').split('/').collect();
    let id = |s: &str| s.parse::<u64>().ok();
    match (call.method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => ok(json!({ "url": shared.gateway_url })),
        ("GET", ["gateway", "bot"]) => ok(json!({
            "url": shared.gateway_url,
            "shards": 1,
            "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1 },
        })),
        ("GET", ["users", "@me"]) => {
            ok(model::current_user(shared.bot_user_id, super::BOT_USERNAME))
        }
        ("GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]) => ok(
            model::application_info(shared.application_id, shared.bot_user()),
        ),
        ("GET", ["channels", c]) => {
            match id(c).and_then(|c| shared.read().channel(c).map(|c| c.json.clone())) {
                Some(channel) => ok(channel),
                None => not_found(10003, "Unknown Channel"),
            }
        }
        ("POST", ["channels", c, "messages"]) => {
            match id(c).filter(|c| shared.read().channel(*c).is_some()) {
                Some(channel) => create_message(shared, channel, call),
                None => not_found(10003, "Unknown Channel"),
            }
        }
        ("PATCH", ["channels", c, "messages", m]) => edit_message(shared, id(c), id(m), call),
        ("DELETE", ["channels", c, "messages", m]) => delete_message(shared, id(c), id(m)),
        ("POST", ["channels", c, "typing"]) => {
            match id(c).filter(|c| shared.read().channel(*c).is_some()) {
                Some(_) => HttpResponse::empty(204),
                None => not_found(10003, "Unknown Channel"),
            }
        }
        ("PUT", ["applications", _, "commands"]) => put_commands(shared, None, call),
        ("PUT", ["applications", _, "guilds", g, "commands"]) => put_commands(shared, id(g), call),
        ("GET", ["applications", _, "commands"]) => ok(Value::Array(commands(shared, None))),
        ("GET", ["applications", _, "guilds", g, "commands"]) => {
            ok(Value::Array(commands(shared, id(g))))
        }
        ("POST", ["interactions", i, token, "callback"]) => {
            let handle = shared
                .read()
                .interactions
                .iter()
                .find(|h| Some(h.id) == id(i) && h.token == *token)
                .cloned();
            match handle {
                Some(handle) => first_callback(shared, &handle, call),
                None => not_found(10062, "Unknown interaction"),
            }
        }
        ("POST", ["webhooks", _, token]) | ("PATCH", ["webhooks", _, token, "messages", _]) => {
            match interaction_channel(shared, token) {
                Some(channel) => ok(webhook_message(shared, channel, call)),
                None => not_found(10015, "Unknown Webhook"),
            }
        }
        ("DELETE", ["webhooks", _, token, "messages", _]) => {
            match interaction_channel(shared, token) {
                Some(_) => HttpResponse::empty(204),
                None => not_found(10015, "Unknown Webhook"),
            }
        }
        ("GET", ["guilds", _, "members", u]) => {
            let member = id(u).and_then(|u| {
                shared
                    .read()
                    .members
                    .iter()
                    .find(|(m, _)| *m == u)
                    .map(|(_, m)| m.clone())
            });
            match member {
                Some(member) => ok(member),
                None => not_found(10007, "Unknown Member"),
            }
        }
        _ => not_found(0, "404: Not Found"),
    }
}

fn ok(value: Value) -> HttpResponse {
    HttpResponse::json(200, &value)
}

/// Discord takes one callback per interaction, within 3 s of it: later,
/// the token is no longer valid (10062); a second is refused (40060).
fn first_callback(shared: &Shared, handle: &super::InteractionHandle, call: &Call) -> HttpResponse {
    let deadline = shared.read().interaction_deadline;
    if handle.created.elapsed() > deadline.unwrap_or(super::INTERACTION_DEADLINE) {
        return not_found(10062, "Unknown interaction");
    }
    if shared.read().acknowledged.contains(&handle.id) {
        let body =
            json!({ "message": "Interaction has already been acknowledged.", "code": 40060 });
        return HttpResponse::json(400, &body);
    }
    let answer = interaction_callback(shared, handle, call);
    if answer.status < 300 {
        shared.state().acknowledged.push(handle.id);
    }
    answer
}

fn not_found(code: u32, message: &str) -> HttpResponse {
    HttpResponse::json(404, &json!({ "message": message, "code": code }))
}

fn error_body(status: u16, path: &str) -> Value {
    let (message, code) = match status {
        400 => ("Invalid Form Body", 50035),
        401 => ("401: Unauthorized", 0),
        403 => ("Missing Permissions", 50013),
        404 if path.contains("/messages/") => ("Unknown Message", 10008),
        404 if path.starts_with("/channels/") => ("Unknown Channel", 10003),
        404 if path.starts_with("/interactions/") => ("Unknown interaction", 10062),
        404 => ("404: Not Found", 0),
        429 => {
            return json!({ "message": "You are being rate limited.", "retry_after": 0.05, "global": false, "code": 0 });
        }
        _ => ("500: Internal Server Error", 0),
    };
    json!({ "message": message, "code": code })
}

fn invalid_form(field: &str, code: &str, message: &str) -> HttpResponse {
    let errors = json!({ field: { "_errors": [{ "code": code, "message": message }] } });
    HttpResponse::json(
        400,
        &json!({ "message": "Invalid Form Body", "code": 50035, "errors": errors }),
    )
}
