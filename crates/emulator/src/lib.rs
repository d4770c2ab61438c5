//! A Telegram Bot API emulator: an HTTP server that answers the calls Butler makes the way
//! Telegram does, plus a driver API that plays the people in the chats. The end-to-end
//! tests, the benchmarks and the sandbox page run the real `butler` binary against it
//! (`TELOXIDE_API_URL` = [`EmulatorHandle::api_url`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use butler_emulator::{Emulator, User};
//! let emu = Emulator::start("127.0.0.1:0".parse()?).await?;
//! emu.add_user(User::new(100, "Li").language("en"));
//! emu.create_group(-100_111, "Sunrise Garden", &[100])?;
//! // … start butler with TELOXIDE_API_URL = emu.api_url() …
//! emu.user_sends_text(-100_111, 100, "/repair the tap leaks", None)?;
//! emu.wait_for(|s| s.bot_messages_in(-100_111).len() == 1, std::time::Duration::from_secs(5))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`model`]: people, chats, messages and their Bot API JSON.
//! - [`state`]: everything the emulator knows, and the driver's verbs; files and their
//!   bytes (bounded: [`Options::file_memory`]).
//! - [`api`]: the Bot API methods and Telegram's answers.
//! - [`faults`]: 429s, 5xx and lost answers on demand; Telegram's rate limits.
//! - `server`: HTTP, request parsing (JSON and multipart) and the long poll.
//! - [`webhook`]: posting updates to a webhook a bot set, as Telegram does.

pub mod api;
pub mod faults;
pub mod model;
mod server;
pub mod state;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::broadcast;

pub use axum::body::Bytes;
pub use faults::{Fault, FaultRule, RateLimits};
pub use model::{Button, Chat, ChatKind, Document, Message, Photo, Service, User};
pub use state::{
    Call, CallbackAnswer, CommandSet, Delivery, DriverError, Event, FileKind, FileMeta,
    MemberChange, Options, PendingUpdate, State, Upload, Uploads, Webhook,
};

use server::Shared;

/// Starts emulators.
pub struct Emulator;

impl Emulator {
    /// Serves the Bot API on `addr` (port 0 picks a free one) with default options.
    pub async fn start(addr: SocketAddr) -> anyhow::Result<EmulatorHandle> {
        Self::start_with(addr, Options::default()).await
    }

    pub async fn start_with(addr: SocketAddr, options: Options) -> anyhow::Result<EmulatorHandle> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the Bot API emulator to {addr}"))?;
        let local = listener.local_addr()?;
        let shared = Arc::new(Shared::new(State::new(options)));
        let app = server::router(shared.clone());
        tokio::spawn(webhook::run(shared.clone()));
        let mut closed = shared.closed.subscribe();
        let task = tokio::spawn(async move {
            let stop = async move {
                let _ = closed.wait_for(|c| *c).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::error!(error = %e, "the Bot API emulator stopped");
            }
        });
        Ok(EmulatorHandle {
            inner: Arc::new(Inner {
                shared,
                addr: local,
                task: std::sync::Mutex::new(Some(task)),
            }),
        })
    }
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.closed.send_replace(true);
    }
}

/// A condition was not met in time.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the condition was not met within {0:?}")]
pub struct WaitTimeout(pub Duration);

/// A running emulator. Cheap to clone; it stops when the last clone is dropped (or on
/// [`EmulatorHandle::shutdown`]).
#[derive(Clone)]
pub struct EmulatorHandle {
    inner: Arc<Inner>,
}

impl EmulatorHandle {
    /// The base URL for `TELOXIDE_API_URL`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Stops serving: long polls end, the listener closes.
    pub async fn shutdown(&self) {
        self.inner.shared.closed.send_replace(true);
        let task = self.inner.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        self.inner.shared.read(f)
    }

    /// Changes the state (waking long polls and waiters).
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        self.inner.shared.write(f)
    }

    /// Waits until `cond` holds, checking after every change.
    pub async fn wait_for(
        &self,
        mut cond: impl FnMut(&State) -> bool,
        timeout: Duration,
    ) -> Result<(), WaitTimeout> {
        self.wait_find(|s| cond(s).then_some(()), timeout).await
    }

    /// Waits until `find` returns something, checking after every change.
    pub async fn wait_find<T>(
        &self,
        mut find: impl FnMut(&State) -> Option<T>,
        timeout: Duration,
    ) -> Result<T, WaitTimeout> {
        let mut changed = self.inner.shared.version.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            changed.borrow_and_update();
            if let Some(found) = self.read(&mut find) {
                return Ok(found);
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => {
                    return self.read(&mut find).ok_or(WaitTimeout(timeout));
                }
            }
        }
    }

    /// Chat events as they happen (messages posted, edited, deleted; presses answered).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.read(|s| s.events.subscribe())
    }

    // ---- the scene -------------------------------------------------------------------

    pub fn add_user(&self, user: User) {
        self.write(|s| s.add_user(user));
    }

    pub fn create_private_chat(&self, user: u64) -> Result<i64, DriverError> {
        self.write(|s| s.create_private_chat(user))
    }

    pub fn create_group(&self, id: i64, title: &str, members: &[u64]) -> Result<i64, DriverError> {
        self.write(|s| s.create_group(id, title, members))
    }

    pub fn create_supergroup(
        &self,
        id: i64,
        title: &str,
        members: &[u64],
    ) -> Result<i64, DriverError> {
        self.write(|s| s.create_supergroup(id, title, members))
    }

    pub fn add_member(&self, chat: i64, user: u64) -> Result<(), DriverError> {
        self.write(|s| s.add_member(chat, user))
    }

    pub fn block_bot(&self, user: u64) {
        self.write(|s| s.block_bot(user));
    }

    pub fn unblock_bot(&self, user: u64) {
        self.write(|s| s.unblock_bot(user));
    }

    // ---- people act ------------------------------------------------------------------

    pub fn user_sends_text(
        &self,
        chat: i64,
        user: u64,
        text: &str,
        reply_to: Option<i32>,
    ) -> Result<Message, DriverError> {
        self.write(|s| s.user_sends_text(chat, user, text, reply_to))
    }

    pub fn user_sends_photo(
        &self,
        chat: i64,
        user: u64,
        caption: Option<&str>,
        reply_to: Option<i32>,
        media_group_id: Option<&str>,
    ) -> Result<Message, DriverError> {
        self.write(|s| s.user_sends_photo(chat, user, caption, reply_to, media_group_id))
    }

    /// `user` sends `picture` (PNG, JPEG, GIF or WebP) as a photo; `getFile` and the
    /// download give the same bytes back.
    pub fn user_sends_photo_file(
        &self,
        chat: i64,
        user: u64,
        picture: impl Into<Bytes>,
        caption: Option<&str>,
        reply_to: Option<i32>,
    ) -> Result<Message, DriverError> {
        let picture = picture.into();
        self.write(|s| s.user_sends_photo_file(chat, user, picture, caption, reply_to))
    }

    /// Returns the callback query id.
    pub fn user_presses_button(
        &self,
        chat: i64,
        message_id: i32,
        user: u64,
        data: &str,
    ) -> Result<String, DriverError> {
        self.write(|s| s.user_presses_button(chat, message_id, user, data))
    }

    /// Presses the button labelled `label`.
    pub fn user_presses_label(
        &self,
        chat: i64,
        message_id: i32,
        user: u64,
        label: &str,
    ) -> Result<String, DriverError> {
        self.write(|s| s.user_presses_label(chat, message_id, user, label))
    }

    pub fn user_edits_message(
        &self,
        chat: i64,
        message_id: i32,
        user: u64,
        new_text: &str,
    ) -> Result<Message, DriverError> {
        self.write(|s| s.user_edits_message(chat, message_id, user, new_text))
    }

    pub fn bot_removed_from(&self, chat: i64) -> Result<(), DriverError> {
        self.write(|s| s.bot_removed_from(chat))
    }

    /// The bot becomes an administrator of a group: it then hears `chat_member` updates.
    pub fn make_bot_admin(&self, chat: i64) -> Result<(), DriverError> {
        self.write(|s| s.make_bot_admin(chat))
    }

    /// An administrator removes, bans or restricts `user` in a group.
    pub fn change_member(&self, chat: i64, user: u64, to: MemberChange) -> Result<(), DriverError> {
        self.write(|s| s.change_member(chat, user, to))
    }

    pub fn bot_added_to(&self, chat: i64) -> Result<(), DriverError> {
        self.write(|s| s.bot_added_to(chat))
    }

    /// Returns the supergroup's id.
    pub fn migrate_to_supergroup(&self, chat: i64) -> Result<i64, DriverError> {
        self.write(|s| s.migrate_to_supergroup(chat))
    }

    // ---- trouble ---------------------------------------------------------------------

    /// Queues a fault for the calls it matches.
    pub fn inject(&self, rule: FaultRule) {
        self.write(|s| s.faults.push(rule, Instant::now()));
    }

    pub fn clear_faults(&self) {
        self.write(|s| s.faults.clear());
    }

    /// Fault rules still in force.
    pub fn active_faults(&self) -> usize {
        self.read(|s| s.faults.active(Instant::now()))
    }

    /// Telegram's sending limits (`RateLimits::telegram()`), or none (the default).
    pub fn set_rate_limits(&self, limits: Option<RateLimits>) {
        self.write(|s| s.set_rate_limits(limits));
    }

    /// A round trip's time, added to every answer (none by default): the network between
    /// a bot and Telegram, which a sender that waits for each answer pays in full.
    pub fn set_latency(&self, round_trip: Duration) {
        self.inner.shared.latency_us.store(
            round_trip.as_micros().min(u64::MAX as u128) as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    pub fn rate_limited_count(&self) -> u64 {
        self.read(|s| s.rate_limited_count())
    }

    // ---- what happened ---------------------------------------------------------------

    pub fn messages_in(&self, chat: i64) -> Vec<Message> {
        self.read(|s| s.messages_in(chat))
    }

    pub fn bot_messages_in(&self, chat: i64) -> Vec<Message> {
        self.read(|s| s.bot_messages_in(chat))
    }

    pub fn message(&self, chat: i64, id: i32) -> Option<Message> {
        self.read(|s| s.message(chat, id))
    }

    /// The emulator's clock, as [`Call::at`] counts it.
    pub fn elapsed(&self) -> Duration {
        self.read(|s| s.elapsed())
    }

    /// The bytes of a file by its `file_unique_id` (as a photo or document in a message
    /// names it), with what is known of it, while kept.
    pub fn file_contents(&self, file_unique_id: &str) -> Option<(FileMeta, Bytes)> {
        self.read(|s| s.file_contents(file_unique_id).map(|(m, b)| (m.clone(), b)))
    }

    /// The URL a bot with `token` downloads `file_path` from (as teloxide's
    /// `download_file` builds it).
    pub fn file_url(&self, token: &str, file_path: &str) -> String {
        format!("{}/file/bot{token}/{file_path}", self.api_url())
    }

    pub fn calls(&self) -> Vec<Call> {
        self.read(|s| s.calls().to_vec())
    }

    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.read(|s| s.calls_of(method).into_iter().cloned().collect())
    }

    pub fn failed_calls(&self) -> Vec<Call> {
        self.read(|s| s.failed_calls().into_iter().cloned().collect())
    }

    pub fn pending_updates(&self) -> Vec<PendingUpdate> {
        self.read(|s| s.pending_updates())
    }

    pub fn confirmed_offset(&self) -> i32 {
        self.read(|s| s.confirmed_offset())
    }

    /// The webhook the bot set, if any.
    pub fn webhook(&self) -> Option<Webhook> {
        self.read(|s| s.webhook().cloned())
    }

    /// Every attempt to post an update to the webhook, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.read(|s| s.deliveries().to_vec())
    }

    /// The next `n` answers to webhook deliveries are lost on the way back: Telegram
    /// delivers those updates again.
    pub fn lose_webhook_answers(&self, n: u32) {
        self.write(|s| s.lose_webhook_answers(n));
    }

    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.read(|s| s.callback_answers().to_vec())
    }

    pub fn commands(&self) -> Vec<CommandSet> {
        self.read(|s| s.commands().to_vec())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod webhook_tests;
