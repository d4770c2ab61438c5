//! The owner answers the rating question (a score, or "not fixed"), or it expires.

use chrono::{DateTime, Utc};

use super::{Result, fetch};
use crate::config::Settings;
use crate::domain::{Actor, Error, EventKind, Score, Ticket, TicketId, TicketStatus};
use crate::i18n::t;
use crate::messages::{self, remember, render};
use crate::outbox::{Outgoing, Target};
use crate::store::{self, AlertKind, BotMessageKind, Tx, Unrated};

/// A score pressed under the rating question of round `round`.
pub struct Rate {
    pub ticket: TicketId,
    pub round: i64,
    pub score: u8,
    /// The rating question pressed, as (chat, message): it is edited to the thanks.
    pub question: (i64, i32),
}

/// Checks that `owner` may still answer round `round` of ticket `id`.
async fn open_question(tx: &mut Tx<'_>, owner: &Actor, id: TicketId, round: i64) -> Result<Ticket> {
    let ticket = fetch(tx, id).await?;
    ticket.rate(owner.id, round)?;
    if tx.rating_expired(id, round).await? {
        return Err(Error::RatingClosed.into());
    }
    Ok(ticket)
}

/// The owner rates: the question turns into thanks, the card shows the score; a low
/// score opens a follow-up (its card for managers) and asks the owner what went wrong.
pub async fn rate(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    req: Rate,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let (id, round) = (req.ticket, req.round);
    open_question(tx, owner, id, round).await?;
    let score = Score::try_from(req.score)?;
    if !tx
        .insert_rating(id, round, owner.id, score.get(), now)
        .await?
    {
        return Err(Error::RatingNotOpen.into());
    }
    tx.set_status(id, TicketStatus::Rated, now).await?;
    let score_s = score.get().to_string();
    tx.add_event(id, EventKind::Rated, owner, Some(&score_s), now)
        .await?;
    let fresh = fetch(tx, id).await?;
    let locale = messages::owner_locale(settings, &fresh);
    let id_s = id.to_string();
    let thanks = t(
        locale,
        "rating.thanks",
        &[
            ("id", &id_s),
            ("stars", &render::stars(score.get())),
            ("score", &score_s),
        ],
    );
    let (chat_id, message_id) = req.question;
    let mut out = vec![
        Outgoing::Edit {
            chat_id,
            target: Target::Message(message_id),
            text: thanks,
            buttons: None,
        },
        messages::card_edit(settings, &fresh),
    ];
    if score.is_low(settings.rating.low_score)
        && let Some(fu) = tx.open_follow_up(id, "low_score", round, now).await?
    {
        out.push(Outgoing::Text {
            chat_id: fresh.group_chat_id,
            text: t(locale, "low_score.question", &[("id", &id_s)]),
            reply_to: fresh.report_in_group().map(Target::Message),
            buttons: None,
            remember: remember(id, BotMessageKind::LowScoreQuestion, None),
        });
        out.extend(super::follow_up::announce(tx, settings, &fresh, fu).await?);
    }
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// The owner presses "not fixed" under the question of round `round`: the ticket goes back
/// to work (the staff are told under the card) and the question says so.
pub async fn not_fixed(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    id: TicketId,
    round: i64,
    question: (i64, i32),
    now: DateTime<Utc>,
) -> Result<Ticket> {
    // An open question is one of a finished ticket, or the new question a manager asked
    // for after a follow-up (the ticket is still rated, that round has no score yet).
    open_question(tx, owner, id, round).await?;
    let reason = Some("owner: not fixed");
    let fresh = super::work::reopen_for(tx, settings, owner, id, reason, true, now).await?;
    let locale = messages::owner_locale(settings, &fresh);
    let (chat_id, message_id) = question;
    let edit = Outgoing::Edit {
        chat_id,
        target: Target::Message(message_id),
        text: t(locale, "rating.not_fixed", &[("id", &id.to_string())]),
        buttons: None,
    };
    tx.enqueue(&edit, now).await?;
    Ok(fresh)
}

/// The rating question of `unrated.round` closes unanswered (once: the expiry is claimed
/// in `tx`): it says so and loses its buttons, a late press is refused, the event is
/// written by Butler, and an "unrated" follow-up opens with its card for managers.
/// Returns how many messages it wrote.
pub async fn expire_rating(
    tx: &mut Tx<'_>,
    settings: &Settings,
    unrated: &Unrated,
    now: DateTime<Utc>,
) -> std::result::Result<usize, store::Error> {
    let (ticket, round) = (&unrated.ticket, unrated.round);
    if !tx
        .record_alert(ticket.id, AlertKind::RatingExpired, round, now)
        .await?
    {
        return Ok(0);
    }
    let round_s = round.to_string();
    tx.add_event(
        ticket.id,
        EventKind::RatingExpired,
        &Actor::butler(),
        Some(&round_s),
        now,
    )
    .await?;
    let locale = messages::owner_locale(settings, ticket);
    let mut out = vec![Outgoing::Edit {
        chat_id: ticket.group_chat_id,
        target: Target::Latest {
            ticket_id: ticket.id.0,
            kind: BotMessageKind::Rating,
        },
        text: t(locale, "rating.closed", &[("id", &ticket.id.to_string())]),
        buttons: None,
    }];
    if let Some(fu) = tx.open_follow_up(ticket.id, "unrated", round, now).await? {
        out.extend(super::follow_up::announce(tx, settings, ticket, fu).await?);
    }
    tx.enqueue_all(&out, now).await?;
    Ok(out.len())
}
