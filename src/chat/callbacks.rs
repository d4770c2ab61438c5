//! Button presses. The data names what the button does (`take:42`, `rate:42:1:5`,
//! `notice:7:send`); the message it sits under must be the one Butler put it on, or the
//! press is refused as stale or forged.

use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, MaybeInaccessibleMessage, Message};

use super::{App, AppRef, HandlerResult};
use crate::domain::{Actor, CardAction};
use crate::i18n::{Locale, t};
use crate::messages;
use crate::store::{BotMessage, BotMessageKind, Tx};
use crate::tickets;

/// The kind of message a button belongs under, and the ticket / round / follow-up it must
/// name; `None` for a notice's buttons, which are checked against the notice.
fn expected(action: &CardAction) -> Option<(BotMessageKind, Option<i64>, Option<i64>)> {
    Some(match *action {
        CardAction::Take(t) | CardAction::Done(t) => (BotMessageKind::Card, Some(t.0), None),
        CardAction::Close(t) => (BotMessageKind::RequestCard, Some(t.0), None),
        CardAction::Rate { ticket, round, .. } | CardAction::NotFixed { ticket, round } => {
            (BotMessageKind::Rating, Some(ticket.0), Some(round))
        }
        CardAction::Rerate { follow_up } | CardAction::TellOwner { follow_up } => {
            (BotMessageKind::FollowUp, None, Some(follow_up))
        }
        CardAction::Assign(t) => (BotMessageKind::Card, Some(t.0), None),
        CardAction::AssignTo { ticket, .. } => (BotMessageKind::AssignMenu, Some(ticket.0), None),
        CardAction::Photos(t) => (BotMessageKind::Story, Some(t.0), None),
        CardAction::Cancel(t) | CardAction::Hurry(t) => {
            (BotMessageKind::Confirmation, Some(t.0), None)
        }
        CardAction::Notice { .. } => return None,
    })
}

/// Answers the press with a short toast, or an alert when refused.
pub(super) async fn toast(
    bot: &Bot,
    q: &CallbackQuery,
    text: String,
    alert: bool,
) -> HandlerResult {
    // Answers are not messages: they go straight back, and Telegram allows 200 characters
    // (UTF-16 units).
    let text = crate::domain::text::fit_utf16(&text, 200);
    if let Err(e) = bot
        .answer_callback_query(q.id.clone())
        .text(text)
        .show_alert(alert)
        .await
    {
        // An old query (over ~15 s) cannot be answered any more; the change still stands.
        tracing::warn!(error = %e, "answering a button press failed");
    }
    Ok(())
}

pub async fn press(bot: Bot, app: AppRef, q: CallbackQuery) -> HandlerResult {
    let user_locale = app.user_locale(Some(&q.from));
    let Some(action) = q.data.as_deref().and_then(CardAction::parse) else {
        return toast(&bot, &q, t(user_locale, "error.unknown_button", &[]), true).await;
    };
    let Some(MaybeInaccessibleMessage::Regular(msg)) = q.message.clone() else {
        return toast(&bot, &q, t(user_locale, "error.stale_button", &[]), true).await;
    };
    let msg: Message = *msg;
    if let CardAction::Notice { id, send } = action {
        return super::announce::press_notice(&bot, &app, &q, &msg, id, send).await;
    }
    let Some(known) = genuine(&app, &msg, &action).await else {
        return toast(&bot, &q, t(user_locale, "error.stale_button", &[]), true).await;
    };
    let actor = app.actor(&q.from);
    let staff_only = matches!(
        action,
        CardAction::Take(_)
            | CardAction::Done(_)
            | CardAction::Rerate { .. }
            | CardAction::TellOwner { .. }
            | CardAction::Assign(_)
            | CardAction::AssignTo { .. }
            | CardAction::Photos(_)
    );
    if staff_only && !app.is_member_of(&bot, msg.chat.id.0, actor.id).await {
        tracing::info!(user = actor.id, "press refused: not on the staff");
        let refusal = crate::domain::Error::NotStaff;
        return toast(
            &bot,
            &q,
            t(app.staff_locale(), refusal.locale_key(), &[]),
            true,
        )
        .await;
    }
    if staff_only && app.settings.is_staff_chat(msg.chat.id.0) {
        super::dispatch::seen(&app, &q.from, msg.chat.id.0).await;
    }
    if matches!(action, CardAction::Assign(_) | CardAction::AssignTo { .. }) {
        return super::dispatch::press(&bot, &app, &q, &msg, action).await;
    }
    let locale = match action {
        CardAction::Take(_)
        | CardAction::Done(_)
        | CardAction::Rerate { .. }
        | CardAction::TellOwner { .. }
        | CardAction::Notice { .. } => app.staff_locale(),
        // The card is in the manager's language privately, the office's in a group.
        CardAction::Close(_) if msg.chat.is_private() => user_locale,
        CardAction::Close(_) => app.staff_locale(),
        // A story may be read privately: in the reader's language there.
        CardAction::Photos(_) if msg.chat.is_private() => user_locale,
        CardAction::Photos(_) => app.staff_locale(),
        _ => {
            let ticket = app.store.ticket(known.ticket_id).await?;
            ticket.map_or(user_locale, |tk| messages::owner_locale(&app.settings, &tk))
        }
    };
    let mut tx = app.store.begin().await?;
    match act(&mut tx, &app, &actor, action, &msg, locale).await {
        Ok(text) => {
            app.commit(&bot, tx).await?;
            toast(&bot, &q, text, false).await
        }
        Err(tickets::Error::Refused(e)) => {
            drop(tx);
            let args = e.args();
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            toast(&bot, &q, t(locale, e.locale_key(), &args), true).await
        }
        Err(tickets::Error::Store(e)) => Err(e.into()),
    }
}

/// The record of the message a ticket button sits under, if it is the message Butler put
/// this button on (a card's or a follow-up's only in the staff chat).
pub(super) async fn genuine(app: &App, msg: &Message, action: &CardAction) -> Option<BotMessage> {
    let (kind, ticket, reference) = expected(action)?;
    let from_a_bot = msg.from.as_ref().is_some_and(|u| u.is_bot);
    let known = app.bot_message(msg.chat.id.0, msg.id.0, from_a_bot).await?;
    let matches = known.kind == kind
        && ticket.is_none_or(|t| t == known.ticket_id.0)
        && reference.is_none_or(|r| Some(r) == known.ref_id);
    let in_place = !matches!(
        kind,
        BotMessageKind::Card | BotMessageKind::FollowUp | BotMessageKind::AssignMenu
    ) || app.settings.is_staff_chat(msg.chat.id.0);
    (matches && in_place).then_some(known)
}

/// Does what a ticket button asks in `tx`; the toast to answer with when it is done.
async fn act(
    tx: &mut Tx<'_>,
    app: &App,
    actor: &Actor,
    action: CardAction,
    question: &Message,
    locale: Locale,
) -> tickets::Result<String> {
    let now = app.now();
    let settings = &app.settings;
    let card = question.text().unwrap_or_default();
    let question = (question.chat.id.0, question.id.0);
    Ok(match action {
        CardAction::Take(id) => {
            tickets::check_place(tx, settings, actor, id, question.0).await?;
            tickets::take(tx, settings, actor, id, now).await?;
            t(locale, "toast.taken", &[("id", &id.to_string())])
        }
        CardAction::Done(id) => {
            tickets::check_place(tx, settings, actor, id, question.0).await?;
            let (note, photo) = (None, None);
            let req = tickets::Finish { id, note, photo };
            tickets::finish(tx, settings, actor, req, now).await?;
            t(locale, "toast.done", &[("id", &id.to_string())])
        }
        CardAction::Rate {
            ticket,
            round,
            score,
        } => {
            let req = tickets::Rate {
                ticket,
                round,
                score,
                question,
            };
            tickets::rate(tx, settings, actor, req, now).await?;
            t(locale, "toast.rated", &[])
        }
        CardAction::NotFixed { ticket, round } => {
            tickets::not_fixed(tx, settings, actor, ticket, round, question, now).await?;
            t(locale, "toast.reopened", &[])
        }
        CardAction::Rerate { follow_up } => {
            tickets::rerate(tx, settings, actor, follow_up, now).await?;
            t(locale, "toast.rerate_asked", &[])
        }
        CardAction::Close(id) => {
            tickets::close_request(tx, settings, actor, id, question, locale, now).await?;
            t(locale, "toast.closed", &[("id", &id.to_string())])
        }
        CardAction::Cancel(id) => {
            tickets::cancel(tx, settings, actor, id, None, now).await?;
            t(locale, "toast.cancelled", &[("id", &id.to_string())])
        }
        CardAction::Hurry(id) => {
            tickets::hurry(tx, settings, actor, id, now).await?;
            t(locale, "toast.hurried", &[("id", &id.to_string())])
        }
        CardAction::TellOwner { follow_up } => {
            let key = if tickets::tell_owner(tx, settings, actor, follow_up, card, now).await? {
                "toast.owner_told"
            } else {
                "toast.owner_already_told"
            };
            t(locale, key, &[])
        }
        // Handled before: a notice is not a ticket's, assigning is `dispatch`'s.
        CardAction::Notice { .. } | CardAction::Assign(_) | CardAction::AssignTo { .. } => {
            String::new()
        }
        CardAction::Photos(id) => send_photos(tx, id, question, locale, now).await?,
    })
}

/// The Show photos button: the ticket's photos as albums under the story; the toast.
async fn send_photos(
    tx: &mut Tx<'_>,
    id: crate::domain::TicketId,
    question: (i64, i32),
    locale: Locale,
    now: chrono::DateTime<chrono::Utc>,
) -> tickets::Result<String> {
    let photos = tx.all_photos(id).await?;
    let count = photos.len().to_string();
    let caption = t(locale, "story.photos_caption", &[("id", &id.to_string())]);
    let reply = Some(crate::outbox::Target::Message(question.1));
    let albums = crate::outbox::Outgoing::photos(question.0, &photos, Some(caption), reply, None);
    tx.enqueue_all(&albums, now).await?;
    Ok(t(locale, "story.photos_toast", &[("count", &count)]))
}
