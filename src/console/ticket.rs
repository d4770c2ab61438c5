//! One ticket's page: its story (every event with person and time), its photos, rating
//! and follow-ups, and the chat's actions on it (assign, transfer, pause, resume, close a
//! follow-up, ask to rate again) through the same `tickets` use cases as the chat.

use std::path::PathBuf;

use axum::body::Bytes;
use axum::extract::{Form, Path};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use teloxide::net::Download;
use teloxide::prelude::*;

use super::auth::Who;
use super::html::{self, csrf_field, esc, options};
use super::{Console, Failure, Shared};
use crate::app::secret_hash;
use crate::domain::image::image_type;
use crate::domain::{self, Actor, Kind, Story, Ticket, TicketId, TicketStatus};
use crate::i18n::{self, Locale, t};
use crate::messages::render::{stars, status_name};
use crate::messages::story::event_text;
use crate::store::StaffMember;
use crate::tickets;

/// The largest photo fetched from Telegram.
const MAX_PHOTO: u32 = 20 * 1024 * 1024;

/// `GET /console/tickets/{id}`.
pub async fn page(Shared(console): Shared, who: Who, Path(id): Path<i64>) -> Response {
    match render(&console, &who, TicketId(id), None).await {
        Ok(page) => page,
        Err(e) => e.page(who.locale),
    }
}

/// The ticket the person may see, or why not.
async fn visible(console: &Console, who: &Who, id: TicketId) -> super::Result<Ticket> {
    let ticket = console
        .app
        .store
        .ticket(id)
        .await?
        .ok_or(Failure::NotFound)?;
    if !who.sees(&ticket) {
        tracing::info!(
            user = who.user_id,
            ticket = id.0,
            "console: not theirs to see"
        );
        return Err(Failure::Forbidden);
    }
    Ok(ticket)
}

/// The page, with `notice` (what an action did, or why it was refused) on top.
async fn render(
    console: &Console,
    who: &Who,
    id: TicketId,
    notice: Option<String>,
) -> super::Result<Response> {
    let app = &console.app;
    let locale = who.locale;
    let tz = app.settings.timezone;
    let ticket = visible(console, who, id).await?;
    let story = app.store.story(id).await?;
    let roster = app.store.roster().await?;
    let title = t(locale, "console.ticket_title", &[("id", &id.to_string())]);
    let mut body = notice.map(|n| html::notice(&n)).unwrap_or_default();
    body.push_str(&head(&ticket, &title, locale, tz));
    body.push_str(&photos(id, &story));
    body.push_str(&format!(
        "<h2>{}</h2><ul class=story>",
        esc(&t(locale, "console.story", &[]))
    ));
    for e in &story.events {
        body.push_str(&format!(
            "<li><span class=meta>{} · {}</span><br>{}</li>",
            e.at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            esc(&e.actor),
            esc(&event_text(e, locale)),
        ));
    }
    body.push_str("</ul>");
    body.push_str(&follow_ups(who, &ticket, &story, tz));
    body.push_str(&actions(who, &ticket, &roster));
    Ok(html::page(locale, &title, Some(who), &body).into_response())
}

fn head(ticket: &Ticket, title: &str, locale: Locale, tz: chrono_tz::Tz) -> String {
    let status = match (&ticket.taken_by, ticket.status) {
        (Some((_, by)), TicketStatus::Taken) => t(locale, "card.status_taken", &[("by", by)]),
        (_, s) => status_name(locale, s),
    };
    let subject = match ticket.kind {
        Kind::Repair => i18n::category_name(locale, ticket.category),
        kind => t(locale, &format!("kind.{}", kind.code()), &[]),
    };
    let rating = ticket.score.map(|s| {
        let score = s.to_string();
        let line = t(
            locale,
            "story.rating",
            &[("stars", &stars(s.get())), ("score", &score)],
        );
        format!("<p>{}</p>", esc(&line))
    });
    let paused = ticket.paused.as_ref().map(|p| {
        format!(
            "<p>⏸ {}</p>",
            esc(&t(locale, "console.paused", &[("reason", &p.reason)]))
        )
    });
    format!(
        "<h1>{title}</h1><p><span class=\"status u-{u}\">{u} · {status}</span> · {subject}</p>\
         <p class=meta>{group} · {unit} · {owner} · {when}</p><p class=text>{text}</p>{rating}{paused}",
        title = esc(title),
        u = ticket.urgency.code(),
        status = esc(&status),
        subject = esc(&subject),
        group = esc(&ticket.group_name),
        unit = esc(ticket.unit.as_deref().unwrap_or("—")),
        owner = esc(&ticket.owner_name),
        when = ticket
            .created_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M"),
        text = esc(&ticket.text),
        rating = rating.unwrap_or_default(),
        paused = paused.unwrap_or_default(),
    )
}

fn photos(id: TicketId, story: &Story) -> String {
    if story.photos.is_empty() {
        return String::new();
    }
    let imgs: String = (0..story.photos.len())
        .map(|n| {
            format!("<a href=\"/console/tickets/{id}/photos/{n}\"><img loading=lazy alt=\"#{id} {n}\" src=\"/console/tickets/{id}/photos/{n}\"></a>")
        })
        .collect();
    format!("<div class=photos>{imgs}</div>")
}

fn follow_ups(who: &Who, ticket: &Ticket, story: &Story, tz: chrono_tz::Tz) -> String {
    let locale = who.locale;
    if story.follow_ups.is_empty() {
        return String::new();
    }
    let mut out = format!("<h2>{}</h2>", esc(&t(locale, "console.follow_ups", &[])));
    for fu in &story.follow_ups {
        let key = match (fu.low_score, fu.closed_at) {
            (true, None) => "story.follow_up_low_open",
            (true, Some(_)) => "story.follow_up_low_closed",
            (false, None) => "story.follow_up_unrated_open",
            (false, Some(_)) => "story.follow_up_unrated_closed",
        };
        let local = |at: chrono::DateTime<chrono::Utc>| {
            at.with_timezone(&tz).format("%m-%d %H:%M").to_string()
        };
        let closed = fu.closed_at.map(local).unwrap_or_default();
        let line = t(
            locale,
            key,
            &[
                ("fu", &fu.id.to_string()),
                ("opened", &local(fu.opened_at)),
                ("closed", &closed),
            ],
        );
        out.push_str(&format!("<p>{}</p>", esc(&line)));
        if !who.is_manager() {
            continue;
        }
        let action = |what: &str| format!("/console/tickets/{}/{what}", ticket.id);
        if fu.closed_at.is_none() {
            out.push_str(&format!(
                "<form class=actions method=post action=\"{}\">{}<input type=hidden name=follow_up value={}>\
                 <input name=note required placeholder=\"{}\"><button>{}</button></form>",
                action("close_follow_up"),
                csrf_field(who),
                fu.id,
                esc(&t(locale, "console.note", &[])),
                esc(&t(locale, "console.close_follow_up", &[])),
            ));
        } else if fu.low_score && ticket.status == TicketStatus::Rated {
            out.push_str(&format!(
                "<form class=actions method=post action=\"{}\">{}<input type=hidden name=follow_up value={}>\
                 <button>{}</button></form>",
                action("rerate"),
                csrf_field(who),
                fu.id,
                esc(&t(locale, "console.rerate", &[])),
            ));
        }
    }
    out
}

/// The forms of the actions the chat has, shown when the ticket's state allows them (the
/// use case decides; a refusal is shown on the page).
fn actions(who: &Who, ticket: &Ticket, roster: &[StaffMember]) -> String {
    let locale = who.locale;
    if !ticket.kind.is_staff_work() || !ticket.status.is_open() {
        return String::new();
    }
    let people: Vec<(String, String)> = roster
        .iter()
        .map(|m| (m.user_id.to_string(), format!("{} ({})", m.name, m.open)))
        .collect();
    let form = |what: &str, inner: String, button: &str| {
        format!(
            "<form class=actions method=post action=\"/console/tickets/{}/{what}\">{}{inner}<button id={what}>{}</button></form>",
            ticket.id,
            csrf_field(who),
            esc(&t(locale, button, &[])),
        )
    };
    let reason = |key: &str| {
        format!(
            "<input name=reason placeholder=\"{}\">",
            esc(&t(locale, key, &[]))
        )
    };
    let choose = format!("<select name=to>{}</select>", options(&people, ""));
    let mut out = format!("<h2>{}</h2>", esc(&t(locale, "console.actions", &[])));
    match ticket.status {
        TicketStatus::Reported
            if who.is_manager() || who.role == crate::app::ConsoleRole::Dispatcher =>
        {
            out.push_str(&form(
                "assign",
                format!("{choose}{}", reason("console.note")),
                "console.assign",
            ));
        }
        TicketStatus::Taken => {
            out.push_str(&form(
                "transfer",
                format!("{choose}{}", reason("console.reason")),
                "console.transfer",
            ));
            if ticket.paused.is_some() {
                out.push_str(&form("resume", String::new(), "console.resume"));
            } else {
                let required = format!(
                    "<input name=reason required placeholder=\"{}\">",
                    esc(&t(locale, "console.reason", &[]))
                );
                out.push_str(&form("pause", required, "console.pause"));
            }
        }
        _ => {}
    }
    out
}

/// An action's form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    to: String,
    reason: String,
    note: String,
    follow_up: String,
}

/// `POST /console/tickets/{id}/{action}`: the action, then the page with what it did.
pub async fn act(
    Shared(console): Shared,
    who: Who,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    let id = TicketId(id);
    let result = async {
        who.check_csrf(&f.csrf)?;
        visible(&console, &who, id).await?;
        let notice = match perform(&console, &who, id, &action, &f).await? {
            Ok(key) => t(who.locale, key, &[("id", &id.to_string())]),
            Err(refused) => refusal(who.locale, &refused),
        };
        render(&console, &who, id, Some(notice)).await
    };
    match result.await {
        Ok(page) => page,
        Err(e) => e.page(who.locale),
    }
}

fn refusal(locale: Locale, e: &domain::Error) -> String {
    let args = e.args();
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t(locale, e.locale_key(), &args)
}

/// Runs `action`; the locale key of what it did, or the rule's refusal.
async fn perform(
    console: &Console,
    who: &Who,
    id: TicketId,
    action: &str,
    f: &ActionForm,
) -> super::Result<Result<&'static str, domain::Error>> {
    let app = &console.app;
    let settings = &app.settings;
    let actor = who.actor();
    let now = app.now();
    let reason = Some(f.reason.trim()).filter(|r| !r.is_empty());
    let follow_up = || {
        f.follow_up
            .trim()
            .parse::<i64>()
            .map_err(|_| Failure::Bad(String::new()))
    };
    let mut tx = app.store.begin().await?;
    let done: tickets::Result<&'static str> = match action {
        "assign" | "transfer" => {
            let to = match receiver(console, id, &f.to).await? {
                Ok(to) => to,
                Err(e) => return Ok(Err(e)),
            };
            let req = tickets::Handover { id, to, reason };
            if action == "assign" {
                let dispatcher = settings.is_dispatcher(who.user_id);
                tickets::assign(&mut tx, settings, &actor, dispatcher, req, now)
                    .await
                    .map(|_| "console.assigned")
            } else {
                tickets::transfer(&mut tx, settings, &actor, req, now)
                    .await
                    .map(|_| "console.transferred")
            }
        }
        "pause" => match reason {
            None => Err(domain::Error::ReasonNeeded.into()),
            Some(r) => tickets::pause(&mut tx, settings, &actor, id, r, None, now)
                .await
                .map(|_| "console.paused_done"),
        },
        "resume" => tickets::resume(&mut tx, settings, &actor, id, None, now)
            .await
            .map(|_| "console.resumed"),
        "close_follow_up" => {
            let note = Some(f.note.trim()).filter(|n| !n.is_empty());
            match tickets::close_follow_up(&mut tx, settings, &actor, follow_up()?, note, None, now)
                .await
            {
                Ok(Some(_)) => Ok("console.follow_up_closed"),
                Ok(None) => Ok("console.nothing_changed"),
                Err(e) => Err(e),
            }
        }
        "rerate" => tickets::rerate(&mut tx, settings, &actor, follow_up()?, now)
            .await
            .map(|_| "console.rerate_asked"),
        _ => return Err(Failure::NotFound),
    };
    match done {
        Ok(key) => {
            app.commit(&console.bot, tx)
                .await
                .map_err(anyhow::Error::from)?;
            tracing::info!(user = who.user_id, ticket = id.0, action, "console action");
            Ok(Ok(key))
        }
        Err(tickets::Error::Refused(e)) => Ok(Err(e)),
        Err(tickets::Error::Store(e)) => Err(e.into()),
    }
}

/// The person a ticket is given to: on the roster, and a current member of the ticket's
/// staff chat (as the chat's `/assign` asks).
async fn receiver(
    console: &Console,
    id: TicketId,
    to: &str,
) -> super::Result<Result<Actor, domain::Error>> {
    let app = &console.app;
    let unknown = || domain::Error::UnknownStaff(to.to_owned());
    let Ok(user) = to.trim().parse::<u64>() else {
        return Ok(Err(unknown()));
    };
    let roster = app.store.roster().await?;
    let Some(member) = roster.into_iter().find(|m| m.user_id == user) else {
        return Ok(Err(unknown()));
    };
    let chat = app.store.ticket(id).await?.and_then(|t| t.staff_chat);
    let chat = chat.unwrap_or(app.settings.staff_chat_id);
    if !app.is_member_of(&console.bot, chat, user).await {
        return Ok(Err(domain::Error::UnknownStaff(member.name)));
    }
    Ok(Ok(Actor {
        id: member.user_id,
        name: member.name,
        is_manager: app.settings.is_manager(member.user_id),
    }))
}

/// `GET /console/tickets/{id}/photos/{n}`: the ticket's n-th photo, from the cache or
/// from Telegram (`getFile`, then the file's download address), to signed-in people who
/// see the ticket.
pub async fn photo(
    Shared(console): Shared,
    who: Who,
    Path((id, n)): Path<(i64, usize)>,
) -> Response {
    let result = async {
        visible(&console, &who, TicketId(id)).await?;
        let story = console.app.store.story(TicketId(id)).await?;
        let file_id = story.photos.get(n).ok_or(Failure::NotFound)?;
        let bytes = cached_photo(&console, file_id).await?;
        let kind = image_type(&bytes).ok_or(Failure::NotFound)?;
        Ok::<_, Failure>((kind, bytes))
    };
    match result.await {
        Ok((kind, bytes)) => {
            let mut response = Bytes::from(bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            );
            response
        }
        Err(e) => e.page(who.locale),
    }
}

/// The photo's bytes: from the cache, else downloaded and kept (the cache holds at most
/// [`super::CACHE_FILES`] photos: the oldest are deleted).
async fn cached_photo(console: &Console, file_id: &str) -> super::Result<Vec<u8>> {
    let path: PathBuf = console.cache.join(secret_hash(file_id));
    if let Ok(bytes) = tokio::fs::read(&path).await {
        return Ok(bytes);
    }
    let file = console
        .bot
        .get_file(teloxide::types::FileId(file_id.to_owned()))
        .await?;
    if file.size > MAX_PHOTO {
        return Err(Failure::NotFound);
    }
    let mut bytes = Vec::with_capacity(file.size as usize);
    console.bot.download_file(&file.path, &mut bytes).await?;
    tokio::fs::create_dir_all(&console.cache).await?;
    let part = path.with_extension("part");
    tokio::fs::write(&part, &bytes).await?;
    tokio::fs::rename(&part, &path).await?;
    trim_cache(&console.cache, super::CACHE_FILES);
    Ok(bytes)
}

/// Deletes the oldest files of `dir` beyond `keep`.
fn trim_cache(dir: &std::path::Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= keep {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - keep] {
        let _ = std::fs::remove_file(path);
    }
}
