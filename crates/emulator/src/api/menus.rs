//! Buttons, menus and members: answering a press, the command menus, chat members.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Answer;
use super::params::{Params, chat_of, flag, int, object, string};
use crate::model::utf16_len;
use crate::state::{BotStatus, CallbackAnswer, CommandSet, Event, State};

/// How long Telegram lets a bot answer a button press.
const QUERY_LIFETIME: Duration = Duration::from_secs(15);

impl State {
    // ---- buttons, menus, members ------------------------------------------------------

    pub(super) fn answer_callback_query(
        &mut self,
        p: &Params,
        now: Instant,
    ) -> Result<Value, Answer> {
        let invalid = || {
            Answer::bad(
                "Bad Request: query is too old and response timeout expired or query id is invalid",
            )
        };
        let id = string(p, "callback_query_id").ok_or_else(invalid)?;
        let text = string(p, "text");
        if text.as_deref().is_some_and(|t| utf16_len(t) > 200) {
            return Err(Answer::bad("Bad Request: MESSAGE_TOO_LONG"));
        }
        let q = self.queries.get_mut(&id).ok_or_else(invalid)?;
        if q.answered || now.saturating_duration_since(q.pressed) > QUERY_LIFETIME {
            return Err(invalid());
        }
        q.answered = true;
        let answer = CallbackAnswer {
            query_id: id,
            user: q.user,
            chat_id: q.chat_id,
            message_id: q.message_id,
            data: q.data.clone(),
            text: text.filter(|t| !t.is_empty()),
            show_alert: flag(p, "show_alert"),
        };
        self.answers.push(answer.clone());
        let _ = self.events.send(Event::CallbackAnswered(answer));
        Ok(json!(true))
    }

    pub(super) fn command_scope(&self, p: &Params) -> Result<Value, Answer> {
        let scope = object(p, "scope").unwrap_or_else(|| json!({ "type": "default" }));
        let kind = scope.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "default" | "all_private_chats" | "all_group_chats" | "all_chat_administrators" => {
                Ok(scope)
            }
            "chat" | "chat_administrators" | "chat_member" => {
                let chat = scope.get("chat_id").and_then(Value::as_i64);
                if chat.is_some_and(|c| self.chats.contains_key(&c)) {
                    Ok(scope)
                } else {
                    Err(Answer::bad("Bad Request: chat not found"))
                }
            }
            _ => Err(Answer::bad(
                "Bad Request: can't parse BotCommandScope JSON object",
            )),
        }
    }

    pub(super) fn set_my_commands(&mut self, p: &Params) -> Result<Value, Answer> {
        let Some(Value::Array(list)) = object(p, "commands") else {
            return Err(Answer::bad(
                "Bad Request: parameter \"commands\" is required",
            ));
        };
        if list.len() > 100 {
            return Err(Answer::bad("Bad Request: too many commands"));
        }
        let mut commands = Vec::new();
        for c in &list {
            let name = c.get("command").and_then(Value::as_str).unwrap_or("");
            let description = c.get("description").and_then(Value::as_str).unwrap_or("");
            let name_ok = (1..=32).contains(&name.len())
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !name_ok {
                return Err(Answer::bad("Bad Request: BOT_COMMAND_INVALID"));
            }
            if !(1..=256).contains(&description.chars().count()) {
                return Err(Answer::bad(
                    "Bad Request: command description is empty or too long",
                ));
            }
            commands.push((name.to_owned(), description.to_owned()));
        }
        let scope = self.command_scope(p)?;
        let language_code = string(p, "language_code").filter(|l| !l.is_empty());
        self.commands
            .retain(|s| !(s.scope == scope && s.language_code == language_code));
        self.commands.push(CommandSet {
            scope,
            language_code,
            commands,
        });
        Ok(json!(true))
    }

    pub(super) fn get_my_commands(&self, p: &Params) -> Result<Value, Answer> {
        let scope = self.command_scope(p)?;
        let language_code = string(p, "language_code").filter(|l| !l.is_empty());
        let list = self
            .commands
            .iter()
            .find(|s| s.scope == scope && s.language_code == language_code)
            .map(|s| {
                s.commands
                    .iter()
                    .map(|(c, d)| json!({ "command": c, "description": d }))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Value::Array(list))
    }

    pub(super) fn get_chat_member(&self, p: &Params) -> Result<Value, Answer> {
        let chat = chat_of(p).ok_or_else(|| Answer::bad("Bad Request: chat not found"))?;
        let c = self
            .chats
            .get(&chat)
            .ok_or_else(|| Answer::bad("Bad Request: chat not found"))?;
        let user_id = int(p, "user_id").unwrap_or(0);
        if user_id as u64 == self.bot.id {
            if c.bot_admin && c.bot_status == BotStatus::Member {
                return Ok(crate::state::bot_admin_json(&self.bot));
            }
            let status = match c.bot_status {
                BotStatus::Member => "member",
                BotStatus::Kicked => "left",
            };
            return Ok(json!({ "user": self.bot.to_json(), "status": status }));
        }
        let user = self
            .users
            .get(&(user_id as u64))
            .ok_or_else(|| Answer::bad("Bad Request: user not found"))?;
        Ok(crate::state::member_status_json(
            user,
            c.member_status(user.id),
        ))
    }
}
