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
mod turns;
mod worker;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use teloxide::prelude::*;
use tokio::sync::{Mutex, Notify};

pub use model::{Buttons, Outgoing, Remember, Target};

use crate::store::Store;
use delivery::Marks;
use pacer::Pacing;

pub struct Outbox {
    store: Store,
    wake: Notify,
    /// One inline drain at a time, so that no row is sent twice (see [`Self::set_inline`]).
    sending: Mutex<()>,
    /// Telegram's limits, shared by the chats served at once.
    pacing: Pacing,
    /// No worker runs: [`Self::flush`] sends itself (handler tests).
    inline: AtomicBool,
    /// The chats Butler never gives up on: while unreachable, their messages wait.
    kept: HashSet<i64>,
    /// "Sent" marks not yet written, retried by the worker.
    marks: Marks,
}

impl Outbox {
    /// An outbox on `store`; the chats in `kept` (the staff chat, the managers' private
    /// chats) are never given up on: while they are unreachable their messages wait.
    pub fn new(store: Store, kept: impl IntoIterator<Item = i64>) -> Arc<Self> {
        Arc::new(Self {
            store,
            wake: Notify::new(),
            sending: Mutex::new(()),
            pacing: Pacing::telegram(),
            inline: AtomicBool::new(false),
            kept: kept.into_iter().collect(),
            marks: Marks::default(),
        })
    }

    /// Turns Telegram's rate limits off (on by default).
    pub fn set_pacing(&self, on: bool) {
        self.pacing.set(on);
    }

    /// Where no worker runs (tests that call the handlers directly): [`Self::flush`]
    /// sends what is due before it returns, instead of waking the worker.
    pub fn set_inline(&self, on: bool) {
        self.inline.store(on, Ordering::Relaxed);
    }

    /// Whether messages to `chat` wait while it is unreachable, rather than fail.
    pub fn keeps(&self, chat: i64) -> bool {
        self.kept.contains(&chat)
    }

    /// After a commit that enqueued something: wakes the worker, which sends it in its
    /// turn. The caller does not wait for sends, its own or others' (a handler never
    /// ends up sending a broadcast). Inline (see [`Self::set_inline`]), sends what is
    /// due and returns how many rows were sent.
    pub async fn flush(&self, bot: &Bot) -> Result<usize, crate::store::Error> {
        if self.inline.load(Ordering::Relaxed) {
            return self.drain(bot).await;
        }
        self.notify();
        Ok(0)
    }

    /// Wake the background worker (after a commit that enqueued something).
    pub fn notify(&self) {
        self.wake.notify_one();
    }
}
