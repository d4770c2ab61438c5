//! Dispatch: a manager or dispatcher gives a waiting ticket to a staff member (assign),
//! the holder or a manager hands it on (transfer), the holder puts it back (return).
//!
//! Assign and transfer make the receiver the holder "as if they had taken it": besides
//! the step's own event (who did it, to whom, why) a `taken` event of the receiver is
//! written, detail `assigned` or `transferred`, so the take clocks, the SLA reminders,
//! "a photo since taken" and the figures treat them as every take.

use chrono::{DateTime, Utc};

use super::{Result, fetch};
use crate::config::Settings;
use crate::domain::dispatch::may_assign;
use crate::domain::text::shorten;
use crate::domain::{Actor, Error, EventKind, Ticket, TicketId};
use crate::i18n::{self, t};
use crate::messages;
use crate::outbox::Outgoing;
use crate::store::Tx;

/// Give ticket `id` to `to`, with an optional word on why.
pub struct Handover<'a> {
    pub id: TicketId,
    /// The receiver (a staff member; `is_manager` as the settings say).
    pub to: Actor,
    pub reason: Option<&'a str>,
}

/// A ticket given to someone.
#[derive(Debug)]
pub struct Handed {
    pub ticket: Ticket,
    /// The receiver's open tickets before this one, when that reaches the settings'
    /// `max_open_per_staff`: the asker is warned.
    pub busy: Option<i64>,
}

/// `by` (a manager, or a dispatcher when `dispatcher`) gives a waiting ticket to `to`.
pub async fn assign(
    tx: &mut Tx<'_>,
    settings: &Settings,
    by: &Actor,
    dispatcher: bool,
    req: Handover<'_>,
    now: DateTime<Utc>,
) -> Result<Handed> {
    may_assign(by, dispatcher)?;
    fetch(tx, req.id).await?.assign(req.to.id)?;
    hand_over(tx, settings, by, req, EventKind::Assigned, now).await
}

/// `by` (the holder or a manager) hands a ticket being worked on to `to`.
pub async fn transfer(
    tx: &mut Tx<'_>,
    settings: &Settings,
    by: &Actor,
    req: Handover<'_>,
    now: DateTime<Utc>,
) -> Result<Handed> {
    fetch(tx, req.id).await?.transfer(by, req.to.id)?;
    hand_over(tx, settings, by, req, EventKind::Transferred, now).await
}

/// The holder puts the ticket back to waiting, saying why; the staff chat is told under
/// the card (the owner is told again when someone takes it).
pub async fn give_back(
    tx: &mut Tx<'_>,
    settings: &Settings,
    by: &Actor,
    id: TicketId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::ReasonNeeded.into());
    }
    fetch(tx, id).await?.give_back(by)?;
    tx.set_returned(id, now).await?;
    tx.add_event(id, EventKind::Returned, by, Some(reason), now)
        .await?;
    let fresh = fetch(tx, id).await?;
    let staff = messages::staff_locale(settings);
    let args = [
        ("id", id.to_string()),
        ("by", by.name.clone()),
        ("reason", shorten(reason, 500)),
    ];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = [
        messages::card_edit(settings, &fresh),
        messages::to_card(settings, &fresh, t(staff, "return.note", &args)),
    ];
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// The receiver holds the ticket: events, the card, the owner, the staff chat and (if
/// they started the bot) the receiver privately.
async fn hand_over(
    tx: &mut Tx<'_>,
    settings: &Settings,
    by: &Actor,
    req: Handover<'_>,
    kind: EventKind,
    now: DateTime<Utc>,
) -> Result<Handed> {
    let (id, to) = (req.id, &req.to);
    let open_before = tx.open_count(to.id).await?;
    tx.set_taken(id, to, now).await?;
    super::deadlines::set_taken_due(tx, settings, id, now).await?;
    let detail = match req.reason {
        Some(r) => format!("{}: {r}", to.name),
        None => to.name.clone(),
    };
    tx.add_event(id, kind, by, Some(&detail), now).await?;
    tx.add_event(id, EventKind::Taken, to, Some(kind.as_str()), now)
        .await?;
    let fresh = fetch(tx, id).await?;
    let mut out = vec![
        messages::card_edit(settings, &fresh),
        messages::to_owner(
            settings,
            &fresh,
            "owner.taken",
            &[("id", &id.to_string()), ("by", &to.name)],
        ),
        messages::to_card(
            settings,
            &fresh,
            step_text(settings, &fresh, by, &req, kind),
        ),
    ];
    if tx.has_private_chat(to.id).await? {
        out.push(private_word(settings, &fresh, by, &req, kind));
    }
    tx.enqueue_all(&out, now).await?;
    let max = i64::from(settings.max_open_per_staff);
    let busy = (max > 0 && open_before >= max).then_some(open_before);
    Ok(Handed {
        ticket: fresh,
        busy,
    })
}

fn step_args(ticket: &Ticket, by: &Actor, req: &Handover<'_>) -> Vec<(&'static str, String)> {
    vec![
        ("id", ticket.id.to_string()),
        ("by", by.name.clone()),
        ("to", req.to.name.clone()),
        (
            "reason",
            req.reason.map(|r| shorten(r, 500)).unwrap_or_default(),
        ),
    ]
}

fn fill(key: &str, settings: &Settings, args: &[(&'static str, String)]) -> String {
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t(messages::staff_locale(settings), key, &args)
}

/// "Boss assigned #5 to Wang." under the card.
fn step_text(
    settings: &Settings,
    ticket: &Ticket,
    by: &Actor,
    req: &Handover<'_>,
    kind: EventKind,
) -> String {
    let key = match (kind, req.reason.is_some()) {
        (EventKind::Assigned, false) => "assign.note",
        (EventKind::Assigned, true) => "assign.note_reason",
        (_, false) => "transfer.note",
        (_, true) => "transfer.note_reason",
    };
    fill(key, settings, &step_args(ticket, by, req))
}

/// The receiver's private word: what the ticket is and who gave it to them.
fn private_word(
    settings: &Settings,
    ticket: &Ticket,
    by: &Actor,
    req: &Handover<'_>,
    kind: EventKind,
) -> Outgoing {
    let locale = messages::staff_locale(settings);
    let key = match kind {
        EventKind::Assigned => "assign.private",
        _ => "transfer.private",
    };
    let mut args = step_args(ticket, by, req);
    args.push(("category", i18n::category_name(locale, ticket.category)));
    args.push(("unit", ticket.unit.as_deref().unwrap_or("—").to_owned()));
    args.push(("group", ticket.group_name.clone()));
    args.push(("text", shorten(&ticket.text, 1000)));
    Outgoing::Text {
        chat_id: req.to.id as i64,
        text: fill(key, settings, &args).trim_end().to_owned(),
        reply_to: None,
        buttons: None,
        remember: None,
    }
}
