//! People act: they send text and photos, press buttons and edit their messages, as a
//! Telegram app lets them; what the bot hears of it is queued as updates.

use std::time::Instant;

use axum::body::Bytes;
use serde_json::json;

use super::{Draft, DriverError, Event, Query, State, image_type, unix_now};
use crate::model::{ChatKind, Message, utf16_len};

impl State {
    /// `user` sends `text` in `chat`, optionally replying to a message.
    pub fn user_sends_text(
        &mut self,
        chat: i64,
        user: u64,
        text: &str,
        reply_to: Option<i32>,
    ) -> Result<Message, DriverError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DriverError::NotSendable("an empty message".into()));
        }
        if utf16_len(text) > 4096 {
            return Err(DriverError::NotSendable(
                "more than 4096 characters in one message (apps split longer text)".into(),
            ));
        }
        let draft = Draft {
            text: Some(text.to_owned()),
            reply_to,
            ..Draft::default()
        };
        self.user_posts(chat, user, draft)
    }

    /// `user` sends a photo (a fresh file, showing the stock picture) with an optional
    /// caption, reply and album id.
    pub fn user_sends_photo(
        &mut self,
        chat: i64,
        user: u64,
        caption: Option<&str>,
        reply_to: Option<i32>,
        media_group_id: Option<&str>,
    ) -> Result<Message, DriverError> {
        self.send_picture(chat, user, None, caption, reply_to, media_group_id)
    }

    /// `user` sends `picture` (PNG, JPEG, GIF or WebP) as a photo: `getFile` and the
    /// download give these bytes back.
    pub fn user_sends_photo_file(
        &mut self,
        chat: i64,
        user: u64,
        picture: Bytes,
        caption: Option<&str>,
        reply_to: Option<i32>,
    ) -> Result<Message, DriverError> {
        if image_type(&picture).is_none() {
            return Err(DriverError::NotSendable(
                "a photo that is not a picture (PNG, JPEG, GIF or WebP)".into(),
            ));
        }
        self.send_picture(chat, user, Some(picture), caption, reply_to, None)
    }

    fn send_picture(
        &mut self,
        chat: i64,
        user: u64,
        picture: Option<Bytes>,
        caption: Option<&str>,
        reply_to: Option<i32>,
        media_group_id: Option<&str>,
    ) -> Result<Message, DriverError> {
        let caption = caption.map(str::trim).filter(|c| !c.is_empty());
        if caption.is_some_and(|c| utf16_len(c) > 1024) {
            return Err(DriverError::NotSendable(
                "a caption over 1024 characters".into(),
            ));
        }
        self.may_post(chat, user, reply_to)?;
        let photo = self.files.new_photo(picture);
        let draft = Draft {
            caption: caption.map(str::to_owned),
            photo: Some(photo),
            media_group_id: media_group_id.map(str::to_owned),
            reply_to,
            ..Draft::default()
        };
        self.user_posts(chat, user, draft)
    }

    /// Whether `user` may post in `chat` (replying to `reply_to`): who they are, or why not.
    fn may_post(
        &self,
        chat: i64,
        user: u64,
        reply_to: Option<i32>,
    ) -> Result<crate::model::User, DriverError> {
        let from = self
            .users
            .get(&user)
            .cloned()
            .ok_or(DriverError::UnknownUser(user))?;
        let c = self
            .chats
            .get(&chat)
            .ok_or(DriverError::UnknownChat(chat))?;
        if let Some(to) = c.migrated_to {
            return Err(DriverError::Migrated { chat, to });
        }
        if !c.members.contains(&user) {
            return Err(DriverError::NotAMember { chat, user });
        }
        if let Some(r) = reply_to
            && c.message(r).is_none()
        {
            return Err(DriverError::UnknownMessage { chat, id: r });
        }
        Ok(from)
    }

    fn user_posts(&mut self, chat: i64, user: u64, draft: Draft) -> Result<Message, DriverError> {
        let from = self.may_post(chat, user, draft.reply_to)?;
        if self.chats[&chat].chat.kind == ChatKind::Private {
            // Writing to a blocked bot means unblocking it first.
            self.blocked.remove(&user);
        }
        let msg = self.store_message(chat, from, draft);
        if self.bot_hears(chat, &msg) {
            let json = self.chats[&chat].render(&msg);
            self.queue_update("message", json);
        }
        Ok(msg)
    }

    /// `user` presses the button carrying `data` under message `message_id`. Returns the
    /// callback query id.
    pub fn user_presses_button(
        &mut self,
        chat: i64,
        message_id: i32,
        user: u64,
        data: &str,
    ) -> Result<String, DriverError> {
        let from = self
            .users
            .get(&user)
            .cloned()
            .ok_or(DriverError::UnknownUser(user))?;
        let c = self
            .chats
            .get(&chat)
            .ok_or(DriverError::UnknownChat(chat))?;
        if !c.members.contains(&user) {
            return Err(DriverError::NotAMember { chat, user });
        }
        let msg = c.message(message_id).ok_or(DriverError::UnknownMessage {
            chat,
            id: message_id,
        })?;
        if !msg.button_data().contains(&data) {
            return Err(DriverError::NoSuchButton {
                chat,
                id: message_id,
                data: data.to_owned(),
            });
        }
        let message_json = c.render(msg);
        let id = format!("{}{:08}", self.options.bot_id % 100_000, self.next_query);
        self.next_query += 1;
        self.queries.insert(
            id.clone(),
            Query {
                user,
                chat_id: chat,
                message_id,
                data: data.to_owned(),
                pressed: Instant::now(),
                answered: false,
            },
        );
        let json = json!({
            "id": id,
            "from": from.to_json(),
            "message": message_json,
            "chat_instance": format!("{}", chat.unsigned_abs() * 7 + 3),
            "data": data,
        });
        self.queue_update("callback_query", json);
        Ok(id)
    }

    /// The button with this label under the message, pressed by `user`.
    pub fn user_presses_label(
        &mut self,
        chat: i64,
        message_id: i32,
        user: u64,
        label: &str,
    ) -> Result<String, DriverError> {
        let msg = self
            .chats
            .get(&chat)
            .ok_or(DriverError::UnknownChat(chat))?
            .message(message_id)
            .ok_or(DriverError::UnknownMessage {
                chat,
                id: message_id,
            })?;
        let data = msg
            .buttons
            .iter()
            .flatten()
            .find(|b| b.text == label)
            .and_then(|b| b.callback_data.clone())
            .ok_or(DriverError::NoSuchButton {
                chat,
                id: message_id,
                data: format!("label {label}"),
            })?;
        self.user_presses_button(chat, message_id, user, &data)
    }

    /// `user` edits their message: the text, or a photo's caption.
    pub fn user_edits_message(
        &mut self,
        chat: i64,
        message_id: i32,
        user: u64,
        new_text: &str,
    ) -> Result<Message, DriverError> {
        let new_text = new_text.trim().to_owned();
        if new_text.is_empty() || utf16_len(&new_text) > 4096 {
            return Err(DriverError::NotSendable("this edit".into()));
        }
        let c = self
            .chats
            .get_mut(&chat)
            .ok_or(DriverError::UnknownChat(chat))?;
        let msg = c
            .message_mut(message_id)
            .ok_or(DriverError::UnknownMessage {
                chat,
                id: message_id,
            })?;
        if msg.from.id != user {
            return Err(DriverError::NotTheAuthor {
                chat,
                id: message_id,
                user,
            });
        }
        if msg.photo.is_some() {
            msg.caption = Some(new_text);
        } else {
            msg.text = Some(new_text);
        }
        msg.edit_date = Some(unix_now());
        let msg = msg.clone();
        let _ = self.events.send(Event::Edited(msg.clone()));
        if self.bot_hears(chat, &msg) {
            let json = self.chats[&chat].render(&msg);
            self.queue_update("edited_message", json);
        }
        Ok(msg)
    }
}
