//! The fake Discord's REST server: each request on a keep-alive connection
//! goes to one handler, whose whole answer is written back.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::http::{Conn, Request, head};

pub struct HttpResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: Vec::new(),
        }
    }
}

pub fn serve<H, F>(listener: TcpListener, handler: H) -> tokio::task::JoinHandle<()>
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send,
{
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let _ = connection(Conn::new(stream), handler.as_ref()).await;
            });
        }
    })
}

async fn connection<H, F>(mut conn: Conn, handler: &H) -> std::io::Result<()>
where
    H: Fn(Request) -> F,
    F: Future<Output = HttpResponse>,
{
    while let Some(request) = conn.read_request().await? {
        let close = request.wants_close();
        let response = handler(request).await;
        let mut bytes = if response.status == 204 {
            head(204, &[])
        } else {
            let headers = [
                ("content-type", response.content_type.to_string()),
                ("content-length", response.body.len().to_string()),
            ];
            head(response.status, &headers)
        }
        .into_bytes();
        bytes.extend_from_slice(&response.body);
        conn.write(&bytes).await?;
        if close {
            break;
        }
    }
    Ok(())
}
