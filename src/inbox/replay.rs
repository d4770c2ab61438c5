//! Updates stored but not handled, replayed; and what a listener queued, queued once.
//!
//! On SQLite (one instance) what the last run left unhandled is queued once, at start,
//! all of it. On PostgreSQL several instances each handle the updates they received, so
//! only the leader replays, and only what no live instance may still have in hand: on
//! taking the lead and every [`EVERY`] after, the updates unhandled for longer than
//! [`AGE`] that it has not queued itself, i.e. what an instance that died (or a leader
//! before it) left. A live instance handles its updates well within `AGE`; one that is
//! slower (a run tried again after a passing fault) may be handled a second time, which
//! the handlers allow (see the module docs of `inbox`).
//!
//! Every update a listener queues, whatever it came from (a poll, a webhook delivery, a
//! replay), goes through [`Replays::first`]: none is queued twice by one process.

use std::collections::VecDeque;
use std::collections::hash_map::{Entry, HashMap};
use std::time::Duration;

use teloxide::types::Update;
use tokio::time::Instant;

use super::REPLAY_LIMIT;
use crate::leader::Leadership;
use crate::store::Store;

/// How long an update stays unhandled before the leader takes it for left behind.
pub const AGE: Duration = Duration::from_secs(5);
/// How often the leader looks for updates left behind.
pub const EVERY: Duration = Duration::from_secs(2);
/// How long a queued update's id is remembered: far longer than any update is in hand.
const SEEN_FOR: Duration = Duration::from_secs(600);
/// How often ids older than [`SEEN_FOR`] are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

pub(super) struct Replays {
    pub(super) leadership: Leadership,
    /// Updates this listener queued, and when.
    seen: HashMap<i32, Instant>,
    /// The term of the last look (`None` before the first).
    looked_in: Option<u64>,
    next: Instant,
    next_prune: Instant,
}

impl Replays {
    pub(super) fn new(leadership: Leadership) -> Self {
        let now = Instant::now();
        Self {
            leadership,
            seen: HashMap::new(),
            looked_in: None,
            next: now,
            next_prune: now + PRUNE_EVERY,
        }
    }

    /// Whether update `id` is new to this listener: it counts as queued from now on.
    pub(super) fn first(&mut self, id: i32) -> bool {
        let now = Instant::now();
        if now >= self.next_prune {
            self.seen.retain(|_, at| now.duration_since(*at) < SEEN_FOR);
            self.next_prune = now + PRUNE_EVERY;
        }
        match self.seen.entry(id) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert(now);
                true
            }
        }
    }

    /// When the next look is due: `None` while none is (a standby; the sole instance
    /// after its first look).
    pub(super) fn next_look(&self) -> Option<Instant> {
        let term = self.leadership.term()?;
        if self.leadership.is_sole() {
            return self.looked_in.is_none().then(Instant::now);
        }
        if self.looked_in != Some(term) {
            return Some(Instant::now());
        }
        Some(self.next)
    }

    /// Looks, if a look is due, and queues onto `pending` what is left behind.
    pub(super) async fn look(&mut self, store: &Store, pending: &mut VecDeque<Update>) {
        if self.next_look().is_none_or(|at| at > Instant::now()) {
            return;
        }
        self.looked_in = self.leadership.term();
        self.next = Instant::now() + EVERY;
        let rows = if self.leadership.is_sole() {
            store.inbox_unhandled(REPLAY_LIMIT).await
        } else {
            let before = chrono::Utc::now() - chrono::Duration::from_std(AGE).unwrap_or_default();
            store.inbox_unhandled_before(before, REPLAY_LIMIT).await
        };
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "reading the inbox failed");
                return;
            }
        };
        let mut count = 0;
        for (id, payload) in rows {
            if self.seen.contains_key(&id) {
                continue;
            }
            match serde_json::from_str::<Update>(&payload) {
                Ok(update) => {
                    self.first(id);
                    pending.push_back(update);
                    count += 1;
                }
                Err(e) => {
                    tracing::error!(update_id = id, error = %e, "unreadable update in the inbox, skipped")
                }
            }
        }
        if count > 0 {
            tracing::warn!(
                count,
                instance = self.leadership.instance(),
                "handling updates left over from the last run (or by a stopped instance)"
            );
        }
    }
}
