//! Dispatch in the chat: the roster Butler keeps of the staff it sees, `/staff`,
//! `/trades`, `/assign`, `/transfer`, `/return`, `/open` with a filter, and the card's
//! Assign button with the roster under it. The rules and changes are
//! `domain::dispatch` and `tickets::{assign, transfer, give_back}`.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, Message, User};

use super::callbacks::{genuine, toast};
use super::commands::DispatchCommand;
use super::{App, AppRef, BotError, HandlerResult, answer, change, display_name};
use crate::domain::dispatch::{Mention, OpenFilter, may_assign, parse_trades, roster_order};
use crate::domain::{Actor, CardAction, Error, TicketId};
use crate::i18n::{self, Locale, t};
use crate::messages::{self, render};
use crate::outbox::{Buttons, Outgoing};
use crate::store::{BotMessageKind, OpenQuery, StaffMember};
use crate::tickets;

/// People offered under a card by its Assign button.
const MENU_PEOPLE: usize = 8;
const LIST_LIMIT: i64 = 200;

/// The dispatch commands, in a staff chat or a private chat.
pub fn branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .filter_command::<DispatchCommand>()
        .endpoint(command)
}

/// Remembers the sender of a message in the staff chat on the roster (name, username,
/// the chat, when). A failure is logged: the message is still handled.
pub async fn seen_in_staff_chat(app: AppRef, msg: Message) {
    if let Some(user) = msg.from.as_ref() {
        seen(&app, user, msg.chat.id.0).await;
    }
}

/// Remembers `user`, seen in staff chat `chat_id`, on the roster.
pub async fn seen(app: &App, user: &User, chat_id: i64) {
    if user.is_bot {
        return;
    }
    let name = display_name(user);
    let result = async {
        let mut tx = app.store.begin().await?;
        tx.see_staff(
            user.id.0,
            &name,
            user.username.as_deref(),
            chat_id,
            app.now(),
        )
        .await?;
        tx.commit().await
    };
    if let Err(e) = result.await {
        tracing::warn!(error = %e, user = user.id.0, "recording a staff member failed");
    }
}

async fn command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    cmd: DispatchCommand,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    // In the staff chat the branch before this one refused outsiders; privately, ask.
    if msg.chat.is_private() && !app.is_staff(&bot, user.id.0).await {
        return super::refuse(&app, &bot, &msg, locale, &Error::NotStaff).await;
    }
    let actor = app.actor(&user);
    let result = match cmd {
        DispatchCommand::Staff => return staff_list(&bot, &app, &msg, locale).await,
        DispatchCommand::Trades(args) => trades(&bot, &app, &msg, &actor, &args, locale).await,
        DispatchCommand::Assign(args) => {
            let usage = "usage.assign";
            hand(&bot, &app, &msg, &actor, &args, usage, locale).await
        }
        DispatchCommand::Transfer(args) => {
            let usage = "usage.transfer";
            hand(&bot, &app, &msg, &actor, &args, usage, locale).await
        }
        DispatchCommand::Return(args) => give_back(&bot, &app, &msg, &actor, &args, locale).await,
    };
    match result {
        Err(Reply::Refused(e)) => super::refuse(&app, &bot, &msg, locale, &e).await,
        Err(Reply::Usage(key)) => super::answer_once(&app, &bot, &msg, locale, key, &[]).await,
        Err(Reply::Failed(e)) => Err(e),
        Ok(()) => Ok(()),
    }
}

/// Why a dispatch command ends without its change.
enum Reply {
    Refused(Error),
    Usage(&'static str),
    Failed(BotError),
}

impl From<Error> for Reply {
    fn from(e: Error) -> Self {
        Reply::Refused(e)
    }
}

impl From<crate::store::Error> for Reply {
    fn from(e: crate::store::Error) -> Self {
        Reply::Failed(e.into())
    }
}

impl From<BotError> for Reply {
    fn from(e: BotError) -> Self {
        Reply::Failed(e)
    }
}

/// `/staff`: everyone on the roster, their trades and open tickets.
async fn staff_list(bot: &Bot, app: &App, msg: &Message, locale: Locale) -> HandlerResult {
    let roster = app.store.roster().await?;
    if roster.is_empty() {
        return app
            .send(bot, vec![answer(msg, locale, "staff.empty", &[])])
            .await;
    }
    let count = roster.len().to_string();
    let mut lines = vec![t(locale, "staff.heading", &[("count", &count)])];
    lines.extend(
        roster
            .iter()
            .take(render::LIST_MAX)
            .map(|m| staff_line(m, locale)),
    );
    if roster.len() > render::LIST_MAX {
        let more = (roster.len() - render::LIST_MAX).to_string();
        lines.push(t(locale, "list.more", &[("count", &more)]));
    }
    let text = lines.join("\n");
    app.send(bot, vec![super::reply_text(msg, text)]).await
}

/// `Wang (@wang) · Plumbing, Electrical · 2 open`.
fn staff_line(m: &StaffMember, locale: Locale) -> String {
    let who = match &m.username {
        Some(u) => format!("{} (@{u})", m.name),
        None => m.name.clone(),
    };
    let trades = trade_names(&m.trades, locale);
    let open = m.open.to_string();
    t(
        locale,
        "staff.line",
        &[("who", &who), ("trades", &trades), ("open", &open)],
    )
}

fn trade_names(trades: &[crate::domain::Category], locale: Locale) -> String {
    if trades.is_empty() {
        return t(locale, "staff.no_trades", &[]);
    }
    let names: Vec<String> = trades
        .iter()
        .map(|c| i18n::category_name(locale, *c))
        .collect();
    names.join(", ")
}

/// The person a command names: `@username` as its first word, else the author of the
/// message it replies to. Returns them and the words after the mention.
async fn person(app: &App, msg: &Message, args: &str) -> Result<(Actor, String), Reply> {
    let args = args.trim();
    let (first, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if first.starts_with('@') {
        let mention = Mention::parse(first)?;
        let member = app
            .store
            .staff_by_username(mention.username())
            .await?
            .ok_or_else(|| Error::UnknownStaff(first.to_owned()))?;
        return Ok((member_actor(app, &member), rest.trim().to_owned()));
    }
    let replied = msg
        .reply_to_message()
        .and_then(|r| r.from.as_ref())
        .filter(|u| !u.is_bot);
    match replied {
        Some(user) => Ok((app.actor(user), args.to_owned())),
        None if first.is_empty() => Err(Reply::Usage("usage.person")),
        None => Err(Error::UnknownStaff(first.to_owned()).into()),
    }
}

/// Whether `user` is a current member of the staff chat of ticket `id` (the main one or
/// its route's): only they can work it there.
async fn on_staff_of(
    bot: &Bot,
    app: &App,
    id: TicketId,
    user: u64,
) -> Result<bool, crate::store::Error> {
    let chat = app.store.ticket(id).await?.and_then(|t| t.staff_chat);
    let chat = chat.unwrap_or(app.settings.staff_chat_id);
    Ok(app.is_member_of(bot, chat, user).await)
}

fn member_actor(app: &App, m: &StaffMember) -> Actor {
    Actor {
        id: m.user_id,
        name: m.name.clone(),
        is_manager: app.settings.is_manager(m.user_id),
    }
}

/// `/trades @username plumbing electrical` (managers): that person's trades.
async fn trades(
    bot: &Bot,
    app: &App,
    msg: &Message,
    actor: &Actor,
    args: &str,
    locale: Locale,
) -> Result<(), Reply> {
    actor.must_be_manager()?;
    let (who, rest) = person(app, msg, args).await?;
    let trades = parse_trades(&rest, i18n::parse_category)?;
    let names = trade_names(&trades, locale);
    let now = app.now();
    let mut tx = app.store.begin().await?;
    if !tx.set_trades(who.id, &trades).await? {
        return Err(Error::UnknownStaff(who.name).into());
    }
    let text = t(
        locale,
        "trades.set",
        &[("who", &who.name), ("trades", &names)],
    );
    tx.enqueue(&super::reply_text(msg, text), now).await?;
    Ok(app.commit(bot, tx).await?)
}

/// `/assign N @username [note]` and `/transfer N @username [reason]`.
async fn hand(
    bot: &Bot,
    app: &App,
    msg: &Message,
    actor: &Actor,
    args: &str,
    usage: &'static str,
    locale: Locale,
) -> Result<(), Reply> {
    let args = args.trim();
    let (first, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if first.is_empty() {
        return Err(Reply::Usage(usage));
    }
    let id: TicketId = first.parse()?;
    let assigning = usage == "usage.assign";
    if assigning {
        may_assign(actor, app.settings.is_dispatcher(actor.id))?;
    }
    let (to, reason) = person(app, msg, rest).await?;
    if !on_staff_of(bot, app, id, to.id).await? {
        return Err(Error::UnknownStaff(to.name).into());
    }
    let reason = (!reason.is_empty()).then_some(reason.as_str());
    let req = tickets::Handover { id, to, reason };
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let handed = if assigning {
        let dispatcher = app.settings.is_dispatcher(actor.id);
        tickets::assign(&mut tx, &app.settings, actor, dispatcher, req, now).await
    } else {
        tickets::transfer(&mut tx, &app.settings, actor, req, now).await
    };
    let handed = match handed {
        Ok(h) => h,
        Err(tickets::Error::Refused(e)) => return Err(e.into()),
        Err(tickets::Error::Store(e)) => return Err(e.into()),
    };
    let key = if assigning {
        "assign.done"
    } else {
        "transfer.done"
    };
    let text = handed_text(key, &handed, locale);
    tx.enqueue(&super::reply_text(msg, text), now).await?;
    Ok(app.commit(bot, tx).await?)
}

/// "#5 is Wang's now." and, when they are busy, the warning.
fn handed_text(key: &str, handed: &tickets::Handed, locale: Locale) -> String {
    let id = handed.ticket.id.to_string();
    let to = handed
        .ticket
        .taken_by
        .as_ref()
        .map_or(String::new(), |(_, n)| n.clone());
    let mut text = t(locale, key, &[("id", &id), ("to", &to)]);
    if let Some(open) = handed.busy {
        text.push('\n');
        let open = open.to_string();
        text.push_str(&t(locale, "assign.busy", &[("to", &to), ("open", &open)]));
    }
    text
}

/// `/return N <reason>` (the holder).
async fn give_back(
    bot: &Bot,
    app: &App,
    msg: &Message,
    actor: &Actor,
    args: &str,
    locale: Locale,
) -> Result<(), Reply> {
    let args = args.trim();
    let (first, reason) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if first.is_empty() {
        return Err(Reply::Usage("usage.return"));
    }
    let id: TicketId = first.parse()?;
    let now = app.now();
    let settings = &app.settings;
    let reason = reason.trim();
    change!(app, bot, msg, locale, |tx| {
        tickets::give_back(tx, settings, actor, id, reason, now).await?;
        let answer = answer(msg, locale, "return.done", &[("id", &id.to_string())]);
        tx.enqueue(&answer, now).await?;
        Ok(())
    })?;
    Ok(())
}

/// `/open [category | @username | unassigned | paused]`.
pub async fn open(
    bot: Bot,
    app: AppRef,
    msg: Message,
    args: String,
    locale: Locale,
) -> HandlerResult {
    let query = match open_query(&app, &args).await {
        // Each staff chat sees its own tickets: a route's chat those routed to it, the
        // main chat the rest.
        Ok(q) => OpenQuery {
            route: (msg.chat.id.0 != app.settings.staff_chat_id).then_some(msg.chat.id.0),
            ..q
        },
        Err(Reply::Refused(e)) => return super::refuse(&app, &bot, &msg, locale, &e).await,
        Err(Reply::Usage(key)) => {
            return super::answer_once(&app, &bot, &msg, locale, key, &[]).await;
        }
        Err(Reply::Failed(e)) => return Err(e),
    };
    let tickets = app.store.open_tickets_where(query, LIST_LIMIT).await?;
    let text = render::ticket_list(&tickets, locale, "open.heading", "open.empty");
    app.send(&bot, vec![super::reply_text(&msg, text)]).await
}

async fn open_query(app: &App, args: &str) -> Result<OpenQuery, Reply> {
    Ok(match OpenFilter::parse(args, i18n::parse_category)? {
        OpenFilter::All => OpenQuery::default(),
        OpenFilter::Category(c) => OpenQuery {
            category: Some(c),
            ..OpenQuery::default()
        },
        OpenFilter::Unassigned => OpenQuery {
            unassigned: true,
            ..OpenQuery::default()
        },
        OpenFilter::Paused => OpenQuery {
            paused: true,
            ..OpenQuery::default()
        },
        OpenFilter::Holder(m) => {
            let member = app
                .store
                .staff_by_username(m.username())
                .await?
                .ok_or_else(|| Error::UnknownStaff(format!("@{}", m.username())))?;
            OpenQuery {
                holder: Some(member.user_id),
                ..OpenQuery::default()
            }
        }
    })
}

/// The Assign button under a card, and the roster buttons under it.
pub async fn press(
    bot: &Bot,
    app: &App,
    q: &CallbackQuery,
    msg: &Message,
    action: CardAction,
) -> HandlerResult {
    let locale = app.staff_locale();
    if genuine(app, msg, &action).await.is_none() {
        return toast(bot, q, t(locale, "error.stale_button", &[]), true).await;
    }
    let actor = app.actor(&q.from);
    if let Err(e) = may_assign(&actor, app.settings.is_dispatcher(actor.id)) {
        return toast(bot, q, refusal_text(locale, &e), true).await;
    }
    match action {
        CardAction::Assign(id) => offer_roster(bot, app, q, msg, id).await,
        CardAction::AssignTo { ticket, user } => {
            assign_pressed(bot, app, q, &actor, ticket, user).await
        }
        _ => Ok(()),
    }
}

/// Sends the roster under the card: people with the ticket's trade first, then the least
/// busy.
async fn offer_roster(
    bot: &Bot,
    app: &App,
    q: &CallbackQuery,
    card: &Message,
    id: TicketId,
) -> HandlerResult {
    let locale = app.staff_locale();
    let Some(ticket) = app.store.ticket(id).await? else {
        return toast(bot, q, t(locale, "error.stale_button", &[]), true).await;
    };
    if let Err(e) = ticket.assign(0) {
        return toast(bot, q, refusal_text(locale, &e), true).await;
    }
    let mut roster = app.store.roster().await?;
    if roster.is_empty() {
        return toast(bot, q, t(locale, "staff.empty", &[]), true).await;
    }
    roster_order(&mut roster, |m| {
        (m.trades.contains(&ticket.category), m.open, m.name.as_str())
    });
    let rows = roster
        .iter()
        .take(MENU_PEOPLE)
        .map(|m| {
            let label = menu_label(m, ticket.category, locale);
            let data = CardAction::AssignTo {
                ticket: id,
                user: m.user_id,
            };
            vec![(label, data.encode())]
        })
        .collect();
    let menu = Outgoing::Text {
        chat_id: card.chat.id.0,
        text: t(locale, "assign.menu", &[("id", &id.to_string())]),
        reply_to: Some(messages::card_of(id)),
        buttons: Some(Buttons(rows)),
        remember: messages::remember(id, BotMessageKind::AssignMenu, None),
    };
    app.send(bot, vec![menu]).await?;
    toast(bot, q, t(locale, "assign.menu_sent", &[]), false).await
}

/// `Wang · Plumbing ✓ · 2 open`, within a button's width.
fn menu_label(m: &StaffMember, category: crate::domain::Category, locale: Locale) -> String {
    let mark = if m.trades.contains(&category) {
        " ✓"
    } else {
        ""
    };
    let name = crate::domain::text::shorten(&m.name, 24);
    let open = m.open.to_string();
    format!(
        "{name}{mark} · {}",
        t(locale, "assign.open_count", &[("open", &open)])
    )
}

/// A roster button: the ticket goes to that person.
async fn assign_pressed(
    bot: &Bot,
    app: &App,
    q: &CallbackQuery,
    actor: &Actor,
    id: TicketId,
    user: u64,
) -> HandlerResult {
    let locale = app.staff_locale();
    let Some(member) = app.store.staff_member(user).await? else {
        return toast(bot, q, t(locale, "error.stale_button", &[]), true).await;
    };
    if !on_staff_of(bot, app, id, user).await? {
        let e = Error::UnknownStaff(member.name.clone());
        return toast(bot, q, refusal_text(locale, &e), true).await;
    }
    let to = member_actor(app, &member);
    let req = tickets::Handover {
        id,
        to,
        reason: None,
    };
    let now = app.now();
    let dispatcher = app.settings.is_dispatcher(actor.id);
    let mut tx = app.store.begin().await?;
    match tickets::assign(&mut tx, &app.settings, actor, dispatcher, req, now).await {
        Ok(handed) => {
            app.commit(bot, tx).await?;
            let text = handed_text("assign.done", &handed, locale);
            toast(bot, q, text, handed.busy.is_some()).await
        }
        Err(tickets::Error::Refused(e)) => {
            drop(tx);
            toast(bot, q, refusal_text(locale, &e), true).await
        }
        Err(tickets::Error::Store(e)) => Err(e.into()),
    }
}

/// A refusal as a button's alert reads it.
fn refusal_text(locale: Locale, e: &Error) -> String {
    let args = e.args();
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t(locale, e.locale_key(), &args)
}
