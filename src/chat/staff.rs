//! The staff chat: ticket lists, take / done / reopen, categories and notes, progress
//! relayed to owners by replying to a card, and follow-ups closed by managers.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Me, Message};

use super::commands::{ManagerCommand, Place, StaffCommand, fallback};
use super::{App, AppRef, BotError, HandlerResult, Op, OpError, answer, change, render};
use crate::domain::text::shorten;
use crate::domain::{Actor, CardAction, Error, Ticket, TicketId, TicketStatus};
use crate::i18n::{self, Locale, t};
use crate::outbox::{Buttons, Outgoing, Remember, Target};
use crate::store::{BotMessage, BotMessageKind, PhotoKind, Tx, Who};

const LIST_LIMIT: i64 = 200;

pub fn branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .map(|app: AppRef| app.staff_locale())
        .branch(
            dptree::entry()
                .filter_command::<StaffCommand>()
                .endpoint(command),
        )
        .branch(
            dptree::entry()
                .filter_command::<ManagerCommand>()
                .endpoint(super::manager::command),
        )
        .branch(dptree::filter_map_async(super::replied_bot_message).endpoint(reply_to_card))
        .endpoint(
            |bot: Bot, app: AppRef, msg: Message, me: Me, locale: Locale| async move {
                fallback(bot, app, msg, me, Place::StaffChat, locale).await
            },
        )
}

/// `N rest…` → (ticket, rest); without a number, the ticket of the card replied to.
async fn ticket_and_rest(
    app: &App,
    msg: &Message,
    args: &str,
) -> Result<(TicketId, String), Error> {
    let args = args.trim();
    let (first, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if first.is_empty() {
        if let Some(replied) = msg.reply_to_message()
            && let Ok(Some(bm)) = app.store.bot_message(msg.chat.id.0, replied.id.0).await
        {
            return Ok((bm.ticket_id, String::new()));
        }
        return Err(Error::BadTicketId(String::new()));
    }
    Ok((first.parse()?, rest.trim().to_owned()))
}

async fn command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    cmd: StaffCommand,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let actor = app.actor(&user);
    match cmd {
        StaffCommand::Open => {
            let tickets = app.store.open_tickets(LIST_LIMIT).await?;
            let text = render::ticket_list(&tickets, locale, "open.heading", "open.empty");
            app.send(&bot, vec![super::reply_text(&msg, text)]).await
        }
        StaffCommand::Mine => {
            let tickets = app.store.tickets_taken_by(actor.id, LIST_LIMIT).await?;
            let text = render::ticket_list(&tickets, locale, "mine.heading", "mine.empty");
            app.send(&bot, vec![super::reply_text(&msg, text)]).await
        }
        StaffCommand::Help => {
            let key = if actor.is_manager {
                "help.staff_manager"
            } else {
                "help.staff"
            };
            app.send(&bot, vec![answer(&msg, locale, key, &[])]).await
        }
        StaffCommand::Stats(args) => super::stats::stats(bot, app, msg, args, locale).await,
        StaffCommand::Export(args) => super::stats::export(bot, app, msg, args, locale).await,
        StaffCommand::Take(ref args)
        | StaffCommand::Done(ref args)
        | StaffCommand::Reopen(ref args)
        | StaffCommand::Category(ref args)
        | StaffCommand::Note(ref args) => {
            let usage = match &cmd {
                StaffCommand::Take(_) => "usage.take",
                StaffCommand::Done(_) => "usage.done",
                StaffCommand::Reopen(_) => "usage.reopen",
                StaffCommand::Category(_) => "usage.category",
                _ => "usage.note",
            };
            let Some((id, rest)) = parse_args(&bot, &app, &msg, args, usage, locale).await? else {
                return Ok(());
            };
            ticket_command(&bot, &app, &msg, &cmd, id, rest, &actor, locale).await
        }
    }
}

/// The staff commands that act on one ticket.
#[allow(clippy::too_many_arguments)]
async fn ticket_command(
    bot: &Bot,
    app: &App,
    msg: &Message,
    cmd: &StaffCommand,
    id: TicketId,
    rest: String,
    actor: &Actor,
    locale: Locale,
) -> HandlerResult {
    let now = app.now();
    let note = (!rest.is_empty()).then_some(rest.as_str());
    change!(app, bot, msg, locale, |tx| {
        match cmd {
            StaffCommand::Take(_) => {
                take(app, tx, id, actor).await?;
            }
            StaffCommand::Done(_) => {
                // `/done N` as a photo's caption: that photo is the completion photo.
                let photo = super::owner::photo_file_id(msg);
                if let Some(file_id) = &photo {
                    app.ticket_in(tx, id).await?;
                    tx.add_photo(
                        id,
                        file_id,
                        PhotoKind::Completion,
                        actor.id,
                        msg.chat.id.0,
                        msg.id.0,
                        None,
                        now,
                    )
                    .await?;
                }
                finish(app, tx, id, actor, note, photo.as_deref()).await?;
            }
            StaffCommand::Reopen(_) => {
                reopen(app, tx, id, actor, note, false).await?;
            }
            StaffCommand::Category(_) => {
                let category = i18n::parse_category(&rest)
                    .ok_or_else(|| Error::UnknownCategory(rest.clone()))?;
                app.ticket_in(tx, id).await?;
                tx.set_category(id, category, now).await?;
                let who = Who {
                    id: actor.id,
                    name: &actor.name,
                };
                tx.add_event(id, "category", &who, Some(category.code()), now)
                    .await?;
                let fresh = app.ticket_in(tx, id).await?;
                let name = i18n::category_name(locale, category);
                let out = [
                    app.card_edit(&fresh),
                    answer(
                        msg,
                        locale,
                        "category.set",
                        &[("id", &id.to_string()), ("category", &name)],
                    ),
                ];
                tx.enqueue_all(&out, now).await?;
            }
            _ => {
                let Some(note) = note else {
                    return Err(Error::EmptyNote.into());
                };
                app.ticket_in(tx, id).await?;
                let who = Who {
                    id: actor.id,
                    name: &actor.name,
                };
                if !tx
                    .add_event_from(id, "note", &who, Some(note), (msg.chat.id.0, msg.id.0), now)
                    .await?
                {
                    return Ok(()); // this message was handled before
                }
                tx.enqueue(
                    &answer(msg, locale, "note.added", &[("id", &id.to_string())]),
                    now,
                )
                .await?;
            }
        }
        Ok(())
    })
}

/// Parses `N rest`, or answers with the usage / the parse error and returns None.
async fn parse_args(
    bot: &Bot,
    app: &App,
    msg: &Message,
    args: &str,
    usage_key: &str,
    locale: Locale,
) -> Result<Option<(TicketId, String)>, BotError> {
    match ticket_and_rest(app, msg, args).await {
        Ok(x) => Ok(Some(x)),
        Err(Error::BadTicketId(s)) if s.is_empty() => {
            app.send(bot, vec![answer(msg, locale, usage_key, &[])])
                .await?;
            Ok(None)
        }
        Err(e) => {
            app.send(bot, vec![super::refusal(msg, locale, &e)]).await?;
            Ok(None)
        }
    }
}

/// Staff member `actor` takes ticket `id`: card edited, owner told who is coming.
pub async fn take(app: &App, tx: &mut Tx<'_>, id: TicketId, actor: &Actor) -> Op<Ticket> {
    let ticket = app.ticket_in(tx, id).await?;
    ticket.take(actor)?;
    let now = app.now();
    let who = Who {
        id: actor.id,
        name: &actor.name,
    };
    tx.set_taken(id, &who, now).await?;
    tx.add_event(id, "taken", &who, None, now).await?;
    let fresh = app.ticket_in(tx, id).await?;
    let out = [
        app.card_edit(&fresh),
        app.to_owner(
            &fresh,
            "owner.taken",
            &[("id", &id.to_string()), ("by", &actor.name)],
        ),
    ];
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// `actor` closes ticket `id`: refused without a photo since Take when photos are
/// required; the owner is told and asked for a rating.
pub async fn finish(
    app: &App,
    tx: &mut Tx<'_>,
    id: TicketId,
    actor: &Actor,
    note: Option<&str>,
    photo: Option<&str>,
) -> Op<Ticket> {
    let ticket = app.ticket_in(tx, id).await?;
    let photos = tx.photos_since_taken(id).await?;
    ticket.finish(actor, photos, app.settings.rating.require_completion_photo)?;
    let now = app.now();
    let who = Who {
        id: actor.id,
        name: &actor.name,
    };
    tx.set_status(id, TicketStatus::Done, now).await?;
    tx.add_event(id, "done", &who, note, now).await?;
    let round = tx.next_rating_round(id).await?;
    let fresh = app.ticket_in(tx, id).await?;
    let locale = app.owner_locale(&fresh);
    let id_s = id.to_string();
    let by = fresh
        .taken_by
        .as_ref()
        .map_or(actor.name.clone(), |(_, n)| n.clone());
    let mut done_text = t(locale, "owner.done", &[("id", &id_s), ("by", &by)]);
    if let Some(note) = note {
        done_text.push('\n');
        done_text.push_str(&shorten(note, 900));
    }
    let mut out = vec![app.card_edit(&fresh)];
    match photo {
        Some(file_id) => out.extend(Outgoing::photos(
            fresh.group_chat_id,
            &[file_id.to_owned()],
            Some(shorten(&done_text, 1000)),
            fresh.report_in_group().map(Target::Message),
            Some(Remember {
                ticket_id: id.0,
                kind: BotMessageKind::Relay,
                ref_id: None,
            }),
        )),
        None => out.push(Outgoing::Text {
            chat_id: fresh.group_chat_id,
            text: done_text,
            reply_to: fresh.report_in_group().map(Target::Message),
            buttons: None,
            remember: Some(Remember {
                ticket_id: id.0,
                kind: BotMessageKind::Relay,
                ref_id: None,
            }),
        }),
    }
    out.push(rating_question(app, &fresh, round));
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// The rating question for round `round`, under the owner's report.
pub fn rating_question(app: &App, ticket: &Ticket, round: i64) -> Outgoing {
    let (text, buttons) = render::rating_question(ticket, round, app.owner_locale(ticket));
    Outgoing::Text {
        chat_id: ticket.group_chat_id,
        text,
        reply_to: ticket.report_in_group().map(Target::Message),
        buttons: Some(buttons),
        remember: Some(Remember {
            ticket_id: ticket.id.0,
            kind: BotMessageKind::Rating,
            ref_id: Some(round),
        }),
    }
}

/// Back to work (same taker): by staff, a manager, or the owner ("not fixed").
pub async fn reopen(
    app: &App,
    tx: &mut Tx<'_>,
    id: TicketId,
    actor: &Actor,
    reason: Option<&str>,
    by_owner: bool,
) -> Op<Ticket> {
    let ticket = app.ticket_in(tx, id).await?;
    ticket.reopen()?;
    let now = app.now();
    let who = Who {
        id: actor.id,
        name: &actor.name,
    };
    let status = if ticket.taken_by.is_some() {
        TicketStatus::Taken
    } else {
        TicketStatus::Reported
    };
    tx.set_status(id, status, now).await?;
    tx.add_event(id, "reopened", &who, reason, now).await?;
    let fresh = app.ticket_in(tx, id).await?;
    let id_s = id.to_string();
    let staff = app.staff_locale();
    let mut out = vec![app.card_edit(&fresh)];
    if by_owner {
        out.push(app.to_card(id, t(staff, "reopen.by_owner", &[("id", &id_s)])));
    } else {
        out.push(app.to_owner(&fresh, "owner.reopened", &[("id", &id_s)]));
        out.push(app.to_card(
            id,
            t(
                staff,
                "reopen.by_staff",
                &[("id", &id_s), ("by", &actor.name)],
            ),
        ));
    }
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// A reply to a card relays progress to the owner; a manager's reply to a follow-up card
/// closes it with that note.
async fn reply_to_card(
    bot: Bot,
    app: AppRef,
    msg: Message,
    target: BotMessage,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let actor = app.actor(&user);
    match target.kind {
        BotMessageKind::Card | BotMessageKind::CardPhotos => {
            progress(bot, app, msg, target.ticket_id, actor, locale).await
        }
        BotMessageKind::FollowUp => match target.ref_id {
            Some(fu) => close_follow_up(bot, app, msg, fu, actor, locale).await,
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

async fn progress(
    bot: Bot,
    app: AppRef,
    msg: Message,
    id: TicketId,
    actor: Actor,
    locale: Locale,
) -> HandlerResult {
    let now = app.now();
    let app2 = app.clone();
    change!(app, &bot, &msg, locale, |tx| {
        let ticket = app2.ticket_in(tx, id).await?;
        ticket.accepts_progress()?;
        let who = Who {
            id: actor.id,
            name: &actor.name,
        };
        let text = msg
            .text()
            .or(msg.caption())
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let owner_locale = app2.owner_locale(&ticket);
        let id_s = id.to_string();
        let head = t(
            owner_locale,
            "owner.progress",
            &[("id", &id_s), ("by", &actor.name)],
        );
        let body = match text {
            Some(text) => format!("{head}\n{text}"),
            None => head,
        };
        let remember = Some(Remember {
            ticket_id: id.0,
            kind: BotMessageKind::Relay,
            ref_id: None,
        });
        let mut out = Vec::new();
        if let Some(file_id) = super::owner::photo_file_id(&msg) {
            let media_group = msg.media_group_id().map(|m| m.to_string());
            if !tx
                .add_photo(
                    id,
                    &file_id,
                    PhotoKind::Progress,
                    actor.id,
                    msg.chat.id.0,
                    msg.id.0,
                    media_group.as_deref(),
                    now,
                )
                .await?
            {
                return Ok(()); // this message was handled before
            }
            tx.add_event(id, "progress", &who, Some(text.unwrap_or("photo")), now)
                .await?;
            out.extend(Outgoing::photos(
                ticket.group_chat_id,
                &[file_id],
                Some(shorten(&body, 1000)),
                ticket.report_in_group().map(Target::Message),
                remember,
            ));
            out.push(app2.card_edit(&app2.ticket_in(tx, id).await?));
        } else if let Some(text) = text {
            if !tx
                .add_event_from(
                    id,
                    "progress",
                    &who,
                    Some(text),
                    (msg.chat.id.0, msg.id.0),
                    now,
                )
                .await?
            {
                return Ok(()); // this message was handled before
            }
            out.push(Outgoing::Text {
                chat_id: ticket.group_chat_id,
                text: body,
                reply_to: ticket.report_in_group().map(Target::Message),
                buttons: None,
                remember,
            });
        } else {
            return Err(OpError::Refused(Error::EmptyNote));
        }
        out.push(answer(&msg, locale, "progress.relayed", &[("id", &id_s)]));
        tx.enqueue_all(&out, now).await?;
        Ok(())
    })
}

async fn close_follow_up(
    bot: Bot,
    app: AppRef,
    msg: Message,
    follow_up: i64,
    actor: Actor,
    locale: Locale,
) -> HandlerResult {
    if !actor.is_manager {
        return app
            .send(&bot, vec![answer(&msg, locale, "error.managers_only", &[])])
            .await;
    }
    let Some(note) = msg
        .text()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
    else {
        return app
            .send(
                &bot,
                vec![answer(&msg, locale, "follow_up.note_needed", &[])],
            )
            .await;
    };
    let Some(fu) = app.store.follow_up(follow_up).await? else {
        return Ok(());
    };
    let now = app.now();
    let app2 = app.clone();
    change!(app, &bot, &msg, locale, |tx| {
        if !tx.close_follow_up(fu.id, actor.id, &note, now).await? {
            tx.enqueue(&answer(&msg, locale, "follow_up.already_closed", &[]), now)
                .await?;
            return Ok(());
        }
        let who = Who {
            id: actor.id,
            name: &actor.name,
        };
        tx.add_event(fu.ticket_id, "follow_up_closed", &who, Some(&note), now)
            .await?;
        let ticket = app2.ticket_in(tx, fu.ticket_id).await?;
        let id_s = ticket.id.to_string();
        let out = vec![
            Outgoing::Edit {
                chat_id: app2.settings.staff_chat_id,
                target: Target::FollowUp { id: fu.id },
                text: follow_up_text(&ticket, fu.id, locale, Some((&actor.name, &note))),
                // A new rating follows a low score; an unrated ticket has none to redo.
                buttons: ticket.score.is_some().then(|| {
                    Buttons(vec![vec![(
                        t(locale, "button.rerate", &[]),
                        CardAction::Rerate { follow_up: fu.id }.encode(),
                    )]])
                }),
            },
            answer(&msg, locale, "follow_up.closed", &[("id", &id_s)]),
        ];
        tx.enqueue_all(&out, now).await?;
        Ok(())
    })
}

/// The managers' follow-up card: why it was opened (a low score, or no score when the
/// rating question expired), and how it was closed.
pub fn follow_up_text(
    ticket: &Ticket,
    follow_up: i64,
    locale: Locale,
    closed: Option<(&str, &str)>,
) -> String {
    let id_s = ticket.id.to_string();
    let key = if ticket.score.is_some() {
        "follow_up.card"
    } else {
        "follow_up.card_unrated"
    };
    let mut text = t(
        locale,
        key,
        &[
            ("fu", &follow_up.to_string()),
            ("id", &id_s),
            (
                "score",
                &ticket.score.map_or("—".to_owned(), |s| s.to_string()),
            ),
            ("owner", &ticket.owner_name),
            ("unit", ticket.unit.as_deref().unwrap_or("—")),
            ("group", &ticket.group_name),
            (
                "by",
                ticket.taken_by.as_ref().map_or("—", |(_, n)| n.as_str()),
            ),
            ("text", &shorten(&ticket.text, 1000)),
        ],
    );
    text.push('\n');
    match closed {
        None => text.push_str(&t(locale, "follow_up.how_to_close", &[])),
        Some((by, note)) => text.push_str(&t(
            locale,
            "follow_up.closed_by",
            &[("by", by), ("note", &shorten(note, 2000))],
        )),
    }
    text
}
