//! The one sending path. Every message Butler sends is an [`Outgoing`] row written in the
//! transaction of the change that causes it (`Tx::enqueue`), so a message leaves if and
//! only if its change commits. [`Outbox::flush`] sends what is due, in order per chat, and
//! records the outcome. A handler flushes right after its commit so owners hear back at
//! once; [`Outbox::run`] is the background worker that retries what failed for a passing
//! reason (429, 5xx, network) and sends whatever a crash left behind. Delivery is at least
//! once: a crash between a send and its "sent" record sends the message again.
//!
//! The parts:
//! - `model`: what a message is ([`Outgoing`], [`Target`], [`Remember`], [`Buttons`]) and
//!   how it is stored (`Outgoing::from_payload`);
//! - `delivery`: a pass over the due rows, a lane per chat, and what each row came to;
//! - `send`: one row as a Bot API request;
//! - `errors`: Telegram's answer classified (retry after, back off, failed, unreachable,
//!   moved);
//! - `pacer`: Telegram's rate limits (28.8 a second overall, per chat, per group).

mod delivery;
mod errors;
mod model;
mod pacer;
mod send;

use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;
use tokio::sync::{Mutex, Notify};

pub use model::{Buttons, Outgoing, Remember, Target};

use crate::store::Store;
use pacer::Pacing;

pub struct Outbox {
    store: Store,
    wake: Notify,
    /// One delivery pass at a time, so that no row is sent twice.
    sending: Mutex<()>,
    /// Telegram's limits, shared by the chats a pass sends to at once.
    pacing: Pacing,
}

impl Outbox {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self {
            store,
            wake: Notify::new(),
            sending: Mutex::new(()),
            pacing: Pacing::telegram(),
        })
    }

    /// Turns Telegram's rate limits off (on by default).
    pub fn set_pacing(&self, on: bool) {
        self.pacing.set(on);
    }

    /// Sends what is due and what Telegram's rate limits allow now; the rest waits for the
    /// worker. Returns how many rows were sent. When a pass is already running (another
    /// handler's, or the worker's), the worker is woken to run one more after it, which
    /// sends what this caller committed: the caller does not wait for sends it has no
    /// part in.
    pub async fn flush(&self, bot: &Bot) -> Result<usize, crate::store::Error> {
        let Ok(pass) = self.sending.try_lock() else {
            self.notify();
            return Ok(0);
        };
        Ok(self.flush_locked(bot, pass).await?.0)
    }

    /// As [`Self::flush`], waiting for a running pass to end, and how long until the pacer
    /// lets the next waiting row go.
    async fn flush_inner(
        &self,
        bot: &Bot,
    ) -> Result<(usize, Option<Duration>), crate::store::Error> {
        let pass = self.sending.lock().await;
        self.flush_locked(bot, pass).await
    }

    /// Wake the background worker (after a commit that enqueued something).
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// The background worker: flushes when woken, when the pacer allows more, and every
    /// second, until `shutdown`.
    pub async fn run(self: Arc<Self>, bot: Bot, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait = match self.flush_inner(&bot).await {
                Ok((_, Some(wait))) => wait.min(Duration::from_secs(1)),
                Ok((_, None)) => Duration::from_secs(1),
                Err(e) => {
                    tracing::error!(error = %e, "outbox flush failed");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        // A last flush, bounded, so that what the last updates caused goes out.
        let _ = tokio::time::timeout(Duration::from_secs(3), self.flush(&bot)).await;
    }
}
