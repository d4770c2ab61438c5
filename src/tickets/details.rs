//! An owner adds to their ticket by replying to Butler's message about it: a detail (text
//! or photo) while it is open, or the answer to "what went wrong" after a low score.

use chrono::{DateTime, Utc};

use super::{Origin, Photo, Result, fetch, record_photo};
use crate::config::Settings;
use crate::domain::text::shorten;
use crate::domain::{Actor, Error, EventKind, Ticket, TicketId};
use crate::i18n::t;
use crate::messages::{self, card_of};
use crate::outbox::{Outgoing, Target};
use crate::store::{PhotoKind, Tx};

/// What the owner sent, as a reply to one of Butler's messages about `ticket`.
pub struct Detail {
    pub ticket: TicketId,
    /// The owner's message; the answer goes under it.
    pub origin: Origin,
    /// Its text or caption, trimmed, if not empty.
    pub text: Option<String>,
    pub photo: Option<Photo>,
}

/// The owner's ticket, or `None` after telling `owner` it is someone else's.
async fn owners_ticket(
    tx: &mut Tx<'_>,
    owner: &Actor,
    req: &Detail,
    now: DateTime<Utc>,
) -> Result<Option<Ticket>> {
    let ticket = fetch(tx, req.ticket).await?;
    if ticket.owner_id != owner.id {
        let id = ticket.id.to_string();
        tx.enqueue(&req.origin.answer("detail.not_yours", &[("id", &id)]), now)
            .await?;
        return Ok(None);
    }
    Ok(Some(ticket))
}

/// A detail for the staff: a photo goes under the card (and the card's photo count
/// changes), a text is quoted under it. Refused without either. True when added; false
/// when the owner was told why not, or this message was handled before.
pub async fn add_detail(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    req: Detail,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(ticket) = owners_ticket(tx, owner, &req, now).await? else {
        return Ok(false);
    };
    let id = ticket.id;
    let id_s = id.to_string();
    if !ticket.status.is_open() {
        tx.enqueue(&req.origin.answer("detail.closed", &[("id", &id_s)]), now)
            .await?;
        return Ok(false);
    }
    if !ticket.kind.is_staff_work() {
        return super::requests::add_request_detail(tx, settings, owner, &ticket, req, now).await;
    }
    let staff = messages::staff_locale(settings);
    let mut out = Vec::new();
    if let Some(photo) = req.photo {
        if !record_photo(tx, id, &photo, PhotoKind::Report, owner.id, now).await? {
            return Ok(false); // handled before
        }
        let text = req.text.as_deref();
        tx.add_event(id, EventKind::Detail, owner, text.or(Some("photo")), now)
            .await?;
        let caption = t(
            staff,
            "detail.staff_photo",
            &[("id", &id_s), ("text", text.unwrap_or(""))],
        );
        out.extend(Outgoing::photos(
            messages::staff_chat(settings, &ticket),
            &[photo.file_id],
            Some(caption),
            Some(card_of(id)),
            None,
        ));
        out.push(messages::card_edit(settings, &fetch(tx, id).await?));
    } else if let Some(text) = &req.text {
        let source = req.origin.source();
        if !tx
            .add_event_from(id, EventKind::Detail, owner, Some(text), source, now)
            .await?
        {
            return Ok(false); // this message was handled before
        }
        let quoted = shorten(text, 3500);
        let text = t(
            staff,
            "detail.staff_text",
            &[("id", &id_s), ("text", &quoted)],
        );
        out.push(messages::to_card(settings, &ticket, text));
    } else {
        return Err(Error::EmptyNote.into());
    }
    out.push(req.origin.answer("detail.added", &[("id", &id_s)]));
    tx.enqueue_all(&out, now).await?;
    Ok(true)
}

/// The owner's answer to "what went wrong" after a low score: kept with the rating, and
/// shown to managers under the open follow-up card. A photo without text is ignored.
/// True when recorded.
pub async fn comment_low_score(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    req: Detail,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(ticket) = owners_ticket(tx, owner, &req, now).await? else {
        return Ok(false);
    };
    let Some(comment) = req.text else {
        return Ok(false);
    };
    let source = req.origin.source();
    let kind = EventKind::LowScoreComment;
    if !tx
        .add_event_from(ticket.id, kind, owner, Some(&comment), source, now)
        .await?
    {
        return Ok(false); // this message was handled before
    }
    tx.set_rating_comment(ticket.id, ticket.rating_round, &comment)
        .await?;
    let mut out = vec![req.origin.answer("low_score.thanks", &[])];
    if let Some(fu) = tx.open_follow_up_of(ticket.id, ticket.rating_round).await? {
        let staff = messages::staff_locale(settings);
        let text = t(
            staff,
            "follow_up.owner_comment",
            &[
                ("id", &ticket.id.to_string()),
                ("text", &shorten(&comment, 3500)),
            ],
        );
        out.push(Outgoing::Text {
            chat_id: messages::staff_chat(settings, &ticket),
            text,
            reply_to: Some(Target::FollowUp { id: fu }),
            buttons: None,
            remember: None,
        });
    }
    tx.enqueue_all(&out, now).await?;
    Ok(true)
}
