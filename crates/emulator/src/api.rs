//! The Bot API methods Butler uses, answered the way Telegram answers them: a result in
//! `{"ok":true,"result":…}`, or `{"ok":false,"error_code":…,"description":…}` with the
//! descriptions Telegram gives. Parameters arrive as one JSON object whether the request
//! was JSON or multipart (see `server`).
//!
//! Not modelled: `parse_mode` (text is stored as sent, entities are not parsed), inline
//! messages, keyboards other than inline ones (accepted, not shown), topics.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::faults::{Fault, Limiter, RateLimits};
use super::model::{Button, ChatKind, Message, utf16_len};
use super::state::{BotStatus, Call, CallbackAnswer, CommandSet, Draft, Event, State};

/// How long Telegram lets a bot answer a button press.
const QUERY_LIFETIME: Duration = Duration::from_secs(15);

/// The methods the emulator serves, by their canonical names.
pub const METHODS: [&str; 17] = [
    "getMe",
    "getUpdates",
    "getWebhookInfo",
    "deleteWebhook",
    "setMyCommands",
    "getMyCommands",
    "getChatMember",
    "answerCallbackQuery",
    "sendMessage",
    "sendPhoto",
    "sendMediaGroup",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteMessage",
    "sendChatAction",
    "close",
];

const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: AnswerBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AnswerBody {
    Json(Value),
    Html(String),
}

impl Answer {
    pub fn ok(result: Value) -> Self {
        Self {
            status: 200,
            body: AnswerBody::Json(json!({ "ok": true, "result": result })),
        }
    }

    pub fn error(status: u16, description: &str, parameters: Option<Value>) -> Self {
        let mut body = json!({ "ok": false, "error_code": status, "description": description });
        if let Some(p) = parameters {
            body["parameters"] = p;
        }
        Self {
            status,
            body: AnswerBody::Json(body),
        }
    }

    pub fn bad(description: &str) -> Self {
        Self::error(400, description, None)
    }

    fn html(status: u16, page: &str) -> Self {
        Self {
            status,
            body: AnswerBody::Html(page.to_owned()),
        }
    }

    /// Telegram's `description`, or the page title of an HTML answer.
    pub fn description(&self) -> Option<String> {
        match &self.body {
            AnswerBody::Json(v) => v
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            AnswerBody::Html(_) if self.status >= 500 => {
                Some(format!("{} (HTML page)", self.status))
            }
            AnswerBody::Html(_) => None,
        }
    }

    /// The `result` of a successful answer.
    pub fn result(&self) -> Option<&Value> {
        match &self.body {
            AnswerBody::Json(v) if self.status == 200 => v.get("result"),
            _ => None,
        }
    }

    pub fn body_text(&self) -> String {
        match &self.body {
            AnswerBody::Json(v) => v.to_string(),
            AnswerBody::Html(h) => h.clone(),
        }
    }
}

fn fault_answer(fault: &Fault) -> Answer {
    match *fault {
        Fault::TooManyRequests { retry_after } => Answer::error(
            429,
            &format!("Too Many Requests: retry after {retry_after}"),
            Some(json!({ "retry_after": retry_after })),
        ),
        Fault::BadGateway { html: true } | Fault::LostAnswer => Answer::html(502, BAD_GATEWAY_HTML),
        Fault::BadGateway { html: false } => Answer::error(502, "Bad Gateway", None),
        Fault::InternalError => Answer::error(500, "Internal Server Error", None),
    }
}

/// The canonical name of a method, whatever its case (the Bot API ignores case).
pub fn canonical(method: &str) -> Option<&'static str> {
    METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .copied()
}

// ---- reading parameters -------------------------------------------------------------

type Params = Map<String, Value>;

fn int(p: &Params, key: &str) -> Option<i64> {
    match p.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn string(p: &Params, key: &str) -> Option<String> {
    match p.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(p: &Params, key: &str) -> bool {
    match p.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// A JSON-valued parameter, sent as JSON or as a JSON string (multipart).
fn object(p: &Params, key: &str) -> Option<Value> {
    match p.get(key)? {
        Value::String(s) => serde_json::from_str(s).ok(),
        Value::Null => None,
        v => Some(v.clone()),
    }
}

/// The `chat_id` of a call, when it is a number.
pub fn chat_of(p: &Params) -> Option<i64> {
    int(p, "chat_id")
}

/// Message text as Telegram takes it: trimmed, 1 to 4096 UTF-16 units.
fn message_text(p: &Params) -> Result<String, Answer> {
    let text = string(p, "text").unwrap_or_default();
    let text = text.trim();
    if text.is_empty() {
        return Err(Answer::bad("Bad Request: message text is empty"));
    }
    if utf16_len(text) > 4096 {
        return Err(Answer::bad("Bad Request: message is too long"));
    }
    Ok(text.to_owned())
}

/// A caption: trimmed, at most 1024 UTF-16 units; empty means none.
fn caption(value: Option<String>) -> Result<Option<String>, Answer> {
    let Some(c) = value else { return Ok(None) };
    let c = c.trim();
    if utf16_len(c) > 1024 {
        return Err(Answer::bad("Bad Request: message caption is too long"));
    }
    Ok((!c.is_empty()).then(|| c.to_owned()))
}

/// Inline keyboard rows of `reply_markup`; other keyboards are accepted and not shown.
fn markup(p: &Params) -> Result<Vec<Vec<Button>>, Answer> {
    let Some(m) = object(p, "reply_markup") else {
        return Ok(Vec::new());
    };
    let Some(rows) = m.get("inline_keyboard") else {
        return Ok(Vec::new());
    };
    let cant_parse = || Answer::bad("Bad Request: can't parse reply keyboard markup JSON object");
    let rows = rows.as_array().ok_or_else(cant_parse)?;
    let mut out = Vec::new();
    for row in rows {
        let mut buttons = Vec::new();
        for b in row.as_array().ok_or_else(cant_parse)? {
            let text = b.get("text").and_then(Value::as_str).unwrap_or("");
            if text.trim().is_empty() {
                return Err(Answer::bad("Bad Request: BUTTON_TEXT_INVALID"));
            }
            let data = b.get("callback_data").and_then(Value::as_str);
            let url = b.get("url").and_then(Value::as_str);
            if let Some(d) = data
                && (d.is_empty() || d.len() > 64)
            {
                return Err(Answer::bad("Bad Request: BUTTON_DATA_INVALID"));
            }
            if data.is_none() && url.is_none() && b.as_object().is_some_and(|o| o.len() == 1) {
                return Err(Answer::bad(
                    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                ));
            }
            buttons.push(Button {
                text: text.to_owned(),
                callback_data: data.map(str::to_owned),
                url: url.map(str::to_owned),
            });
        }
        out.push(buttons);
    }
    Ok(out)
}

impl State {
    /// Answers one call, applying queued faults, and records it. A `getUpdates` here
    /// answers at once; the server's long poll uses `begin_get_updates` and
    /// `collect_updates` instead.
    pub fn call(
        &mut self,
        method: &str,
        params: &Params,
        uploads: &HashSet<String>,
        now: Instant,
    ) -> Answer {
        let name = canonical(method).unwrap_or(method).to_owned();
        let chat = chat_of(params);
        let answer = if name == "getUpdates" {
            match self.begin_get_updates(params, now) {
                Ok(poll) => match self.collect_updates(&poll) {
                    Ok(list) => Answer::ok(Value::Array(list)),
                    Err(a) => a,
                },
                Err(a) => a,
            }
        } else {
            match self.faults.take(&name.to_ascii_lowercase(), chat, now) {
                Some(Fault::LostAnswer) => {
                    let _ = self.execute(&name, params, uploads, now);
                    fault_answer(&Fault::LostAnswer)
                }
                Some(f) => fault_answer(&f),
                None => self.execute(&name, params, uploads, now),
            }
        };
        self.record_call(&name, params, &answer, now);
        answer
    }

    pub(crate) fn record_call(
        &mut self,
        name: &str,
        params: &Params,
        answer: &Answer,
        now: Instant,
    ) {
        self.record(Call {
            seq: 0,
            method: name.to_owned(),
            chat_id: chat_of(params),
            params: Value::Object(params.clone()),
            at: now.saturating_duration_since(self.started),
            status: answer.status,
            description: (answer.status != 200)
                .then(|| answer.description())
                .flatten(),
        });
    }

    fn execute(
        &mut self,
        name: &str,
        p: &Params,
        uploads: &HashSet<String>,
        now: Instant,
    ) -> Answer {
        let result = match name {
            "getMe" => Ok(self.get_me()),
            "getWebhookInfo" => Ok(json!({
                "url": "",
                "has_custom_certificate": false,
                "pending_update_count": self.updates.len(),
            })),
            "deleteWebhook" => {
                if flag(p, "drop_pending_updates") {
                    let next = self.next_update_id as i64;
                    self.confirm(next);
                }
                Ok(json!(true))
            }
            "close" => Ok(json!(true)),
            "setMyCommands" => self.set_my_commands(p),
            "getMyCommands" => self.get_my_commands(p),
            "getChatMember" => self.get_chat_member(p),
            "answerCallbackQuery" => self.answer_callback_query(p, now),
            "sendMessage" => self.send_message(p, now),
            "sendPhoto" => self.send_photo(p, uploads, now),
            "sendMediaGroup" => self.send_media_group(p, uploads, now),
            "editMessageText" => self.edit_message(p, Edit::Text),
            "editMessageCaption" => self.edit_message(p, Edit::Caption),
            "editMessageReplyMarkup" => self.edit_message(p, Edit::Markup),
            "deleteMessage" => self.delete_message(p),
            "sendChatAction" => self.send_chat_action(p),
            _ => Err(Answer::error(404, "Not Found", None)),
        };
        match result {
            Ok(v) => Answer::ok(v),
            Err(a) => a,
        }
    }

    fn get_me(&self) -> Value {
        let mut me = self.bot.to_json();
        let o = me.as_object_mut().expect("object");
        o.insert("can_join_groups".into(), json!(true));
        o.insert(
            "can_read_all_group_messages".into(),
            json!(!self.options.privacy_mode),
        );
        o.insert("supports_inline_queries".into(), json!(false));
        o.insert("can_connect_to_business".into(), json!(false));
        o.insert("has_main_web_app".into(), json!(false));
        me
    }

    // ---- getUpdates -------------------------------------------------------------------

    /// Starts a `getUpdates`: applies a queued fault, confirms what lies below `offset`,
    /// takes `allowed_updates`, and ends any older long poll.
    pub(crate) fn begin_get_updates(&mut self, p: &Params, now: Instant) -> Result<Poll, Answer> {
        if let Some(f) = self.faults.take("getupdates", None, now) {
            return Err(fault_answer(&f));
        }
        let offset = int(p, "offset").unwrap_or(0);
        let limit = int(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
        let timeout = Duration::from_secs(int(p, "timeout").unwrap_or(0).max(0) as u64);
        if let Some(Value::Array(kinds)) = object(p, "allowed_updates") {
            self.allowed_updates = Some(
                kinds
                    .iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect(),
            );
        }
        self.confirm(offset);
        self.poll_generation += 1;
        Ok(Poll {
            offset,
            limit,
            timeout,
            generation: self.poll_generation,
        })
    }

    /// A fault injected while a long poll waits ends it: a failing gateway cuts the
    /// request in flight.
    pub(crate) fn fault_for_waiting_poll(&mut self, now: Instant) -> Option<Answer> {
        self.faults
            .take("getupdates", None, now)
            .map(|f| fault_answer(&f))
    }

    /// The updates `poll` may return now (empty: keep waiting), or 409 when a newer
    /// `getUpdates` took over.
    pub(crate) fn collect_updates(&self, poll: &Poll) -> Result<Vec<Value>, Answer> {
        if poll.generation != self.poll_generation {
            return Err(Answer::error(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                None,
            ));
        }
        let from = if poll.offset > 0 {
            poll.offset
        } else {
            i64::MIN
        };
        Ok(self
            .updates
            .iter()
            .filter(|u| u.id as i64 >= from)
            .take(poll.limit)
            .map(|u| u.json.clone())
            .collect())
    }

    // ---- chats --------------------------------------------------------------------------

    /// The chat a call writes to, or Telegram's refusal: unknown, blocked, kicked,
    /// migrated.
    fn writable_chat(&self, p: &Params) -> Result<i64, Answer> {
        let Some(raw) = p.get("chat_id") else {
            return Err(Answer::bad("Bad Request: chat_id is empty"));
        };
        let id = match raw {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| Answer::bad("Bad Request: chat not found"))?;
        let Some(c) = self.chats.get(&id) else {
            if id > 0 && self.users.contains_key(&(id as u64)) {
                return Err(Answer::error(
                    403,
                    "Forbidden: bot can't initiate conversation with a user",
                    None,
                ));
            }
            return Err(Answer::bad("Bad Request: chat not found"));
        };
        if let Some(to) = c.migrated_to {
            return Err(Answer::error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                Some(json!({ "migrate_to_chat_id": to })),
            ));
        }
        match c.chat.kind {
            ChatKind::Private if self.blocked.contains(&(id as u64)) => Err(Answer::error(
                403,
                "Forbidden: bot was blocked by the user",
                None,
            )),
            ChatKind::Group if c.bot_status == BotStatus::Kicked => Err(Answer::error(
                403,
                "Forbidden: bot was kicked from the group chat",
                None,
            )),
            ChatKind::Supergroup if c.bot_status == BotStatus::Kicked => Err(Answer::error(
                403,
                "Forbidden: bot was kicked from the supergroup chat",
                None,
            )),
            _ => Ok(id),
        }
    }

    /// The message a new one replies to: `reply_parameters` or the older
    /// `reply_to_message_id`; gone and not allowed to go without → 400.
    fn reply_target(&self, p: &Params, chat: i64) -> Result<Option<i32>, Answer> {
        let (id, other_chat, allow) = match object(p, "reply_parameters") {
            Some(rp) => (
                rp.get("message_id").and_then(Value::as_i64),
                rp.get("chat_id")
                    .and_then(Value::as_i64)
                    .filter(|c| *c != chat),
                rp.get("allow_sending_without_reply")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            ),
            None => (
                int(p, "reply_to_message_id"),
                None,
                flag(p, "allow_sending_without_reply"),
            ),
        };
        let Some(id) = id else { return Ok(None) };
        let found = other_chat.is_none()
            && self
                .chats
                .get(&chat)
                .and_then(|c| c.message(id as i32))
                .is_some();
        match (found, allow) {
            (true, _) => Ok(Some(id as i32)),
            (false, true) => Ok(None),
            (false, false) => Err(Answer::bad("Bad Request: message to be replied not found")),
        }
    }

    /// Telegram's flood control, when turned on: `count` more messages into `chat`.
    fn rate_check(&mut self, chat: i64, count: usize, now: Instant) -> Result<(), Answer> {
        let is_group = self
            .chats
            .get(&chat)
            .is_some_and(|c| c.chat.kind.is_group());
        let Some(limiter) = self.limiter.as_mut() else {
            return Ok(());
        };
        match limiter.check(chat, is_group, now) {
            Ok(()) => {
                limiter.record(chat, count, now);
                Ok(())
            }
            Err(retry_after) => {
                self.rate_limited += 1;
                Err(fault_answer(&Fault::TooManyRequests { retry_after }))
            }
        }
    }

    /// Turns Telegram's sending limits on or off.
    pub fn set_rate_limits(&mut self, limits: Option<RateLimits>) {
        self.limiter = limits.map(Limiter::new);
    }

    fn post(&mut self, chat: i64, draft: Draft) -> Value {
        let bot = self.bot.clone();
        let msg = self.store_message(chat, bot, draft);
        self.chats[&chat].render(&msg)
    }

    // ---- sending ------------------------------------------------------------------------

    fn send_message(&mut self, p: &Params, now: Instant) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let text = message_text(p)?;
        let buttons = markup(p)?;
        let reply_to = self.reply_target(p, chat)?;
        self.rate_check(chat, 1, now)?;
        Ok(self.post(
            chat,
            Draft {
                text: Some(text),
                reply_to,
                buttons,
                ..Draft::default()
            },
        ))
    }

    /// A photo to send: a known file id, an uploaded part (`attach://name`) or a URL.
    fn photo_from(
        &mut self,
        value: &str,
        uploads: &HashSet<String>,
    ) -> Result<super::model::Photo, Answer> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Answer::bad("Bad Request: there is no photo in the request"));
        }
        if let Some(name) = value.strip_prefix("attach://") {
            return if uploads.contains(name) {
                Ok(self.new_photo())
            } else {
                Err(Answer::bad(
                    "Bad Request: wrong file identifier/HTTP URL specified",
                ))
            };
        }
        if value.starts_with("http://") || value.starts_with("https://") {
            return Ok(self.new_photo());
        }
        match self.files.get(value).cloned() {
            Some(unique) => Ok(self.reissue(&unique)),
            None => Err(Answer::bad(
                "Bad Request: wrong file identifier/HTTP URL specified",
            )),
        }
    }

    fn send_photo(
        &mut self,
        p: &Params,
        uploads: &HashSet<String>,
        now: Instant,
    ) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        // An uploaded file arrives as a part named `photo`.
        let raw = string(p, "photo").or_else(|| {
            uploads
                .contains("photo")
                .then(|| "attach://photo".to_owned())
        });
        let caption = caption(string(p, "caption"))?;
        let buttons = markup(p)?;
        let reply_to = self.reply_target(p, chat)?;
        let photo = self.photo_from(raw.as_deref().unwrap_or(""), uploads)?;
        self.rate_check(chat, 1, now)?;
        Ok(self.post(
            chat,
            Draft {
                caption,
                photo: Some(photo),
                reply_to,
                buttons,
                ..Draft::default()
            },
        ))
    }

    fn send_media_group(
        &mut self,
        p: &Params,
        uploads: &HashSet<String>,
        now: Instant,
    ) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let items = match object(p, "media") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(Answer::bad("Bad Request: can't parse media JSON object")),
            None => return Err(Answer::bad("Bad Request: parameter \"media\" is required")),
        };
        if items.is_empty() {
            return Err(Answer::bad("Bad Request: media to send are not specified"));
        }
        if items.len() > 10 {
            return Err(Answer::bad(
                "Bad Request: Too much messages to send as an album",
            ));
        }
        let reply_to = self.reply_target(p, chat)?;
        let mut drafts = Vec::new();
        let group = format!("{}", 13_000_000_000_000u64 + self.next_file);
        for item in &items {
            if item.get("type").and_then(Value::as_str) != Some("photo") {
                return Err(Answer::bad(
                    "Bad Request: unsupported media type in the album",
                ));
            }
            let caption = caption(
                item.get("caption")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            )?;
            let media = item.get("media").and_then(Value::as_str).unwrap_or("");
            drafts.push((media.to_owned(), caption));
        }
        // Every file must be valid before any message is sent.
        let mut photos = Vec::new();
        for (media, caption) in drafts {
            photos.push((self.photo_from(&media, uploads)?, caption));
        }
        self.rate_check(chat, photos.len(), now)?;
        let sent: Vec<Value> = photos
            .into_iter()
            .map(|(photo, caption)| {
                self.post(
                    chat,
                    Draft {
                        caption,
                        photo: Some(photo),
                        media_group_id: Some(group.clone()),
                        reply_to,
                        ..Draft::default()
                    },
                )
            })
            .collect();
        Ok(Value::Array(sent))
    }

    fn send_chat_action(&mut self, p: &Params) -> Result<Value, Answer> {
        self.writable_chat(p)?;
        if string(p, "action").is_none_or(|a| a.trim().is_empty()) {
            return Err(Answer::bad("Bad Request: action is empty"));
        }
        Ok(json!(true))
    }

    // ---- editing and deleting ---------------------------------------------------------

    fn edit_message(&mut self, p: &Params, what: Edit) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let Some(id) = int(p, "message_id") else {
            return Err(Answer::bad(
                "Bad Request: message identifier is not specified",
            ));
        };
        let new_text = match what {
            Edit::Text => {
                let text = string(p, "text").unwrap_or_default();
                let text = text.trim();
                if text.is_empty() {
                    return Err(Answer::bad("Bad Request: message text is empty"));
                }
                if utf16_len(text) > 4096 {
                    return Err(Answer::bad("Bad Request: MESSAGE_TOO_LONG"));
                }
                Some(text.to_owned())
            }
            Edit::Caption => caption(string(p, "caption"))?,
            Edit::Markup => None,
        };
        let buttons = markup(p)?;
        let bot_id = self.bot.id;
        let c = self.chats.get_mut(&chat).expect("writable chat exists");
        let Some(msg) = c.message_mut(id as i32) else {
            return Err(Answer::bad("Bad Request: message to edit not found"));
        };
        if msg.from.id != bot_id {
            return Err(Answer::bad("Bad Request: message can't be edited"));
        }
        let mut next: Message = msg.clone();
        match what {
            Edit::Text => {
                if next.text.is_none() {
                    return Err(Answer::bad(
                        "Bad Request: there is no text in the message to edit",
                    ));
                }
                next.text = new_text;
            }
            Edit::Caption => {
                if next.photo.is_none() {
                    return Err(Answer::bad(
                        "Bad Request: there is no caption in the message to edit",
                    ));
                }
                next.caption = new_text;
            }
            Edit::Markup => {}
        }
        next.buttons = buttons;
        if next == *msg {
            return Err(Answer::bad(NOT_MODIFIED));
        }
        next.edit_date = Some(super::state::unix_now());
        *msg = next.clone();
        let _ = self.events.send(Event::Edited(next.clone()));
        Ok(self.chats[&chat].render(&next))
    }

    fn delete_message(&mut self, p: &Params) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let Some(id) = int(p, "message_id") else {
            return Err(Answer::bad(
                "Bad Request: message identifier is not specified",
            ));
        };
        let bot_id = self.bot.id;
        let c = self.chats.get_mut(&chat).expect("writable chat exists");
        let private = c.chat.kind == ChatKind::Private;
        let Ok(idx) = c.messages.binary_search_by_key(&(id as i32), |(i, _)| *i) else {
            return Err(Answer::bad("Bad Request: message to delete not found"));
        };
        let Some(msg) = &c.messages[idx].1 else {
            return Err(Answer::bad("Bad Request: message to delete not found"));
        };
        if !private && msg.from.id != bot_id {
            return Err(Answer::bad("Bad Request: message can't be deleted"));
        }
        c.messages[idx].1 = None;
        let _ = self.events.send(Event::Deleted {
            chat_id: chat,
            message_id: id as i32,
        });
        Ok(json!(true))
    }

    // ---- buttons, menus, members ------------------------------------------------------

    fn answer_callback_query(&mut self, p: &Params, now: Instant) -> Result<Value, Answer> {
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

    fn command_scope(&self, p: &Params) -> Result<Value, Answer> {
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

    fn set_my_commands(&mut self, p: &Params) -> Result<Value, Answer> {
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

    fn get_my_commands(&self, p: &Params) -> Result<Value, Answer> {
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

    fn get_chat_member(&self, p: &Params) -> Result<Value, Answer> {
        let chat = chat_of(p).ok_or_else(|| Answer::bad("Bad Request: chat not found"))?;
        let c = self
            .chats
            .get(&chat)
            .ok_or_else(|| Answer::bad("Bad Request: chat not found"))?;
        let user_id = int(p, "user_id").unwrap_or(0);
        if user_id as u64 == self.bot.id {
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
        let status = if c.members.contains(&user.id) {
            "member"
        } else {
            "left"
        };
        Ok(json!({ "user": user.to_json(), "status": status }))
    }
}

/// A waiting `getUpdates`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poll {
    pub offset: i64,
    pub limit: usize,
    pub timeout: Duration,
    pub generation: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Text,
    Caption,
    Markup,
}
