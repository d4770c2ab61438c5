//! Scheduled messages on demand, and broadcasts:
//!
//! - `/greet` (managers): today's morning greeting as the first owner group reads it,
//!   posted in the chat where it was asked, as a preview. Nothing goes to the groups.
//! - `/summary`: today's summary, posted where asked: in the staff chat (by anyone on the
//!   staff, as the design's command table has it) or privately (managers).
//! - `/notice <text>` (managers): held until its author presses Send under the question
//!   "send to N owner groups?", then posted in every active owner group. The button
//!   carries only the notice's id; the press must come under that question (it replies to
//!   the /notice message), from its author, while the notice is pending.

use chrono::Duration;
use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, Message};

use super::callbacks::toast;
use super::commands::ManagerCommand;
use super::{AppRef, HandlerResult, answer, reply_text};
use crate::domain::CardAction;
use crate::domain::daily::local_date;
use crate::i18n::{Locale, t};
use crate::jobs::{greeting, summary};
use crate::outbox::{Buttons, Outgoing, Target};
use crate::store::NoticeStatus;

/// Longest notice, in UTF-16 code units: room for the header within Telegram's 4,096.
pub const NOTICE_LIMIT: usize = 3500;
/// A notice not confirmed within this long must be asked again.
const NOTICE_TTL_HOURS: i64 = 24;

pub async fn command(bot: Bot, app: AppRef, msg: Message, cmd: ManagerCommand) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let locale = if msg.chat.is_private() {
        app.user_locale(Some(&user))
    } else {
        app.staff_locale()
    };
    let in_staff_chat = msg.chat.id.0 == app.settings.staff_chat_id;
    let allowed = app.settings.is_manager(user.id.0)
        || (matches!(cmd, ManagerCommand::Summary) && in_staff_chat);
    if !allowed {
        let key = "error.managers_only";
        return super::answer_once(&app, &bot, &msg, locale, key, &[]).await;
    }
    let now = app.now();
    let today = local_date(now, app.settings.timezone);
    match cmd {
        ManagerCommand::Greet => {
            let mut tx = app.store.begin().await?;
            let groups = tx.active_groups().await?;
            let out = match groups.first() {
                None => answer(&msg, locale, "greet.no_groups", &[]),
                Some(group) => {
                    let greeting = greeting::text(&app, &mut tx, group, today).await?;
                    let head = t(locale, "greet.preview", &[("group", &group.name)]);
                    reply_text(&msg, format!("{head}\n\n{greeting}"))
                }
            };
            tx.enqueue(&out, now).await?;
            app.commit(&bot, tx).await
        }
        ManagerCommand::Summary => {
            let mut tx = app.store.begin().await?;
            // In a route's staff chat, that chat's summary; elsewhere the main one's.
            let chat = msg.chat.id.0;
            let chat = if app.settings.is_staff_chat(chat) {
                chat
            } else {
                app.settings.staff_chat_id
            };
            let texts = summary::texts(&app, &mut tx, today, now, chat).await?;
            let out: Vec<Outgoing> = texts.into_iter().map(|t| reply_text(&msg, t)).collect();
            tx.enqueue_all(&out, now).await?;
            app.commit(&bot, tx).await
        }
        ManagerCommand::Notice(text) => ask_notice(bot, app, msg, user.id.0, text, locale).await,
        ManagerCommand::Watch(_) | ManagerCommand::Unwatch(_) => Ok(()),
    }
}

async fn ask_notice(
    bot: Bot,
    app: AppRef,
    msg: Message,
    author: u64,
    text: String,
    locale: Locale,
) -> HandlerResult {
    let text = text.trim().to_owned();
    if text.is_empty() {
        return app
            .send(&bot, vec![answer(&msg, locale, "notice.usage", &[])])
            .await;
    }
    if text.encode_utf16().count() > NOTICE_LIMIT {
        let max = NOTICE_LIMIT.to_string();
        return app
            .send(
                &bot,
                vec![answer(&msg, locale, "notice.too_long", &[("max", &max)])],
            )
            .await;
    }
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let groups = tx.active_groups().await?.len();
    if groups == 0 {
        drop(tx);
        return app
            .send(&bot, vec![answer(&msg, locale, "greet.no_groups", &[])])
            .await;
    }
    let id = tx
        .insert_notice(&text, author, msg.chat.id.0, msg.id.0, now)
        .await?;
    let count = groups.to_string();
    let question = Outgoing::Text {
        chat_id: msg.chat.id.0,
        text: t(
            locale,
            "notice.confirm",
            &[("count", &count), ("text", &text)],
        ),
        reply_to: Some(Target::Message(msg.id.0)),
        buttons: Some(Buttons(vec![vec![
            (
                t(locale, "notice.button_send", &[("count", &count)]),
                CardAction::Notice { id, send: true }.encode(),
            ),
            (
                t(locale, "notice.button_cancel", &[]),
                CardAction::Notice { id, send: false }.encode(),
            ),
        ]])),
        remember: None,
    };
    tx.enqueue(&question, now).await?;
    app.commit(&bot, tx).await
}

/// Send or Cancel under a notice's question.
pub async fn press_notice(
    bot: &Bot,
    app: &AppRef,
    q: &CallbackQuery,
    question: &Message,
    id: i64,
    send: bool,
) -> HandlerResult {
    let locale = if question.chat.is_private() {
        app.user_locale(Some(&q.from))
    } else {
        app.staff_locale()
    };
    let now = app.now();
    let notice = app.store.notice(id).await?;
    let genuine = notice.as_ref().is_some_and(|n| {
        n.chat_id == question.chat.id.0
            && question.reply_to_message().map(|m| m.id.0) == Some(n.command_message_id)
            && n.status == NoticeStatus::Pending
            && now - n.created_at <= Duration::hours(NOTICE_TTL_HOURS)
    });
    let Some(notice) = notice.filter(|_| genuine) else {
        return toast(bot, q, t(locale, "error.stale_button", &[]), true).await;
    };
    if q.from.id.0 != notice.asked_by || !app.settings.is_manager(q.from.id.0) {
        return toast(bot, q, t(locale, "notice.not_yours", &[]), true).await;
    }
    let mut tx = app.store.begin().await?;
    let groups = if send {
        tx.active_groups().await?
    } else {
        Vec::new()
    };
    let status = if send {
        NoticeStatus::Sent
    } else {
        NoticeStatus::Cancelled
    };
    if !tx
        .decide_notice(id, status, groups.len() as i64, now)
        .await?
    {
        drop(tx);
        return toast(bot, q, t(locale, "error.stale_button", &[]), true).await;
    }
    let count = groups.len().to_string();
    let notices: Vec<Outgoing> = groups
        .iter()
        .map(|g| {
            let header = t(app.group_locale(g, None), "notice.header", &[]);
            Outgoing::text(g.chat_id, format!("{header}\n{}", notice.text))
        })
        .collect();
    let (edited, answered) = if send {
        (
            t(
                locale,
                "notice.sent",
                &[("count", &count), ("text", &notice.text)],
            ),
            t(locale, "notice.toast_sent", &[("count", &count)]),
        )
    } else {
        (
            t(locale, "notice.cancelled", &[("text", &notice.text)]),
            t(locale, "notice.toast_cancelled", &[]),
        )
    };
    // The notices are a broadcast; the edit answers the manager who pressed.
    tx.enqueue_bulk(&notices, now).await?;
    let edit = Outgoing::Edit {
        chat_id: question.chat.id.0,
        target: Target::Message(question.id.0),
        text: edited,
        buttons: None,
    };
    tx.enqueue(&edit, now).await?;
    app.commit(bot, tx).await?;
    toast(bot, q, answered, false).await
}
