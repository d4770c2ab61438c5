//! The chat layer: every path a Telegram update can take ([`handler_tree`]), one module
//! per audience, and the rendering of what Butler says.
//!
//! Handlers parse the update into a request of plain values, call the use case in
//! `tickets` (or, for what is not a ticket change, the store) inside one `store::Tx`,
//! commit, flush the outbox, and answer: a refusal under the message, a toast for a
//! button. The rules and the messages a change causes live below, in `tickets`.

pub mod announce;
pub mod callbacks;
pub mod command_table;
pub mod commands;
pub mod dispatch;
pub mod life;
pub mod lookup;
pub mod manager;
pub mod owner;
pub mod private;
pub mod requests;
pub mod staff;
pub mod stats;

use std::sync::Arc;

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Message;

pub use crate::app::{App, AppRef, BotError, HandlerResult, display_name};
use crate::i18n::{self, Locale};
use crate::limiter::Gate;
use crate::outbox::Outgoing;
use crate::store::{self, Group};
use crate::tickets;

/// Runs `body` (a `tickets::Result<()>` block using `tx`) in a transaction, then
/// [`conclude`]s it. A block rather than a closure, so the handler's future stays `Send`
/// as the dispatcher requires.
macro_rules! change {
    ($app:expr, $bot:expr, $msg:expr, $locale:expr, |$tx:ident| $body:block) => {{
        let mut tx_ = $app.store.begin().await?;
        let result: $crate::tickets::Result<()> = async {
            let $tx = &mut tx_;
            $body
        }
        .await;
        $crate::chat::conclude(&$app, $bot, $msg, $locale, tx_, result).await
    }};
}
pub(crate) use change;

/// A localized answer under `msg`.
pub fn answer(msg: &Message, locale: Locale, key: &str, args: &[(&str, &str)]) -> Outgoing {
    reply_text(msg, i18n::t(locale, key, args))
}

/// `text` under `msg`.
pub fn reply_text(msg: &Message, text: String) -> Outgoing {
    crate::messages::reply(msg.chat.id.0, msg.id.0, text)
}

/// The localized answer to a refused request.
pub fn refusal(msg: &Message, locale: Locale, e: &crate::domain::Error) -> Outgoing {
    reply_text(msg, refusal_text(locale, e))
}

/// What a refusal says, in `locale`.
fn refusal_text(locale: Locale, e: &crate::domain::Error) -> String {
    let mut args = e.args();
    if matches!(e, crate::domain::Error::UnknownCategory(_)) {
        // The names to choose from, in the reader's language (the domain knows only codes).
        args.push(("categories", i18n::category_list(locale)));
    }
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    i18n::t(locale, e.locale_key(), &args)
}

/// `text` under `msg`, unless its sender was told the same in this chat within
/// `limits.repeat_minutes` (then nothing): for a refusal, a usage line, help, a list
/// asked for again. See [`crate::limiter`].
pub async fn say_once(app: &App, bot: &Bot, msg: &Message, text: String) -> HandlerResult {
    let user = msg.from.as_ref().map_or(0, |u| u.id.0);
    if !app.may_answer(Gate::repeat(msg.chat.id.0, user, &text)) {
        tracing::debug!(
            chat = msg.chat.id.0,
            user,
            "said the same lately: not again"
        );
        return Ok(());
    }
    app.send(bot, vec![reply_text(msg, text)]).await
}

/// The localized answer `key` under `msg`, through [`say_once`].
pub async fn answer_once(
    app: &App,
    bot: &Bot,
    msg: &Message,
    locale: Locale,
    key: &str,
    args: &[(&str, &str)],
) -> HandlerResult {
    say_once(app, bot, msg, i18n::t(locale, key, args)).await
}

/// The answer to a refused request, through [`say_once`].
pub async fn refuse(
    app: &App,
    bot: &Bot,
    msg: &Message,
    locale: Locale,
    e: &crate::domain::Error,
) -> HandlerResult {
    say_once(app, bot, msg, refusal_text(locale, e)).await
}

/// A hint under `msg` (what to write instead), at most once per `limits.hint_minutes`
/// to one person in one chat, whatever the hint.
pub async fn hint(
    app: &App,
    bot: &Bot,
    msg: &Message,
    locale: Locale,
    key: &str,
    args: &[(&str, &str)],
) -> HandlerResult {
    let (chat, user) = (msg.chat.id.0, msg.from.as_ref().map_or(0, |u| u.id.0));
    if !app.may_answer(Gate::Hint { chat, user }) {
        tracing::debug!(chat, user, "hinted lately: not again");
        return Ok(());
    }
    app.send(bot, vec![answer(msg, locale, key, args)]).await
}

/// The main staff chat or a route's.
fn in_staff_chat(app: AppRef, msg: Message) -> bool {
    app.settings.is_staff_chat(msg.chat.id.0)
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

/// A store read that failed in a filter of the tree. The update fails with it (and is
/// handled again after a passing fault, see `inbox::track`) instead of passing the
/// branch by as if it did not apply: an owner's report is not taken for chatter in a
/// group Butler does not serve.
#[derive(Debug, Clone)]
pub struct Fault(pub Arc<store::Error>);

/// A group message's owner group, if the chat is one, or the fault that hid it.
type GroupLookup = Result<Group, Fault>;

async fn registered_group(app: AppRef, msg: Message) -> Option<GroupLookup> {
    if !is_group(msg.clone()) {
        return None;
    }
    match app.store.group(msg.chat.id.0).await {
        Ok(Some(g)) if g.active => Some(Ok(g)),
        Ok(_) => None,
        Err(e) => Some(Err(Fault(Arc::new(e)))),
    }
}

/// `branch`, for messages in a registered owner group (given the `Group`); a message
/// whose group could not be read fails with the [`Fault`].
fn in_owner_group(branch: UpdateHandler<BotError>) -> UpdateHandler<BotError> {
    dptree::filter_map_async(registered_group)
        .branch(
            dptree::filter_map(|found: GroupLookup| found.err())
                .endpoint(|fault: Fault| async move { Err(BotError::Lookup(fault.0)) }),
        )
        .branch(dptree::filter_map(|found: GroupLookup| found.ok()).branch(branch))
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
                .branch(
                    dptree::filter(requests::in_complaints_chat)
                        .branch(requests::complaints_chat_branch()),
                )
                .branch(in_owner_group(owner::branch()))
                .branch(
                    dptree::filter(|msg: Message| msg.chat.is_private()).branch(private::branch()),
                ),
        )
        // An owner corrects their report.
        .branch(
            Update::filter_edited_message().chain(in_owner_group(dptree::endpoint(owner::edited))),
        )
        .branch(Update::filter_callback_query().endpoint(callbacks::press))
}

/// Ends a change: commits and sends on success; when refused, drops it and answers `msg`
/// with the reason instead.
pub async fn conclude(
    app: &App,
    bot: &Bot,
    msg: &Message,
    locale: Locale,
    tx: store::Tx<'_>,
    result: tickets::Result<()>,
) -> HandlerResult {
    match result {
        Ok(()) => app.commit(bot, tx).await,
        Err(tickets::Error::Refused(e)) => {
            drop(tx);
            refuse(app, bot, msg, locale, &e).await
        }
        Err(tickets::Error::Store(e)) => Err(e.into()),
    }
}

/// Where a request in `msg` came from, answered in `locale`.
pub fn origin(msg: &Message, locale: Locale) -> tickets::Origin {
    tickets::Origin {
        chat_id: msg.chat.id.0,
        message_id: msg.id.0,
        locale,
    }
}

/// The text or caption of `msg`, trimmed, if not empty.
pub fn text_of(msg: &Message) -> Option<String> {
    msg.text()
        .or(msg.caption())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The photo of `msg`, its largest size, as Telegram sends several.
pub fn photo_of(msg: &Message) -> Option<tickets::Photo> {
    let file_id = msg
        .photo()?
        .iter()
        .max_by_key(|p| p.width * p.height)?
        .file
        .id
        .to_string();
    Some(tickets::Photo {
        file_id,
        source: (msg.chat.id.0, msg.id.0),
        media_group: msg.media_group_id().map(|m| m.to_string()),
    })
}
