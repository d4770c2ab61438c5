//! Staff set a repair's urgency (`/urgency N A|B|C`); its deadlines follow the new level.

use chrono::{DateTime, Utc};

use super::{Origin, Result, fetch};
use crate::config::Settings;
use crate::domain::{Actor, EventKind, Ticket, TicketId, Urgency};
use crate::messages;
use crate::store::Tx;

/// `/urgency N A|B|C` on an open repair: the card shows the new level; a repair raised to
/// A is told to the managers privately at once, as an urgent report is, and its take
/// alert repeats from then on while nobody has taken it.
pub async fn set_urgency(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    level: Urgency,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let before = fetch(tx, id).await?;
    before.accepts_progress()?;
    tx.set_urgency(id, level, now).await?;
    tx.add_event(id, EventKind::Urgency, actor, Some(level.code()), now)
        .await?;
    // The take and resolve times follow the new level's policy from the report on.
    let changed = fetch(tx, id).await?;
    let fresh = super::deadlines::set_report_dues(tx, settings, &changed).await?;
    let mut out = vec![
        messages::card_edit(settings, &fresh),
        origin.answer(
            "urgency.set",
            &[("id", &id.to_string()), ("level", level.code())],
        ),
    ];
    if level == Urgency::A && before.urgency != Urgency::A {
        out.extend(super::requests::urgent_alerts(tx, settings, &fresh).await?);
    }
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}
