//! The figures (`/stats` for any period, owner group, category or staff member, with the
//! weekly chart, and the monthly report), the exports as plain download links, and the
//! staff roster with trades and open tickets.

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::auth::Who;
use super::html::{self, esc, options, url_value};
use super::{Console, Failure, Shared};
use crate::domain::Category;
use crate::domain::figures::{Period, Scope};
use crate::figures::{self, export};
use crate::i18n::{self, t};

/// The period figures and exports cover when none is asked for, in days.
const DEFAULT_DAYS: u32 = 30;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    from: String,
    to: String,
    group: String,
    category: String,
    staff: String,
}

impl Params {
    fn period(&self, console: &Console, who: &Who) -> super::Result<(Period, u32)> {
        let tz = console.app.settings.timezone;
        let bad =
            |field: &str| Failure::Bad(t(who.locale, "console.bad_filter", &[("field", field)]));
        let day = |s: &str, field| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| bad(field))
        };
        if self.from.trim().is_empty() && self.to.trim().is_empty() {
            let now = console.app.now();
            return Ok((Period::last_days(now, DEFAULT_DAYS), DEFAULT_DAYS));
        }
        let from = day(&self.from, "from")?;
        let to = day(&self.to, "to")?;
        let period = Period::local_days(from, to, tz).ok_or_else(|| bad("to"))?;
        let days = (to - from).num_days() + 1;
        Ok((period, days.clamp(1, u32::MAX as i64) as u32))
    }

    fn scope(&self, who: &Who) -> super::Result<Scope> {
        let bad =
            |field: &str| Failure::Bad(t(who.locale, "console.bad_filter", &[("field", field)]));
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(Scope {
            group: some(&self.group)
                .map(|g| g.parse().map_err(|_| bad("group")))
                .transpose()?,
            category: some(&self.category)
                .map(|c| Category::from_code(&c).ok_or_else(|| bad("category")))
                .transpose()?,
            staff: some(&self.staff)
                .map(|s| s.parse().map_err(|_| bad("staff")))
                .transpose()?,
        })
    }

    fn query(&self) -> String {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("group", &self.group),
            ("category", &self.category),
            ("staff", &self.staff),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", url_value(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// `GET /console/figures`.
pub async fn figures(Shared(console): Shared, who: Who, Query(p): Query<Params>) -> Response {
    let locale = who.locale;
    match figures_body(&console, &who, &p).await {
        Ok(body) => html::page(
            locale,
            &t(locale, "console.nav_figures", &[]),
            Some(&who),
            &body,
        )
        .into_response(),
        Err(e) => e.page(locale),
    }
}

async fn figures_body(console: &Console, who: &Who, p: &Params) -> super::Result<String> {
    let app = &console.app;
    let locale = who.locale;
    let (period, days) = p.period(console, who)?;
    let scope = p.scope(who)?;
    let overview = figures::overview_of(&app.store, period, scope, &app.settings).await?;
    let text = figures::stats_text(&overview, days, locale, &app.settings, &[]);
    let mut body = format!("<h1>{}</h1>", esc(&t(locale, "console.nav_figures", &[])));
    body.push_str(&figures_form(console, who, p).await?);
    body.push_str(&format!("<pre id=stats>{}</pre>", esc(&text)));
    let q = p.query();
    body.push_str(&format!(
        "<h2>{}</h2><img class=chart alt=\"\" src=\"/console/chart.png?{}\">",
        esc(&t(locale, "console.chart", &[])),
        esc(&q)
    ));
    if who
        .actor()
        .may_export(app.settings.export.staff_may_export)
        .is_ok()
    {
        let (from, to) = period.local_dates(app.settings.timezone);
        let range = format!("from={from}&to={to}");
        body.push_str(&format!(
            "<h2>{}</h2><p>",
            esc(&t(locale, "console.exports", &[]))
        ));
        body.push_str(&format!(
            "<a id=export-xlsx download href=\"/console/export/butler.xlsx?{range}\">XLSX</a>"
        ));
        for stem in ["tickets", "ratings", "staff", "dispatch"] {
            body.push_str(&format!(
                " · <a download href=\"/console/export/{stem}.csv?{range}\">{stem}.csv</a>"
            ));
        }
        body.push_str("</p>");
    }
    if who.is_manager() {
        let mut tx = app.store.begin_read().await?;
        let report =
            figures::monthly_report_text(&app.store, &mut tx, &app.settings, app.now(), locale)
                .await?;
        body.push_str(&format!(
            "<h2>{}</h2><pre>{}</pre>",
            esc(&t(locale, "console.monthly", &[])),
            esc(&report)
        ));
    }
    Ok(body)
}

async fn figures_form(console: &Console, who: &Who, p: &Params) -> super::Result<String> {
    let locale = who.locale;
    let any = || (String::new(), t(locale, "console.any", &[]));
    let mut groups = vec![any()];
    groups.extend(
        console
            .app
            .store
            .group_names()
            .await?
            .into_iter()
            .map(|(id, n)| (id.to_string(), n)),
    );
    let mut categories = vec![any()];
    categories.extend(Category::ALL.map(|c| (c.code().to_owned(), i18n::category_name(locale, c))));
    let mut staff = vec![any()];
    staff.extend(
        console
            .app
            .store
            .roster()
            .await?
            .into_iter()
            .map(|m| (m.user_id.to_string(), m.name)),
    );
    let label = |key: &str| esc(&t(locale, key, &[]));
    Ok(format!(
        "<form class=filters method=get action=\"/console/figures\">\
         <label>{from}<br><input type=date name=from value=\"{fv}\"></label>\
         <label>{to}<br><input type=date name=to value=\"{tv}\"></label>\
         <label>{group}<br><select name=group>{g}</select></label>\
         <label>{category}<br><select name=category>{c}</select></label>\
         <label>{person}<br><select name=staff>{s}</select></label>\
         <label><br><button>{apply}</button></label></form>",
        from = label("console.from"),
        fv = esc(&p.from),
        to = label("console.to"),
        tv = esc(&p.to),
        group = label("console.group"),
        g = options(&groups, p.group.trim()),
        category = label("console.category"),
        c = options(&categories, p.category.trim()),
        person = label("console.staff"),
        s = options(&staff, p.staff.trim()),
        apply = label("console.apply"),
    ))
}

/// `GET /console/chart.png`: the weekly chart of the scope's tickets.
pub async fn chart(Shared(console): Shared, who: Who, Query(p): Query<Params>) -> Response {
    let result = async {
        let scope = p.scope(&who)?;
        let app = &console.app;
        let mut tx = app.store.begin_read().await?;
        let png =
            figures::weekly_chart_of(&mut tx, &app.settings, app.now(), who.locale, scope).await?;
        Ok::<_, Failure>(png)
    };
    match result.await {
        Ok(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Err(e) => e.page(who.locale),
    }
}

/// `GET /console/export/{file}?from=…&to=…`: `butler.xlsx`, or one sheet as
/// `tickets.csv`, `ratings.csv`, `staff.csv`, `dispatch.csv`; a download.
pub async fn export(
    Shared(console): Shared,
    who: Who,
    Path(file): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let result = async {
        let app = &console.app;
        if let Err(e) = who.actor().may_export(app.settings.export.staff_may_export) {
            tracing::info!(user = who.user_id, error = ?e, "console export refused");
            return Err(Failure::Forbidden);
        }
        let (period, _) = p.period(&console, &who)?;
        let tz = app.settings.timezone;
        let mut tx = app.store.begin_read().await?;
        if file == "butler.xlsx" {
            let (bytes, name) =
                figures::xlsx_export(&mut tx, &app.settings, period, who.locale).await?;
            let kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            return Ok((bytes, name, kind));
        }
        let stem = file.strip_suffix(".csv").ok_or(Failure::NotFound)?;
        let sheets = export::sheets(
            &mut tx,
            period,
            app.settings.sla.take_minutes,
            who.locale,
            tz,
        )
        .await?;
        let sheet = sheets
            .iter()
            .find(|s| s.stem == stem)
            .ok_or(Failure::NotFound)?;
        let name = export::file_name(period, tz, &format!("{stem}.csv"));
        Ok((
            export::csv(sheet).into_bytes(),
            name,
            "text/csv; charset=utf-8",
        ))
    };
    match result.await {
        Ok((bytes, name, kind)) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(e) => e.page(who.locale),
    }
}

/// `GET /console/staff`: the roster with trades and open tickets.
pub async fn roster(Shared(console): Shared, who: Who) -> Response {
    let locale = who.locale;
    let roster = match console.app.store.roster().await {
        Ok(r) => r,
        Err(e) => return Failure::from(e).page(locale),
    };
    let label = |key: &str| esc(&t(locale, key, &[]));
    let mut body = format!(
        "<h1>{}</h1><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        label("console.nav_staff"),
        label("console.person"),
        label("console.trades"),
        label("console.open_tickets"),
    );
    for m in &roster {
        let who_text = match &m.username {
            Some(u) => format!("{} (@{u})", m.name),
            None => m.name.clone(),
        };
        let trades: Vec<String> = m
            .trades
            .iter()
            .map(|c| i18n::category_name(locale, *c))
            .collect();
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><a href=\"/console/?status=taken&amp;staff={}\">{}</a></td></tr>",
            esc(&who_text),
            esc(&trades.join(", ")),
            m.user_id,
            m.open,
        ));
    }
    body.push_str("</table>");
    if roster.is_empty() {
        body.push_str(&html::notice(&t(locale, "staff.empty", &[])));
    }
    html::page(
        locale,
        &t(locale, "console.nav_staff", &[]),
        Some(&who),
        &body,
    )
    .into_response()
}
