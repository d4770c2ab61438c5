//! The web console: Butler's back office in the browser and as a Telegram Mini App, for
//! managers, dispatchers and staff. Plain server-rendered HTML (CSS and a little
//! JavaScript compiled in, nothing from a CDN), usable on a 390 px phone and a desktop.
//!
//! An adapter like `chat`: it parses a request, calls the same `tickets` use cases and
//! `figures` as the chat, and answers with a page. The roles follow the chat
//! ([`crate::app::ConsoleRole`]): staff see repairs only, managers everything.
//!
//! # Layout
//! - `auth`: who is signed in: the one-time link `/console` sends, the Mini App's
//!   `initData`, the session cookie and the CSRF token every POST carries.
//! - `html`: escaping, the page frame, the style.
//! - `board`: the tickets, filtered, searched, newest first, a page at a time.
//! - `ticket`: one ticket's story, its photos, and the chat's actions on it.
//! - `reports`: the figures with the weekly chart, the exports, the roster.

mod auth;
mod board;
mod html;
mod reports;
mod ticket;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use teloxide::Bot;

use crate::app::AppRef;
use crate::i18n::{Locale, t};

pub use auth::{InitDataError, WebAppUser, check_init_data, sign_in_as, sign_init_data};

/// What every console request gets: Butler's context and the bot (for Telegram's word on
/// who is staff, and for photos).
pub struct Console {
    pub app: AppRef,
    pub bot: Bot,
    /// Photos fetched from Telegram, kept beside the database (bounded).
    pub cache: PathBuf,
}

/// Where the console finds Butler for a request: one app for its whole life (production),
/// or whichever Butler the sandbox runs now (a reset starts another); `None` while none
/// runs.
pub type Source = Arc<dyn Fn() -> Option<Arc<Console>> + Send + Sync>;

/// The console a request is served by (extracted from the [`Source`]).
pub struct Shared(pub Arc<Console>);

impl FromRequestParts<Source> for Shared {
    type Rejection = Response;

    async fn from_request_parts(
        _: &mut Parts,
        source: &Source,
    ) -> std::result::Result<Self, Response> {
        source()
            .map(Shared)
            .ok_or_else(|| StatusCode::SERVICE_UNAVAILABLE.into_response())
    }
}

/// How many photos the cache keeps; the oldest go first.
pub const CACHE_FILES: usize = 500;

/// The console's routes, all under `/console/` (so a reverse proxy can pass that path on).
pub fn router(app: AppRef, bot: Bot) -> Router {
    let console = Console::new(app, bot);
    router_with(Arc::new(move || Some(console.clone())))
}

/// [`router`] for a Butler that may change: each request asks `source` for the current one.
pub fn router_with(source: Source) -> Router {
    Router::new()
        .route(
            "/console",
            get(|| async { axum::response::Redirect::to("/console/") }),
        )
        .route("/console/", get(board::board))
        .route("/console/login", get(auth::login_page).post(auth::login))
        .route("/console/app", get(auth::mini_app_page))
        .route("/console/webapp", post(auth::mini_app_login))
        .route("/console/logout", post(auth::logout))
        .route("/console/tickets/{id}", get(ticket::page))
        .route("/console/tickets/{id}/photos/{n}", get(ticket::photo))
        .route("/console/tickets/{id}/{action}", post(ticket::act))
        .route("/console/figures", get(reports::figures))
        .route("/console/chart.png", get(reports::chart))
        .route("/console/export/{file}", get(reports::export))
        .route("/console/staff", get(reports::roster))
        .with_state(source)
}

impl Console {
    pub fn new(app: AppRef, bot: Bot) -> Arc<Console> {
        let cache = cache_dir(&app);
        Arc::new(Console { app, bot, cache })
    }
}

/// The photo cache: `console-cache` beside the database file (the system's temporary
/// directory for a database in memory or on PostgreSQL).
fn cache_dir(app: &AppRef) -> PathBuf {
    match app.settings.database_path() {
        Some(db) => db
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default()
            .join("console-cache"),
        None => std::env::temp_dir().join(format!("butler-console-{}", std::process::id())),
    }
}

/// Serves the console on `[console] listen` until `shutdown`. A console that cannot bind
/// is logged and left out: the bot goes on without it.
pub async fn serve(
    app: AppRef,
    bot: Bot,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listen = app.settings.console.listen.trim().to_owned();
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("console.listen {listen:?} is no host:port"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the console to {addr}"))?;
    let bound = listener.local_addr()?;
    tracing::info!(%bound, url = %app.settings.console.base_url(), "console listening");
    axum::serve(listener, router(app, bot))
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving the console")
}

/// Why a console request ends without its page.
#[derive(Debug)]
pub enum Failure {
    /// Not signed in (or the session ended): the page says how to sign in.
    SignIn,
    /// Signed in, but not allowed (an owner, someone no longer on the staff, a complaint
    /// for staff, a POST without its CSRF token).
    Forbidden,
    NotFound,
    /// The request was malformed: a localized line (already in the reader's language).
    Bad(String),
    /// Ours: logged, never shown.
    Internal(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Internal(e.into())
    }
}

impl Failure {
    /// The page for this failure, in `locale`.
    pub fn page(self, locale: Locale) -> Response {
        let (status, key) = match &self {
            Failure::SignIn => (StatusCode::UNAUTHORIZED, "console.sign_in_needed"),
            Failure::Forbidden => (StatusCode::FORBIDDEN, "console.forbidden"),
            Failure::NotFound => (StatusCode::NOT_FOUND, "console.not_found"),
            Failure::Bad(_) => (StatusCode::BAD_REQUEST, "console.bad_request"),
            Failure::Internal(e) => {
                tracing::error!(error = ?e, "console request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "console.failed")
            }
        };
        let mut text = t(locale, key, &[]);
        if let Failure::Bad(why) = &self {
            text = format!("{text} {why}");
        }
        let body = format!("<p class=notice>{}</p>", html::esc(&text));
        (
            status,
            html::page(locale, &t(locale, "console.title", &[]), None, &body),
        )
            .into_response()
    }
}

pub type Result<T> = std::result::Result<T, Failure>;
