//! The one sending path. Every message Butler sends is an [`Outgoing`] row written in the
//! transaction of the change that causes it (`Tx::enqueue`), so a message leaves if and
//! only if its change commits. Delivery is at least once: a crash between a send and its
//! "sent" record sends the message again.
//!
//! One task sends: the worker, [`Outbox::run`]. Handlers and jobs only wake it
//! ([`Outbox::flush`] after a commit), so a handler never ends up sending someone
//! else's broadcast. The worker serves chats, not rows: each chat with due messages
//! gets a turn in each round, a few of its messages in order, and the chats served
//! longest ago go first, so a chat with hundreds of queued messages delays nobody else.
//! Each row has a class, chosen where the message is built: messages that answer a
//! person (confirmations, cards, relays, rating questions, refusals) go before bulk ones
//! (the greeting, notices, summaries, monthly reports, sweep alerts), both in the order
//! of turns and at the pacer, within Telegram's 30 a second overall. A chat held by its
//! own pace sits out without holding up the others.
//!
//! The staff chat and the managers' private chats are never given up on: while they
//! are unreachable (403, the bot removed) their messages wait, and go out when the chat
//! is heard from again, followed by a line saying how many waited; an owner group that
//! removed the bot is dropped. A "sent" mark that cannot be written (a busy or full
//! disk) is kept in memory and retried; its chat waits meanwhile and nothing is sent
//! twice.
//!
//! The parts:
//! - `model`: what a message is ([`Outgoing`], [`Target`], [`Remember`], [`Buttons`]),
//!   how it is stored (`Outgoing::from_payload`) and enqueued, with its class;
//! - `worker`: the worker's loop: which chats are due, whose turn it is, lanes at once;
//! - `turns`: the order of turns (people first, then the chats served longest ago);
//! - `delivery`: one chat's turn, what each row came to, and the kept "sent" marks;
//! - `send`: one row as a Bot API request;
//! - `errors`: Telegram's answer classified (retry after, back off, failed, unreachable,
//!   moved);
//! - `pacer`: Telegram's rate limits (28.8 a second overall, per chat, per group), people
//!   first;
//! - `relay`: with several instances on PostgreSQL, a standby's wakes passed on to the
//!   leader's worker (`NOTIFY`), and heard there.

mod delivery;
mod errors;
mod model;
mod pacer;
mod relay;
mod send;
#[cfg(test)]
mod stall_tests;
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
