//! Webhook delivery as Telegram does it: while a webhook is set, each pending update is
//! POSTed to its URL as JSON with the secret in `X-Telegram-Bot-Api-Secret-Token`, one at
//! a time and in order; a 2xx confirms it, anything else (another status, a refused or cut
//! connection, no answer in time) leaves it first in line and pauses deliveries, longer
//! with each failure in a row (`Options::webhook_retry_*`).
//!
//! [`post`] is a small HTTP/1.1 client (plain HTTP, one request a connection), public so
//! that tests can post what Telegram would not, e.g. a forged secret.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::Shared;
use crate::state::Next;

/// The header the secret token travels in.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// POSTs `body` (JSON) to `url` (`http://host:port/path`), with `secret` in
/// [`SECRET_HEADER`] when given; the HTTP status, or why there was none.
pub async fn post(
    url: &str,
    secret: Option<&str>,
    body: &str,
    timeout: Duration,
) -> Result<u16, String> {
    match tokio::time::timeout(timeout, post_now(url, secret, body)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

async fn post_now(url: &str, secret: Option<&str>, body: &str) -> Result<u16, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http:// URL: {url}"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let address = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = TcpStream::connect(&address)
        .await
        .map_err(|e| format!("Connection refused ({e})"))?;
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(secret) = secret {
        head.push_str(&format!("{SECRET_HEADER}: {secret}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .await
        .and(stream.write_all(body.as_bytes()).await)
        .map_err(|e| format!("the connection broke while sending ({e})"))?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("the connection broke before the answer ({e})"))?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let status_line = answer.split(|b| *b == b'\n').next().unwrap_or(&[]);
    String::from_utf8_lossy(status_line)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| "the connection closed without an answer".to_owned())
}

/// Delivers while the emulator runs: the next update when one is due, else waits for a
/// change (an update queued, a webhook set) or the end of a pause.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut changed = shared.version.subscribe();
    let mut closed = shared.closed.subscribe();
    let timeout = shared.read(|s| s.options.webhook_timeout);
    loop {
        if *closed.borrow() {
            return;
        }
        changed.borrow_and_update();
        let until = match shared.read(|s| s.next_delivery(Instant::now())) {
            Next::Post(due) => {
                let began = Instant::now();
                let result = post(&due.url, due.secret_token.as_deref(), &due.body, timeout).await;
                shared.write(|s| s.delivered(&due, result, began));
                continue;
            }
            Next::WaitUntil(at) => Some(tokio::time::Instant::from_std(at)),
            Next::Wait => None,
        };
        let pause = async {
            match until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = pause => {}
            r = changed.changed() => if r.is_err() { return },
            _ = closed.wait_for(|c| *c) => return,
        }
    }
}
