//! The board: tickets with filters (status, kind, urgency, category, owner group, staff
//! member, period) and search, newest first, [`PAGE`] at a time (`before` is the cursor).

use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::auth::Who;
use super::html::{self, esc, options, url_value};
use super::{Failure, Shared};
use crate::domain::figures::local_midnight;
use crate::domain::text::shorten;
use crate::domain::{Category, Kind, SearchQuery, Ticket, TicketId, TicketStatus, Urgency};
use crate::i18n::{self, Locale, t};
use crate::messages::render::status_name;
use crate::store::BoardQuery;

/// Tickets on one page of the board.
pub const PAGE: i64 = 50;
/// How much of a report a board line shows.
const LINE_CHARS: usize = 140;

/// The board's filters as the form sends them: empty means "any".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub status: String,
    pub kind: String,
    pub urgency: String,
    pub category: String,
    pub group: String,
    pub staff: String,
    pub from: String,
    pub to: String,
    pub q: String,
    pub before: String,
}

/// `GET /console/`.
pub async fn board(Shared(console): Shared, who: Who, Query(f): Query<Filters>) -> Response {
    let locale = who.locale;
    match render(&console, &who, &f).await {
        Ok(body) => html::page(
            locale,
            &t(locale, "console.nav_board", &[]),
            Some(&who),
            &body,
        )
        .into_response(),
        Err(e) => e.page(locale),
    }
}

async fn render(console: &super::Console, who: &Who, f: &Filters) -> super::Result<String> {
    let app = &console.app;
    let locale = who.locale;
    let mut q = parse(f, app.settings.timezone, locale)?;
    q.staff_work_only = !who.is_manager();
    let page = app.store.board(&q, PAGE).await?;
    let groups = app.store.group_names().await?;
    let roster = app.store.roster().await?;
    let mut body = format!("<h1>{}</h1>", esc(&t(locale, "console.nav_board", &[])));
    body.push_str(&filter_form(who, f, &groups, &roster));
    if page.tickets.is_empty() {
        body.push_str(&html::notice(&t(locale, "console.no_tickets", &[])));
    }
    body.push_str("<ul class=tickets>");
    for ticket in &page.tickets {
        body.push_str(&line(ticket, locale, app.settings.timezone));
    }
    body.push_str("</ul>");
    if let Some(next) = page.next {
        body.push_str(&format!(
            "<p class=pager><a id=older href=\"/console/?{}\">{}</a></p>",
            esc(&query_string(f, Some(next))),
            esc(&t(locale, "console.older", &[])),
        ));
    }
    Ok(body)
}

/// The filters, parsed; a value that does not parse is refused with its name.
pub fn parse(f: &Filters, tz: chrono_tz::Tz, locale: Locale) -> super::Result<BoardQuery> {
    let bad = |field: &str| Failure::Bad(t(locale, "console.bad_filter", &[("field", field)]));
    let mut q = BoardQuery::default();
    if let Some(s) = some(&f.status) {
        q.statuses = match s {
            "open" => vec![TicketStatus::Reported, TicketStatus::Taken],
            code => vec![TicketStatus::from_code(code).ok_or_else(|| bad("status"))?],
        };
    }
    if let Some(s) = some(&f.kind) {
        q.kind = Some(Kind::from_code(s).ok_or_else(|| bad("kind"))?);
    }
    if let Some(s) = some(&f.urgency) {
        q.urgency = Some(Urgency::from_code(s).ok_or_else(|| bad("urgency"))?);
    }
    if let Some(s) = some(&f.category) {
        q.category = Some(Category::from_code(s).ok_or_else(|| bad("category"))?);
    }
    if let Some(s) = some(&f.group) {
        q.group = Some(s.parse().map_err(|_| bad("group"))?);
    }
    if let Some(s) = some(&f.staff) {
        q.holder = Some(s.parse().map_err(|_| bad("staff"))?);
    }
    let day = |s: &str, field| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad(field));
    if let Some(s) = some(&f.from) {
        q.from = Some(local_midnight(day(s, "from")?, tz));
    }
    if let Some(s) = some(&f.to) {
        let last = day(s, "to")?;
        q.to = last.succ_opt().map(|next| local_midnight(next, tz));
    }
    if let Some(s) = some(&f.q) {
        q.search = SearchQuery::parse(s, i18n::parse_category);
    }
    if let Some(s) = some(&f.before) {
        q.before = Some(TicketId(s.parse().map_err(|_| bad("before"))?));
    }
    Ok(q)
}

/// A filter's value, unless empty.
fn some(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// The filters as a query string, with `before` as given.
fn query_string(f: &Filters, before: Option<TicketId>) -> String {
    let before = before.map(|b| b.0.to_string()).unwrap_or_default();
    [
        ("status", &f.status),
        ("kind", &f.kind),
        ("urgency", &f.urgency),
        ("category", &f.category),
        ("group", &f.group),
        ("staff", &f.staff),
        ("from", &f.from),
        ("to", &f.to),
        ("q", &f.q),
        ("before", &before),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", url_value(v)))
    .collect::<Vec<_>>()
    .join("&")
}

/// One ticket on the board.
fn line(ticket: &Ticket, locale: Locale, tz: chrono_tz::Tz) -> String {
    let status = match (&ticket.taken_by, ticket.status) {
        (Some((_, by)), TicketStatus::Taken) => {
            format!("{} · {by}", status_name(locale, TicketStatus::Taken))
        }
        (_, s) => status_name(locale, s),
    };
    let subject = match ticket.kind {
        Kind::Repair => i18n::category_name(locale, ticket.category),
        kind => t(locale, &format!("kind.{}", kind.code()), &[]),
    };
    let paused = if ticket.paused.is_some() { " ⏸" } else { "" };
    let when = ticket
        .created_at
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M");
    format!(
        "<li><a href=\"/console/tickets/{id}\"><b>#{id}</b> · {subject} · \
         <span class=\"status u-{urgency}\">{urgency} · {status}{paused}</span>\
         <div class=text>{text}</div><div class=meta>{group} · {unit} · {owner} · {when}</div></a></li>",
        id = ticket.id,
        subject = esc(&subject),
        urgency = ticket.urgency.code(),
        status = esc(&status),
        text = esc(&shorten(&ticket.text.replace('\n', " "), LINE_CHARS)),
        group = esc(&ticket.group_name),
        unit = esc(ticket.unit.as_deref().unwrap_or("—")),
        owner = esc(&ticket.owner_name),
    )
}

fn filter_form(
    who: &Who,
    f: &Filters,
    groups: &[(i64, String)],
    roster: &[crate::store::StaffMember],
) -> String {
    let locale = who.locale;
    let any = || (String::new(), t(locale, "console.any", &[]));
    let mut statuses = vec![any(), ("open".into(), t(locale, "console.open", &[]))];
    statuses.extend(
        [
            TicketStatus::Reported,
            TicketStatus::Taken,
            TicketStatus::Done,
            TicketStatus::Rated,
            TicketStatus::Cancelled,
        ]
        .map(|s| (s.code().to_owned(), status_name(locale, s))),
    );
    let mut kinds = vec![any()];
    if who.is_manager() {
        kinds.extend(Kind::ALL.map(|k| {
            (
                k.code().to_owned(),
                t(locale, &format!("kind.{}", k.code()), &[]),
            )
        }));
    }
    let mut urgencies = vec![any()];
    urgencies.extend(Urgency::ALL.map(|u| (u.code().to_owned(), u.code().to_owned())));
    let mut categories = vec![any()];
    categories.extend(Category::ALL.map(|c| (c.code().to_owned(), i18n::category_name(locale, c))));
    let mut group_opts = vec![any()];
    group_opts.extend(
        groups
            .iter()
            .map(|(id, name)| (id.to_string(), name.clone())),
    );
    let mut staff = vec![any()];
    staff.extend(
        roster
            .iter()
            .map(|m| (m.user_id.to_string(), m.name.clone())),
    );
    let label = |key: &str| esc(&t(locale, key, &[]));
    let select = |name: &str, key: &str, items: &[(String, String)], chosen: &str| {
        format!(
            "<label>{}<br><select name={name}>{}</select></label>",
            label(key),
            options(items, chosen)
        )
    };
    let kind_select = if who.is_manager() {
        select("kind", "console.kind", &kinds, &f.kind)
    } else {
        String::new()
    };
    format!(
        "<form class=filters method=get action=\"/console/\">\
         <label>{search}<br><input type=search name=q value=\"{q}\"></label>\
         {status}{kind_select}{urgency}{category}{group}{staff}\
         <label>{from}<br><input type=date name=from value=\"{fv}\"></label>\
         <label>{to}<br><input type=date name=to value=\"{tv}\"></label>\
         <label><br><button id=apply>{apply}</button></label></form>",
        search = label("console.search"),
        q = esc(&f.q),
        status = select("status", "console.status", &statuses, &f.status),
        urgency = select("urgency", "console.urgency", &urgencies, &f.urgency),
        category = select("category", "console.category", &categories, &f.category),
        group = select("group", "console.group", &group_opts, &f.group),
        staff = select("staff", "console.staff", &staff, &f.staff),
        from = label("console.from"),
        fv = esc(&f.from),
        to = label("console.to"),
        tv = esc(&f.to),
        apply = label("console.apply"),
    )
}
