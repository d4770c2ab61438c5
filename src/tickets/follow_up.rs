//! Managers' follow-ups (回访) after a low score or an unanswered rating question: closed
//! with a note, and, after a low score, the owner asked to rate again.

use chrono::{DateTime, Utc};

use super::{Origin, Result, fetch};
use crate::config::Settings;
use crate::domain::text::shorten;
use crate::domain::{Actor, CardAction, Error, EventKind, Locale, Ticket, TicketStatus};
use crate::i18n::t;
use crate::messages::{self, render};
use crate::outbox::{Buttons, Outgoing, Target};
use crate::store::{self, Tx};

/// A manager's reply to a follow-up card closes it with that reply as the note; the card
/// then says who closed it and how, with a "rate again" button after a low score. `None`
/// when nothing changed (the manager was told why under `origin`, or the follow-up is
/// unknown). Without an `origin` (the console) no answer goes to a chat.
pub async fn close_follow_up(
    tx: &mut Tx<'_>,
    settings: &Settings,
    manager: &Actor,
    follow_up: i64,
    note: Option<&str>,
    origin: Option<Origin>,
    now: DateTime<Utc>,
) -> Result<Option<Ticket>> {
    manager.must_be_manager()?;
    let Some(note) = note else {
        if let Some(origin) = origin {
            tx.enqueue(&origin.answer("follow_up.note_needed", &[]), now)
                .await?;
        }
        return Ok(None);
    };
    let Some(fu) = tx.follow_up(follow_up).await? else {
        return Ok(None);
    };
    if !tx
        .close_follow_up(fu.id, (manager.id, &manager.name), note, now)
        .await?
    {
        if let Some(origin) = origin {
            tx.enqueue(&origin.answer("follow_up.already_closed", &[]), now)
                .await?;
        }
        return Ok(None);
    }
    tx.add_event(
        fu.ticket_id,
        EventKind::FollowUpClosed,
        manager,
        Some(note),
        now,
    )
    .await?;
    let ticket = fetch(tx, fu.ticket_id).await?;
    let staff = messages::staff_locale(settings);
    let closed = Some((manager.name.as_str(), note));
    let buttons = closed_buttons(staff, &ticket, fu.id, fu.round, false);
    let mut out = vec![Outgoing::Edit {
        chat_id: messages::staff_chat(settings, &ticket),
        target: Target::FollowUp { id: fu.id },
        text: render::follow_up_text(&ticket, fu.id, staff, closed),
        buttons,
    }];
    out.extend(origin.map(|o| o.answer("follow_up.closed", &[("id", &ticket.id.to_string())])));
    tx.enqueue_all(&out, now).await?;
    Ok(Some(ticket))
}

/// A manager asks the owner to rate again after closing a low score's follow-up: a new
/// rating question under the report, and the follow-up card says who asked.
pub async fn rerate(
    tx: &mut Tx<'_>,
    settings: &Settings,
    manager: &Actor,
    follow_up: i64,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    manager.must_be_manager()?;
    let fu = tx.follow_up(follow_up).await?.ok_or(Error::RatingNotOpen)?;
    let ticket = fetch(tx, fu.ticket_id).await?;
    if !fu.closed || ticket.status != TicketStatus::Rated || ticket.rating_round != fu.round {
        return Err(Error::RatingNotOpen.into());
    }
    let round = tx.next_rating_round(ticket.id).await?;
    tx.add_event(ticket.id, EventKind::RerateAsked, manager, None, now)
        .await?;
    let fresh = fetch(tx, ticket.id).await?;
    let staff = messages::staff_locale(settings);
    // The card keeps who closed it and the note, and says who asked; "Tell the owner"
    // stays until pressed.
    let mut text = render::follow_up_text(&ticket, fu.id, staff, fu.closing());
    text.push('\n');
    text.push_str(&t(
        staff,
        "follow_up.rerate_asked",
        &[("by", &manager.name)],
    ));
    if let Some(by) = &fu.owner_told_by {
        text.push('\n');
        text.push_str(&t(staff, "follow_up.owner_told", &[("by", by)]));
    }
    let told = fu.owner_told_by.is_some();
    let out = [
        messages::rating_question(settings, &fresh, round),
        Outgoing::Edit {
            chat_id: messages::staff_chat(settings, &ticket),
            target: Target::FollowUp { id: fu.id },
            text,
            buttons: closed_buttons(staff, &fresh, fu.id, fu.round, told),
        },
    ];
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// A new follow-up `follow_up` of `ticket`: its card in the staff chat, and a copy to each
/// manager who has started the bot (in their own language), so that a follow-up never
/// waits only in a busy staff chat.
pub(super) async fn announce(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
    follow_up: i64,
) -> std::result::Result<Vec<Outgoing>, store::Error> {
    let mut out = vec![messages::follow_up_card(settings, ticket, follow_up)];
    let reachable = tx.private_chats(&settings.managers).await?;
    for manager in &settings.managers {
        if let Some(language) = reachable.get(manager) {
            let locale =
                Locale::from_telegram(language.as_deref()).unwrap_or(settings.default_locale);
            out.push(Outgoing::text(
                *manager as i64,
                render::follow_up_private_text(ticket, follow_up, locale),
            ));
        }
    }
    Ok(out)
}

/// The buttons of closed follow-up `follow_up` (of rating round `round`): "rate again"
/// while a low score's round is the ticket's latest, "tell the owner" until pressed.
fn closed_buttons(
    staff: Locale,
    ticket: &Ticket,
    follow_up: i64,
    round: i64,
    owner_told: bool,
) -> Option<Buttons> {
    let mut row = Vec::new();
    if ticket.score.is_some()
        && ticket.status == TicketStatus::Rated
        && ticket.rating_round == round
    {
        row.push((
            t(staff, "button.rerate", &[]),
            CardAction::Rerate { follow_up }.encode(),
        ));
    }
    if !owner_told {
        row.push((
            t(staff, "button.tell_owner", &[]),
            CardAction::TellOwner { follow_up }.encode(),
        ));
    }
    (!row.is_empty()).then(|| Buttons(vec![row]))
}

/// A manager tells the owner the outcome of a closed follow-up: a polite word with the
/// note under the owner's report (once), and the card says who told. `card` is the
/// follow-up card's text as pressed (it keeps what happened since). False when the owner
/// was told before.
pub async fn tell_owner(
    tx: &mut Tx<'_>,
    settings: &Settings,
    manager: &Actor,
    follow_up: i64,
    card: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    manager.must_be_manager()?;
    let fu = tx.follow_up(follow_up).await?.ok_or(Error::RatingNotOpen)?;
    let Some((_, note)) = fu.closing() else {
        return Err(Error::RatingNotOpen.into());
    };
    let note = note.to_owned();
    if !tx.mark_owner_told(fu.id, &manager.name, now).await? {
        return Ok(false);
    }
    let ticket = fetch(tx, fu.ticket_id).await?;
    let staff = messages::staff_locale(settings);
    let id_s = ticket.id.to_string();
    let text = format!(
        "{card}\n{}",
        t(staff, "follow_up.owner_told", &[("by", &manager.name)])
    );
    let out = [
        messages::to_owner(
            settings,
            &ticket,
            "owner.follow_up_outcome",
            &[("id", &id_s), ("note", &shorten(&note, 2000))],
        ),
        Outgoing::Edit {
            chat_id: messages::staff_chat(settings, &ticket),
            target: Target::FollowUp { id: fu.id },
            text: shorten(&text, 4000),
            buttons: closed_buttons(staff, &ticket, fu.id, fu.round, true),
        },
    ];
    tx.enqueue_all(&out, now).await?;
    Ok(true)
}
