//! The HTTP side of the sandbox: the page (plain HTML, CSS and JavaScript compiled into
//! the binary), the sample photos, the files the emulator keeps (photos people attached,
//! the charts and exports Butler sent), a JSON API for what people do, and the live event
//! stream (server-sent events: a snapshot first, then each change).

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::{Jump, Sandbox};
use crate::domain::image::image_type;
use crate::i18n::Locale;
use butler_emulator::FileKind;

const INDEX: &str = include_str!("../../assets/sandbox/index.html");
const SCRIPT: &str = include_str!("../../assets/sandbox/app.js");
const STYLE: &str = include_str!("../../assets/sandbox/app.css");

/// Photos to attach with one click: (file name, MIME type, contents).
pub const SAMPLES: [(&str, &str, &[u8]); 4] = [
    (
        "tap-leak.jpg",
        "image/jpeg",
        include_bytes!("../../assets/sandbox/samples/tap-leak.jpg"),
    ),
    (
        "ceiling-stain.jpg",
        "image/jpeg",
        include_bytes!("../../assets/sandbox/samples/ceiling-stain.jpg"),
    ),
    (
        "corridor-light.jpg",
        "image/jpeg",
        include_bytes!("../../assets/sandbox/samples/corridor-light.jpg"),
    ),
    (
        "tap-fixed.jpg",
        "image/jpeg",
        include_bytes!("../../assets/sandbox/samples/tap-fixed.jpg"),
    ),
];

/// The largest photo people may upload (one per message).
const MAX_UPLOAD: usize = 5 * 1024 * 1024;

type Shared = State<Arc<Sandbox>>;

pub fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route("/fonts/butler-cjk.ttf", get(font))
        .route("/samples/{name}", get(sample))
        .route("/photo/{id}", get(photo))
        .route("/file/{id}", get(file))
        .route("/api/events", get(events))
        .route("/api/send", post(send))
        .route("/api/press", post(press))
        .route("/api/time", post(time))
        .route("/api/lang", post(language))
        .route("/api/reset", post(reset))
        .route("/api/console", get(console_sign_in))
        .with_state(sandbox.clone())
        .merge(crate::console::router_with(Arc::new(move || {
            sandbox.world().console()
        })))
        .layer(middleware::from_fn(same_origin))
        .layer(middleware::from_fn(local_host))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024))
}

/// The page's console link: signed in as the sandbox's manager, to the board (the page
/// answers this machine only).
async fn console_sign_in(State(sandbox): Shared) -> Response {
    let world = sandbox.world();
    let Some(console) = world.console() else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "Butler is starting");
    };
    let lang = world.lang();
    let manager = crate::store::ConsolePerson {
        user_id: super::MANAGER as i64,
        name: crate::i18n::t(lang, "sandbox.manager", &[]),
        locale: lang.code().to_owned(),
    };
    crate::console::sign_in_as(&console, &manager).await
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Only the page itself may act: a request another site's page sends to 127.0.0.1
/// carries that site's Origin.
async fn same_origin(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = origin
        && host.is_none_or(|h| origin != format!("http://{h}"))
    {
        return refuse(
            StatusCode::FORBIDDEN,
            "requests from other sites are refused",
        );
    }
    next.run(req).await
}

/// Only requests addressed to this machine by name or address: a page of another site
/// whose name was pointed at 127.0.0.1 (DNS rebinding) still sends its own name as `Host`.
async fn local_host(req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).map(|v| v.to_str());
    match host {
        None => refuse(StatusCode::BAD_REQUEST, "a Host header is needed"),
        Some(Ok(host)) if is_local_host(host) => next.run(req).await,
        Some(_) => refuse(
            StatusCode::FORBIDDEN,
            "the sandbox answers only to 127.0.0.1, localhost or [::1]",
        ),
    }
}

/// `127.0.0.1`, `localhost` or `[::1]`, with or without a port.
fn is_local_host(host: &str) -> bool {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((inside, after)) => (format!("[{inside}]"), after),
            None => return false,
        },
        None => {
            let at = host.find(':').unwrap_or(host.len());
            (host[..at].to_owned(), &host[at..])
        }
    };
    let port_ok = match port.strip_prefix(':') {
        Some(digits) => !digits.is_empty() && digits.parse::<u16>().is_ok(),
        None => port.is_empty(),
    };
    port_ok && ["127.0.0.1", "localhost", "[::1]"].contains(&name.to_ascii_lowercase().as_str())
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": why }).to_string(),
    )
        .into_response()
}

fn done() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn image(content_type: &str, bytes: Bytes) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=3600"),
    );
    (headers, bytes).into_response()
}

/// The CJK font Butler draws its charts with, as the page's last resort for Chinese.
/// Browsers do not load font collections, so the first face is served on its own.
async fn font() -> Response {
    static FACE: std::sync::OnceLock<Option<Bytes>> = std::sync::OnceLock::new();
    let face = FACE.get_or_init(|| first_face(crate::figures::chart::FONT).map(Bytes::from));
    match face {
        Some(face) => (
            [
                (header::CONTENT_TYPE, "font/ttf"),
                (header::CACHE_CONTROL, "max-age=86400"),
            ],
            face.clone(),
        )
            .into_response(),
        None => refuse(StatusCode::NOT_FOUND, "no font"),
    }
}

/// The first font of a TrueType collection (`ttcf`) as a font file of its own: its table
/// directory, and each table it names copied after it with the offsets moved.
fn first_face(ttc: &[u8]) -> Option<Vec<u8>> {
    let u16_at = |at: usize| Some(u16::from_be_bytes(ttc.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_be_bytes(ttc.get(at..at + 4)?.try_into().ok()?));
    if ttc.get(..4)? != b"ttcf" {
        return None;
    }
    let face = u32_at(12)? as usize;
    let tables = u16_at(face + 4)? as usize;
    let directory = 12 + 16 * tables;
    let mut out = ttc.get(face..face + directory)?.to_vec();
    for i in 0..tables {
        let record = face + 12 + 16 * i;
        let (offset, length) = (u32_at(record + 8)? as usize, u32_at(record + 12)? as usize);
        let start = u32::try_from(out.len()).ok()?;
        out[12 + 16 * i + 8..12 + 16 * i + 12].copy_from_slice(&start.to_be_bytes());
        out.extend_from_slice(ttc.get(offset..offset + length)?);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    Some(out)
}

async fn sample(Path(name): Path<String>) -> Response {
    match SAMPLES.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, bytes)) => image(kind, Bytes::from_static(bytes)),
        None => refuse(StatusCode::NOT_FOUND, "no such sample"),
    }
}

/// A photo by its `file_unique_id`, from the files the emulator keeps; one it no longer
/// keeps (see `world::FILE_MEMORY`) shows a placeholder.
async fn photo(State(sandbox): Shared, Path(id): Path<String>) -> Response {
    let found = sandbox.world().emu.file_contents(&id);
    match found {
        Some((meta, bytes)) if meta.kind == FileKind::Photo => image(&meta.mime_type, bytes),
        _ => image("image/svg+xml", Bytes::from_static(PLACEHOLDER.as_bytes())),
    }
}

/// A document Butler sent (an export), by its `file_unique_id`: its bytes with its type,
/// as a download under its name (never shown in the page's own origin).
async fn file(State(sandbox): Shared, Path(id): Path<String>) -> Response {
    let Some((meta, bytes)) = sandbox.world().emu.file_contents(&id) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "the sandbox no longer keeps this file",
        );
    };
    let name = meta.file_name.as_deref().unwrap_or("file");
    let mut headers = HeaderMap::new();
    let content_type = HeaderValue::from_str(&meta.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Ok(v) = HeaderValue::from_str(&attachment(name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    (headers, bytes).into_response()
}

/// `Content-Disposition` for a download named `name`: a plain ASCII name, and the
/// real one (RFC 5987) for browsers that read it.
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

const PLACEHOLDER: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200"><rect width="320" height="200" fill="#dfe6ec"/><g fill="none" stroke="#8a9aa9" stroke-width="8" stroke-linejoin="round"><rect x="110" y="70" width="100" height="70" rx="10"/><circle cx="160" cy="105" r="20"/><path d="M135 70l10-14h30l10 14"/></g></svg>"##;

/// The live stream: a snapshot of everything, then every change as it happens. A page
/// that falls behind gets a fresh snapshot.
async fn events(State(sandbox): Shared) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = sandbox.events.subscribe();
    let first = sandbox.snapshot().to_string();
    let mut closing = sandbox.closing.subscribe();
    let changes = futures::stream::unfold((rx, sandbox), |(mut rx, sandbox)| async move {
        let text = match rx.recv().await {
            Ok(text) => text.to_string(),
            Err(RecvError::Lagged(_)) => sandbox.snapshot().to_string(),
            Err(RecvError::Closed) => return None,
        };
        Some((text, (rx, sandbox)))
    });
    let stream = futures::stream::once(async move { first })
        .chain(changes)
        .map(|text| Ok(SseEvent::default().data(text)))
        .take_until(async move {
            let _ = closing.wait_for(|c| *c).await;
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A person sends a message: text, a photo (a sample or an upload) with an optional
/// caption, maybe replying to a message.
async fn send(State(sandbox): Shared, mut form: Multipart) -> Response {
    let mut chat: Option<i64> = None;
    let mut user: Option<u64> = None;
    let mut text = String::new();
    let mut reply_to: Option<i32> = None;
    let mut picture: Option<Bytes> = None;
    let mut uploads = 0;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.body_text()),
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "photo" {
            if uploads == 1 {
                return refuse(StatusCode::BAD_REQUEST, "one photo per message");
            }
            uploads += 1;
            match upload(field).await {
                Ok(Some(image)) => picture = Some(image),
                Ok(None) => {}
                Err(refused) => return refused,
            }
            continue;
        }
        let value = match field.text().await {
            Ok(v) => v,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.body_text()),
        };
        match name.as_str() {
            "chat" => chat = value.trim().parse().ok(),
            "user" => user = value.trim().parse().ok(),
            "text" => text = value,
            "reply_to" => reply_to = value.trim().parse().ok(),
            "sample" => {
                picture = SAMPLES
                    .iter()
                    .find(|(n, _, _)| *n == value)
                    .map(|(_, _, bytes)| Bytes::from_static(bytes))
            }
            _ => {}
        }
    }
    let (Some(chat), Some(user)) = (chat, user) else {
        return refuse(StatusCode::BAD_REQUEST, "chat and user are needed");
    };
    let world = sandbox.world();
    let caption = Some(text.as_str()).filter(|t| !t.trim().is_empty());
    let sent = match picture {
        Some(picture) => world
            .emu
            .user_sends_photo_file(chat, user, picture, caption, reply_to)
            .map(|_| ()),
        None => world
            .emu
            .user_sends_text(chat, user, &text, reply_to)
            .map(|_| ()),
    };
    match sent {
        Ok(()) => done(),
        Err(e) => refuse(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

/// An uploaded photo: an image by its bytes (its declared type is not trusted), at most
/// [`MAX_UPLOAD`] bytes. `None` when empty.
async fn upload(field: axum::extract::multipart::Field<'_>) -> Result<Option<Bytes>, Response> {
    let bytes = field
        .bytes()
        .await
        .map_err(|e| refuse(e.status(), &e.body_text()))?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if bytes.len() > MAX_UPLOAD {
        let why = format!("a photo may be at most {} MiB", MAX_UPLOAD / (1024 * 1024));
        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, &why));
    }
    if image_type(&bytes).is_none() {
        let why = "only pictures (PNG, JPEG, GIF, WebP) can be attached";
        return Err(refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, why));
    }
    Ok(Some(bytes))
}

/// A JSON body, or why it is not one.
fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct Press {
    chat: i64,
    message_id: i32,
    user: u64,
    data: String,
}

/// A person presses an inline button; Butler's answer arrives on the event stream.
async fn press(State(sandbox): Shared, body: Bytes) -> Response {
    let p: Press = match parse(&body) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    match sandbox
        .world()
        .emu
        .user_presses_button(p.chat, p.message_id, p.user, &p.data)
    {
        Ok(_) => done(),
        Err(e) => refuse(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct Time {
    to: Jump,
}

async fn time(State(sandbox): Shared, body: Bytes) -> Response {
    let t: Time = match parse(&body) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    let at = sandbox.jump(t.to).await;
    (
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "now_ms": at.timestamp_millis() }).to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct Language {
    lang: String,
}

async fn language(State(sandbox): Shared, body: Bytes) -> Response {
    let l: Language = match parse(&body) {
        Ok(l) => l,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    let lang: Locale = match l.lang.parse() {
        Ok(lang) => lang,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    match sandbox.switch_language(lang).await {
        Ok(()) => done(),
        Err(e) => failed(&e),
    }
}

async fn reset(State(sandbox): Shared) -> Response {
    match sandbox.reset().await {
        Ok(()) => done(),
        Err(e) => failed(&e),
    }
}

fn failed(e: &anyhow::Error) -> Response {
    tracing::error!(error = format!("{e:#}"), "the sandbox failed");
    refuse(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ab_glyph::Font;

    #[test]
    fn the_first_face_of_the_chart_font_is_a_font_with_chinese_glyphs() {
        let face = first_face(crate::figures::chart::FONT).expect("a face");
        assert_eq!(
            &face[..4],
            &[0, 1, 0, 0],
            "a TrueType font, not a collection"
        );
        let font = ab_glyph::FontRef::try_from_slice(&face).expect("the face parses");
        assert_ne!(font.glyph_id('中').0, 0);
        assert_ne!(font.glyph_id('B').0, 0);
    }

    #[test]
    fn only_this_machine_by_name_or_address_is_a_local_host() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:8088",
            "localhost",
            "LocalHost:1",
            "[::1]",
            "[::1]:8088",
        ] {
            assert!(is_local_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8088",
            "127.0.0.1.evil.example",
            "localhost.evil.example:80",
            "127.0.0.2:8088",
            "0.0.0.0",
            "[::2]:8088",
            "[::1",
            "127.0.0.1:",
            "127.0.0.1:99999",
            "127.0.0.1:80:80",
            "localhost:http",
            "",
        ] {
            assert!(!is_local_host(bad), "{bad}");
        }
    }

    #[test]
    fn only_a_collection_has_a_first_face() {
        assert_eq!(first_face(b"\0\x01\0\0 not a collection"), None);
        assert_eq!(first_face(b"ttcf"), None);
    }
}
