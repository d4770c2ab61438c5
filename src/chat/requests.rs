//! Complaints and suggestions on the managers' side: a manager's reply to a request card
//! (privately, or in the complaints chat) answers the owner; the card's Close button is
//! in `callbacks`. The owners' `/complain` and `/suggest` are in `owner`.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Message;

use super::{AppRef, BotError, HandlerResult, change, origin, photo_of, text_of};
use crate::domain::Kind;
use crate::i18n::Locale;
use crate::store::{BotMessage, BotMessageKind};
use crate::tickets;

/// The usage to answer `/complain` or `/suggest` with when it says nothing (no text, no
/// photo); `None` when there is something to report.
pub fn usage(kind: Kind, text: &str, has_photo: bool) -> Option<&'static str> {
    if !text.trim().is_empty() || has_photo {
        return None;
    }
    match kind {
        Kind::Repair => None,
        Kind::Complaint => Some("usage.complain"),
        Kind::Suggestion => Some("usage.suggest"),
    }
}

/// Whether `msg` is in the complaints chat (when one is set).
pub fn in_complaints_chat(app: AppRef, msg: Message) -> bool {
    app.settings.complaints_chat_id != 0 && msg.chat.id.0 == app.settings.complaints_chat_id
}

/// The complaints chat: replies to request cards answer the owner; everything else there
/// is the managers' own talk and left alone.
pub fn complaints_chat_branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .map(|app: AppRef| app.staff_locale())
        .branch(dptree::filter_map_async(request_replied).endpoint(reply))
}

/// The request card `msg` replies to, if it replies to one.
pub async fn request_replied(app: AppRef, msg: Message) -> Option<BotMessage> {
    super::replied_bot_message(app, msg)
        .await
        .filter(|bm| bm.kind == BotMessageKind::RequestCard)
}

/// A manager's reply to a request card: relayed to the owner (see
/// [`tickets::answer_request`]); anyone else is refused.
pub async fn reply(
    bot: Bot,
    app: AppRef,
    msg: Message,
    target: BotMessage,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let manager = app.actor(&user);
    let now = app.now();
    let req = tickets::Answer {
        id: target.ticket_id,
        origin: origin(&msg, locale),
        text: text_of(&msg),
        photo: photo_of(&msg),
    };
    change!(app, &bot, &msg, locale, |tx| {
        tickets::answer_request(tx, &app.settings, &manager, req, now).await?;
        Ok(())
    })
}
