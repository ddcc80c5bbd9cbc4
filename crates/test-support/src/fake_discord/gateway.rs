//! The gateway websocket: HELLO, heartbeat ACKs, IDENTIFY -> READY (and
//! GUILD_CREATE only for the GUILDS intent, as Discord does), RESUME, and
//! dispatches with increasing sequence numbers, each recorded by name.
//! Plain JSON text frames; `compress` in IDENTIFY is ignored.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::recorder::Session;
use super::{Shared, TOKEN, model};

const HEARTBEAT_INTERVAL_MS: u64 = 41_250;
/// Discord sends GUILD_CREATE (and the other guild and channel events) only
/// to sessions that asked for this intent; READY lists the guild either way.
pub const GUILDS: u64 = 1 << 0;
const CLOSE_MARKER: &str = "\u{0}close";

pub fn serve(listener: TcpListener, shared: Arc<Shared>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // Small frames back to back would otherwise wait for delayed ACKs.
            let _ = stream.set_nodelay(true);
            tokio::spawn(connection(stream, Arc::clone(&shared)));
        }
    })
}

/// Sends a dispatch on the live session; `None` when no client is connected.
pub fn dispatch(shared: &Shared, event: &str, data: Value) -> Option<u64> {
    let mut state = shared.state();
    let session = state.session.as_mut().filter(|s| !s.tx.is_closed())?;
    session.seq += 1;
    let seq = session.seq;
    let frame = model::gateway_payload(0, data, Some(seq), Some(event));
    session.tx.send(frame.to_string()).ok()?;
    state.dispatched.push(event.to_string());
    Some(seq)
}

/// The intents of the live session, if one is connected.
pub fn intents(shared: &Shared) -> Option<u64> {
    shared
        .read()
        .session
        .as_ref()
        .filter(|s| !s.tx.is_closed())
        .map(|s| s.intents)
}

/// Sends a non-dispatch payload (e.g. op 7 RECONNECT) on the live session.
pub fn send_raw(shared: &Shared, payload: &Value) -> bool {
    let state = shared.read();
    state
        .session
        .as_ref()
        .is_some_and(|s| s.tx.send(payload.to_string()).is_ok())
}

/// Sends `text` as one websocket text frame, as it is: for frames the
/// client cannot parse.
pub fn send_text(shared: &Shared, text: &str) -> bool {
    let state = shared.read();
    state
        .session
        .as_ref()
        .is_some_and(|s| s.tx.send(text.to_string()).is_ok())
}

pub fn close_session(shared: &Shared) {
    if let Some(session) = shared.state().session.take() {
        let _ = session.tx.send(CLOSE_MARKER.to_string());
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    shared.state().gateway_connections += 1;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let hello = model::gateway_payload(
        10,
        json!({ "heartbeat_interval": HEARTBEAT_INTERVAL_MS }),
        None,
        None,
    );
    if ws.send(Message::Text(hello.to_string())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            outgoing = rx.recv() => match outgoing {
                Some(text) if text == CLOSE_MARKER => {
                    let _ = ws.close(None).await;
                    return;
                }
                Some(text) => {
                    if ws.send(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            incoming = ws.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                let reply = handle(&shared, &tx, &payload);
                match reply {
                    Reply::Send(frame) => {
                        if ws.send(Message::Text(frame.to_string())).await.is_err() {
                            return;
                        }
                    }
                    Reply::Close(code, reason) => {
                        let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                        let _ = ws.close(Some(frame)).await;
                        return;
                    }
                    Reply::Nothing => {}
                }
            }
        }
    }
}

enum Reply {
    Send(Value),
    Close(u16, &'static str),
    Nothing,
}

fn handle(shared: &Shared, tx: &mpsc::UnboundedSender<String>, payload: &Value) -> Reply {
    let d = &payload["d"];
    match payload["op"].as_u64() {
        Some(1) => Reply::Send(json!({ "op": 11, "d": null })),
        Some(2) => identify(shared, tx, d),
        Some(6) => resume(shared, tx, d),
        Some(_) => Reply::Nothing,
        None => Reply::Close(4002, "Error while decoding payload."),
    }
}

fn token_matches(token: Option<&str>) -> bool {
    token.is_some_and(|t| t.strip_prefix("Bot ").unwrap_or(t) == TOKEN)
}

fn identify(shared: &Shared, tx: &mpsc::UnboundedSender<String>, d: &Value) -> Reply {
    shared.state().identifies.push(d.clone());
    if !token_matches(d["token"].as_str()) {
        return Reply::Close(4004, "Authentication failed.");
    }
    let session_id = format!("fake-session-{}", shared.snowflake());
    let intents = d["intents"].as_u64().unwrap_or(0);
    shared.state().session = Some(Session {
        id: session_id.clone(),
        tx: tx.clone(),
        seq: 0,
        intents,
    });
    let ready = json!({
        "v": 10,
        "user": model::current_user(shared.bot_user_id, super::BOT_USERNAME),
        "guilds": [{ "id": shared.guild_id.to_string(), "unavailable": true }],
        "session_id": session_id,
        "resume_gateway_url": shared.gateway_url,
        "shard": [0, 1],
        "application": { "id": shared.application_id.to_string(), "flags": 0 },
        "private_channels": [],
        "relationships": [],
    });
    dispatch(shared, "READY", ready);
    if intents & GUILDS != 0 {
        dispatch(shared, "GUILD_CREATE", guild_create(shared));
    }
    Reply::Nothing
}

/// The guild as GUILD_CREATE carries it: every channel, thread, role and
/// member the fake knows.
fn guild_create(shared: &Shared) -> Value {
    let state = shared.read();
    let channels = state
        .channels
        .iter()
        .filter(|c| c.in_guild && !c.is_thread)
        .map(|c| c.json.clone())
        .collect();
    let threads = state
        .channels
        .iter()
        .filter(|c| c.is_thread)
        .map(|c| c.json.clone())
        .collect();
    let members = state.members.iter().map(|(_, m)| m.clone()).collect();
    model::guild(
        shared.guild_id,
        shared.bot_user_id,
        state.roles.clone(),
        channels,
        threads,
        members,
    )
}

fn resume(shared: &Shared, tx: &mpsc::UnboundedSender<String>, d: &Value) -> Reply {
    let resumable = {
        let mut state = shared.state();
        state.resumes += 1;
        match state.session.as_mut() {
            Some(session)
                if Some(session.id.as_str()) == d["session_id"].as_str()
                    && token_matches(d["token"].as_str()) =>
            {
                session.tx = tx.clone();
                true
            }
            _ => false,
        }
    };
    if !resumable {
        return Reply::Send(json!({ "op": 9, "d": false, "s": null, "t": null }));
    }
    dispatch(shared, "RESUMED", json!({}));
    Reply::Nothing
}
