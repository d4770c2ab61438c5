//! Scenario `console`: the web console's server time on the million-ticket database of
//! the `figures` scenario: the board (no filter, filtered, searched, a deep page) and a
//! ticket's page, each request through the console's router in this process (no socket,
//! no browser: what the server spends), signed in as a manager.

use std::time::Instant;

use anyhow::Context;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::{Opts, Verdict, demo_db, median, ms, verdict};

/// The console's target: each page within this, server time.
const PAGE_MS: f64 = 100.0;

pub async fn console(opts: &Opts) -> anyhow::Result<Vec<Verdict>> {
    let tickets: i64 = if opts.quick { 100_000 } else { 1_000_000 };
    println!("== console: the board and a ticket's page on {tickets} tickets (server time) ==");
    let db = demo_db(opts, "tickets", tickets, 50).await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("butler.toml");
    std::fs::write(
        &config,
        format!("database_url = \"{db}\"\nstaff_chat_id = -100\nmanagers = [1]\n"),
    )?;
    let settings = butler::config::Settings::load(&config)?;
    let started = Instant::now();
    let app = butler::build_app(settings, butler::clock::Clock::system()).await?;
    println!("opened (and migrated) in {:.0} ms", ms(started.elapsed()));
    let cookie = session(&app).await?;
    let bot = teloxide::Bot::new("1:bench").set_api_url("http://127.0.0.1:9/".parse()?);
    let router = butler::console::router(app.clone(), bot);
    let newest: i64 = app
        .store
        .board(&Default::default(), 1)
        .await?
        .tickets
        .first()
        .map(|t| t.id.0)
        .context("no tickets")?;
    let deep = newest - tickets / 2;
    let pages = [
        ("board, newest 50".to_owned(), "/console/".to_owned()),
        ("board, open".into(), "/console/?status=open".into()),
        (
            "board, one category and status done".into(),
            "/console/?category=lift&status=done".into(),
        ),
        ("board, one group".into(), "/console/?group=-1000007".into()),
        (
            "board, one staff member".into(),
            "/console/?staff=9007".into(),
        ),
        (
            "board, a month".into(),
            "/console/?from=2026-06-01&to=2026-06-30".into(),
        ),
        (
            "board, search \"report\"".into(),
            "/console/?q=report".into(),
        ),
        (
            "board, half-way down (cursor)".into(),
            format!("/console/?before={deep}"),
        ),
        ("ticket page".into(), format!("/console/tickets/{deep}")),
    ];
    let mut verdicts = Vec::new();
    for (what, path) in pages {
        let mut times = Vec::new();
        for _ in 0..opts.runs.max(3) {
            let req = Request::get(&path)
                .header(header::COOKIE, format!("butler_console={cookie}"))
                .body(Body::empty())?;
            let started = Instant::now();
            let res = router.clone().oneshot(req).await?;
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            times.push(ms(started.elapsed()));
            if status != StatusCode::OK {
                anyhow::bail!("{path}: {status}: {}", String::from_utf8_lossy(&body));
            }
        }
        let m = median(&times);
        println!("{what}: {m:.1} ms (median of {})", times.len());
        verdicts.push(verdict(
            &format!("console {what}"),
            format!("{m:.1} ms"),
            &format!("< {PAGE_MS:.0} ms"),
            m < PAGE_MS,
        ));
    }
    app.store.close().await;
    Ok(verdicts)
}

/// A manager's session, written as a sign-in would.
async fn session(app: &butler::app::AppRef) -> anyhow::Result<String> {
    let token = butler::app::new_secret()?;
    let person = butler::store::ConsolePerson {
        user_id: 1,
        name: "Bench".into(),
        locale: "en".into(),
    };
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let hash = butler::app::secret_hash(&token);
    tx.add_console_session(
        &hash,
        &person,
        "csrf",
        now,
        now + chrono::Duration::hours(1),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}
