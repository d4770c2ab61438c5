//! `butler sandbox`: Butler without Telegram. The real Butler (dispatcher, store, outbox
//! and scheduler, as [`crate::run_with`] runs them in production) talks to the Bot API
//! emulator, and a web page on 127.0.0.1 plays the people: two owners in the owner group,
//! two staff members in the staff chat, and a manager, also in a private chat. The page
//! also moves the sandbox's clock forward, so that the morning greeting, the daily
//! summary, SLA alerts and rating reminders come without waiting, and resets everything.
//!
//! Each start (and each reset) begins afresh: a new database file (the emulator keeps
//! its chats in memory, and a database that remembered tickets from chats that are gone
//! would answer replies to messages that no longer exist), seeded through Butler itself
//! by sending the real commands: `/register`, `/unit`, `/start`.
//!
//! # Layout
//! - `world`: one life of the sandbox: the emulator, Butler on it, the clock, the cast.
//! - `page`: the HTTP side: the page, its JSON API and the live event stream (SSE).
//! - `view`: chats and messages as the page draws them.

mod page;
mod view;
mod world;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::{Mutex, broadcast, watch};

use crate::config::Settings;
use crate::i18n::Locale;
use crate::jobs::next_due;
use world::World;

/// The chats and people a sandbox is seeded with.
pub use world::{
    ENGINEERING, GROUP, MANAGER, MANAGER_CHAT, OWNER_1, OWNER_2, STAFF_1, STAFF_2, STAFF_3,
    STAFF_CHAT,
};

/// The database file when none is given.
pub const DEFAULT_DATABASE: &str = "butler-sandbox.db";

/// `butler sandbox [--port N] [--db PATH] [--lang en|zh]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// On 127.0.0.1; 0 picks a free port.
    pub port: u16,
    /// The sandbox's own SQLite file, replaced at each start and reset.
    pub database: PathBuf,
    /// The language to start in; the configured default when `None`.
    pub lang: Option<Locale>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            port: 8088,
            database: PathBuf::from(DEFAULT_DATABASE),
            lang: None,
        }
    }
}

/// Where the page may move the clock to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jump {
    /// The next morning greeting (`schedule.morning_greeting`, 08:00 by default).
    Morning,
    /// The next daily summary (`schedule.daily_summary`, 18:00 by default).
    Evening,
    /// An hour later.
    Hour,
}

/// The sandbox: the current world and everyone watching the page.
pub struct Sandbox {
    /// The user's settings (time zone, schedules, SLA); the sandbox sets the database,
    /// the staff chat, the managers and the language.
    base: Settings,
    database: PathBuf,
    /// Events for the page, as JSON text.
    events: broadcast::Sender<Arc<str>>,
    world: RwLock<Arc<World>>,
    /// One reset, language switch or jump at a time.
    ops: Mutex<()>,
    /// Set while seeding: the page waits.
    busy: std::sync::atomic::AtomicBool,
    /// Set when the sandbox stops: event streams end.
    closing: watch::Sender<bool>,
}

/// A sandbox bound to its port, ready to serve.
pub struct Bound {
    sandbox: Arc<Sandbox>,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl Sandbox {
    /// Starts the first world (seeded) and binds the page's port on 127.0.0.1.
    pub async fn bind(mut settings: Settings, options: Options) -> anyhow::Result<Bound> {
        if let Some(production) = settings.database_path()
            && same_file(&production, &options.database)
        {
            anyhow::bail!(
                "the sandbox replaces its database at every start; {} is Butler's own \
                 database (database_url): choose another file with --db",
                options.database.display()
            );
        }
        let lang = options.lang.unwrap_or(settings.default_locale);
        let (events, _) = broadcast::channel(1024);
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port)))
                .await
                .with_context(|| {
                    format!("binding the sandbox page to 127.0.0.1:{}", options.port)
                })?;
        let addr = listener.local_addr()?;
        // `/console` sends links to the console on this page's port.
        settings.console.public_url = format!("http://{addr}");
        let world = Self::new_world(&settings, &options.database, lang, events.clone()).await?;
        let sandbox = Arc::new(Sandbox {
            base: settings,
            database: options.database,
            events,
            world: RwLock::new(world.clone()),
            ops: Mutex::new(()),
            busy: true.into(),
            closing: watch::channel(false).0,
        });
        world.seed().await.context("seeding the sandbox")?;
        sandbox.set_busy(false);
        Ok(Bound {
            sandbox,
            listener,
            addr,
        })
    }

    async fn new_world(
        base: &Settings,
        database: &std::path::Path,
        lang: Locale,
        events: broadcast::Sender<Arc<str>>,
    ) -> anyhow::Result<Arc<World>> {
        World::start(base, database, lang, move |world, event| {
            if let Some(json) = view::event(world, event) {
                let _ = events.send(json.to_string().into());
            }
        })
        .await
    }

    fn world(&self) -> Arc<World> {
        self.world
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn broadcast(&self, event: serde_json::Value) {
        let _ = self.events.send(event.to_string().into());
    }

    fn set_busy(&self, busy: bool) {
        self.busy.store(busy, std::sync::atomic::Ordering::SeqCst);
        self.broadcast(view::snapshot(&self.world(), busy));
    }

    fn is_busy(&self) -> bool {
        self.busy.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Everything the page shows now.
    fn snapshot(&self) -> serde_json::Value {
        view::snapshot(&self.world(), self.is_busy())
    }

    /// A fresh database and emulator, seeded again, in the current language.
    pub async fn reset(&self) -> anyhow::Result<()> {
        let _one = self.ops.lock().await;
        let old = self.world();
        let lang = old.lang();
        self.busy.store(true, std::sync::atomic::Ordering::SeqCst);
        old.stop().await;
        let world =
            match Self::new_world(&self.base, &self.database, lang, self.events.clone()).await {
                Ok(w) => w,
                Err(e) => {
                    self.set_busy(false);
                    return Err(e.context("starting a fresh sandbox"));
                }
            };
        *self
            .world
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = world.clone();
        self.set_busy(true);
        let seeded = world.seed().await;
        self.set_busy(false);
        seeded
    }

    /// Switches the personas' Telegram apps, the staff chat and the owner group to `lang`.
    pub async fn switch_language(&self, lang: Locale) -> anyhow::Result<()> {
        let _one = self.ops.lock().await;
        let world = self.world();
        if world.lang() == lang {
            return Ok(());
        }
        self.set_busy(true);
        let switched = world.switch_language(lang).await;
        self.set_busy(false);
        switched
    }

    /// Moves the clock forward; the scheduler runs what came due at once.
    pub async fn jump(&self, to: Jump) -> DateTime<Utc> {
        let _one = self.ops.lock().await;
        let world = self.world();
        let target = jump_target(&world.settings(), world.time.now(), to);
        world.jump(target).await;
        self.broadcast(json!({ "type": "clock", "now_ms": target.timestamp_millis() }));
        target
    }
}

/// When a jump lands, from `now`.
fn jump_target(settings: &Settings, now: DateTime<Utc>, to: Jump) -> DateTime<Utc> {
    let tz = settings.timezone;
    let next = |spec| next_due(spec, tz, now);
    match to {
        Jump::Morning => next(&settings.schedule.morning_greeting),
        Jump::Evening => next(&settings.schedule.daily_summary),
        Jump::Hour => None,
    }
    .unwrap_or(now + chrono::Duration::hours(1))
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl Bound {
    /// The page's address, e.g. `http://127.0.0.1:8088/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves the page until `shutdown` completes, then stops Butler and the emulator.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let sandbox = self.sandbox;
        let router = page::router(sandbox.clone());
        let closing = sandbox.closing.clone();
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // Ends the pages' event streams, which would otherwise keep serving.
                closing.send_replace(true);
            })
            .await;
        let _one = sandbox.ops.lock().await;
        sandbox.world().stop().await;
        served.context("serving the sandbox page")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn jumps_land_on_the_next_greeting_and_summary_in_the_configured_zone() {
        let settings = Settings::default(); // Asia/Shanghai, 08:00 and 18:00
        // 10:30 in Shanghai.
        let now = at("2026-11-24T02:30:00Z");
        assert_eq!(
            jump_target(&settings, now, Jump::Morning),
            at("2026-11-25T00:00:00Z")
        );
        assert_eq!(
            jump_target(&settings, now, Jump::Evening),
            at("2026-11-24T10:00:00Z")
        );
        assert_eq!(
            jump_target(&settings, now, Jump::Hour),
            at("2026-11-24T03:30:00Z")
        );
    }

    mod router {
        use axum::body::Body;
        use axum::http::{Request, StatusCode, header};
        use tower::ServiceExt;

        use super::super::*;

        const BOUNDARY: &str = "XbutlerX";

        /// A multipart body: text fields, then a `photo` with `bytes` for each upload.
        fn form(fields: &[(&str, &str)], uploads: &[(&str, &[u8])]) -> Vec<u8> {
            let mut body = Vec::new();
            for (name, value) in fields {
                body.extend(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes());
            }
            for (kind, bytes) in uploads {
                body.extend(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a\"\r\nContent-Type: {kind}\r\n\r\n").bytes());
                body.extend(*bytes);
                body.extend(b"\r\n");
            }
            body.extend(format!("--{BOUNDARY}--\r\n").bytes());
            body
        }

        fn request(host: Option<&str>, path: &str, body: Option<Vec<u8>>) -> Request<Body> {
            let mut r = Request::builder().uri(path);
            if let Some(host) = host {
                r = r.header(header::HOST, host);
            }
            match body {
                None => r.body(Body::empty()),
                Some(body) => r
                    .method("POST")
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={BOUNDARY}"),
                    )
                    .body(Body::from(body)),
            }
            .unwrap()
        }

        async fn status(sandbox: &Arc<Sandbox>, req: Request<Body>) -> StatusCode {
            let router = page::router(sandbox.clone());
            router.oneshot(req).await.unwrap().status()
        }

        #[tokio::test]
        async fn the_page_answers_local_hosts_only_and_takes_pictures_only() {
            let dir = tempfile::tempdir().unwrap();
            let options = Options {
                port: 0,
                database: dir.path().join("sandbox.db"),
                lang: Some(Locale::En),
            };
            let bound = Sandbox::bind(Settings::default(), options).await.unwrap();
            let sandbox = bound.sandbox.clone();

            let local = Some("127.0.0.1:8088");
            assert_eq!(
                status(&sandbox, request(local, "/", None)).await,
                StatusCode::OK
            );
            let localhost = Some("localhost:1234");
            assert_eq!(
                status(&sandbox, request(localhost, "/", None)).await,
                StatusCode::OK
            );
            let rebound = Some("evil.example:8088");
            assert_eq!(
                status(&sandbox, request(rebound, "/", None)).await,
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                status(&sandbox, request(None, "/", None)).await,
                StatusCode::BAD_REQUEST
            );

            let owner = OWNER_1.to_string();
            let group = GROUP.to_string();
            let who = [("chat", group.as_str()), ("user", owner.as_str())];
            let (_, _, jpeg) = page::SAMPLES[0];
            let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
            let send =
                |uploads: &[(&str, &[u8])]| request(local, "/api/send", Some(form(&who, uploads)));
            assert_eq!(
                status(&sandbox, send(&[("image/svg+xml", svg)])).await,
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            );
            assert_eq!(
                status(&sandbox, send(&[("image/jpeg", svg)])).await,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the declared type is not trusted"
            );
            let big = [jpeg, &vec![0; 5 * 1024 * 1024][..]].concat();
            assert_eq!(
                status(&sandbox, send(&[("image/jpeg", &big)])).await,
                StatusCode::PAYLOAD_TOO_LARGE
            );
            assert_eq!(
                status(
                    &sandbox,
                    send(&[("image/jpeg", jpeg), ("image/jpeg", jpeg)])
                )
                .await,
                StatusCode::BAD_REQUEST,
                "one photo per message"
            );
            assert_eq!(kept_bytes(&sandbox), 0, "nothing refused was kept");
            assert_eq!(
                status(&sandbox, send(&[("image/jpeg", jpeg)])).await,
                StatusCode::NO_CONTENT
            );
            assert_eq!(kept_bytes(&sandbox), jpeg.len());
            // The photo is served from the emulator's files, the real picture.
            let sent = sandbox.world().emu.messages_in(GROUP);
            let photo = sent.last().and_then(|m| m.photo.clone()).expect("a photo");
            let path = format!("/photo/{}", photo.file_unique_id);
            let (status, headers, body) = get(&sandbox, request(local, &path, None)).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
            assert_eq!(&body[..], jpeg);
            sandbox.world().stop().await;
        }

        #[tokio::test]
        async fn the_console_is_on_the_page_s_port_signed_in_as_the_manager() {
            let dir = tempfile::tempdir().unwrap();
            let options = Options {
                port: 0,
                database: dir.path().join("sandbox.db"),
                lang: Some(Locale::En),
            };
            let bound = Sandbox::bind(Settings::default(), options).await.unwrap();
            let sandbox = bound.sandbox.clone();
            let local = Some("127.0.0.1:8088");
            let router = page::router(sandbox.clone());
            let res = router
                .clone()
                .oneshot(request(local, "/api/console", None))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
            let cookie = cookie.split(';').next().unwrap().to_owned();
            let mut board = request(local, "/console/", None);
            board
                .headers_mut()
                .insert(header::COOKIE, cookie.parse().unwrap());
            let res = router.clone().oneshot(board).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            let body = String::from_utf8_lossy(&body);
            assert!(
                body.contains("Zhou Yan"),
                "signed in as the manager: {body}"
            );
            let rebound = Some("evil.example:8088");
            assert_eq!(
                status(&sandbox, request(rebound, "/console/", None)).await,
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                sandbox.world().settings().console.base_url(),
                format!("http://{}", bound.addr())
            );
            sandbox.world().stop().await;
        }

        #[tokio::test]
        async fn the_engineering_chat_is_a_fourth_pane_and_gets_the_plumbing_cards() {
            let dir = tempfile::tempdir().unwrap();
            let options = Options {
                port: 0,
                database: dir.path().join("sandbox.db"),
                lang: Some(Locale::En),
            };
            let bound = Sandbox::bind(Settings::default(), options).await.unwrap();
            let sandbox = bound.sandbox.clone();
            let snap = sandbox.snapshot();
            let chats = snap["chats"].as_array().unwrap();
            let ids: Vec<i64> = chats.iter().map(|c| c["id"].as_i64().unwrap()).collect();
            assert_eq!(ids, [GROUP, STAFF_CHAT, ENGINEERING, MANAGER_CHAT]);
            let engineering = &chats[2];
            assert_eq!(engineering["title"], "Sunrise Garden engineering");
            assert_eq!(
                engineering["members"],
                serde_json::json!([STAFF_3, MANAGER])
            );
            assert_eq!(engineering["acting"], STAFF_3);
            let menu: Vec<&str> = engineering["menu"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["command"].as_str().unwrap())
                .collect();
            assert!(
                menu.contains(&"take") && menu.contains(&"pause"),
                "{menu:?}"
            );

            let world = sandbox.world();
            let report = "/repair the kitchen tap is leaking";
            world
                .emu
                .user_sends_text(GROUP, OWNER_1, report, None)
                .unwrap();
            let card = |chat: i64| {
                move |s: &butler_emulator::State| {
                    s.bot_messages_in(chat)
                        .iter()
                        .any(|m| m.body().starts_with("🔧 #1 ·"))
                }
            };
            let step = std::time::Duration::from_secs(20);
            world.emu.wait_for(card(ENGINEERING), step).await.unwrap();
            assert!(
                !world.emu.read(card(STAFF_CHAT)),
                "the staff chat has no card"
            );
            sandbox.world().stop().await;
        }

        #[tokio::test]
        async fn the_language_switch_sets_the_groups_language_without_a_message_in_it() {
            let dir = tempfile::tempdir().unwrap();
            let options = Options {
                port: 0,
                database: dir.path().join("sandbox.db"),
                lang: Some(Locale::En),
            };
            let bound = Sandbox::bind(Settings::default(), options).await.unwrap();
            let sandbox = bound.sandbox.clone();
            let before = sandbox.world().emu.messages_in(GROUP).len();
            sandbox.switch_language(Locale::ZhCn).await.unwrap();
            let world = sandbox.world();
            let store = crate::store::Store::open(&world.settings().database_url)
                .await
                .unwrap();
            let group = store.group(GROUP).await.unwrap().expect("the group");
            assert_eq!(group.locale.as_deref(), Some(Locale::ZhCn.code()));
            store.close().await;
            let after = world.emu.messages_in(GROUP);
            assert_eq!(after.len(), before, "nothing said in the group: {after:?}");
            assert!(
                world
                    .emu
                    .calls_of("sendMessage")
                    .iter()
                    .all(|c| c.chat_id != Some(GROUP)
                        || !c.param_str("text").unwrap_or("").contains("语言"))
            );
            world.stop().await;
        }

        fn kept_bytes(sandbox: &Sandbox) -> usize {
            sandbox.world().emu.read(|s| s.kept_file_bytes())
        }

        async fn get(
            sandbox: &Arc<Sandbox>,
            req: Request<Body>,
        ) -> (StatusCode, axum::http::HeaderMap, axum::body::Bytes) {
            let router = page::router(sandbox.clone());
            let response = router.oneshot(req).await.unwrap();
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            (parts.status, parts.headers, body)
        }

        #[tokio::test]
        async fn a_document_butler_sent_downloads_under_its_name_with_its_type() {
            let dir = tempfile::tempdir().unwrap();
            let options = Options {
                port: 0,
                database: dir.path().join("sandbox.db"),
                lang: Some(Locale::En),
            };
            let bound = Sandbox::bind(Settings::default(), options).await.unwrap();
            let sandbox = bound.sandbox.clone();
            let workbook = b"PK\x03\x04 a workbook".to_vec();
            let upload = butler_emulator::Upload::new(workbook.clone()).named("导出 2026.xlsx");
            let uploads = butler_emulator::Uploads::from([("document".to_owned(), upload)]);
            let params = serde_json::json!({ "chat_id": STAFF_CHAT });
            let answer = sandbox.world().emu.write(|s| {
                s.call(
                    "sendDocument",
                    params.as_object().unwrap(),
                    &uploads,
                    std::time::Instant::now(),
                )
            });
            assert_eq!(answer.status, 200);
            let snap = sandbox.snapshot();
            let shown = snap["messages"].as_array().unwrap();
            let doc = shown
                .iter()
                .find_map(|m| m["document"].as_object().cloned())
                .expect("the document in the snapshot");
            assert_eq!(doc["name"], "导出 2026.xlsx");
            assert_eq!(doc["size"], workbook.len());
            let url = doc["url"].as_str().unwrap();
            let (status, headers, body) =
                get(&sandbox, request(Some("127.0.0.1"), url, None)).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body.to_vec(), workbook);
            assert_eq!(
                headers[header::CONTENT_TYPE],
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            );
            let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
            assert!(
                disposition.starts_with("attachment; filename=\"__ 2026.xlsx\""),
                "{disposition}"
            );
            assert!(
                disposition.contains("filename*=UTF-8''%E5%AF%BC%E5%87%BA%202026.xlsx"),
                "{disposition}"
            );
            let (status, _, _) =
                get(&sandbox, request(Some("127.0.0.1"), "/file/nope", None)).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            sandbox.world().stop().await;
        }
    }

    #[test]
    fn a_jump_from_the_exact_time_goes_to_the_next_day() {
        let settings = Settings::default();
        let eight = at("2026-11-24T00:00:00Z");
        assert_eq!(
            jump_target(&settings, eight, Jump::Morning),
            at("2026-11-25T00:00:00Z")
        );
    }
}
