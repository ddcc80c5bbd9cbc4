//! The loopback server and its handle: accepts connections on 127.0.0.1,
//! records every request, and hands `POST /v1/messages` the script's reply
//! (anything else gets the API's 404; see `respond`).

use super::record::ApiRequest;
use super::reply::Reply;
use super::respond;
use super::script::{Match, Script};
use crate::http::{Conn, Request};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

#[derive(Debug)]
struct Shared {
    script: Mutex<Script>,
    requests: Mutex<Vec<ApiRequest>>,
    arrived: Notify,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake; stops accepting when dropped.
#[derive(Debug)]
pub struct FakeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl FakeApi {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("the fake API cannot bind loopback: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the fake API has no address: {e}"));
        let shared = Arc::new(Shared {
            script: Mutex::new(Script::new()),
            requests: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Self {
            addr,
            shared,
            accept,
        }
    }

    /// `http://127.0.0.1:<port>`, for `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next messages call not taken by an earlier step.
    pub fn push(&self, reply: Reply) {
        self.push_when(Match::any(), reply);
    }

    /// Answers the first messages call that `when` matches, once.
    pub fn push_when(&self, when: Match, reply: Reply) {
        lock(&self.shared.script).add(when, reply, true);
    }

    /// Answers every messages call that `when` matches.
    pub fn always_when(&self, when: Match, reply: Reply) {
        lock(&self.shared.script).add(when, reply, false);
    }

    /// The reply when no step matches (initially the text "OK.").
    pub fn set_default(&self, reply: Reply) {
        lock(&self.shared.script).set_default(reply);
    }

    /// One-shot steps no request has used yet.
    pub fn pending(&self) -> usize {
        lock(&self.shared.script).pending()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The `POST /v1/messages` requests so far.
    pub fn message_calls(&self) -> Vec<ApiRequest> {
        let requests = lock(&self.shared.requests);
        requests
            .iter()
            .filter(|r| r.is_messages_call())
            .cloned()
            .collect()
    }

    /// Waits until at least `count` messages calls have arrived; false on timeout.
    pub async fn wait_for_calls(&self, count: usize, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.shared.arrived.notified();
                if self.message_calls().len() >= count {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connection = 0;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(Conn::new(stream), connection, Arc::clone(&shared)));
                connection += 1;
            }
            // Out of file descriptors and the like: let it pass.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Serves one connection until the client closes it or it breaks.
async fn serve(mut conn: Conn, connection: u64, shared: Arc<Shared>) {
    while let Ok(Some(request)) = conn.read_request().await {
        let close = request.wants_close();
        let recorded = record(&request, connection);
        let reply = recorded
            .is_messages_call()
            .then(|| lock(&shared.script).choose(&recorded));
        lock(&shared.requests).push(recorded.clone());
        shared.arrived.notify_waiters();
        let sent = match reply {
            Some(reply) => respond::answer(&mut conn, &recorded, &reply, close).await,
            None => respond::not_found(&mut conn, close).await,
        };
        if sent.is_err() || close {
            return;
        }
    }
}

fn record(request: &Request, connection: u64) -> ApiRequest {
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (request.target.as_str(), ""),
    };
    ApiRequest {
        connection,
        method: request.method.clone(),
        path: path.to_string(),
        query: query.to_string(),
        headers: request.headers.clone(),
        body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
    }
}
