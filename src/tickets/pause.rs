//! `/pause N <reason>` and `/resume N`: a taken ticket waits (for a part, for the owner to
//! be at home) with its SLA clocks standing still. The card shows it, the owner is told
//! once, politely, and each pause and resume is an event with who and why.

use chrono::{DateTime, Utc};

use super::{Origin, Result, fetch};
use crate::config::Settings;
use crate::domain::text::shorten;
use crate::domain::{Actor, EventKind, Ticket, TicketId};
use crate::messages;
use crate::store::Tx;

/// `actor` pauses ticket `id` for `reason` (not empty: the handler asks for one).
pub async fn pause(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    reason: &str,
    origin: Option<Origin>,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    fetch(tx, id).await?.pause(actor)?;
    let reason = shorten(reason.trim(), 500);
    tx.set_paused(id, &reason, now).await?;
    tx.add_event(id, EventKind::Paused, actor, Some(&reason), now)
        .await?;
    let fresh = fetch(tx, id).await?;
    let id_s = id.to_string();
    let mut out = vec![
        messages::card_edit(settings, &fresh),
        messages::to_owner(
            settings,
            &fresh,
            "owner.paused",
            &[("id", &id_s), ("reason", &reason)],
        ),
    ];
    out.extend(origin.map(|o| o.answer("pause.done", &[("id", &id_s)])));
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// `actor` resumes paused ticket `id`: its clocks run again from where they stood.
pub async fn resume(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    origin: Option<Origin>,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let ticket = fetch(tx, id).await?;
    ticket.resume(actor)?;
    end_pause(tx, &ticket, actor, now).await?;
    let fresh = fetch(tx, id).await?;
    let mut out = vec![messages::card_edit(settings, &fresh)];
    out.extend(origin.map(|o| o.answer("pause.resumed", &[("id", &id.to_string())])));
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// Ends `ticket`'s pause, if it has one, as `actor` at `now` (a resume, or a paused ticket
/// finished without one).
pub(super) async fn end_pause(
    tx: &mut Tx<'_>,
    ticket: &Ticket,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(pause) = &ticket.paused else {
        return Ok(());
    };
    let secs = (now - pause.since).num_seconds();
    tx.set_resumed(ticket.id, secs, now).await?;
    tx.add_event(ticket.id, EventKind::Resumed, actor, None, now)
        .await?;
    Ok(())
}
