//! Button presses. The data names what the button does (`take:42`, `rate:42:1:5`,
//! `notice:7:send`); the message it sits under must be the one Butler put it on, or the
//! press is refused as stale or forged.

use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, MaybeInaccessibleMessage, Message};

use super::{App, AppRef, HandlerResult, Op, OpError, staff};
use crate::domain::{CardAction, Error, Score, TicketId, TicketStatus};
use crate::i18n::{Locale, t};
use crate::outbox::{Outgoing, Remember, Target};
use crate::store::{BotMessageKind, Who};

/// The kind of message a button belongs under, and the ticket / round / follow-up it must
/// name; `None` for a notice's buttons, which are checked against the notice.
fn expected(action: &CardAction) -> Option<(BotMessageKind, Option<i64>, Option<i64>)> {
    Some(match *action {
        CardAction::Take(t) | CardAction::Done(t) => (BotMessageKind::Card, Some(t.0), None),
        CardAction::Rate { ticket, round, .. } | CardAction::NotFixed { ticket, round } => {
            (BotMessageKind::Rating, Some(ticket.0), Some(round))
        }
        CardAction::Rerate { follow_up } => (BotMessageKind::FollowUp, None, Some(follow_up)),
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
    let staff_locale = app.staff_locale();
    let user_locale = app.user_locale(Some(&q.from));
    let Some(action) = q.data.as_deref().and_then(CardAction::parse) else {
        return toast(&bot, &q, t(user_locale, "error.unknown_button", &[]), true).await;
    };
    let Some(MaybeInaccessibleMessage::Regular(msg)) = q.message.clone() else {
        return toast(&bot, &q, t(user_locale, "error.stale_button", &[]), true).await;
    };
    let msg: Message = *msg;
    let Some((kind, ticket, reference)) = expected(&action) else {
        if let CardAction::Notice { id, send } = action {
            return super::announce::press_notice(&bot, &app, &q, &msg, id, send).await;
        }
        return Ok(());
    };
    let from_a_bot = msg.from.as_ref().is_some_and(|u| u.is_bot);
    let known = app.bot_message(msg.chat.id.0, msg.id.0, from_a_bot).await;
    let genuine = known.as_ref().is_some_and(|b| {
        b.kind == kind
            && ticket.is_none_or(|t| t == b.ticket_id.0)
            && reference.is_none_or(|r| Some(r) == b.ref_id)
    }) && (kind != BotMessageKind::Card && kind != BotMessageKind::FollowUp
        || msg.chat.id.0 == app.settings.staff_chat_id);
    if !genuine {
        return toast(&bot, &q, t(user_locale, "error.stale_button", &[]), true).await;
    }
    let actor = app.actor(&q.from);
    let locale = match action {
        CardAction::Take(_)
        | CardAction::Done(_)
        | CardAction::Rerate { .. }
        | CardAction::Notice { .. } => staff_locale,
        _ => {
            let ticket = app
                .store
                .ticket(TicketId(known.as_ref().map_or(0, |b| b.ticket_id.0)))
                .await?;
            ticket.map_or(user_locale, |tk| app.owner_locale(&tk))
        }
    };
    let mut tx = app.store.begin().await?;
    let result: Op<String> = match action {
        CardAction::Take(id) => staff::take(&app, &mut tx, id, &actor)
            .await
            .map(|_| t(locale, "toast.taken", &[("id", &id.to_string())])),
        CardAction::Done(id) => staff::finish(&app, &mut tx, id, &actor, None, None)
            .await
            .map(|_| t(locale, "toast.done", &[("id", &id.to_string())])),
        CardAction::Rate {
            ticket,
            round,
            score,
        } => rate(&app, &mut tx, &msg, ticket, round, score, &actor).await,
        CardAction::NotFixed { ticket, round } => {
            not_fixed(&app, &mut tx, &msg, ticket, round, &actor).await
        }
        CardAction::Rerate { follow_up } => rerate(&app, &mut tx, follow_up, &actor).await,
        CardAction::Notice { .. } => return Ok(()),
    };
    match result {
        Ok(text) => {
            app.commit(&bot, tx).await?;
            toast(&bot, &q, text, false).await
        }
        Err(OpError::Refused(e)) => {
            drop(tx);
            let args = e.args();
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            toast(&bot, &q, t(locale, e.locale_key(), &args), true).await
        }
        Err(OpError::Store(e)) => Err(e.into()),
    }
}

async fn rate(
    app: &App,
    tx: &mut crate::store::Tx<'_>,
    question: &Message,
    id: TicketId,
    round: i64,
    score: u8,
    actor: &crate::domain::Actor,
) -> Op<String> {
    let ticket = app.ticket_in(tx, id).await?;
    ticket.rate(actor.id, round)?;
    if tx.rating_expired(id, round).await? {
        return Err(Error::RatingClosed.into());
    }
    let score = Score::try_from(score)?;
    let now = app.now();
    if !tx
        .insert_rating(id, round, actor.id, score.get(), now)
        .await?
    {
        return Err(Error::RatingNotOpen.into());
    }
    tx.set_status(id, TicketStatus::Rated, now).await?;
    let who = Who {
        id: actor.id,
        name: &actor.name,
    };
    tx.add_event(id, "rated", &who, Some(&score.get().to_string()), now)
        .await?;
    let fresh = app.ticket_in(tx, id).await?;
    let locale = app.owner_locale(&fresh);
    let id_s = id.to_string();
    let mut out = vec![
        Outgoing::Edit {
            chat_id: question.chat.id.0,
            target: Target::Message(question.id.0),
            text: t(
                locale,
                "rating.thanks",
                &[
                    ("id", &id_s),
                    ("stars", &super::render::stars(score.get())),
                    ("score", &score.get().to_string()),
                ],
            ),
            buttons: None,
        },
        app.card_edit(&fresh),
    ];
    if score.is_low(app.settings.rating.low_score)
        && let Some(fu) = tx.open_follow_up(id, "low_score", round, now).await?
    {
        out.push(Outgoing::Text {
            chat_id: fresh.group_chat_id,
            text: t(locale, "low_score.question", &[("id", &id_s)]),
            reply_to: fresh.report_in_group().map(Target::Message),
            buttons: None,
            remember: Some(Remember {
                ticket_id: id.0,
                kind: BotMessageKind::LowScoreQuestion,
                ref_id: None,
            }),
        });
        out.push(Outgoing::Text {
            chat_id: app.settings.staff_chat_id,
            text: staff::follow_up_text(&fresh, fu, app.staff_locale(), None),
            reply_to: Some(Target::Latest {
                ticket_id: id.0,
                kind: BotMessageKind::Card,
            }),
            buttons: None,
            remember: Some(Remember {
                ticket_id: id.0,
                kind: BotMessageKind::FollowUp,
                ref_id: Some(fu),
            }),
        });
    }
    tx.enqueue_all(&out, now).await?;
    Ok(t(locale, "toast.rated", &[]))
}

async fn not_fixed(
    app: &App,
    tx: &mut crate::store::Tx<'_>,
    question: &Message,
    id: TicketId,
    round: i64,
    actor: &crate::domain::Actor,
) -> Op<String> {
    let ticket = app.ticket_in(tx, id).await?;
    ticket.rate(actor.id, round)?;
    if tx.rating_expired(id, round).await? {
        return Err(Error::RatingClosed.into());
    }
    if ticket.status != TicketStatus::Done {
        return Err(Error::RatingNotOpen.into());
    }
    let fresh = staff::reopen(app, tx, id, actor, Some("owner: not fixed"), true).await?;
    let locale = app.owner_locale(&fresh);
    let edit = Outgoing::Edit {
        chat_id: question.chat.id.0,
        target: Target::Message(question.id.0),
        text: t(locale, "rating.not_fixed", &[("id", &id.to_string())]),
        buttons: None,
    };
    tx.enqueue(&edit, app.now()).await?;
    Ok(t(locale, "toast.reopened", &[]))
}

async fn rerate(
    app: &App,
    tx: &mut crate::store::Tx<'_>,
    follow_up: i64,
    actor: &crate::domain::Actor,
) -> Op<String> {
    let locale: Locale = app.staff_locale();
    if !actor.is_manager {
        return Err(Error::ManagersOnly.into());
    }
    let fu = app
        .store
        .follow_up(follow_up)
        .await?
        .ok_or(Error::RatingNotOpen)?;
    let ticket = app.ticket_in(tx, fu.ticket_id).await?;
    if !fu.closed || ticket.status != TicketStatus::Rated || ticket.rating_round != fu.round {
        return Err(Error::RatingNotOpen.into());
    }
    let now = app.now();
    let round = tx.next_rating_round(ticket.id).await?;
    let who = Who {
        id: actor.id,
        name: &actor.name,
    };
    tx.add_event(ticket.id, "rerate_asked", &who, None, now)
        .await?;
    let fresh = app.ticket_in(tx, ticket.id).await?;
    let out = vec![
        staff::rating_question(app, &fresh, round),
        Outgoing::Edit {
            chat_id: app.settings.staff_chat_id,
            target: Target::FollowUp { id: fu.id },
            text: format!(
                "{}\n{}",
                staff::follow_up_text(&ticket, fu.id, locale, None)
                    .lines()
                    .next()
                    .unwrap_or(""),
                t(locale, "follow_up.rerate_asked", &[("by", &actor.name)])
            ),
            buttons: None,
        },
    ];
    tx.enqueue_all(&out, now).await?;
    Ok(t(locale, "toast.rerate_asked", &[]))
}
