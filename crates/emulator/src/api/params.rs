//! Reading a call's parameters as Telegram reads them: numbers sent as text, JSON sent as
//! a string (multipart), and the checks on text, captions and inline keyboards.

use serde_json::{Map, Value};

use super::Answer;
use crate::model::{Button, utf16_len};

pub(super) type Params = Map<String, Value>;

pub(super) fn int(p: &Params, key: &str) -> Option<i64> {
    match p.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn string(p: &Params, key: &str) -> Option<String> {
    match p.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn flag(p: &Params, key: &str) -> bool {
    match p.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// A JSON-valued parameter, sent as JSON or as a JSON string (multipart).
pub(super) fn object(p: &Params, key: &str) -> Option<Value> {
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
pub(super) fn message_text(p: &Params) -> Result<String, Answer> {
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
pub(super) fn caption(value: Option<String>) -> Result<Option<String>, Answer> {
    let Some(c) = value else { return Ok(None) };
    let c = c.trim();
    if utf16_len(c) > 1024 {
        return Err(Answer::bad("Bad Request: message caption is too long"));
    }
    Ok((!c.is_empty()).then(|| c.to_owned()))
}

/// Inline keyboard rows of `reply_markup`; other keyboards are accepted and not shown.
pub(super) fn markup(p: &Params) -> Result<Vec<Vec<Button>>, Answer> {
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
