//! HTTP: `POST {api_url}/bot{token}/{method}` with JSON, multipart or form parameters,
//! as teloxide sends them (JSON for most methods; multipart for `sendPhoto` and
//! `sendMediaGroup`, even with a file id, where nested values are JSON strings), the
//! `getUpdates` long poll, and file downloads: `GET {api_url}/file/bot{token}/{file_path}`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Map, Value};
use tokio::sync::watch;

use super::api::{Answer, AnswerBody};
use super::state::{State, Upload, Uploads};

/// The state and a counter bumped on every change, which long polls and drivers wait on.
pub(crate) struct Shared {
    state: Mutex<State>,
    pub version: watch::Sender<u64>,
    /// Set when the emulator stops: long polls end at once.
    pub closed: watch::Sender<bool>,
    /// Added to every answer, in microseconds: a network between Butler and Telegram.
    pub latency_us: AtomicU64,
}

impl Shared {
    pub fn new(state: State) -> Self {
        Self {
            state: Mutex::new(state),
            version: watch::channel(0).0,
            closed: watch::channel(false).0,
            latency_us: AtomicU64::new(0),
        }
    }

    /// Changes the state and wakes whoever waits for a change.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = {
            // A driver closure that panicked leaves the state usable for the rest.
            let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut s)
        };
        self.version.send_modify(|v| *v = v.wrapping_add(1));
        r
    }

    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&s)
    }
}

/// The largest request: Telegram takes uploads up to 50 MB (then answers 413).
const UPLOAD_LIMIT: usize = 50 * 1024 * 1024;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{bot}/{method}", any(handle))
        .route("/file/{bot}/{*path}", get(download))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT + 64 * 1024))
        .with_state(shared)
}

/// Parameters whose values are text even when they look like JSON or a number.
const TEXT_PARAMS: [&str; 10] = [
    "text",
    "caption",
    "photo",
    "callback_query_id",
    "parse_mode",
    "action",
    "language_code",
    "url",
    "inline_message_id",
    "business_connection_id",
];

/// A form value as the JSON the same parameter would have in a JSON request.
fn form_value(name: &str, raw: String) -> Value {
    if TEXT_PARAMS.contains(&name) {
        return Value::String(raw);
    }
    match serde_json::from_str::<Value>(&raw) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Object(_) | Value::Array(_))) => v,
        _ => Value::String(raw),
    }
}

/// The call's parameters as one JSON object, and the uploaded file parts.
async fn read_params(req: Request) -> Result<(Map<String, Value>, Uploads), ParamError> {
    let mut params = Map::new();
    let mut uploads = Uploads::new();
    if let Some(q) = req.uri().query() {
        for (k, v) in form_pairs(q) {
            let value = form_value(&k, v);
            params.insert(k, value);
        }
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(req, &())
            .await
            .map_err(|e| ParamError::of(e.status(), e.body_text()))?;
        let field_error =
            |e: axum::extract::multipart::MultipartError| ParamError::of(e.status(), e.body_text());
        while let Some(field) = form.next_field().await.map_err(field_error)? {
            let name = field.name().unwrap_or("").to_owned();
            if let Some(file_name) = field.file_name().map(str::to_owned) {
                let content_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(field_error)?;
                let upload = Upload {
                    bytes,
                    file_name: Some(file_name),
                    content_type,
                };
                uploads.insert(name, upload);
            } else {
                let text = field.text().await.map_err(field_error)?;
                let value = form_value(&name, text);
                params.insert(name, value);
            }
        }
    } else {
        let body = axum::body::to_bytes(req.into_body(), UPLOAD_LIMIT)
            .await
            .map_err(|_| ParamError::TooLarge)?;
        if content_type.starts_with("application/json") {
            if !body.is_empty() {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(m)) => params.extend(m),
                    _ => return Err(ParamError::Bad("can't parse JSON object".into())),
                }
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            let text = String::from_utf8_lossy(&body).into_owned();
            for (k, v) in form_pairs(&text) {
                let value = form_value(&k, v);
                params.insert(k, value);
            }
        }
    }
    Ok((params, uploads))
}

/// Why a call's parameters could not be read.
enum ParamError {
    /// Over [`UPLOAD_LIMIT`]: Telegram answers 413.
    TooLarge,
    Bad(String),
}

impl ParamError {
    fn of(status: StatusCode, text: String) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ParamError::TooLarge
        } else {
            ParamError::Bad(text)
        }
    }
}

/// A file download, as Telegram's file server answers it: the bytes with their type, or
/// 404 for a path `getFile` never gave (or whose bytes are no longer kept).
async fn download(
    AxState(shared): AxState<Arc<Shared>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    let found = bot
        .starts_with("bot")
        .then(|| shared.write(|s| s.download(&path)))
        .flatten();
    match found {
        Some((meta, bytes)) => ([(header::CONTENT_TYPE, meta.mime_type)], bytes).into_response(),
        None => respond(Answer::error(404, "Not Found", None)),
    }
}

/// `a=1&b=x%20y` → pairs.
fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some(hex(*bytes.get(i + 1)?)? * 16 + hex(*bytes.get(i + 2)?)?))
            .flatten();
        match (bytes[i], escaped) {
            (_, Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b'+', None) => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match answer.body {
        AnswerBody::Json(v) => (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            v.to_string(),
        )
            .into_response(),
        AnswerBody::Html(h) => (status, [(header::CONTENT_TYPE, "text/html")], h).into_response(),
    }
}

async fn handle(
    AxState(shared): AxState<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    req: Request,
) -> Response {
    if !bot.starts_with("bot") {
        return respond(Answer::error(404, "Not Found", None));
    }
    let (params, uploads) = match read_params(req).await {
        Ok(x) => x,
        Err(ParamError::TooLarge) => {
            return respond(Answer::error(413, "Request Entity Too Large", None));
        }
        Err(ParamError::Bad(why)) => return respond(Answer::bad(&format!("Bad Request: {why}"))),
    };
    let answer = if method.eq_ignore_ascii_case("getUpdates") {
        get_updates(&shared, params).await
    } else {
        // Unknown methods are answered 404 and recorded like the rest.
        shared.write(|s| s.call(&method, &params, &uploads, Instant::now()))
    };
    let latency = shared.latency_us.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_micros(latency)).await;
    }
    respond(answer)
}

/// A long poll: answers as soon as there are updates at or above the offset, or after
/// `timeout` seconds with none, or with 409 when a newer `getUpdates` arrives.
async fn get_updates(shared: &Shared, params: Map<String, Value>) -> Answer {
    let mut changed = shared.version.subscribe();
    let mut closed = shared.closed.subscribe();
    let begun = shared.write(|s| s.begin_get_updates(&params, Instant::now()));
    let answer = match begun {
        Err(a) => a,
        Ok(poll) => {
            let deadline = tokio::time::Instant::now() + poll.timeout;
            loop {
                changed.borrow_and_update();
                if shared.read(|s| s.faults.would_fault("getupdates", None, Instant::now()))
                    && let Some(a) = shared.write(|s| s.fault_for_waiting_poll(Instant::now()))
                {
                    break a;
                }
                match shared.read(|s| s.collect_updates(&poll)) {
                    Err(a) => break a,
                    Ok(list) if !list.is_empty() => break Answer::ok(Value::Array(list)),
                    Ok(_) => {}
                }
                if tokio::time::Instant::now() >= deadline || *closed.borrow() {
                    break Answer::ok(Value::Array(Vec::new()));
                }
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => {}
                    r = changed.changed() => if r.is_err() { break Answer::ok(Value::Array(Vec::new())) },
                    _ = closed.wait_for(|c| *c) => {}
                }
            }
        }
    };
    shared.write(|s| s.record_call("getUpdates", &params, &answer, Instant::now()));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_become_the_json_a_json_request_would_carry() {
        assert_eq!(
            form_value("chat_id", "-100".into()),
            serde_json::json!(-100)
        );
        assert_eq!(form_value("caption", "42".into()), serde_json::json!("42"));
        assert_eq!(
            form_value("reply_parameters", "{\"message_id\":3}".into())["message_id"],
            3
        );
        assert_eq!(
            form_value("photo", "AgAC".into()),
            serde_json::json!("AgAC")
        );
        assert_eq!(percent_decode("a%20b+c%2"), "a b c%2");
    }
}
