//! SLA watch, every minute. Each alert once per ticket and deadline:
//!
//! - not taken within `sla.take_minutes` → the staff chat, under the ticket's card; an
//!   urgency A ticket's alert then repeats every `sla.urgent_repeat_minutes` until it is
//!   taken (the n-th repetition is recorded as the take alert's round n);
//! - taken but no progress within `sla.first_update_minutes` → a reminder to the taker,
//!   by name, in the staff chat under the card;
//! - still open after `sla.resolve_hours` → each manager privately. A manager who has
//!   never written to Butler privately cannot be written to (Telegram's rule), so then
//!   the escalation goes to the staff chat, under the card, as well.
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

/// Looks for deadlines passed at `now` and writes each new alert once. Returns how many
/// messages it wrote.
pub async fn sweep(app: &App, now: DateTime<Utc>) -> Result<usize, store::Error> {
    let mut tx = app.store.begin().await?;
    let mut out = Vec::new();
    not_taken(app, &mut tx, now, &mut out).await?;
    urgent_repeats(app, &mut tx, now, &mut out).await?;
    no_update(app, &mut tx, now, &mut out).await?;
    unresolved(app, &mut tx, now, &mut out).await?;
    tx.enqueue_bulk(&out, now).await?;
    tx.commit().await?;
    Ok(out.len())
}

/// Not taken within `sla.take_minutes`: the staff chat, under the card.
async fn not_taken(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let sla = app.settings.sla;
    let staff = app.staff_locale();
    let take_cutoff = now - Duration::minutes(sla.take_minutes.into());
    for ticket in tx.untaken_since(take_cutoff).await? {
        if tx.record_alert(ticket.id, AlertKind::Take, 0, now).await? {
            let waited = running(&ticket, now);
            let key = match ticket.urgency {
                Urgency::A => "sla.take_urgent",
                _ => "sla.take",
            };
            out.push(messages::to_card(
                &app.settings,
                &ticket,
                t(
                    staff,
                    key,
                    &[
                        ("id", &ticket.id.to_string()),
                        ("minutes", &i18n::duration(staff, waited)),
                        ("target", &i18n::minutes(staff, sla.take_minutes.into())),
                    ],
                ),
            ));
        }
    }
    Ok(())
}

/// An urgency A ticket still not taken: the take alert again every
/// `sla.urgent_repeat_minutes` after the first, until someone takes it. Each repetition is
/// the take alert's round n (n = whole intervals since the first), sent once; after a
/// pause (Butler down) only the current one goes out, not every one missed.
async fn urgent_repeats(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let sla = app.settings.sla;
    let first = Duration::minutes(sla.take_minutes.into());
    let every = i64::from(sla.urgent_repeat_minutes.max(1));
    let cutoff = now - first - Duration::minutes(every);
    for ticket in tx.urgent_untaken_since(cutoff).await? {
        // A paused ticket's clock stands still: no repetition while paused.
        let waited = running(&ticket, now);
        let round = (waited - first).num_minutes() / every;
        if ticket.paused.is_some()
            || round < 1
            || !tx
                .record_alert(ticket.id, AlertKind::Take, round, now)
                .await?
        {
            continue;
        }
        let staff = app.staff_locale();
        let waited = i18n::duration(staff, waited);
        let text = t(
            staff,
            "sla.take_urgent",
            &[("id", &ticket.id.to_string()), ("minutes", &waited)],
        );
        out.push(messages::to_card(&app.settings, &ticket, text));
    }
    Ok(())
}

/// Taken but no progress within `sla.first_update_minutes`: the taker, by name, under
/// the card.
async fn no_update(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let sla = app.settings.sla;
    let staff = app.staff_locale();
    let update_cutoff = now - Duration::minutes(sla.first_update_minutes.into());
    for (ticket, taken_at) in tx.silent_since_taken(update_cutoff).await? {
        let paused = if ticket.paused_secs > 0 {
            paused_after(&tx.pause_spans(ticket.id).await?, taken_at, now)
        } else {
            Duration::zero()
        };
        let silent = Ticket::running_time(taken_at, now, paused);
        if silent < Duration::minutes(sla.first_update_minutes.into()) {
            continue; // its clock stood still while paused
        }
        if tx
            .record_alert(ticket.id, AlertKind::FirstUpdate, 0, now)
            .await?
        {
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
                        (
                            "target",
                            &i18n::minutes(staff, sla.first_update_minutes.into()),
                        ),
                    ],
                ),
            ));
        }
    }
    Ok(())
}

/// Still open after `sla.resolve_hours`: each manager privately, and the staff chat when
/// a manager cannot be written to.
async fn unresolved(
    app: &App,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Outgoing>,
) -> Result<(), store::Error> {
    let sla = app.settings.sla;
    let staff = app.staff_locale();
    let resolve_target = Duration::hours(sla.resolve_hours.into());
    let resolve_cutoff = now - resolve_target;
    let unresolved = tx.unresolved_since(resolve_cutoff).await?;
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
                    Duration::hours(app.settings.sla.resolve_hours.into()),
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
