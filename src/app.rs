//! The context every adapter gets: [`App`] holds the store, the settings, the outbox, the
//! clock and the scheduler's wake-up; the chat handlers receive it from the dispatcher,
//! the jobs and the sandbox hold the same `Arc`.
//!
//! It sits above `tickets`, `messages` and `figures` and below the adapters (`chat`, `console`,
//! `jobs`, `inbox`, `sandbox`): it may use everything under it, and teloxide (it sends
//! through the outbox and reads a Telegram user's name and language), never an adapter.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use teloxide::prelude::*;
use teloxide::types::User;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::Actor;
use crate::i18n::Locale;
use crate::limiter::{Gate, Limiter, Windows};
use crate::outbox::{Outbox, Outgoing};
use crate::store::{self, Group, Store};

/// What a handler can fail with. User mistakes are not errors: they are answered in the
/// chat. These are our faults, logged with their cause and never shown to users.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("telegram: {0}")]
    Telegram(#[from] teloxide::RequestError),
    #[error("figures: {0}")]
    Figures(#[from] crate::figures::Error),
    /// A store read that failed in a filter of the handler tree (see `chat::Fault`).
    #[error("{0}")]
    Lookup(Arc<store::Error>),
}

impl BotError {
    /// A store fault that passes ([`store::Error::is_transient`]): the update is worth
    /// handling again a little later.
    pub fn is_transient(&self) -> bool {
        self.store_error().is_some_and(store::Error::is_transient)
    }

    /// The store was closed: Butler is stopping.
    pub fn is_closing(&self) -> bool {
        self.store_error().is_some_and(store::Error::is_closing)
    }

    fn store_error(&self) -> Option<&store::Error> {
        match self {
            BotError::Store(e) | BotError::Figures(crate::figures::Error::Store(e)) => Some(e),
            BotError::Lookup(e) => Some(e),
            _ => None,
        }
    }
}

pub type HandlerResult = Result<(), BotError>;

/// Everything a handler needs, injected into the tree as one dependency.
pub struct App {
    pub store: Store,
    pub settings: Settings,
    pub outbox: Arc<Outbox>,
    pub clock: Clock,
    /// Wakes the scheduler loop at once, e.g. after a sandbox moved its clock.
    pub scheduler_wake: tokio::sync::Notify,
    /// How often the same kind of answer may go to the same person or chat (hints,
    /// repeated refusals, strangers in unregistered groups, the slow-down warning).
    pub limiter: Limiter,
    /// Who is a current member of which staff chat (the main one, a route's), as
    /// Telegram last said: keyed by (chat, user).
    roster: std::sync::Mutex<std::collections::HashMap<(i64, u64), Membership>>,
}

/// How long Telegram's answer on a staff member's membership is trusted, in seconds. A
/// `chat_member` update (sent while the bot is an administrator) drops it at once.
pub const MEMBERSHIP_TTL_SECS: i64 = 60;

/// One answer of `getChatMember`.
#[derive(Debug, Clone, Copy)]
struct Membership {
    staff: bool,
    at: DateTime<Utc>,
    /// Set by [`App::assume_member`]: never expires.
    fixed: bool,
}

/// At most this many reports per owner per [`FLOOD_WINDOW_SECS`], by the reports' dates.
pub const FLOOD_LIMIT: i64 = 5;
pub const FLOOD_WINDOW_SECS: i64 = 60;

/// A non-manager in a group that is not an owner group is answered once in this long.
pub const STRANGER_WINDOW_HOURS: i64 = 24;

pub type AppRef = Arc<App>;

impl App {
    pub fn new(store: Store, settings: Settings, clock: Clock) -> AppRef {
        // The staff chats and the managers' private chats are never given up on.
        let kept = settings
            .staff_chats()
            .into_iter()
            .chain(settings.managers.iter().map(|&m| m as i64));
        let outbox = Outbox::new(store.clone(), kept);
        let minutes = |m: u32| chrono::Duration::minutes(m.into());
        let limiter = Limiter::new(Windows {
            hint: minutes(settings.limits.hint_minutes),
            repeat: minutes(settings.limits.repeat_minutes),
            stranger: chrono::Duration::hours(STRANGER_WINDOW_HOURS),
            flood_warning: chrono::Duration::seconds(FLOOD_WINDOW_SECS),
        });
        Arc::new(Self {
            store,
            settings,
            outbox,
            clock,
            scheduler_wake: tokio::sync::Notify::new(),
            limiter,
            roster: Default::default(),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Whether `owner` may report a message dated `sent`: fewer than [`FLOOD_LIMIT`]
    /// reports dated within [`FLOOD_WINDOW_SECS`] before it. Telegram's date, not the
    /// time Butler handles it: reports replayed after downtime were not a flood.
    /// `Some(warn)` when not, `warn` telling whether to answer (once per window) or stay
    /// silent.
    pub async fn flood_check(
        &self,
        owner: u64,
        sent: DateTime<Utc>,
    ) -> Result<Option<bool>, store::Error> {
        let window = chrono::Duration::seconds(FLOOD_WINDOW_SECS);
        if self.store.reports_dated(owner, sent - window, sent).await? < FLOOD_LIMIT {
            return Ok(None);
        }
        let warn = self.limiter.allow(Gate::FloodWarning { owner }, self.now());
        Ok(Some(warn))
    }

    /// Whether an answer may pass `gate` now (see [`Limiter`]).
    pub fn may_answer(&self, gate: Gate) -> bool {
        self.limiter.allow(gate, self.now())
    }

    /// Whether an answer may pass all of `gates` now; shuts them all if it may.
    pub fn may_answer_all(&self, gates: &[Gate]) -> bool {
        self.limiter.allow_all(gates, self.now())
    }

    /// Which ticket a message of Butler's belongs to. A message is recorded just after
    /// Telegram accepted it, so a reply or press can beat the record by a few
    /// milliseconds: for a message from a bot, look once more a moment later.
    pub async fn bot_message(
        &self,
        chat: i64,
        message: i32,
        from_a_bot: bool,
    ) -> Option<store::BotMessage> {
        for attempt in 0..2 {
            match self.store.bot_message(chat, message).await {
                Ok(Some(found)) => return Some(found),
                Ok(None) if from_a_bot && attempt == 0 => {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                Ok(None) => return None,
                Err(e) => {
                    tracing::error!(error = %e, "looking up the replied message failed");
                    return None;
                }
            }
        }
        None
    }

    pub fn staff_locale(&self) -> Locale {
        crate::messages::staff_locale(&self.settings)
    }

    /// The language for an owner group: the group's choice, else the person's Telegram
    /// language, else the configured default.
    pub fn group_locale(&self, group: &Group, user: Option<&User>) -> Locale {
        group
            .locale
            .as_deref()
            .and_then(|l| l.parse().ok())
            .or_else(|| user.and_then(|u| Locale::from_telegram(u.language_code.as_deref())))
            .unwrap_or(self.settings.default_locale)
    }

    /// The language for a private chat with `user`.
    pub fn user_locale(&self, user: Option<&User>) -> Locale {
        user.and_then(|u| Locale::from_telegram(u.language_code.as_deref()))
            .unwrap_or(self.settings.default_locale)
    }

    /// Writes `msgs` to the outbox and sends them.
    pub async fn send(&self, bot: &Bot, msgs: Vec<Outgoing>) -> HandlerResult {
        let mut tx = self.store.begin().await?;
        tx.enqueue_all(&msgs, self.now()).await?;
        self.commit(bot, tx).await
    }

    /// Commits a change and sends the messages it enqueued.
    pub async fn commit(&self, bot: &Bot, tx: store::Tx<'_>) -> HandlerResult {
        tx.commit().await?;
        self.outbox.flush(bot).await?;
        Ok(())
    }

    /// Whether `user` is on the staff of the main staff chat now: a manager, or a current
    /// member of it. See [`App::is_member_of`].
    pub async fn is_staff(&self, bot: &Bot, user: u64) -> bool {
        self.is_member_of(bot, self.settings.staff_chat_id, user)
            .await
    }

    /// Whether `user` is on the staff of staff chat `chat` (the main one or a route's)
    /// now: a manager, or a current member of it (its owner, an administrator or a
    /// member; not restricted, left or kicked). Telegram is asked at most once per
    /// [`MEMBERSHIP_TTL_SECS`]; when it cannot answer, the last answer stands, and without
    /// one the user is refused.
    pub async fn is_member_of(&self, bot: &Bot, chat: i64, user: u64) -> bool {
        if self.settings.is_manager(user) {
            return true;
        }
        let now = self.now();
        let ttl = chrono::Duration::seconds(MEMBERSHIP_TTL_SECS);
        let known = self.roster_lock().get(&(chat, user)).copied();
        if let Some(m) = known
            && (m.fixed || now - m.at < ttl)
        {
            return m.staff;
        }
        match bot
            .get_chat_member(teloxide::types::ChatId(chat), teloxide::types::UserId(user))
            .await
        {
            Ok(member) => {
                let kind = &member.kind;
                let staff = kind.is_privileged() || kind.is_member();
                let fresh = Membership {
                    staff,
                    at: now,
                    fixed: false,
                };
                self.roster_lock().insert((chat, user), fresh);
                staff
            }
            Err(e) => {
                tracing::warn!(user, chat, error = %e, "cannot ask Telegram who is in a staff chat");
                known.is_some_and(|m| m.staff)
            }
        }
    }

    /// Forgets what Telegram said about `user` (`None`: about everyone) in staff chat
    /// `chat`, after a member change there: the next request asks again.
    pub fn forget_member(&self, chat: i64, user: Option<u64>) {
        self.roster_lock()
            .retain(|(c, u), _| *c != chat || user.is_some_and(|user| *u != user));
    }

    /// Takes `user`'s membership of the main staff chat as known until forgotten, without
    /// asking Telegram: for a stand-in of Telegram that cannot answer `getChatMember`
    /// (the handler tests).
    pub fn assume_member(&self, user: u64, staff: bool) {
        self.assume_member_of(self.settings.staff_chat_id, user, staff);
    }

    /// [`App::assume_member`] for staff chat `chat`.
    pub fn assume_member_of(&self, chat: i64, user: u64, staff: bool) {
        let at = self.now();
        let fixed = true;
        self.roster_lock()
            .insert((chat, user), Membership { staff, at, fixed });
    }

    fn roster_lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(i64, u64), Membership>> {
        self.roster.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `user` may do in the web console, as in the chat: a manager, a dispatcher,
    /// or a current member of a staff chat (the main one or a route's); `None` for
    /// everyone else (owners, strangers).
    pub async fn console_role(&self, bot: &Bot, user: u64) -> Option<ConsoleRole> {
        if self.settings.is_manager(user) {
            return Some(ConsoleRole::Manager);
        }
        if self.settings.is_dispatcher(user) {
            return Some(ConsoleRole::Dispatcher);
        }
        for chat in self.settings.staff_chats() {
            if chat != 0 && self.is_member_of(bot, chat, user).await {
                return Some(ConsoleRole::Staff);
            }
        }
        None
    }

    pub fn actor(&self, user: &User) -> Actor {
        Actor {
            id: user.id.0,
            name: display_name(user),
            is_manager: self.settings.is_manager(user.id.0),
        }
    }
}

/// Who someone is in the web console: what they see and may do follows the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleRole {
    /// Everything: complaints and suggestions, follow-ups, exports, assigning.
    Manager,
    /// The front desk: the staff's view, and may assign.
    Dispatcher,
    /// Repairs only (a complaint may be about staff).
    Staff,
}

/// How long a console sign-in link is valid.
pub const CONSOLE_LINK_MINUTES: i64 = 10;

/// A new random secret (32 bytes from the system's generator), as 64 hex digits: a
/// sign-in link's token, a session's cookie, a CSRF token.
pub fn new_secret() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex(&bytes))
}

/// The SHA-256 of a secret, as hex: what the store keeps of a token.
pub fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(secret.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a Telegram user is named to others: the full name, else the username, else the id.
pub fn display_name(user: &User) -> String {
    let name = user.full_name();
    if name.trim().is_empty() {
        user.username.clone().unwrap_or_else(|| user.id.to_string())
    } else {
        name
    }
}
