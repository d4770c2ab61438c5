//! Who is signed in.
//!
//! - In a browser: `/console` in a private chat sends a link with a one-time token
//!   (valid `CONSOLE_LINK_MINUTES`, stored as its hash). Opening it shows a button; the
//!   button's POST uses the token (so a link preview fetching the page uses nothing) and
//!   starts a session.
//! - In Telegram: the Mini App page reads the `initData` Telegram hands it and posts it;
//!   Butler checks its signature with the bot token and its age, then starts a session.
//!
//! A session is a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` behind HTTPS, expiring)
//! whose hash the store keeps, with a CSRF token every POST must carry. Each request asks
//! again what the person may do (a staff member who left the staff chat is out at once).

use axum::extract::{Form, FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::html::{self, esc};
use super::{Console, Failure, Shared, Source};
use crate::app::{ConsoleRole, hex, new_secret, secret_hash};
use crate::domain::{Actor, Ticket};
use crate::i18n::{Locale, t};
use crate::store::ConsolePerson;

/// The session cookie's name.
pub const COOKIE: &str = "butler_console";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;
/// How old a Mini App's `initData` may be.
pub const INIT_DATA_MAX_AGE_SECS: i64 = 3600;

/// Someone signed in, with what they may do now.
#[derive(Debug, Clone)]
pub struct Who {
    pub user_id: u64,
    pub name: String,
    pub locale: Locale,
    pub role: ConsoleRole,
    pub csrf: String,
    /// The session cookie's hash (to end it).
    session: String,
}

impl Who {
    /// The person as the ticket use cases know them.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.user_id,
            name: self.name.clone(),
            is_manager: self.role == ConsoleRole::Manager,
        }
    }

    pub fn is_manager(&self) -> bool {
        self.role == ConsoleRole::Manager
    }

    /// Whether they see `ticket`: managers every ticket, others repairs only.
    pub fn sees(&self, ticket: &Ticket) -> bool {
        self.is_manager() || ticket.kind.is_staff_work()
    }

    /// A POST's CSRF token must be this session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), Failure> {
        let ok = given.len() == self.csrf.len()
            && given
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if ok && !given.is_empty() {
            Ok(())
        } else {
            tracing::info!(user = self.user_id, "console POST without its CSRF token");
            Err(Failure::Forbidden)
        }
    }
}

/// The session cookie's value in `headers`, if any.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<Source> for Who {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, source: &Source) -> Result<Self, Response> {
        let Shared(console) = Shared::from_request_parts(parts, source).await?;
        let app = &console.app;
        let fallback = app.settings.default_locale;
        let refuse = |f: Failure| f.page(fallback);
        let token = cookie(&parts.headers).ok_or_else(|| refuse(Failure::SignIn))?;
        let session = secret_hash(&token);
        let found = app
            .store
            .console_session(&session, app.now())
            .await
            .map_err(|e| refuse(e.into()))?
            .ok_or_else(|| refuse(Failure::SignIn))?;
        let locale = found.locale.parse().unwrap_or(fallback);
        let user_id = found.user_id as u64;
        let Some(role) = app.console_role(&console.bot, user_id).await else {
            tracing::info!(user = user_id, "console refused: no longer staff");
            return Err(Failure::Forbidden.page(locale));
        };
        Ok(Who {
            user_id,
            name: found.name,
            locale,
            role,
            csrf: found.csrf,
            session,
        })
    }
}

#[derive(Deserialize)]
pub struct Token {
    #[serde(default)]
    t: String,
}

/// `GET /console/login?t=…`: a button that uses the link (a GET never does).
pub async fn login_page(Shared(console): Shared, Query(q): Query<Token>) -> Response {
    let locale = console.app.settings.default_locale;
    let body = format!(
        "<h1>{}</h1><form method=post action=\"/console/login\">\
         <input type=hidden name=t value=\"{}\"><button id=sign-in>{}</button></form>",
        esc(&t(locale, "console.title", &[])),
        esc(&q.t),
        esc(&t(locale, "console.sign_in", &[])),
    );
    html::page(locale, &t(locale, "console.title", &[]), None, &body).into_response()
}

/// `POST /console/login`: the link's token, once, within its time, starts a session.
pub async fn login(Shared(console): Shared, Form(q): Form<Token>) -> Response {
    let app = &console.app;
    let locale = app.settings.default_locale;
    let now = app.now();
    let result = async {
        let mut tx = app.store.begin().await?;
        let Some(person) = tx.redeem_console_link(&secret_hash(&q.t), now).await? else {
            return Ok(None);
        };
        let cookie = start_session(&mut tx, &person, now).await?;
        tx.commit().await?;
        Ok::<_, anyhow::Error>(Some(cookie))
    };
    match result.await {
        Ok(Some(cookie)) => signed_in(&console, cookie),
        Ok(None) => {
            tracing::info!("console link refused: unknown, used or expired");
            let text = t(locale, "console.link_invalid", &[]);
            let page = html::page(locale, &text, None, &html::notice(&text));
            (axum::http::StatusCode::FORBIDDEN, page).into_response()
        }
        Err(e) => Failure::Internal(e).page(locale),
    }
}

/// Writes a new session for `person`; returns the cookie's value.
async fn start_session(
    tx: &mut crate::store::Tx<'_>,
    person: &ConsolePerson,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let token = new_secret()?;
    let csrf = new_secret()?;
    let expires = now + Duration::hours(SESSION_HOURS);
    tx.add_console_session(&secret_hash(&token), person, &csrf, now, expires)
        .await?;
    Ok(token)
}

/// Signs `person` in at once and goes to the board: the sandbox's own manager (its page
/// answers this machine only).
pub async fn sign_in_as(console: &Console, person: &ConsolePerson) -> Response {
    let app = &console.app;
    let locale = app.settings.default_locale;
    let now = app.now();
    let result = async {
        let mut tx = app.store.begin().await?;
        let cookie = start_session(&mut tx, person, now).await?;
        tx.commit().await?;
        Ok::<_, anyhow::Error>(cookie)
    };
    match result.await {
        Ok(cookie) => signed_in(console, cookie),
        Err(e) => Failure::Internal(e).page(locale),
    }
}

/// The answer that sets the session cookie and goes to the board.
fn signed_in(console: &Console, token: String) -> Response {
    let secure = if console.app.settings.console.is_https() {
        "; Secure"
    } else {
        ""
    };
    let max_age = SESSION_HOURS * 3600;
    let value = format!(
        "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    let mut response = Redirect::to("/console/").into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
pub struct Csrf {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/logout`.
pub async fn logout(Shared(console): Shared, who: Who, Form(f): Form<Csrf>) -> Response {
    if let Err(f) = who.check_csrf(&f.csrf) {
        return f.page(who.locale);
    }
    let result = async {
        let mut tx = console.app.store.begin().await?;
        tx.end_console_session(&who.session).await?;
        tx.commit().await
    };
    if let Err(e) = result.await {
        return Failure::from(e).page(who.locale);
    }
    let mut response = Redirect::to("/console/login").into_response();
    let gone = format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&gone) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// `GET /console/app`: the Mini App's first page. Telegram puts the signed `initData` in
/// the address's fragment (`#tgWebAppData=…`); the script posts it and follows.
pub async fn mini_app_page(Shared(console): Shared) -> Response {
    let locale = console.app.settings.default_locale;
    let body = format!(
        "<p id=status>{}</p><script>{MINI_APP_SCRIPT}</script>",
        esc(&t(locale, "console.signing_in", &[])),
    );
    html::page(locale, &t(locale, "console.title", &[]), None, &body).into_response()
}

const MINI_APP_SCRIPT: &str = "
(function(){
  var h = new URLSearchParams(location.hash.slice(1));
  var data = h.get('tgWebAppData') || '';
  var body = new URLSearchParams({init_data: data});
  fetch('/console/webapp', {method: 'POST', body: body, credentials: 'same-origin'})
    .then(function(r){ if (r.ok || r.redirected) { location.replace('/console/'); }
      else { r.text().then(function(t){ document.open(); document.write(t); document.close(); }); } });
})();
";

#[derive(Deserialize)]
pub struct InitDataForm {
    #[serde(default)]
    init_data: String,
}

/// `POST /console/webapp`: a Mini App's `initData`, checked, starts a session for its
/// user when they may use the console.
pub async fn mini_app_login(Shared(console): Shared, Form(f): Form<InitDataForm>) -> Response {
    let app = &console.app;
    let locale = app.settings.default_locale;
    let now = app.now();
    let token = console.bot.token().to_owned();
    let user = match check_init_data(&f.init_data, &token, now) {
        Ok(user) => user,
        Err(e) => {
            tracing::info!(error = %e, "Mini App initData refused");
            return Failure::Forbidden.page(locale);
        }
    };
    let locale = Locale::from_telegram(user.language_code.as_deref()).unwrap_or(locale);
    if app.console_role(&console.bot, user.id).await.is_none() {
        tracing::info!(user = user.id, "Mini App refused: not staff");
        return Failure::Forbidden.page(locale);
    }
    let person = ConsolePerson {
        user_id: user.id as i64,
        name: user.name(),
        locale: locale.code().to_owned(),
    };
    sign_in_as(&console, &person).await
}

/// The Telegram user a Mini App's `initData` names.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct WebAppUser {
    pub id: u64,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
}

impl WebAppUser {
    fn name(&self) -> String {
        let full = match &self.last_name {
            Some(last) => format!("{} {last}", self.first_name),
            None => self.first_name.clone(),
        };
        if full.trim().is_empty() {
            self.username.clone().unwrap_or_else(|| self.id.to_string())
        } else {
            full
        }
    }
}

/// Why `initData` is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InitDataError {
    #[error("no hash")]
    NoHash,
    #[error("the signature does not match")]
    Forged,
    #[error("no auth_date")]
    NoDate,
    #[error("too old (or from the future)")]
    Stale,
    #[error("no user")]
    NoUser,
}

/// Checks a Mini App's `initData` (Telegram's query string) as Telegram documents: the
/// fields but `hash`, sorted, as `key=value` lines, signed with HMAC-SHA-256 under the
/// key HMAC-SHA-256("WebAppData", bot token); `auth_date` at most
/// [`INIT_DATA_MAX_AGE_SECS`] old. Returns its user.
pub fn check_init_data(
    init_data: &str,
    bot_token: &str,
    now: DateTime<Utc>,
) -> Result<WebAppUser, InitDataError> {
    let mut fields = parse_query(init_data);
    let at = fields
        .iter()
        .position(|(k, _)| k == "hash")
        .ok_or(InitDataError::NoHash)?;
    let (_, hash) = fields.remove(at);
    if sign_fields(&mut fields, bot_token) != hash.to_ascii_lowercase() {
        return Err(InitDataError::Forged);
    }
    let date: i64 = fields
        .iter()
        .find(|(k, _)| k == "auth_date")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or(InitDataError::NoDate)?;
    let age = now.timestamp() - date;
    if !(-60..=INIT_DATA_MAX_AGE_SECS).contains(&age) {
        return Err(InitDataError::Stale);
    }
    fields
        .iter()
        .find(|(k, _)| k == "user")
        .and_then(|(_, v)| serde_json::from_str(v).ok())
        .ok_or(InitDataError::NoUser)
}

/// `initData` for `fields` as Telegram would sign it with `bot_token` (tests, the sandbox).
pub fn sign_init_data(fields: &[(&str, &str)], bot_token: &str) -> String {
    let mut owned: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let hash = sign_fields(&mut owned, bot_token);
    let mut parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", html::url_value(v)))
        .collect();
    parts.push(format!("hash={hash}"));
    parts.join("&")
}

fn sign_fields(fields: &mut [(String, String)], bot_token: &str) -> String {
    fields.sort();
    let check: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let check = check.join("\n");
    let mut key = Hmac::<Sha256>::new_from_slice(b"WebAppData").expect("any key length");
    key.update(bot_token.as_bytes());
    let secret = key.finalize().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).expect("any key length");
    mac.update(check.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// `a=1&b=x%20y` as decoded pairs.
fn parse_query(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex_digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex_digit(bytes[i + 1])? * 16 + hex_digit(bytes[i + 2])?))
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

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:ABC-secret";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn signed(date: i64) -> String {
        let date = date.to_string();
        let user = r#"{"id":42,"first_name":"Wang & Li","language_code":"en"}"#;
        sign_init_data(
            &[("auth_date", &date), ("query_id", "AAH"), ("user", user)],
            TOKEN,
        )
    }

    #[test]
    fn signed_init_data_names_its_user() {
        let user = check_init_data(&signed(now().timestamp() - 10), TOKEN, now()).unwrap();
        assert_eq!(user.id, 42);
        assert_eq!(user.name(), "Wang & Li");
    }

    #[test]
    fn forged_stale_or_unsigned_init_data_is_refused() {
        let good = signed(now().timestamp() - 10);
        let forged = good.replace("%3A42", "%3A43");
        assert_ne!(forged, good);
        assert_eq!(
            check_init_data(&forged, TOKEN, now()),
            Err(InitDataError::Forged)
        );
        assert_eq!(
            check_init_data(&good, "123456:other", now()),
            Err(InitDataError::Forged)
        );
        let stale = signed(now().timestamp() - INIT_DATA_MAX_AGE_SECS - 1);
        assert_eq!(
            check_init_data(&stale, TOKEN, now()),
            Err(InitDataError::Stale)
        );
        let unsigned = good.split("&hash=").next().unwrap().to_owned();
        assert_eq!(
            check_init_data(&unsigned, TOKEN, now()),
            Err(InitDataError::NoHash)
        );
    }

    #[test]
    fn percent_escapes_decode_and_broken_ones_stay() {
        assert_eq!(decode("a%20b+c%zz%4"), "a b c%zz%4");
    }
}
