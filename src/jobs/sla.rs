//! SLA watch, every minute. Each ticket's deadlines were set by the SLA policy of its
//! kind and urgency (see `tickets::deadlines`); each alert goes once per ticket:
//!
//! - a repair not taken by its take time → the staff chat, under the ticket's card; an
//!   urgency A ticket's alert then repeats every `sla.urgent_repeat_minutes` until it is
//!   taken (the n-th repetition is recorded as the take alert's round n);
//! - taken but no progress by its first-update time → a reminder to the taker, by name,
//!   in the staff chat under the card;
//! - still open at its resolve time → each manager privately. A manager who has never
//!   written to Butler privately cannot be written to (Telegram's rule), so then the
//!   escalation goes to the staff chat, under the card, as well;
//! - a complaint no manager has answered by its first-response time, and one not closed
//!   by its reply time → where complaints go (the complaints chat, or each manager
//!   privately);
//! - once a take or resolve time (a complaint's first response or reply) has passed, the
//!   owner's confirmation gets its Hurry up button (`tickets::offer_hurry`).
//!
//! Alerts go to the ticket's own staff chat (a route's, or the main one). A paused
//! ticket's clocks stand still: no deadline passes while it is paused, and each is pushed
//! back by the time it spent paused.

use chrono::{DateTime, Duration, Utc};

use crate::app::App;
use crate::domain::pause::paused_after;
use crate::domain::text::shorten;
use crate::domain::{Ticket, Urgency};
use crate::i18n::{self, Locale, t};
use crate::messages::{self, render};
use crate::outbox::Outgoing;
use crate::store::{self, AlertKind, Tx};
use crate::tickets;

/// Looks for deadlines passed at `now` and writes each new alert once. Returns how many
/// messages it wrote.
pub async fn sweep(app: &App, now: DateTime<Utc>) -> Result<usize, store::Error> {
    let mut tx = app.store.begin().await?;
    let mut out = Vec::new();
    not_taken(app, &mut tx, now, &mut out).await?;
    urgent_repeats(app, &mut tx, now, &mut out).await?;
    no_update(app, &mut tx, now, &mut out).await?;
    unresolved(app, &mut tx, now, &mut out).await?;
    complaints(app, &mut tx, now, &mut out).await?;
    let mut hurry = Vec::new();
    for ticket in tx.hurry_candidates(now).await? {
        match tickets::offer_hurry(&mut tx, &app.settings, &ticket, now).await {
            Ok(edit) => hurry.extend(edit),
            Err(tickets::Error::Store(e)) => return Err(e),
            Err(tickets::Error::Refused(_)) => {}
        }
    }
    tx.enqueue_bulk(&out, now).await?;
    // The owner's button is an answer to a person: it goes before the bulk alerts.
    tx.enqueue_all(&hurry, now).await?;
    tx.commit().await?;
    Ok(out.len() + hurry.len())
}

/// A repair not taken by its take time: the staff chat, under the card.
async fn not_taken(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let staff = app.staff_locale();
    for ticket in tx.untaken_past(now).await? {
        if tx.record_alert(ticket.id, AlertKind::Take, 0, now).await? {
            let waited = running(&ticket, now);
            let key = match ticket.urgency {
                Urgency::A => "sla.take_urgent",
                _ => "sla.take",
            };
            let target = app.settings.sla.repair_clocks(ticket.urgency).take;
            out.push(messages::to_card(
                &app.settings,
                &ticket,
                t(
                    staff,
                    key,
                    &[
                        ("id", &ticket.id.to_string()),
                        ("minutes", &i18n::duration(staff, waited)),
                        ("target", &i18n::duration(staff, target)),
                    ],
                ),
            ));
        }
    }
    Ok(())
}

/// An urgency A ticket still not taken: the take alert again every
/// `sla.urgent_repeat_minutes` after its take time, until someone takes it. Each
/// repetition is the take alert's round n (n = whole intervals since the take time),
/// sent once; after a pause (Butler down) only the current one goes out, not every one
/// missed.
async fn urgent_repeats(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let every = i64::from(app.settings.sla.urgent_repeat_minutes.max(1));
    for ticket in tx.urgent_untaken_past(now).await? {
        let Some(due) = ticket.due.take else { continue };
        let late = now - due - ticket.paused_time(now);
        let round = late.num_minutes() / every;
        if round < 1
            || !tx
                .record_alert(ticket.id, AlertKind::Take, round, now)
                .await?
        {
            continue;
        }
        let staff = app.staff_locale();
        let waited = i18n::duration(staff, running(&ticket, now));
        let text = t(
            staff,
            "sla.take_urgent",
            &[("id", &ticket.id.to_string()), ("minutes", &waited)],
        );
        out.push(messages::to_card(&app.settings, &ticket, text));
    }
    Ok(())
}

/// Taken but no progress by the first-update time: the taker, by name, under the card.
async fn no_update(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let staff = app.staff_locale();
    for (ticket, taken_at) in tx.silent_past(now).await? {
        let Some(due) = ticket.due.first_update else {
            continue;
        };
        let paused = if ticket.paused_secs > 0 {
            paused_after(&tx.pause_spans(ticket.id).await?, taken_at, now)
        } else {
            Duration::zero()
        };
        if due + paused > now {
            continue; // its clock stood still while paused
        }
        if tx
            .record_alert(ticket.id, AlertKind::FirstUpdate, 0, now)
            .await?
        {
            let silent = Ticket::running_time(taken_at, now, paused);
            let target = app.settings.sla.repair_clocks(ticket.urgency).first_update;
            let by = ticket
                .taken_by
                .as_ref()
                .map_or("—", |(_, name)| name.as_str());
            out.push(messages::to_card(
                &app.settings,
                &ticket,
                t(
                    staff,
                    "sla.first_update",
                    &[
                        ("id", &ticket.id.to_string()),
                        ("by", by),
                        ("minutes", &i18n::duration(staff, silent)),
                        ("target", &i18n::duration(staff, target)),
                    ],
                ),
            ));
        }
    }
    Ok(())
}

/// Still open at the resolve time: each manager privately, and the staff chat when a
/// manager cannot be written to.
async fn unresolved(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let staff = app.staff_locale();
    let unresolved = tx.unresolved_past(now).await?;
    if !unresolved.is_empty() {
        let managers = &app.settings.managers;
        let reachable = tx.private_chats(managers).await?;
        let someone_unreachable = managers.is_empty() || reachable.len() < managers.len();
        for ticket in unresolved {
            if !tx
                .record_alert(ticket.id, AlertKind::Resolve, 0, now)
                .await?
            {
                continue;
            }
            let open_for = running(&ticket, now);
            let resolve_target = app.settings.sla.repair_clocks(ticket.urgency).resolve;
            for manager in managers {
                if let Some(language) = reachable.get(manager) {
                    let locale = Locale::from_telegram(language.as_deref())
                        .unwrap_or(app.settings.default_locale);
                    out.push(Outgoing::text(
                        *manager as i64,
                        escalation(app, &ticket, open_for, locale),
                    ));
                }
            }
            if someone_unreachable {
                out.push(messages::to_card(
                    &app.settings,
                    &ticket,
                    t(
                        staff,
                        "sla.resolve_staff",
                        &[
                            ("id", &ticket.id.to_string()),
                            ("hours", &i18n::duration(staff, open_for)),
                            ("target", &i18n::duration(staff, resolve_target)),
                        ],
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A complaint no manager answered by its first-response time, or not closed by its
/// reply time: where complaints go, once each.
async fn complaints(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let clocks = app.settings.sla.complaint_clocks();
    let mut late = Vec::new();
    for ticket in tx.unanswered_past(now).await? {
        if tx
            .record_alert(ticket.id, AlertKind::Response, 0, now)
            .await?
        {
            late.push((ticket, "sla.complaint_response", clocks.first_response));
        }
    }
    for ticket in tx.unreplied_past(now).await? {
        if tx.record_alert(ticket.id, AlertKind::Reply, 0, now).await? {
            late.push((ticket, "sla.complaint_reply", clocks.reply));
        }
    }
    if late.is_empty() {
        return Ok(());
    }
    let chats = tickets::request_chats(tx, &app.settings)
        .await
        .map_err(|e| match e {
            tickets::Error::Store(e) => e,
            tickets::Error::Refused(r) => store::Error::Corrupt(r.to_string()),
        })?;
    for (ticket, key, target) in late {
        let open_for = running(&ticket, now);
        for (chat, locale) in &chats {
            let text = t(
                *locale,
                key,
                &[
                    ("id", &ticket.id.to_string()),
                    ("hours", &i18n::duration(*locale, open_for)),
                    ("target", &i18n::duration(*locale, target)),
                    ("group", &ticket.group_name),
                    ("unit", ticket.unit.as_deref().unwrap_or("—")),
                    ("owner", &ticket.owner_name),
                    ("text", &shorten(&ticket.text, 1000)),
                ],
            );
            out.push(Outgoing::text(*chat, text));
        }
    }
    Ok(())
}

/// How long `ticket`'s clock has run since the report, paused time left out.
fn running(ticket: &Ticket, now: DateTime<Utc>) -> Duration {
    Ticket::running_time(ticket.created_at, now, ticket.paused_time(now))
}

/// The private message to a manager about a ticket open too long.
fn escalation(app: &App, ticket: &Ticket, open_for: Duration, locale: Locale) -> String {
    let status = match &ticket.taken_by {
        Some((_, by)) => t(locale, "card.status_taken", &[("by", by)]),
        None => render::status_name(locale, ticket.status),
    };
    t(
        locale,
        "sla.resolve",
        &[
            ("id", &ticket.id.to_string()),
            ("hours", &i18n::duration(locale, open_for)),
            (
                "target",
                &i18n::duration(
                    locale,
                    app.settings.sla.repair_clocks(ticket.urgency).resolve,
                ),
            ),
            ("group", &ticket.group_name),
            ("unit", ticket.unit.as_deref().unwrap_or("—")),
            ("owner", &ticket.owner_name),
            ("status", &status),
            ("text", &shorten(&ticket.text, 1000)),
        ],
    )
}
