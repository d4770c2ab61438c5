//! A ticket's deadlines, worked out once from the SLA policy of its kind and urgency
//! (over the business-hours calendar for B and C repairs) and kept on the ticket: at the
//! report, when the urgency changes, and the first update's at each take. Also the
//! promise the owner's confirmation makes from them, in the owner's words.

use chrono::{DateTime, Duration, Utc};

use super::{Result, fetch};
use crate::config::Settings;
use crate::domain::sla::{dues_at_report, first_update_due};
use crate::domain::{Kind, Ticket, TicketId};
use crate::i18n::{self, Locale, t};
use crate::store::Tx;

/// Sets the report's deadlines of `ticket` (take and resolve of a repair, first
/// response and reply of a complaint) from its report time, kind and urgency; returns
/// the ticket as it now is.
pub(super) async fn set_report_dues(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
) -> Result<Ticket> {
    let dues = dues_at_report(
        ticket.kind,
        ticket.urgency,
        ticket.created_at,
        settings.sla.repair_clocks(ticket.urgency),
        settings.sla.complaint_clocks(),
        settings.calendar(),
    );
    tx.set_dues(ticket.id, &dues).await?;
    fetch(tx, ticket.id).await
}

/// Ticket `id` was just taken (or given to someone) at `now`: its first update is due.
pub(super) async fn set_taken_due(
    tx: &mut Tx<'_>,
    settings: &Settings,
    id: TicketId,
    now: DateTime<Utc>,
) -> Result<()> {
    let ticket = fetch(tx, id).await?;
    let due = first_update_due(
        ticket.urgency,
        now,
        settings.sla.repair_clocks(ticket.urgency),
        settings.calendar(),
    );
    tx.set_first_update_due(id, due).await?;
    Ok(())
}

/// What the confirmation promises: a repair, "Staff will take it within 10 minutes", or
/// when business hours put the take time off, "… by 09:00 tomorrow (business hours)";
/// a complaint, how soon a manager answers.
pub fn promise(settings: &Settings, ticket: &Ticket, locale: Locale) -> String {
    match ticket.kind {
        Kind::Complaint => i18n::duration(locale, settings.sla.complaint_clocks().first_response),
        _ => {
            let take = settings.sla.repair_clocks(ticket.urgency).take;
            let within = || {
                t(
                    locale,
                    "promise.take_within",
                    &[("minutes", &i18n::duration(locale, take))],
                )
            };
            match ticket.due.take {
                // Put off by the calendar (a minute's slack for rounding).
                Some(due) if due - ticket.created_at > take + Duration::minutes(1) => t(
                    locale,
                    "promise.take_by",
                    &[("when", &when(settings, ticket.created_at, due, locale))],
                ),
                _ => within(),
            }
        }
    }
}

/// `due` as the owner reads it from `from`: "09:00 today", "09:00 tomorrow", "09:00 on
/// 12-07", in the configured zone.
fn when(settings: &Settings, from: DateTime<Utc>, due: DateTime<Utc>, locale: Locale) -> String {
    let zone = settings.timezone;
    let (from, due) = (from.with_timezone(&zone), due.with_timezone(&zone));
    let time = due.format("%H:%M").to_string();
    let days = (due.date_naive() - from.date_naive()).num_days();
    match days {
        0 => t(locale, "promise.today", &[("time", &time)]),
        1 => t(locale, "promise.tomorrow", &[("time", &time)]),
        _ => t(
            locale,
            "promise.later",
            &[("time", &time), ("date", &due.format("%m-%d").to_string())],
        ),
    }
}
