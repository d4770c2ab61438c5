//! Rating reminders, every ten minutes. A finished ticket whose owner has not answered
//! the rating question gets one reminder, under the question, `rating.reminder_hours`
//! after it was asked. After `rating.expire_hours` the question closes: it is edited to
//! say so (its buttons go), a late press is refused, a `rating_expired` event is written,
//! and an "unrated" follow-up (回访) opens, with its card in the staff chat.
//!
//! The ticket keeps status `done`: it is closed for the staff, and unrated is told apart
//! from rated by the missing rating and the expiry record, not by a status of its own.

use chrono::{DateTime, Duration, Utc};

use crate::chat::{App, staff};
use crate::domain::{Actor, EventKind};
use crate::i18n::t;
use crate::outbox::{Outgoing, Remember, Target};
use crate::store::{self, AlertKind, BotMessageKind};

/// Closes the questions past `rating.expire_hours`, then reminds those past
/// `rating.reminder_hours`, each once. Returns how many messages it wrote.
pub async fn sweep(app: &App, now: DateTime<Utc>) -> Result<usize, store::Error> {
    let rating = app.settings.rating;
    let mut tx = app.store.begin().await?;
    let mut out = Vec::new();

    let expire_cutoff = now - Duration::hours(rating.expire_hours.into());
    for unrated in tx
        .unrated_since(expire_cutoff, AlertKind::RatingExpired)
        .await?
    {
        let ticket = &unrated.ticket;
        if !tx
            .record_alert(ticket.id, AlertKind::RatingExpired, unrated.round, now)
            .await?
        {
            continue;
        }
        let round = unrated.round.to_string();
        tx.add_event(
            ticket.id,
            EventKind::RatingExpired,
            &Actor::butler(),
            Some(&round),
            now,
        )
        .await?;
        let locale = app.owner_locale(ticket);
        out.push(Outgoing::Edit {
            chat_id: ticket.group_chat_id,
            target: Target::Latest {
                ticket_id: ticket.id.0,
                kind: BotMessageKind::Rating,
            },
            text: t(locale, "rating.closed", &[("id", &ticket.id.to_string())]),
            buttons: None,
        });
        if let Some(fu) = tx
            .open_follow_up(ticket.id, "unrated", unrated.round, now)
            .await?
        {
            out.push(Outgoing::Text {
                chat_id: app.settings.staff_chat_id,
                text: staff::follow_up_text(ticket, fu, app.staff_locale(), None),
                reply_to: Some(Target::Latest {
                    ticket_id: ticket.id.0,
                    kind: BotMessageKind::Card,
                }),
                buttons: None,
                remember: Some(Remember {
                    ticket_id: ticket.id.0,
                    kind: BotMessageKind::FollowUp,
                    ref_id: Some(fu),
                }),
            });
        }
    }

    let remind_cutoff = now - Duration::hours(rating.reminder_hours.into());
    for unrated in tx
        .unrated_since(remind_cutoff, AlertKind::RatingReminder)
        .await?
    {
        let ticket = &unrated.ticket;
        if !tx
            .record_alert(ticket.id, AlertKind::RatingReminder, unrated.round, now)
            .await?
        {
            continue;
        }
        let closes_at = unrated.asked_at + Duration::hours(rating.expire_hours.into());
        let hours_left = (closes_at - now).num_hours().max(1);
        out.push(Outgoing::Text {
            chat_id: ticket.group_chat_id,
            text: t(
                app.owner_locale(ticket),
                "rating.reminder",
                &[
                    ("id", &ticket.id.to_string()),
                    ("hours", &hours_left.to_string()),
                ],
            ),
            reply_to: Some(Target::Latest {
                ticket_id: ticket.id.0,
                kind: BotMessageKind::Rating,
            }),
            buttons: None,
            remember: None,
        });
    }

    tx.enqueue_all(&out, now).await?;
    tx.commit().await?;
    Ok(out.len())
}
