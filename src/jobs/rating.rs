//! Rating reminders, every ten minutes. A finished ticket whose owner has not answered
//! the rating question gets one reminder, under the question, `rating.reminder_hours`
//! after it was asked. After `rating.expire_hours` the question closes: it is edited to
//! say so (its buttons go), a late press is refused, a `rating_expired` event is written,
//! and an "unrated" follow-up (回访) opens, with its card in the staff chat.
//!
//! The ticket keeps status `done`: it is closed for the staff, and unrated is told apart
//! from rated by the missing rating and the expiry record, not by a status of its own.

use chrono::{DateTime, Duration, Utc};

use crate::app::App;
use crate::i18n::{self, t};
use crate::messages;
use crate::outbox::{Outgoing, Target};
use crate::store::{self, AlertKind, BotMessageKind};
use crate::tickets;

/// Closes the questions past `rating.expire_hours`, then reminds those past
/// `rating.reminder_hours`, each once. Returns how many messages it wrote.
pub async fn sweep(app: &App, now: DateTime<Utc>) -> Result<usize, store::Error> {
    let rating = app.settings.rating;
    let mut tx = app.store.begin().await?;
    let mut written = 0;
    let expire_cutoff = now - Duration::hours(rating.expire_hours.into());
    for unrated in tx
        .unrated_since(expire_cutoff, AlertKind::RatingExpired)
        .await?
    {
        written += tickets::expire_rating(&mut tx, &app.settings, &unrated, now).await?;
    }

    let mut out = Vec::new();
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
        let locale = messages::owner_locale(&app.settings, ticket);
        out.push(Outgoing::Text {
            chat_id: ticket.group_chat_id,
            text: t(
                locale,
                "rating.reminder",
                &[
                    ("id", &ticket.id.to_string()),
                    (
                        "hours",
                        &i18n::duration(locale, Duration::hours(hours_left)),
                    ),
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

    tx.enqueue_bulk(&out, now).await?;
    tx.commit().await?;
    Ok(written + out.len())
}
