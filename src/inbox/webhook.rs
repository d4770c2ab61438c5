//! Webhook mode: Telegram posts each update to Butler's own HTTP server.
//!
//! A delivery without the right `X-Telegram-Bot-Api-Secret-Token` is answered 401 and not
//! stored. Otherwise the update is written to the inbox, synced, *before* the answer: 200
//! tells Telegram to forget it, so only what is on the disk is confirmed; a store failure
//! answers 500 and Telegram delivers it again. A repeated delivery (Telegram missed the
//! answer) finds its row and is answered 200 without being handled again.
//!
//! [`WebhookListener`] feeds the dispatcher the way [`super::InboxListener`] does: what a
//! previous run left unhandled (`super::replay`: on PostgreSQL, by the leader, what any
//! instance left), and each new delivery, in the order Telegram sent them; none twice. On
//! its first turn it registers the webhook (`setWebhook`) with the update kinds the
//! handler tree hinted, the same list polling asks for.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use futures::stream::BoxStream;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::stop::{StopFlag, StopToken, mk_stop_token};
use teloxide::types::{AllowedUpdate, Update};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use tokio::sync::mpsc;

use super::replay::Replays;
use crate::leader::Leadership;
use crate::store::Store;

/// The header Telegram puts the secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Deliveries stored and waiting for the dispatcher; beyond this a delivery's answer waits
/// (and Telegram, which sends one at a time, waits with it).
const QUEUE: usize = 1024;

/// What the webhook server needs.
struct Hook {
    store: Store,
    secret: String,
    to_dispatcher: mpsc::Sender<Update>,
}

/// Updates for the dispatcher in webhook mode: those left over, then each delivery.
pub struct WebhookListener {
    bot: Bot,
    store: Store,
    url: String,
    secret: String,
    from_server: mpsc::Receiver<Update>,
    pending: VecDeque<Update>,
    replays: Replays,
    allowed: Option<Vec<AllowedUpdate>>,
    registered: bool,
    backoff: Duration,
    stop_token: StopToken,
    stop_flag: StopFlag,
}

/// Binds `listen` and serves deliveries until `stop` completes. Returns the listener for
/// the dispatcher (which replays what the inbox holds unhandled while this instance
/// leads, see `leadership`) and the server's task.
pub async fn serve(
    bot: Bot,
    store: Store,
    leadership: Leadership,
    (listen, url, secret): (std::net::SocketAddr, &str, &str),
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(WebhookListener, tokio::task::JoinHandle<()>)> {
    let (to_dispatcher, from_server) = mpsc::channel(QUEUE);
    let hook = Arc::new(Hook {
        store: store.clone(),
        secret: secret.to_owned(),
        to_dispatcher,
    });
    let socket = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("the webhook server cannot listen on {listen} (telegram.listen)")
        })?;
    let router = axum::Router::new().fallback(deliver).with_state(hook);
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(socket, router)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "the webhook server stopped");
        }
    });
    tracing::info!(%listen, "webhook server listening");
    let (stop_token, stop_flag) = mk_stop_token();
    let listener = WebhookListener {
        bot,
        store,
        url: url.to_owned(),
        secret: secret.to_owned(),
        from_server,
        pending: VecDeque::new(),
        replays: Replays::new(leadership),
        allowed: None,
        registered: false,
        backoff: Duration::from_secs(1),
        stop_token,
        stop_flag,
    };
    Ok((listener, server))
}

/// One delivery: checked, stored, then answered.
async fn deliver(
    State(hook): State<Arc<Hook>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED;
    }
    let given = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    if !given.is_some_and(|g| same_secret(g, hook.secret.as_bytes())) {
        tracing::warn!("a webhook delivery without the right secret token was refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(e) => {
            tracing::warn!(error = %e, "a webhook delivery is not an update");
            return StatusCode::BAD_REQUEST;
        }
    };
    let id = update.id.0 as i32;
    let payload = String::from_utf8_lossy(&body);
    match hook
        .store
        .inbox_deliver(id, &payload, chrono::Utc::now())
        .await
    {
        Ok(true) => {
            if hook.to_dispatcher.send(update).await.is_err() {
                tracing::info!(
                    update_id = id,
                    "stored while stopping: handled on the next start"
                );
            }
            StatusCode::OK
        }
        Ok(false) => {
            tracing::info!(
                update_id = id,
                "a repeated delivery: stored already, not handled again"
            );
            StatusCode::OK
        }
        Err(e) => {
            // Not stored: Telegram delivers it again.
            tracing::error!(update_id = id, error = %e, "writing a delivered update to the inbox failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Compares without stopping at the first difference, so the answer's timing tells a
/// forger nothing about how much of the secret they guessed.
fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    given.len() == secret.len()
        && given
            .iter()
            .zip(secret)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

impl WebhookListener {
    async fn next(&mut self) -> Option<Result<Update, RequestError>> {
        if !self.registered {
            if let Err(e) = self.register().await {
                let wait = self.backoff;
                self.backoff = (self.backoff * 2).min(Duration::from_secs(30));
                tracing::error!(error = %e, retry_in = ?wait, "setWebhook failed: Telegram delivers nothing until it succeeds");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = &mut self.stop_flag => return None,
                }
                return Some(Err(e));
            }
            self.registered = true;
        }
        loop {
            if let Some(update) = self.pending.pop_front() {
                return Some(Ok(update));
            }
            if self.stop_flag.is_stopped() {
                return None;
            }
            self.replays.look(&self.store, &mut self.pending).await;
            if !self.pending.is_empty() {
                continue;
            }
            let look = self.replays.next_look();
            tokio::select! {
                update = self.from_server.recv() => {
                    let update = update?;
                    if self.replays.first(update.id.0 as i32) {
                        self.pending.push_back(update);
                    }
                }
                _ = &mut self.stop_flag => return None,
                _ = async {
                    match look {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {}
                // Taking the lead: look at once.
                _ = self.replays.leadership.changed() => {}
            }
        }
    }

    /// `setWebhook` with the URL, the secret and the update kinds the tree handles;
    /// updates Telegram holds are kept (`drop_pending_updates` = false).
    async fn register(&mut self) -> Result<(), RequestError> {
        // `Url` comes from the `url` crate, which Butler does not name: an absolute URL
        // joined onto the API's own URL is that URL, parsed.
        let url = self.bot.api_url().join(&self.url).map_err(|e| {
            RequestError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e).into())
        })?;
        let mut req = self
            .bot
            .set_webhook(url)
            .secret_token(self.secret.clone())
            .drop_pending_updates(false);
        if let Some(allowed) = &self.allowed {
            req = req.allowed_updates(allowed.clone());
        }
        req.await?;
        tracing::info!(url = %self.url, "webhook set: Telegram posts updates to it");
        Ok(())
    }
}

impl UpdateListener for WebhookListener {
    type Err = RequestError;

    fn stop_token(&mut self) -> StopToken {
        self.stop_token.clone()
    }

    fn hint_allowed_updates(&mut self, hint: &mut dyn Iterator<Item = AllowedUpdate>) {
        self.allowed = Some(hint.collect());
    }
}

impl<'a> AsUpdateStream<'a> for WebhookListener {
    type StreamErr = RequestError;
    type Stream = BoxStream<'a, Result<Update, RequestError>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        Box::pin(futures::stream::unfold(self, |this| async move {
            this.next().await.map(|item| (item, this))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn only_the_exact_secret_matches() {
        assert!(same_secret(b"abc-123", b"abc-123"));
        assert!(!same_secret(b"abc-124", b"abc-123"));
        assert!(!same_secret(b"abc-12", b"abc-123"));
        assert!(!same_secret(b"", b"abc-123"));
    }
}
