//! Chats and messages as the page draws them: JSON built from the emulator's state, in
//! the sandbox's time and language.

use serde_json::{Value, json};

use super::world::{
    CAST, ENGINEERING, GROUP, MANAGER, MANAGER_CHAT, Role, STAFF_CHAT, World, lock,
};
use crate::i18n::{Locale, t};
use crate::jobs::next_due;
use butler_emulator::{Event, Message, State};

/// The chats the page shows, left to right (stacked top to bottom on a phone).
pub const SHOWN: [i64; 4] = [GROUP, STAFF_CHAT, ENGINEERING, MANAGER_CHAT];

/// The page's own labels (`sandbox.*` in the locale files), sent with every snapshot.
const PAGE_KEYS: [&str; 34] = [
    "title",
    "console",
    "tagline",
    "hint",
    "clock",
    "jump_to",
    "jump_hour",
    "jump_morning_tip",
    "jump_evening_tip",
    "jump_hour_tip",
    "reset",
    "reset_confirm",
    "send_as",
    "placeholder",
    "send",
    "attach",
    "upload",
    "reply_to",
    "photo",
    "download",
    "lang_tip",
    "edited",
    "commands",
    "members",
    "private_title",
    "private_subtitle",
    "role_owner",
    "role_staff",
    "role_manager",
    "role_bot",
    "busy",
    "offline",
    "ok",
    "service",
];

/// Everything the page shows: labels, people, chats with their command menus, every
/// message, the clock.
pub fn snapshot(world: &World, busy: bool) -> Value {
    let lang = world.lang();
    let settings = world.settings();
    let tz = settings.timezone;
    let now = world.time.now();
    let strings: serde_json::Map<String, Value> = PAGE_KEYS
        .iter()
        .map(|k| {
            (
                (*k).to_owned(),
                json!(t(lang, &format!("sandbox.{k}"), &[])),
            )
        })
        .collect();
    let local_time =
        |spec| next_due(spec, tz, now).map(|at| at.with_timezone(&tz).format("%H:%M").to_string());
    world.emu.read(|s| {
        let personas: Vec<Value> = CAST
            .iter()
            .map(|p| {
                json!({
                    "id": p.id,
                    "name": s.user(p.id).map(|u| u.first_name.clone()).unwrap_or_default(),
                    "role": p.role,
                    "unit": p.unit,
                })
            })
            .collect();
        let chats: Vec<Value> = SHOWN.into_iter().map(|id| chat(s, id, lang)).collect();
        let mut messages = Vec::new();
        for id in SHOWN {
            for m in s.messages_in(id) {
                messages.push(message(world, s, &m));
            }
        }
        json!({
            "type": "snapshot",
            "busy": busy,
            "lang": lang.code(),
            "strings": strings,
            "tz": tz.name(),
            "now_ms": now.timestamp_millis(),
            "bot": { "id": s.bot().id, "name": s.bot().first_name },
            "personas": personas,
            "chats": chats,
            "messages": messages,
            "jumps": {
                "morning": local_time(&settings.schedule.morning_greeting),
                "evening": local_time(&settings.schedule.daily_summary),
            },
        })
    })
}

/// A chat pane: its title, who is in it, and the command menu Butler published for it.
fn chat(s: &State, id: i64, lang: Locale) -> Value {
    let members: Vec<u64> = CAST
        .iter()
        .filter(|p| s.is_member(id, p.id))
        .map(|p| p.id)
        .collect();
    let (kind, title) = if id == MANAGER_CHAT {
        ("private", t(lang, "sandbox.private_title", &[]))
    } else {
        let title = s.chat(id).and_then(|c| c.title.clone()).unwrap_or_default();
        ("group", title)
    };
    let manager_name = s
        .user(MANAGER)
        .map(|u| u.first_name.clone())
        .unwrap_or_default();
    let subtitle = if id == MANAGER_CHAT {
        t(lang, "sandbox.private_subtitle", &[("name", &manager_name)])
    } else {
        // The bot counts as a member, as Telegram counts it.
        let count = (members.len() + 1).to_string();
        t(lang, "sandbox.members", &[("count", &count)])
    };
    // The first member acts by default: an owner, a staff member, the manager.
    let acting = members
        .iter()
        .copied()
        .find(|m| CAST.iter().any(|p| p.id == *m && p.role != Role::Manager))
        .or(members.first().copied());
    json!({
        "id": id,
        "kind": kind,
        "title": title,
        "subtitle": subtitle,
        "members": members,
        "acting": acting,
        "menu": menu(s, id, lang),
    })
}

/// The commands Butler set (`setMyCommands`) for this chat in this language, as the
/// Telegram app's "/" menu lists them.
fn menu(s: &State, chat: i64, lang: Locale) -> Vec<Value> {
    let wanted_scope = |scope: &Value| {
        let kind = scope.get("type").and_then(Value::as_str).unwrap_or("");
        match chat {
            STAFF_CHAT | ENGINEERING => {
                kind == "chat"
                    && scope.get("chat_id").is_some_and(|c| {
                        c.as_i64() == Some(chat) || c.as_str() == Some(&chat.to_string())
                    })
            }
            MANAGER_CHAT => kind == "all_private_chats",
            _ => kind == "all_group_chats",
        }
    };
    let language = match lang {
        Locale::ZhCn => Some("zh"),
        Locale::En => None,
    };
    s.commands()
        .iter()
        .rev()
        .find(|set| wanted_scope(&set.scope) && set.language_code.as_deref() == language)
        .map(|set| {
            set.commands
                .iter()
                .map(|(c, d)| json!({ "command": c, "description": d }))
                .collect()
        })
        .unwrap_or_default()
}

/// One message as a bubble: who, when, text or caption, photo or document, what it
/// replies to, its buttons.
fn message(world: &World, s: &State, m: &Message) -> Value {
    let at = lock(&world.stamps)
        .get(&(m.chat_id, m.id))
        .copied()
        .unwrap_or_else(|| world.time.now().timestamp_millis());
    let lang = world.lang();
    let reply = m.reply_to.and_then(|r| s.message(m.chat_id, r)).map(|r| {
        let snippet = match r.body() {
            "" if r.photo.is_some() => t(lang, "sandbox.photo", &[]),
            "" if r.document.is_some() => r
                .document
                .as_ref()
                .and_then(|d| d.file_name.clone())
                .unwrap_or_default(),
            body => body.chars().take(90).collect(),
        };
        json!({ "id": r.id, "name": r.from.first_name, "text": snippet })
    });
    let buttons: Vec<Vec<Value>> = m
        .buttons
        .iter()
        .map(|row| {
            row.iter()
                .map(|b| json!({ "text": b.text, "data": b.callback_data, "url": b.url }))
                .collect()
        })
        .collect();
    json!({
        "chat_id": m.chat_id,
        "id": m.id,
        "from": { "id": m.from.id, "name": m.from.first_name, "bot": m.from.is_bot },
        "at_ms": at,
        "text": m.body(),
        "photo": m.photo.as_ref().map(|p| format!("/photo/{}", p.file_unique_id)),
        "document": m.document.as_ref().map(|d| json!({
            "name": d.file_name.clone().unwrap_or_else(|| "file".to_owned()),
            "size": d.file_size,
            "url": format!("/file/{}", d.file_unique_id),
        })),
        "reply": reply,
        "buttons": buttons,
        "service": m.service.as_ref().map(|_| t(lang, "sandbox.service", &[])),
        "edited": m.edit_date.is_some(),
    })
}

/// A chat event for the page, or `None` for chats the page does not show.
pub fn event(world: &World, event: Event) -> Option<Value> {
    let shown = |chat: i64| SHOWN.contains(&chat);
    match event {
        Event::Message(m) if shown(m.chat_id) => {
            let view = world.emu.read(|s| message(world, s, &m));
            Some(json!({ "type": "message", "message": view }))
        }
        Event::Edited(m) if shown(m.chat_id) => {
            let view = world.emu.read(|s| message(world, s, &m));
            Some(json!({ "type": "edited", "message": view }))
        }
        Event::Deleted {
            chat_id,
            message_id,
        } if shown(chat_id) => {
            Some(json!({ "type": "deleted", "chat_id": chat_id, "id": message_id }))
        }
        Event::CallbackAnswered(a) if shown(a.chat_id) => Some(json!({
            "type": "answer",
            "chat_id": a.chat_id,
            "message_id": a.message_id,
            "user": a.user,
            "text": a.text,
            "alert": a.show_alert,
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_page_label_has_a_text_in_both_locales() {
        use crate::i18n::{Locale, has_key};
        for k in super::PAGE_KEYS {
            let key = format!("sandbox.{k}");
            for l in Locale::ALL {
                assert!(has_key(l, &key), "{l} lacks {key}");
            }
        }
    }
}
