//! The delivery worker: the one task that sends. It serves chats, not rows: it asks the
//! store which chats have a message due (`Store::outbox_due_chats`), orders them
//! ([`Turns`]: people first, then the chats served longest ago), and gives each a turn
//! (`Outbox::take_turn`), many chats at once. A chat held by its own pace sits out
//! until the pacer lets it go, without holding up the others; a wake (a commit) makes
//! the worker look again at once, so a confirmation enqueued during a broadcast goes
//! ahead of the broadcast's remaining groups.
//!
//! Each turn is a task of its own ([`JoinSet`]), not a future the worker polls between
//! its own awaits. A turn waits for the store's connections like everyone else, and the
//! store's pools hand a freed connection to the first in line even while its task is
//! not polled: had the worker stopped polling its turns to read the due chats, turns
//! first in line would have taken every reader (or the writer) and waited for the
//! worker, which waited for them, and every other reader of the store with it, until
//! the pool's timeout. The flood benchmark's set-up stalled so on a loaded machine.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use teloxide::prelude::*;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

use super::Outbox;
use super::delivery::Lane;
use super::turns::Turns;
use crate::store::{self, DueChat};

/// Chats served at once with bulk messages.
const LANES: usize = 16;
/// More chats served at once when they have a message that answers a person: they are
/// not kept waiting for a free lane behind a broadcast.
const URGENT_LANES: usize = 16;
/// How often the worker looks at the due chats when nothing wakes it (retries whose
/// time has come).
const LOOK_AGAIN: Duration = Duration::from_secs(1);
/// How long a chat sits out after a turn that went wrong or did nothing.
const SIT_OUT: Duration = Duration::from_secs(1);

/// The turns taking place, each a task of its own, and the chat each is for.
#[derive(Default)]
struct Lanes {
    tasks: JoinSet<Result<Lane, store::Error>>,
    chats: HashMap<Id, DueChat>,
}

impl Lanes {
    fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Starts `chat`'s turn.
    fn start(&mut self, outbox: &Arc<Outbox>, bot: &Bot, chat: DueChat) {
        let (outbox, bot, due) = (Arc::clone(outbox), bot.clone(), chat.clone());
        let task = self
            .tasks
            .spawn(async move { outbox.take_turn(&bot, due).await });
        self.chats.insert(task.id(), chat);
    }

    /// The next turn to end: its chat and what it did. Pending while none is taking place.
    async fn next(&mut self) -> (DueChat, Result<Lane, String>) {
        loop {
            let Some(ended) = self.tasks.join_next_with_id().await else {
                return std::future::pending().await;
            };
            let (id, lane) = match ended {
                Ok((id, lane)) => (id, lane.map_err(|e| e.to_string())),
                Err(e) => (e.id(), Err(format!("the turn's task ended: {e}"))),
            };
            if let Some(chat) = self.chats.remove(&id) {
                return (chat, lane);
            }
        }
    }
}

/// The worker's view of the chats between looks at the store.
struct Round {
    /// Chats due, in the order of their turns.
    queue: VecDeque<DueChat>,
    /// Chats taking their turn now.
    busy: HashSet<i64>,
    /// Chats sitting out, until when (the pacer holds them, or their turn failed).
    held: HashMap<i64, Instant>,
    turns: Turns,
    /// Look at the store before starting more turns.
    look: bool,
    next_look: Instant,
    next_mark_retry: Instant,
}

impl Round {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            queue: VecDeque::new(),
            busy: HashSet::new(),
            held: HashMap::new(),
            turns: Turns::default(),
            look: true,
            next_look: now,
            next_mark_retry: now,
        }
    }

    /// A chat's turn ended as `lane` says.
    fn done(&mut self, chat: DueChat, lane: Result<Lane, String>) {
        let now = Instant::now();
        self.busy.remove(&chat.chat_id);
        self.turns.served(chat.chat_id);
        match lane {
            Ok(Lane {
                wait: Some(wait), ..
            }) => {
                self.held.insert(chat.chat_id, now + wait);
                self.next_look = self.next_look.min(now + wait);
            }
            Ok(Lane { more: true, .. }) if chat.urgent => self.look = true,
            Ok(Lane { more: true, .. }) => self.queue.push_back(chat),
            Ok(Lane { marks_pending, .. }) if marks_pending => {}
            Ok(Lane {
                progressed: false, ..
            }) => {
                self.held.insert(chat.chat_id, now + SIT_OUT);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(chat_id = chat.chat_id, error = %e, "delivery turn failed");
                self.held.insert(chat.chat_id, now + SIT_OUT);
            }
        }
        if self.queue.is_empty() {
            self.look = true;
        }
    }
}

impl Outbox {
    /// The background worker: gives due chats their turns, looking at the store when
    /// woken, when a turn ends with nothing else queued, when the pacer lets a held chat
    /// go, and every second, until `shutdown`. Then a last bounded drain.
    pub async fn run(self: Arc<Self>, bot: Bot, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut round = Round::new();
        let mut lanes = Lanes::default();
        loop {
            // Turns go on meanwhile: they are tasks (see the module docs).
            self.retry_marks(&mut round).await;
            if round.look || Instant::now() >= round.next_look {
                self.look(&mut round).await;
            }
            self.start_turns(&bot, &mut round, &mut lanes);
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                _ = self.wake.notified() => round.look = true,
                (chat, lane) = lanes.next() => round.done(chat, lane),
                _ = tokio::time::sleep_until(round.next_look.min(round.next_mark_retry)) => {}
            }
        }
        // Turns in hand finish (their marks are written); then a last flush, bounded, so
        // that what the last updates caused goes out. Turns still going after it are
        // aborted with the set.
        let _ = tokio::time::timeout(Duration::from_secs(3), async {
            while lanes.tasks.join_next().await.is_some() {}
            self.marks.retry(&self.store).await;
            let _ = self.drain(&bot).await;
        })
        .await;
    }

    /// Writes kept "sent" marks again, once a second while there are any.
    async fn retry_marks(&self, round: &mut Round) {
        let now = Instant::now();
        if self.marks.is_empty() || now < round.next_mark_retry {
            round.next_mark_retry = round.next_mark_retry.max(now + LOOK_AGAIN);
            return;
        }
        if self.marks.retry(&self.store).await {
            round.look = true;
        }
        round.next_mark_retry = Instant::now() + LOOK_AGAIN;
    }

    /// Reads the due chats and orders the queue afresh.
    async fn look(&self, round: &mut Round) {
        let now = Instant::now();
        round.look = false;
        round.next_look = now + LOOK_AGAIN;
        round.held.retain(|_, until| *until > now);
        if let Some(soonest) = round.held.values().min() {
            round.next_look = round.next_look.min(*soonest);
        }
        let due = match self.store.outbox_due_chats(Utc::now()).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "reading the due chats failed");
                return;
            }
        };
        let marked = self.marks.chats();
        let due = due
            .into_iter()
            .filter(|c| {
                !round.busy.contains(&c.chat_id)
                    && !round.held.contains_key(&c.chat_id)
                    && !marked.contains(&c.chat_id)
            })
            .collect();
        round.queue = round.turns.order(due);
    }

    /// Starts the turns of the chats at the head of the queue, as many as lanes allow.
    fn start_turns(self: &Arc<Self>, bot: &Bot, round: &mut Round, lanes: &mut Lanes) {
        while let Some(next) = round.queue.front() {
            let room = if next.urgent {
                LANES + URGENT_LANES
            } else {
                LANES
            };
            if lanes.len() >= room {
                break;
            }
            let Some(chat) = round.queue.pop_front() else {
                break;
            };
            round.busy.insert(chat.chat_id);
            lanes.start(self, bot, chat);
        }
    }

    /// Sends what is due now, round after round, until a round makes no progress;
    /// returns how many rows were sent. For where no worker runs (see
    /// [`Outbox::set_inline`]) and the worker's last flush.
    pub(super) async fn drain(&self, bot: &Bot) -> Result<usize, store::Error> {
        let _one = self.sending.lock().await;
        let mut turns = Turns::default();
        let mut sent = 0;
        loop {
            let marked = self.marks.chats();
            let due: Vec<DueChat> = self
                .store
                .outbox_due_chats(Utc::now())
                .await?
                .into_iter()
                .filter(|c| !marked.contains(&c.chat_id))
                .collect();
            if due.is_empty() {
                return Ok(sent);
            }
            let lanes: Vec<(i64, Result<Lane, store::Error>)> =
                futures::stream::iter(turns.order(due))
                    .map(|chat| async move { (chat.chat_id, self.take_turn(bot, chat).await) })
                    .buffer_unordered(LANES)
                    .collect()
                    .await;
            let mut progressed = false;
            for (chat, lane) in lanes {
                turns.served(chat);
                let lane = lane?;
                sent += lane.sent;
                progressed |= lane.progressed;
            }
            if !progressed {
                return Ok(sent);
            }
        }
    }
}
