//! Nothing lost between Telegram and the handlers.
//!
//! Telegram forgets an update once a later `getUpdates` confirms its offset. teloxide's
//! own polling confirms as soon as it hands updates to the dispatcher, before handlers
//! finish. [`InboxListener`] instead writes every update to the `inbox` table first, and
//! only then lets the next `getUpdates` confirm it. [`track`] marks an update handled once
//! the handler tree has run; on start, what was received but not handled is dispatched
//! again, oldest first (with several instances on PostgreSQL: by the leader, what no live
//! instance may still have in hand; see `replay`). Only the leader polls.
//!
//! In webhook mode ([`webhook`]) Telegram posts each update instead, and the delivery is
//! answered only once its row is written: the same promise, the other way round.
//!
//! An update may therefore be handled twice (a crash after a handler's commit but before
//! its "handled" mark); handlers are idempotent for that: one ticket per report message,
//! one photo per message, one event per relayed message, button presses checked against
//! the ticket's state.
//!
//! A handler that failed on a passing store fault (no connection free in time, the
//! database locked by another process) runs again a few times, its update unhandled
//! meanwhile; one that failed for good, or every time, marks its update failed and is
//! logged at error with the update's id ([`track_with`], [`Retry`]).

use std::collections::{HashSet, VecDeque};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use teloxide::dispatching::UpdateHandler;
use teloxide::dptree::di::{Asyncify, Injectable};
use teloxide::dptree::prelude::DependencyMap;
use teloxide::dptree::{self, HandlerSignature};
use teloxide::prelude::*;
use teloxide::stop::{StopFlag, StopToken, mk_stop_token};
use teloxide::types::{AllowedUpdate, Update, UpdateKind};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use teloxide::{RequestError, requests::Requester};
use tracing::Instrument;

use crate::app::{AppRef, BotError};
use crate::leader::Leadership;
use crate::store::Store;
use replay::Replays;

mod replay;
pub mod webhook;
pub use webhook::WebhookListener;

/// Long-poll timeout for getUpdates, in seconds. Under teloxide's default client timeout
/// (17 s): a longer poll is cut off by the client as a network error, every time the bot
/// is idle, and the backoff after such errors grows to 30 s, holding up the next update.
const POLL_TIMEOUT: u32 = 10;
/// Updates re-dispatched from the inbox per start, at most (the rest on the next start).
const REPLAY_LIMIT: i64 = 10_000;

pub struct InboxListener {
    bot: Bot,
    store: Store,
    /// The next update id to ask for; asking for it confirms everything before it.
    offset: i32,
    /// The term the offset was read in: only the leader polls, from where the last one
    /// stopped.
    polling_in: Option<u64>,
    allowed: Option<Vec<AllowedUpdate>>,
    stop_token: StopToken,
    stop_flag: StopFlag,
    pending: VecDeque<Update>,
    replays: Replays,
    backoff: Duration,
}

impl InboxListener {
    /// A listener that polls while this instance leads (`leadership`); a standby's waits.
    pub async fn new(
        bot: Bot,
        store: Store,
        leadership: Leadership,
    ) -> Result<Self, crate::store::Error> {
        let (stop_token, stop_flag) = mk_stop_token();
        Ok(Self {
            bot,
            store,
            offset: 0,
            polling_in: None,
            allowed: None,
            stop_token,
            stop_flag,
            pending: VecDeque::new(),
            replays: Replays::new(leadership),
            backoff: Duration::from_secs(1),
        })
    }

    async fn next(&mut self) -> Option<Result<Update, RequestError>> {
        loop {
            if let Some(update) = self.pending.pop_front() {
                return Some(Ok(update));
            }
            if self.stop_flag.is_stopped() {
                return None;
            }
            let Some(term) = self.replays.leadership.term() else {
                // A standby: the leader polls.
                tokio::select! {
                    _ = self.replays.leadership.changed() => continue,
                    _ = &mut self.stop_flag => return None,
                }
            };
            if self.polling_in != Some(term) && !self.take_over(term).await {
                continue;
            }
            self.replays.look(&self.store, &mut self.pending).await;
            if !self.pending.is_empty() {
                continue;
            }
            let mut req = self
                .bot
                .get_updates()
                .offset(self.offset)
                .timeout(self.poll_timeout());
            if let Some(allowed) = &self.allowed {
                req = req.allowed_updates(allowed.clone());
            }
            let answer = tokio::select! {
                answer = req.send() => answer,
                _ = &mut self.stop_flag => return None,
                // The lead lost: the poll is dropped, its updates unconfirmed.
                _ = self.replays.leadership.changed() => continue,
            };
            match answer {
                Ok(updates) => {
                    self.backoff = Duration::from_secs(1);
                    if let Err(e) = self.receive(updates).await {
                        // Not confirmed: Telegram sends them again on the next call.
                        tracing::error!(error = %e, "writing updates to the inbox failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                Err(RequestError::RetryAfter(after)) => {
                    tokio::time::sleep(after.duration()).await;
                }
                Err(e) => {
                    let wait = self.backoff;
                    self.backoff = (self.backoff * 2).min(Duration::from_secs(30));
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = &mut self.stop_flag => return None,
                    }
                    return Some(Err(e));
                }
            }
        }
    }

    /// Begins polling in `term`: from the update after the last one stored, wherever the
    /// last leader stopped. `false` when the inbox could not be read (tried again soon).
    async fn take_over(&mut self, term: u64) -> bool {
        match self.store.inbox_last_id().await {
            Ok(last) => {
                self.offset = last.map_or(0, |id| id + 1);
                self.polling_in = Some(term);
                if !self.replays.leadership.is_sole() {
                    let instance = self.replays.leadership.instance();
                    tracing::info!(instance, term, "leader: polling for updates");
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "reading the inbox failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                false
            }
        }
    }

    /// The long poll's timeout: [`POLL_TIMEOUT`], or shorter so that the leader's next
    /// look for updates left behind is not held up by a quiet poll.
    fn poll_timeout(&self) -> u32 {
        match self.replays.next_look() {
            Some(at) => {
                let secs = at.saturating_duration_since(tokio::time::Instant::now());
                (secs.as_secs() as u32 + 1).min(POLL_TIMEOUT)
            }
            None => POLL_TIMEOUT,
        }
    }

    /// Stores a batch, advances the offset past it, and queues what still needs handling.
    async fn receive(&mut self, updates: Vec<Update>) -> Result<(), crate::store::Error> {
        if updates.is_empty() {
            return Ok(());
        }
        let raw: Vec<(i32, String)> = updates
            .iter()
            .map(|u| (u.id.0 as i32, serde_json::to_string(u).unwrap_or_default()))
            .collect();
        let todo: HashSet<i32> = self
            .store
            .inbox_receive(&raw, chrono::Utc::now())
            .await?
            .into_iter()
            .collect();
        if let Some(last) = updates.last() {
            self.offset = last.id.0 as i32 + 1;
        }
        for update in updates {
            let id = update.id.0 as i32;
            if todo.contains(&id) && self.replays.first(id) {
                self.pending.push_back(update);
            }
        }
        Ok(())
    }
}

impl UpdateListener for InboxListener {
    type Err = RequestError;

    fn stop_token(&mut self) -> StopToken {
        self.stop_token.clone()
    }

    fn hint_allowed_updates(&mut self, hint: &mut dyn Iterator<Item = AllowedUpdate>) {
        self.allowed = Some(hint.collect());
    }
}

impl<'a> AsUpdateStream<'a> for InboxListener {
    type StreamErr = RequestError;
    type Stream = BoxStream<'a, Result<Update, RequestError>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        Box::pin(futures::stream::unfold(self, |this| async move {
            this.next().await.map(|item| (item, this))
        }))
    }
}

/// How an update whose handler failed on a passing store fault is handled again.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Runs of the handler tree in all, the first included.
    pub attempts: u32,
    /// The wait before the second run, doubled before each later one.
    pub first_wait: Duration,
}

impl Default for Retry {
    /// Four runs, 1, 2 and 4 s apart (each failed run having waited up to a pool's
    /// acquire timeout first): a queue of writers or a lock held by another process has
    /// cleared by then, and the chat's next update, which waits behind this one, is held
    /// up for less than a minute.
    fn default() -> Self {
        Self {
            attempts: 4,
            first_wait: Duration::from_secs(1),
        }
    }
}

/// [`track_with`] with the [`Retry::default`].
pub fn track(tree: UpdateHandler<BotError>) -> UpdateHandler<BotError> {
    track_with(tree, Retry::default())
}

/// Wraps the handler tree: runs it inside a span naming the update, then marks the update
/// handled. What reaches it was not handled yet: the listener queues only updates whose
/// inbox row has no mark ([`InboxListener::receive`], and the replay on start).
///
/// A run that fails on a passing store fault ([`BotError::is_transient`]: no connection
/// free in time, the database locked) is run again, as `retry` says, the update unmarked
/// meanwhile (a crash in between leaves it for the replay on start). Any other failure,
/// or the last attempt's, marks the update failed, logged at error with its id: it is
/// not run again. When the store is closing, the update is left for the next start.
/// Handlers are idempotent for runs again (see the module docs).
pub fn track_with(tree: UpdateHandler<BotError>, retry: Retry) -> UpdateHandler<BotError> {
    let deps_of = Arc::new(Asyncify(|update: Update, app: AppRef| (update, app)));
    let obligations = obligations_of(&*deps_of);
    dptree::from_fn_with_description(
        tree.description().clone(),
        move |deps: DependencyMap, cont| {
            let tree = tree.clone();
            let deps_of = Arc::clone(&deps_of);
            async move {
                let (update, app) = {
                    let f = deps_of.inject(&deps);
                    f().await
                };
                let (result, attempts) = run(&tree, deps, &update, retry).await;
                let id = update.id.0 as i32;
                let now = chrono::Utc::now();
                match result {
                    ControlFlow::Continue(rest) => {
                        let result = cont(rest).await;
                        mark_handled(&app, id, now).await;
                        result
                    }
                    ControlFlow::Break(Ok(())) => {
                        mark_handled(&app, id, now).await;
                        ControlFlow::Break(Ok(()))
                    }
                    ControlFlow::Break(Err(e)) => {
                        give_up(&app, id, &e, attempts, now).await;
                        // Logged here, with the update's id.
                        ControlFlow::Break(Ok(()))
                    }
                }
            }
        },
        HandlerSignature::Other {
            obligations,
            guaranteed_outcomes: Default::default(),
            conditional_outcomes: Default::default(),
            continues: true,
        },
    )
}

type Run = ControlFlow<Result<(), BotError>, DependencyMap>;

/// Runs `tree` on `update`, again after a passing fault, up to `retry.attempts` times;
/// returns the last run's outcome and how many runs there were. The continuation (the
/// dispatcher's default handler) is not run here, but once, by the caller.
async fn run(
    tree: &UpdateHandler<BotError>,
    deps: DependencyMap,
    update: &Update,
    retry: Retry,
) -> (Run, u32) {
    let span = update_span(update);
    let mut wait = retry.first_wait;
    let mut attempt = 1;
    loop {
        let started = std::time::Instant::now();
        let result = tree
            .clone()
            .execute(
                deps.clone(),
                |rest| async move { ControlFlow::Continue(rest) },
            )
            .instrument(span.clone())
            .await;
        let ms = started.elapsed().as_millis() as u64;
        match &result {
            ControlFlow::Break(Err(e)) if e.is_transient() && attempt < retry.attempts => {
                tracing::warn!(parent: &span, attempt, ms, ?wait, error = %e,
                    "handling the update failed on a passing fault; trying again");
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
                attempt += 1;
            }
            _ => {
                tracing::info!(parent: &span, ms, "update handled");
                return (result, attempt);
            }
        }
    }
}

async fn mark_handled(app: &AppRef, id: i32, now: chrono::DateTime<chrono::Utc>) {
    if let Err(e) = app.store.inbox_handled(id, now).await {
        tracing::error!(update_id = id, error = %e, "marking the update handled failed");
    }
}

/// The update's handling failed for good (or Butler is stopping): logged, and marked.
async fn give_up(
    app: &AppRef,
    id: i32,
    e: &BotError,
    attempts: u32,
    now: chrono::DateTime<chrono::Utc>,
) {
    if e.is_closing() {
        tracing::warn!(update_id = id, error = %e, "stopping: the update is handled on the next start");
        return;
    }
    if e.is_transient() {
        tracing::error!(update_id = id, attempts, error = %e, "handling the update failed on every attempt; given up");
    } else {
        tracing::error!(update_id = id, error = %e, "handling the update failed");
    }
    if let Err(mark) = app.store.inbox_failed(id, &e.to_string(), now).await {
        // Unmarked, it is handled again on the next start.
        tracing::error!(update_id = id, error = %mark, "marking the update failed failed");
    }
}

fn obligations_of<F, Args>(
    _: &F,
) -> std::collections::BTreeMap<dptree::Type, &'static std::panic::Location<'static>>
where
    F: Injectable<(Update, AppRef), Args>,
{
    F::obligations()
}

/// One span per update: its id, kind, chat and user.
fn update_span(update: &Update) -> tracing::Span {
    let kind = match &update.kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::EditedMessage(_) => "edited_message",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::MyChatMember(_) => "my_chat_member",
        UpdateKind::ChatMember(_) => "chat_member",
        _ => "other",
    };
    tracing::info_span!(
        "update",
        update_id = update.id.0,
        kind,
        chat = update.chat().map(|c| c.id.0),
        user = update.from().map(|u| u.id.0),
    )
}
