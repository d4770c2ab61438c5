//! Managers: owner groups (/register, /unregister, /lang) and the watch list.
//!
//! In a group that is not an owner group, anyone may send `/register`: a non-manager
//! is told once that only managers can (once a day per person, once every few minutes
//! per group), then Butler stays silent and stays in the group. A manager's commands
//! are always answered.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Message;

use super::commands::{GroupAdminCommand, ManagerCommand};
use super::{App, AppRef, BotError, HandlerResult, answer, answer_once, change};
use crate::i18n::Locale;
use crate::limiter::Gate;
use crate::store::Group;

/// `/register`, `/unregister`, `/lang` in any group, registered or not.
pub fn group_branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .filter_command::<GroupAdminCommand>()
        .endpoint(group_command)
}

async fn group_command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    cmd: GroupAdminCommand,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let group = app.store.group(msg.chat.id.0).await?;
    let locale = match &group {
        Some(g) => app.group_locale(g, Some(&user)),
        None => app.user_locale(Some(&user)),
    };
    if msg.chat.id.0 == app.settings.staff_chat_id {
        let key = "register.not_in_staff_chat";
        return answer_once(&app, &bot, &msg, locale, key, &[]).await;
    }
    if !app.settings.is_manager(user.id.0) {
        let registered = group.as_ref().is_some_and(|g| g.active);
        if !registered && !stranger_may_hear(&app, msg.chat.id.0, user.id.0) {
            return Ok(());
        }
        // Silence in unregistered groups would look broken; a polite word is better.
        return answer_once(&app, &bot, &msg, locale, "error.managers_only", &[]).await;
    }
    match cmd {
        GroupAdminCommand::Register(name) => register(bot, app, msg, name, user.id.0, locale).await,
        GroupAdminCommand::Unregister => {
            let (chat_id, now) = (msg.chat.id.0, app.now());
            change!(app, &bot, &msg, locale, |tx| {
                let key = if tx.deactivate_group(chat_id).await? {
                    "unregister.done"
                } else {
                    "unregister.not_registered"
                };
                tx.enqueue(&answer(&msg, locale, key, &[]), now).await?;
                Ok(())
            })
        }
        GroupAdminCommand::Lang(code) => set_lang(bot, app, msg, group, code, locale).await,
    }
}

/// Whether a non-manager asking in a group that is not an owner group is answered: once
/// a day per person (then silence: Butler stays, so that a manager's `/register` still
/// works), and once per `limits.repeat_minutes` per group, whoever asks.
fn stranger_may_hear(app: &App, chat: i64, user: u64) -> bool {
    let heard = app.may_answer_all(&[Gate::Stranger { chat, user }, Gate::StrangeGroup { chat }]);
    if !heard {
        tracing::debug!(
            chat,
            user,
            "not a manager, not an owner group: answered before"
        );
    }
    heard
}

/// `/register [name]`: the group becomes an owner group, named `name` or its title.
async fn register(
    bot: Bot,
    app: AppRef,
    msg: Message,
    name: String,
    by: u64,
    locale: Locale,
) -> HandlerResult {
    let name = name.trim();
    let name = if name.is_empty() {
        msg.chat.title().unwrap_or("").trim().to_owned()
    } else {
        name.to_owned()
    };
    if name.is_empty() {
        return answer_once(&app, &bot, &msg, locale, "register.usage", &[]).await;
    }
    let name = crate::domain::text::shorten(&name, 64);
    let (chat_id, now) = (msg.chat.id.0, app.now());
    change!(app, &bot, &msg, locale, |tx| {
        let new = tx.register_group(chat_id, &name, by, now).await?;
        let key = if new {
            "register.done"
        } else {
            "register.updated"
        };
        tx.enqueue(&answer(&msg, locale, key, &[("name", &name)]), now)
            .await?;
        Ok(())
    })
}

/// `/lang <code>` in a registered group: the language Butler speaks there.
async fn set_lang(
    bot: Bot,
    app: AppRef,
    msg: Message,
    group: Option<Group>,
    code: String,
    locale: Locale,
) -> HandlerResult {
    let Some(group) = group.filter(|g| g.active) else {
        let key = "unregister.not_registered";
        return answer_once(&app, &bot, &msg, locale, key, &[]).await;
    };
    let Ok(new) = code.parse::<Locale>() else {
        return answer_once(&app, &bot, &msg, locale, "lang.usage", &[]).await;
    };
    let now = app.now();
    change!(app, &bot, &msg, new, |tx| {
        tx.set_group_locale(group.chat_id, new.code()).await?;
        tx.enqueue(&answer(&msg, new, "lang.set", &[]), now).await?;
        Ok(())
    })
}

/// `/watch <user id>` and `/unwatch <user id>`, in the staff chat or privately; `/greet`,
/// `/summary` and `/notice` are [`super::announce`]'s.
pub async fn command(bot: Bot, app: AppRef, msg: Message, cmd: ManagerCommand) -> HandlerResult {
    if matches!(
        cmd,
        ManagerCommand::Greet | ManagerCommand::Summary | ManagerCommand::Notice(_)
    ) {
        return super::announce::command(bot, app, msg, cmd).await;
    }
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let locale = if msg.chat.is_private() {
        app.user_locale(Some(&user))
    } else {
        app.staff_locale()
    };
    if !app.settings.is_manager(user.id.0) {
        return answer_once(&app, &bot, &msg, locale, "error.managers_only", &[]).await;
    }
    let (raw, watched) = match &cmd {
        ManagerCommand::Watch(raw) => (raw, true),
        ManagerCommand::Unwatch(raw) => (raw, false),
        _ => return Ok(()),
    };
    let Ok(owner_id) = raw.trim().parse::<u64>() else {
        return answer_once(&app, &bot, &msg, locale, "watch.usage", &[]).await;
    };
    let now = app.now();
    change!(app, &bot, &msg, locale, |tx| {
        tx.set_watched(owner_id, watched, now).await?;
        let key = if watched {
            "watch.added"
        } else {
            "watch.removed"
        };
        tx.enqueue(
            &answer(&msg, locale, key, &[("user", &owner_id.to_string())]),
            now,
        )
        .await?;
        Ok(())
    })
}
