//! Owner groups: reports, details added by replying, units, "my tickets".

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Me, Message};

use super::commands::{OwnerCommand, Place, fallback};
use super::{
    AppRef, BotError, HandlerResult, OpError, answer, change, display_name, refusal, render,
};
use crate::domain::{Category, Error, EventKind, ReportText, TicketStatus, Unit};
use crate::i18n::{self, Locale, t};
use crate::outbox::{Outgoing, Remember, Target};
use crate::store::{BotMessage, BotMessageKind, Group, NewTicket, PhotoKind};

/// Most tickets `/my` lists.
const MY_LIMIT: i64 = 10;

pub fn branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .map(|app: AppRef, group: Group, msg: Message| app.group_locale(&group, msg.from.as_ref()))
        .branch(
            dptree::entry()
                .filter_command::<OwnerCommand>()
                .endpoint(command),
        )
        .branch(dptree::filter_map_async(super::replied_bot_message).endpoint(add_to_ticket))
        .branch(dptree::filter_map_async(album_item).endpoint(add_album_item))
        .endpoint(
            |bot: Bot, app: AppRef, msg: Message, me: Me, locale: Locale| async move {
                fallback(bot, app, msg, me, Place::OwnerGroup, locale).await
            },
        )
}

async fn command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    group: Group,
    cmd: OwnerCommand,
    locale: Locale,
) -> HandlerResult {
    match cmd {
        OwnerCommand::Repair(text) | OwnerCommand::Report(text) => {
            report(bot, app, msg, group, text, locale).await
        }
        OwnerCommand::Unit(raw) => set_unit(bot, app, msg, raw, locale).await,
        OwnerCommand::My => my_tickets(bot, app, msg, locale).await,
        OwnerCommand::Help => {
            let key = if app
                .settings
                .is_manager(msg.from.as_ref().map_or(0, |u| u.id.0))
            {
                "help.owner_group_manager"
            } else {
                "help.owner_group"
            };
            app.send(&bot, vec![answer(&msg, locale, key, &[])]).await
        }
    }
}

/// The largest photo of a message, as Telegram sends several sizes.
pub fn photo_file_id(msg: &Message) -> Option<String> {
    msg.photo()?
        .iter()
        .max_by_key(|p| p.width * p.height)
        .map(|p| p.file.id.to_string())
}

/// `/repair <text>`, or a photo captioned so: a new ticket, its confirmation under the
/// report, its card in the staff chat, and a word to managers for a watch-listed owner.
async fn report(
    bot: Bot,
    app: AppRef,
    msg: Message,
    group: Group,
    text: String,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let photo = photo_file_id(&msg);
    // A photo captioned just "/repair": the photo is the report.
    let raw = if text.trim().is_empty() && photo.is_some() {
        t(locale, "report.photo_only", &[])
    } else {
        text
    };
    let text = match ReportText::parse(&raw) {
        Ok(text) => text,
        Err(e) => return app.send(&bot, vec![refusal(&msg, locale, &e)]).await,
    };
    // A redelivered report is not a new one: only new reports count against the limit.
    if app
        .store
        .ticket_by_report(msg.chat.id.0, msg.id.0)
        .await?
        .is_none()
        && let Some(warn) = app.flood_check(user.id.0).await?
    {
        tracing::warn!(
            owner = user.id.0,
            "report refused: too many in a short time"
        );
        if !warn {
            return Ok(());
        }
        let minutes = (super::FLOOD_WINDOW_SECS / 60).to_string();
        return app
            .send(
                &bot,
                vec![answer(
                    &msg,
                    locale,
                    "report.too_many",
                    &[("minutes", &minutes)],
                )],
            )
            .await;
    }
    let now = app.now();
    let name = display_name(&user);
    let app2 = app.clone();
    change!(app, &bot, &msg, locale, |tx| {
        let owner = tx
            .touch_owner(user.id.0, &name, user.language_code.as_deref(), now)
            .await?;
        let category = Category::guess(text.as_ref(), i18n::category_keywords);
        let new = NewTicket {
            group_chat_id: group.chat_id,
            report_message_id: msg.id.0,
            owner_id: user.id.0,
            unit: owner.unit.as_ref(),
            category,
            text: text.as_ref(),
            priority: owner.watched,
        };
        // The same report delivered twice makes one ticket.
        let Some(id) = tx.insert_ticket(&new, now).await? else {
            return Ok(());
        };
        let who = app2.actor(&user);
        tx.add_event(id, EventKind::Reported, &who, None, now)
            .await?;
        if let Some(file_id) = &photo {
            let media_group = msg.media_group_id().map(|m| m.to_string());
            tx.add_photo(
                id,
                file_id,
                PhotoKind::Report,
                user.id.0,
                msg.chat.id.0,
                msg.id.0,
                media_group.as_deref(),
                now,
            )
            .await?;
        }
        let ticket = app2.ticket_in(tx, id).await?;
        let id_s = id.to_string();
        let mut confirmation = t(
            locale,
            "report.confirmation",
            &[
                ("id", &id_s),
                ("category", &i18n::category_name(locale, category)),
                ("minutes", &app2.settings.sla.take_minutes.to_string()),
            ],
        );
        // One message, not two: owner groups are busy enough, and Telegram allows a
        // group 20 a minute.
        if owner.unit.is_none() {
            confirmation.push('\n');
            confirmation.push_str(&t(locale, "report.unit_hint", &[]));
        }
        let mut out = vec![Outgoing::Text {
            chat_id: msg.chat.id.0,
            text: confirmation,
            reply_to: Some(Target::Message(msg.id.0)),
            buttons: None,
            remember: Some(Remember {
                ticket_id: id.0,
                kind: BotMessageKind::Confirmation,
                ref_id: None,
            }),
        }];
        let staff = app2.staff_locale();
        let (card, buttons) = render::card(&ticket, staff, app2.settings.timezone);
        out.push(Outgoing::Text {
            chat_id: app2.settings.staff_chat_id,
            text: card,
            reply_to: None,
            buttons,
            remember: Some(Remember {
                ticket_id: id.0,
                kind: BotMessageKind::Card,
                ref_id: None,
            }),
        });
        if let Some(file_id) = photo {
            out.extend(Outgoing::photos(
                app2.settings.staff_chat_id,
                &[file_id],
                Some(t(staff, "card.photo_caption", &[("id", &id_s)])),
                Some(Target::Latest {
                    ticket_id: id.0,
                    kind: BotMessageKind::Card,
                }),
                Some(Remember {
                    ticket_id: id.0,
                    kind: BotMessageKind::CardPhotos,
                    ref_id: None,
                }),
            ));
        }
        if ticket.priority {
            for &manager in &app2.settings.managers {
                out.push(Outgoing::text(
                    manager as i64,
                    t(
                        staff,
                        "watch.alert",
                        &[
                            ("id", &id_s),
                            ("owner", &ticket.owner_name),
                            ("unit", ticket.unit.as_deref().unwrap_or("—")),
                            ("group", &ticket.group_name),
                            ("text", &crate::domain::text::shorten(&ticket.text, 500)),
                        ],
                    ),
                ));
            }
        }
        tx.enqueue_all(&out, now).await?;
        Ok(())
    })
}

async fn set_unit(
    bot: Bot,
    app: AppRef,
    msg: Message,
    raw: String,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    if raw.trim().is_empty() {
        return app
            .send(&bot, vec![answer(&msg, locale, "unit.usage", &[])])
            .await;
    }
    let unit: Unit = match raw.parse() {
        Ok(u) => u,
        Err(e) => return app.send(&bot, vec![refusal(&msg, locale, &e)]).await,
    };
    let now = app.now();
    let name = display_name(&user);
    change!(app, &bot, &msg, locale, |tx| {
        tx.touch_owner(user.id.0, &name, user.language_code.as_deref(), now)
            .await?;
        tx.set_owner_unit(user.id.0, &unit, now).await?;
        tx.enqueue(
            &answer(&msg, locale, "unit.set", &[("unit", unit.as_ref())]),
            now,
        )
        .await?;
        Ok(())
    })
}

pub async fn my_tickets(bot: Bot, app: AppRef, msg: Message, locale: Locale) -> HandlerResult {
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    let tickets = app.store.owner_tickets(user.id.0, MY_LIMIT).await?;
    let text = render::ticket_list(&tickets, locale, "my.heading", "my.empty");
    app.send(&bot, vec![super::reply_text(&msg, text)]).await
}

/// The owner adds a detail (text or photo) to their ticket, or answers "what went wrong".
async fn add_to_ticket(
    bot: Bot,
    app: AppRef,
    msg: Message,
    target: BotMessage,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let now = app.now();
    let app2 = app.clone();
    change!(app, &bot, &msg, locale, |tx| {
        let ticket = app2.ticket_in(tx, target.ticket_id).await?;
        if ticket.owner_id != user.id.0 {
            tx.enqueue(
                &answer(
                    &msg,
                    locale,
                    "detail.not_yours",
                    &[("id", &ticket.id.to_string())],
                ),
                now,
            )
            .await?;
            return Ok(());
        }
        let who = app2.actor(&user);
        let id_s = ticket.id.to_string();
        let text = msg
            .text()
            .or(msg.caption())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let staff = app2.staff_locale();
        if target.kind == BotMessageKind::LowScoreQuestion {
            let Some(comment) = text else { return Ok(()) };
            let source = (msg.chat.id.0, msg.id.0);
            if !tx
                .add_event_from(
                    ticket.id,
                    EventKind::LowScoreComment,
                    &who,
                    Some(&comment),
                    source,
                    now,
                )
                .await?
            {
                return Ok(()); // this message was handled before
            }
            tx.set_rating_comment(ticket.id, ticket.rating_round, &comment)
                .await?;
            let mut out = vec![answer(&msg, locale, "low_score.thanks", &[])];
            if let Some(fu) = tx.open_follow_up_of(ticket.id, ticket.rating_round).await? {
                out.push(Outgoing::Text {
                    chat_id: app2.settings.staff_chat_id,
                    text: t(
                        staff,
                        "follow_up.owner_comment",
                        &[
                            ("id", &id_s),
                            ("text", &crate::domain::text::shorten(&comment, 3500)),
                        ],
                    ),
                    reply_to: Some(Target::FollowUp { id: fu }),
                    buttons: None,
                    remember: None,
                });
            }
            tx.enqueue_all(&out, now).await?;
            return Ok(());
        }
        if !ticket.status.is_open() {
            tx.enqueue(
                &answer(&msg, locale, "detail.closed", &[("id", &id_s)]),
                now,
            )
            .await?;
            return Ok(());
        }
        let mut out = Vec::new();
        if let Some(file_id) = photo_file_id(&msg) {
            let media_group = msg.media_group_id().map(|m| m.to_string());
            if !tx
                .add_photo(
                    ticket.id,
                    &file_id,
                    PhotoKind::Report,
                    user.id.0,
                    msg.chat.id.0,
                    msg.id.0,
                    media_group.as_deref(),
                    now,
                )
                .await?
            {
                return Ok(()); // handled before
            }
            tx.add_event(
                ticket.id,
                EventKind::Detail,
                &who,
                text.as_deref().or(Some("photo")),
                now,
            )
            .await?;
            out.extend(Outgoing::photos(
                app2.settings.staff_chat_id,
                &[file_id],
                Some(t(
                    staff,
                    "detail.staff_photo",
                    &[("id", &id_s), ("text", text.as_deref().unwrap_or(""))],
                )),
                Some(Target::Latest {
                    ticket_id: ticket.id.0,
                    kind: BotMessageKind::Card,
                }),
                None,
            ));
            let fresh = app2.ticket_in(tx, ticket.id).await?;
            out.push(app2.card_edit(&fresh));
        } else if let Some(text) = text {
            let source = (msg.chat.id.0, msg.id.0);
            if !tx
                .add_event_from(ticket.id, EventKind::Detail, &who, Some(&text), source, now)
                .await?
            {
                return Ok(()); // this message was handled before
            }
            out.push(app2.to_card(
                ticket.id,
                t(
                    staff,
                    "detail.staff_text",
                    &[
                        ("id", &id_s),
                        ("text", &crate::domain::text::shorten(&text, 3500)),
                    ],
                ),
            ));
        } else {
            return Err(OpError::Refused(Error::EmptyNote));
        }
        out.push(answer(&msg, locale, "detail.added", &[("id", &id_s)]));
        tx.enqueue_all(&out, now).await?;
        Ok(())
    })
}

/// A later photo of an album whose first item reported or added to a ticket (arrives only
/// when the bot can read the group's messages).
async fn album_item(app: AppRef, msg: Message) -> Option<BotMessage> {
    let group = msg.media_group_id()?.to_string();
    photo_file_id(&msg)?;
    let (ticket_id, _) = app
        .store
        .ticket_by_media_group(msg.chat.id.0, &group)
        .await
        .ok()
        .flatten()?;
    Some(BotMessage {
        ticket_id,
        kind: BotMessageKind::Confirmation,
        ref_id: None,
    })
}

async fn add_album_item(
    bot: Bot,
    app: AppRef,
    msg: Message,
    target: BotMessage,
    locale: Locale,
) -> HandlerResult {
    let ticket = app.store.ticket(target.ticket_id).await?;
    if ticket.is_some_and(|t| t.status == TicketStatus::Reported || t.status == TicketStatus::Taken)
    {
        add_to_ticket(bot, app, msg, target, locale).await
    } else {
        Ok(())
    }
}

/// An owner edited their `/repair` message: the ticket takes the new text while it is
/// open, and staff are told under the card. Edits of other messages change nothing.
pub async fn edited(bot: Bot, app: AppRef, msg: Message, me: Me, group: Group) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let Some(raw) = msg.text().or(msg.caption()) else {
        return Ok(());
    };
    let Ok(OwnerCommand::Repair(text) | OwnerCommand::Report(text)) =
        <OwnerCommand as teloxide::utils::command::BotCommands>::parse(raw, me.username())
    else {
        return Ok(());
    };
    let Some(id) = app.store.ticket_by_report(msg.chat.id.0, msg.id.0).await? else {
        return Ok(());
    };
    let Ok(text) = ReportText::parse(&text) else {
        return Ok(());
    };
    let locale = app.group_locale(&group, Some(&user));
    let now = app.now();
    change!(app, &bot, &msg, locale, |tx| {
        let ticket = app.ticket_in(tx, id).await?;
        if ticket.owner_id != user.id.0 || !ticket.status.is_open() || ticket.text == text.as_ref()
        {
            return Ok(());
        }
        tx.set_text(id, text.as_ref(), now).await?;
        let who = app.actor(&user);
        tx.add_event(id, EventKind::Edited, &who, Some(&ticket.text), now)
            .await?;
        let fresh = app.ticket_in(tx, id).await?;
        let staff = app.staff_locale();
        let out = [
            app.card_edit(&fresh),
            app.to_card(
                id,
                t(
                    staff,
                    "detail.staff_edited",
                    &[
                        ("id", &id.to_string()),
                        ("text", &crate::domain::text::shorten(text.as_ref(), 3500)),
                    ],
                ),
            ),
        ];
        tx.enqueue_all(&out, now).await?;
        Ok(())
    })
}
