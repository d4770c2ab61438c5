//! The machinery the verbs and the Bot API methods share: storing a message, what
//! the bot hears, the update queue and its offsets, the record of calls.

use serde_json::{Value, json};

use super::{BotStatus, Call, DEFAULT_EXCLUDED, Draft, Event, PendingUpdate, State, unix_now};
use crate::model::{ChatKind, Message, User, command_entities};

impl State {
    /// Stores a message in `chat` (which must exist) and tells subscribers.
    pub(crate) fn store_message(&mut self, chat: i64, from: User, draft: Draft) -> Message {
        let c = self.chats.get_mut(&chat).expect("chat exists");
        let id = c.next_message_id;
        c.next_message_id += 1;
        let msg = Message {
            id,
            chat_id: chat,
            from,
            date: unix_now(),
            edit_date: None,
            text: draft.text,
            caption: draft.caption,
            photo: draft.photo,
            document: draft.document,
            media_group_id: draft.media_group_id,
            reply_to: draft.reply_to,
            buttons: draft.buttons,
            service: draft.service,
        };
        c.messages.push((id, Some(msg.clone())));
        let _ = self.events.send(Event::Message(msg.clone()));
        msg
    }

    /// Whether Telegram delivers this message in `chat` to the bot.
    pub(super) fn bot_hears(&self, chat: i64, msg: &Message) -> bool {
        let c = &self.chats[&chat];
        if c.bot_status != BotStatus::Member || c.migrated_to.is_some() {
            return false;
        }
        if c.chat.kind == ChatKind::Private || !self.options.privacy_mode {
            return true;
        }
        if msg.service.is_some() {
            return true;
        }
        if msg
            .reply_to
            .and_then(|r| c.message(r))
            .is_some_and(|r| r.from.id == self.bot.id)
        {
            return true;
        }
        let body = msg.body();
        command_entities(body).iter().any(|e| {
            let offset = e["offset"].as_u64().unwrap_or(0) as usize;
            let length = e["length"].as_u64().unwrap_or(0) as usize;
            let word: String = String::from_utf16_lossy(
                &body
                    .encode_utf16()
                    .skip(offset)
                    .take(length)
                    .collect::<Vec<u16>>(),
            );
            match word.split_once('@') {
                Some((_, to)) => to.eq_ignore_ascii_case(&self.options.bot_username),
                None => true,
            }
        })
    }

    /// Queues an update unless the bot's `allowed_updates` leaves its kind out (Telegram
    /// does not even store those).
    pub(crate) fn queue_update(&mut self, kind: &str, payload: Value) {
        let wanted = match &self.allowed_updates {
            Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
            _ => !DEFAULT_EXCLUDED.contains(&kind),
        };
        if !wanted {
            return;
        }
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut json = json!({ "update_id": id });
        json[kind] = payload;
        self.updates.push_back(PendingUpdate {
            id,
            kind: kind.to_owned(),
            json,
        });
    }

    /// Confirms every update below `offset`; a negative offset keeps only the last
    /// `-offset` updates, as Telegram does.
    pub(crate) fn confirm(&mut self, offset: i64) {
        if offset > 0 {
            let offset = offset.min(i32::MAX as i64) as i32;
            while self.updates.front().is_some_and(|u| u.id < offset) {
                self.updates.pop_front();
            }
            self.confirmed_offset = self.confirmed_offset.max(offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.updates.len() > keep {
                if let Some(u) = self.updates.pop_front() {
                    self.confirmed_offset = self.confirmed_offset.max(u.id + 1);
                }
            }
        }
    }

    pub(crate) fn record(&mut self, mut call: Call) {
        call.seq = self.calls.len();
        self.calls.push(call);
    }
}
