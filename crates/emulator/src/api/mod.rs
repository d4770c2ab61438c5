//! The Bot API methods Butler uses, answered the way Telegram answers them: a result in
//! `{"ok":true,"result":…}`, or `{"ok":false,"error_code":…,"description":…}` with the
//! descriptions Telegram gives. Parameters arrive as one JSON object whether the request
//! was JSON or multipart (see `server`).
//!
//! Files are kept (see `state::files`): `sendPhoto`, `sendMediaGroup` and `sendDocument`
//! take uploads and file ids, `getFile` gives a `file_path`, and
//! `GET /file/bot<token>/<file_path>` serves the bytes.
//!
//! Not modelled: `parse_mode` (text is stored as sent, entities are not parsed), inline
//! messages, keyboards other than inline ones (accepted, not shown), topics.
//!
//! Here: answers, dispatching a call to its method, `getMe` and `getUpdates`;
//! `params`: reading parameters; `messages`: sending, editing and deleting;
//! `menus`: button presses, command menus and chat members; `files`: `getFile` and the
//! download.

mod files;
mod menus;
mod messages;
mod params;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::faults::Fault;
use crate::state::{Call, State, Uploads, Webhook};
use messages::Edit;
pub use params::chat_of;
use params::{Params, flag, int, object, string};

/// The methods the emulator serves, by their canonical names.
pub const METHODS: [&str; 20] = [
    "getMe",
    "getUpdates",
    "getWebhookInfo",
    "setWebhook",
    "deleteWebhook",
    "setMyCommands",
    "getMyCommands",
    "getChatMember",
    "answerCallbackQuery",
    "sendMessage",
    "sendPhoto",
    "sendMediaGroup",
    "sendDocument",
    "getFile",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteMessage",
    "sendChatAction",
    "close",
];

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

impl State {
    /// Answers one call, applying queued faults, and records it. A `getUpdates` here
    /// answers at once; the server's long poll uses `begin_get_updates` and
    /// `collect_updates` instead.
    pub fn call(
        &mut self,
        method: &str,
        params: &Params,
        uploads: &Uploads,
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

    fn execute(&mut self, name: &str, p: &Params, uploads: &Uploads, now: Instant) -> Answer {
        let result = match name {
            "getMe" => Ok(self.get_me()),
            "getWebhookInfo" => Ok(self.webhook_info()),
            "setWebhook" => self.set_webhook(p),
            "deleteWebhook" => {
                self.remove_webhook(flag(p, "drop_pending_updates"));
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
            "sendDocument" => self.send_document(p, uploads, now),
            "getFile" => self.get_file(p),
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
        if self.webhook().is_some() {
            return Err(webhook_conflict());
        }
        let offset = int(p, "offset").unwrap_or(0);
        let limit = int(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
        let timeout = Duration::from_secs(int(p, "timeout").unwrap_or(0).max(0) as u64);
        self.take_allowed_updates(p);
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
        if self.webhook().is_some() {
            return Err(webhook_conflict());
        }
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

    /// `allowed_updates`, when the call gives it (getUpdates, setWebhook).
    fn take_allowed_updates(&mut self, p: &Params) {
        if let Some(Value::Array(kinds)) = object(p, "allowed_updates") {
            self.allowed_updates = Some(
                kinds
                    .iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect(),
            );
        }
    }

    // ---- webhooks ---------------------------------------------------------------------

    /// `setWebhook`: an empty URL removes it. Telegram wants HTTPS; the emulator, which
    /// posts to a bot on the same machine, plain HTTP.
    fn set_webhook(&mut self, p: &Params) -> Result<Value, Answer> {
        let url = string(p, "url").unwrap_or_default();
        let url = url.trim();
        let drop_pending = flag(p, "drop_pending_updates");
        if url.is_empty() {
            self.remove_webhook(drop_pending);
            return Ok(json!(true));
        }
        if url.len() <= "http://".len() || !url.starts_with("http://") {
            return Err(Answer::bad(
                "Bad Request: bad webhook: the emulator posts over plain HTTP only (http://127.0.0.1:PORT/…)",
            ));
        }
        let secret_token = match string(p, "secret_token").as_deref() {
            None | Some("") => None,
            Some(s)
                if s.len() <= 256
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                Some(s.to_owned())
            }
            Some(_) => {
                return Err(Answer::bad(
                    "Bad Request: secret token contains unallowed characters",
                ));
            }
        };
        self.take_allowed_updates(p);
        let hook = Webhook {
            url: url.to_owned(),
            secret_token,
        };
        self.install_webhook(hook, drop_pending);
        Ok(json!(true))
    }
}

fn webhook_conflict() -> Answer {
    Answer::error(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        None,
    )
}

/// A waiting `getUpdates`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poll {
    pub offset: i64,
    pub limit: usize,
    pub timeout: Duration,
    pub generation: u64,
}
