//! The chat layer: every path a Telegram update can take ([`handler_tree`]), one module
//! per audience, and the rendering of what Butler says.
//!
//! Handlers parse the update, ask `domain` whether the move is allowed, write the change
//! and the messages it causes through one `store::Tx`, commit, and flush the outbox.

pub mod announce;
pub mod callbacks;
pub mod command_table;
pub mod commands;
pub mod life;
pub mod manager;
pub mod owner;
pub mod private;
pub mod render;
pub mod staff;
pub mod stats;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Message, User};

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::Actor;
use crate::i18n::{self, Locale};
use crate::outbox::{Outbox, Outgoing, Target};
use crate::store::{self, Group, Store};

/// Runs `body` (an `Op<()>` block using `tx`) in a transaction, then
/// [`App::conclude`]s it. A block rather than a closure, so the handler's future stays
/// `Send` as the dispatcher requires.
macro_rules! change {
    ($app:expr, $bot:expr, $msg:expr, $locale:expr, |$tx:ident| $body:block) => {{
        let mut tx_ = $app.store.begin().await?;
        let result: $crate::chat::Op<()> = async {
            let $tx = &mut tx_;
            $body
        }
        .await;
        $app.conclude($bot, $msg, $locale, tx_, result).await
    }};
}
pub(crate) use change;

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
    /// When each owner was last told to slow down, so the warning itself is not a flood.
    flood_warned: std::sync::Mutex<std::collections::HashMap<u64, DateTime<Utc>>>,
}

/// At most this many reports per owner per [`FLOOD_WINDOW_SECS`].
pub const FLOOD_LIMIT: i64 = 5;
pub const FLOOD_WINDOW_SECS: i64 = 60;

pub type AppRef = Arc<App>;

impl App {
    pub fn new(store: Store, settings: Settings, clock: Clock) -> AppRef {
        let outbox = Outbox::new(store.clone());
        Arc::new(Self {
            store,
            settings,
            outbox,
            clock,
            scheduler_wake: tokio::sync::Notify::new(),
            flood_warned: Default::default(),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Whether `owner` may report now; `Some(warn)` when not, `warn` telling whether to
    /// answer (once per window) or stay silent.
    pub async fn flood_check(&self, owner: u64) -> Result<Option<bool>, store::Error> {
        let now = self.now();
        let window = chrono::Duration::seconds(FLOOD_WINDOW_SECS);
        if self.store.reports_since(owner, now - window).await? < FLOOD_LIMIT {
            return Ok(None);
        }
        let mut warned = self.flood_warned.lock().unwrap_or_else(|e| e.into_inner());
        let warn = warned.get(&owner).is_none_or(|at| now - *at >= window);
        if warn {
            warned.insert(owner, now);
        }
        Ok(Some(warn))
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
        self.settings.default_locale
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

    pub fn actor(&self, user: &User) -> Actor {
        Actor {
            id: user.id.0,
            name: display_name(user),
            is_manager: self.settings.is_manager(user.id.0),
        }
    }
}

pub fn display_name(user: &User) -> String {
    let name = user.full_name();
    if name.trim().is_empty() {
        user.username.clone().unwrap_or_else(|| user.id.to_string())
    } else {
        name
    }
}

/// A localized answer under `msg`.
pub fn answer(msg: &Message, locale: Locale, key: &str, args: &[(&str, &str)]) -> Outgoing {
    reply_text(msg, i18n::t(locale, key, args))
}

pub fn reply_text(msg: &Message, text: String) -> Outgoing {
    Outgoing::Text {
        chat_id: msg.chat.id.0,
        text,
        reply_to: Some(Target::Message(msg.id.0)),
        buttons: None,
        remember: None,
    }
}

/// The localized answer to a refused request.
pub fn refusal(msg: &Message, locale: Locale, e: &crate::domain::Error) -> Outgoing {
    let args = e.args();
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    answer(msg, locale, e.locale_key(), &args)
}

fn in_staff_chat(app: AppRef, msg: Message) -> bool {
    msg.chat.id.0 == app.settings.staff_chat_id
}

fn is_group(msg: Message) -> bool {
    msg.chat.is_group() || msg.chat.is_supergroup()
}

/// The ticket message of Butler's that `msg` replies to, if it replies to one.
async fn replied_bot_message(app: AppRef, msg: Message) -> Option<store::BotMessage> {
    let replied = msg.reply_to_message()?;
    let from_a_bot = replied.from.as_ref().is_some_and(|u| u.is_bot);
    app.bot_message(msg.chat.id.0, replied.id.0, from_a_bot)
        .await
}

async fn registered_group(app: AppRef, msg: Message) -> Option<Group> {
    if !is_group(msg.clone()) {
        return None;
    }
    match app.store.group(msg.chat.id.0).await {
        Ok(Some(g)) if g.active => Some(g),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(error = %e, "reading the group failed");
            None
        }
    }
}

/// Every path an update can take, in the order tried.
pub fn handler_tree() -> UpdateHandler<BotError> {
    dptree::entry()
        // Membership changes and supergroup migrations.
        .branch(life::branch())
        .branch(
            Update::filter_message()
                .filter_async(life::heard_from)
                // Anonymous admins and channels cannot be told apart: only people count.
                .filter(|msg: Message| msg.from.as_ref().is_some_and(|u| !u.is_bot))
                // First: /register, /unregister, /lang in any group.
                .branch(dptree::filter(is_group).branch(manager::group_branch()))
                .branch(dptree::filter(in_staff_chat).branch(staff::branch()))
                .branch(dptree::filter_map_async(registered_group).branch(owner::branch()))
                .branch(
                    dptree::filter(|msg: Message| msg.chat.is_private()).branch(private::branch()),
                ),
        )
        // An owner corrects their report.
        .branch(
            Update::filter_edited_message()
                .filter_map_async(registered_group)
                .endpoint(owner::edited),
        )
        .branch(Update::filter_callback_query().endpoint(callbacks::press))
}

/// A request that was refused (the user's to read) or failed (ours to log).
#[derive(Debug)]
pub enum OpError {
    Refused(crate::domain::Error),
    Store(store::Error),
}

impl From<crate::domain::Error> for OpError {
    fn from(e: crate::domain::Error) -> Self {
        OpError::Refused(e)
    }
}

impl From<store::Error> for OpError {
    fn from(e: store::Error) -> Self {
        OpError::Store(e)
    }
}

pub type Op<T> = Result<T, OpError>;

impl App {
    /// The language of the owner of `ticket`.
    pub fn owner_locale(&self, ticket: &crate::domain::Ticket) -> Locale {
        ticket.owner_locale.unwrap_or(self.settings.default_locale)
    }

    /// An edit of the ticket's staff card to its current state.
    pub fn card_edit(&self, ticket: &crate::domain::Ticket) -> Outgoing {
        let (text, buttons) = render::card(ticket, self.staff_locale(), self.settings.timezone);
        Outgoing::Edit {
            chat_id: self.settings.staff_chat_id,
            target: Target::Latest {
                ticket_id: ticket.id.0,
                kind: store::BotMessageKind::Card,
            },
            text,
            buttons,
        }
    }

    /// A message to the owner group, under the owner's report.
    pub fn to_owner(
        &self,
        ticket: &crate::domain::Ticket,
        key: &str,
        args: &[(&str, &str)],
    ) -> Outgoing {
        Outgoing::Text {
            chat_id: ticket.group_chat_id,
            text: i18n::t(self.owner_locale(ticket), key, args),
            reply_to: ticket.report_in_group().map(Target::Message),
            buttons: None,
            remember: None,
        }
    }

    /// A message to the staff chat, under the ticket's card.
    pub fn to_card(&self, ticket_id: crate::domain::TicketId, text: String) -> Outgoing {
        Outgoing::Text {
            chat_id: self.settings.staff_chat_id,
            text,
            reply_to: Some(Target::Latest {
                ticket_id: ticket_id.0,
                kind: store::BotMessageKind::Card,
            }),
            buttons: None,
            remember: None,
        }
    }

    /// Reads a ticket inside a change, or refuses with "unknown ticket".
    pub async fn ticket_in(
        &self,
        tx: &mut store::Tx<'_>,
        id: crate::domain::TicketId,
    ) -> Op<crate::domain::Ticket> {
        tx.ticket(id)
            .await?
            .ok_or(OpError::Refused(crate::domain::Error::UnknownTicket(id.0)))
    }

    /// Ends a change: commits and sends on success; when refused, drops it and answers
    /// `msg` with the reason instead.
    pub async fn conclude(
        &self,
        bot: &Bot,
        msg: &Message,
        locale: Locale,
        tx: store::Tx<'_>,
        result: Op<()>,
    ) -> HandlerResult {
        match result {
            Ok(()) => self.commit(bot, tx).await,
            Err(OpError::Refused(e)) => {
                drop(tx);
                self.send(bot, vec![refusal(msg, locale, &e)]).await
            }
            Err(OpError::Store(e)) => Err(e.into()),
        }
    }
}
