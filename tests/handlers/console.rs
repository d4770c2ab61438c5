//! The web console (issue 16): `/console` sends a one-time sign-in link; the link, a
//! session and a CSRF token let a manager or staff member in; everyone else, forged or
//! stale Mini App data, a used or expired link, no session and a missing CSRF token are
//! refused. Requests go to the console's router without a socket (`oneshot`).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use butler::console::{router, sign_init_data};
use butler::domain::{TicketId, TicketStatus};
use calamine::{Reader, Xlsx, open_workbook_from_rs};
use teloxide::Bot;
use tower::ServiceExt;

use crate::common::TOKEN;
use crate::harness::*;

/// The console's router on the harness's app; the bot never reaches a Telegram (its
/// address refuses connections), so only the cast's assumed members are staff.
fn console(h: &Harness) -> Router {
    let bot = Bot::new(TOKEN).set_api_url("http://127.0.0.1:9/".parse().unwrap());
    router(h.app.clone(), bot)
}

struct Answer {
    status: StatusCode,
    cookie: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(
    h: &Harness,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("butler_console={c}"));
    }
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f.to_owned())
        }
        None => Body::empty(),
    };
    let res = console(h).oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .and_then(|kv| kv.strip_prefix("butler_console="))
        .map(str::to_owned);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        cookie,
        body,
    }
}

/// `/console` from `who` privately; the token of the link Butler sent, if it sent one.
async fn link_for(h: &mut Harness, who: u64) -> (Option<String>, String) {
    let r = h.send(text(private(who), who, "/console")).await;
    let said = last_text(&r);
    let token = said
        .split("/console/login?t=")
        .nth(1)
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect());
    (token, said)
}

/// Signs `who` in through a link Butler sent; the session cookie.
async fn sign_in(h: &mut Harness, who: u64) -> String {
    let (token, said) = link_for(h, who).await;
    let token = token.unwrap_or_else(|| panic!("no link in {said:?}"));
    let a = call(
        h,
        "POST",
        "/console/login",
        None,
        Some(&format!("t={token}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    a.cookie.expect("a session cookie")
}

/// The CSRF token of a signed-in page.
fn csrf_of(page: &str) -> String {
    page.split("name=csrf value=\"")
        .nth(1)
        .expect("a CSRF field")
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// The owner group, a report, and Wang and Chen on the roster.
async fn office() -> (Harness, TicketId) {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    for who in [STAFF, STAFF2] {
        h.send(text(staff_chat(), who, "good morning")).await;
    }
    let (id, _) = h
        .report(OWNER, "the kitchen tap <b>leaks</b> & drips")
        .await;
    (h, id)
}

#[tokio::test]
async fn a_manager_signs_in_through_the_link_sees_the_board_and_the_link_works_once() {
    let (mut h, id) = office().await;
    let (token, said) = link_for(&mut h, MANAGER).await;
    let token = token.expect("a link");
    assert!(said.contains("10 minutes"), "{said}");
    let page = call(&h, "GET", &format!("/console/login?t={token}"), None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.cookie.is_none(), "opening the link uses nothing");
    let first = call(
        &h,
        "POST",
        "/console/login",
        None,
        Some(&format!("t={token}")),
    )
    .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let cookie = first.cookie.expect("a session");
    let board = call(&h, "GET", "/console/", Some(&cookie), None).await;
    assert_eq!(board.status, StatusCode::OK);
    let text = board.text();
    assert!(text.contains(&format!("/console/tickets/{id}")), "{text}");
    assert!(
        text.contains("the kitchen tap &lt;b&gt;leaks&lt;/b&gt; &amp; drips"),
        "owners' words are escaped"
    );
    assert!(!text.contains("<b>leaks"));
    let again = call(
        &h,
        "POST",
        "/console/login",
        None,
        Some(&format!("t={token}")),
    )
    .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "a link works once");
    assert!(again.cookie.is_none());
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let (mut h, _) = office().await;
    let (token, _) = link_for(&mut h, STAFF).await;
    h.clock.advance(chrono::Duration::minutes(11));
    let a = call(
        &h,
        "POST",
        "/console/login",
        None,
        Some(&format!("t={}", token.unwrap())),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.text().contains("no longer valid"), "{}", a.text());
}

#[tokio::test]
async fn owners_and_strangers_get_no_link_and_nothing_opens_without_a_session() {
    let (mut h, id) = office().await;
    for who in [OWNER, 555] {
        let (token, said) = link_for(&mut h, who).await;
        assert!(token.is_none(), "{said}");
        assert!(said.contains("only current members of the staff"), "{said}");
    }
    let r = h.send(text(group(GROUP), MANAGER, "/console")).await;
    assert!(
        !last_text(&r).contains("/console/login"),
        "no link in a group"
    );
    for path in [
        "/console/".to_owned(),
        format!("/console/tickets/{id}"),
        "/console/figures".to_owned(),
        "/console/export/butler.xlsx".to_owned(),
        format!("/console/tickets/{id}/photos/0"),
    ] {
        let a = call(&h, "GET", &path, None, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        let forged = call(&h, "GET", &path, Some("0123abcd"), None).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let a = call(
        &h,
        "POST",
        &format!("/console/tickets/{id}/assign"),
        None,
        Some("to=200"),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn someone_who_left_the_staff_is_out_at_once() {
    let (mut h, _) = office().await;
    let cookie = sign_in(&mut h, STAFF).await;
    assert_eq!(
        call(&h, "GET", "/console/", Some(&cookie), None)
            .await
            .status,
        StatusCode::OK
    );
    h.app.assume_member(STAFF, false);
    let a = call(&h, "GET", "/console/", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_action_without_its_csrf_token_changes_nothing_and_with_it_assigns() {
    let (mut h, id) = office().await;
    let cookie = sign_in(&mut h, MANAGER).await;
    let page = call(
        &h,
        "GET",
        &format!("/console/tickets/{id}"),
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_of(&page.text());
    let path = format!("/console/tickets/{id}/assign");
    for form in [format!("to={STAFF}"), format!("to={STAFF}&csrf=nope")] {
        let a = call(&h, "POST", &path, Some(&cookie), Some(&form)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{form}");
    }
    let t = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(t.status, TicketStatus::Reported);
    let a = call(
        &h,
        "POST",
        &path,
        Some(&cookie),
        Some(&format!("to={STAFF}&csrf={csrf}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.text().contains(&format!("#{id} is assigned")),
        "{}",
        a.text()
    );
    let t = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(t.status, TicketStatus::Taken);
    assert_eq!(t.taken_by.map(|(who, _)| who), Some(STAFF));
    // The same use case as the chat: the assignment is in the story, by the manager.
    let story = call(
        &h,
        "GET",
        &format!("/console/tickets/{id}"),
        Some(&cookie),
        None,
    )
    .await;
    assert!(story.text().contains("Boss"), "{}", story.text());
    // Assigning again is refused by the rule, and said on the page.
    let a = call(
        &h,
        "POST",
        &path,
        Some(&cookie),
        Some(&format!("to={STAFF2}&csrf={csrf}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text().contains("class=notice"));
    let t = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(t.taken_by.map(|(who, _)| who), Some(STAFF));
}

#[tokio::test]
async fn staff_may_not_assign_and_do_not_see_complaints() {
    let (mut h, id) = office().await;
    h.send(text(group(GROUP), OWNER, "/complain the guard was rude"))
        .await;
    let complaint = h.latest_ticket().await.unwrap();
    assert_ne!(complaint, id);
    let cookie = sign_in(&mut h, STAFF).await;
    let board = call(&h, "GET", "/console/", Some(&cookie), None)
        .await
        .text();
    assert!(board.contains(&format!("/console/tickets/{id}\"")));
    assert!(
        !board.contains(&format!("/console/tickets/{complaint}\"")),
        "{board}"
    );
    let a = call(
        &h,
        "GET",
        &format!("/console/tickets/{complaint}"),
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let page = call(
        &h,
        "GET",
        &format!("/console/tickets/{id}"),
        Some(&cookie),
        None,
    )
    .await
    .text();
    let csrf = csrf_of(&page);
    let form = format!("to={STAFF2}&csrf={csrf}");
    let a = call(
        &h,
        "POST",
        &format!("/console/tickets/{id}/assign"),
        Some(&cookie),
        Some(&form),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let t = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(t.status, TicketStatus::Reported, "staff do not assign");
    // A manager sees the complaint.
    let cookie = sign_in(&mut h, MANAGER).await;
    let board = call(&h, "GET", "/console/?kind=complaint", Some(&cookie), None)
        .await
        .text();
    assert!(
        board.contains(&format!("/console/tickets/{complaint}\"")),
        "{board}"
    );
    assert!(
        !board.contains(&format!("/console/tickets/{id}\"")),
        "{board}"
    );
}

#[tokio::test]
async fn the_board_filters_and_refuses_a_filter_it_cannot_read() {
    let (mut h, first) = office().await;
    let (second, _) = h.report(NEIGHBOUR, "corridor light is out").await;
    let cookie = sign_in(&mut h, MANAGER).await;
    let board = call(&h, "GET", "/console/?q=corridor", Some(&cookie), None)
        .await
        .text();
    assert!(board.contains(&format!("/console/tickets/{second}\"")));
    assert!(!board.contains(&format!("/console/tickets/{first}\"")));
    let board = call(
        &h,
        "GET",
        "/console/?category=plumbing&status=open",
        Some(&cookie),
        None,
    )
    .await
    .text();
    assert!(
        board.contains(&format!("/console/tickets/{first}\"")),
        "{board}"
    );
    assert!(!board.contains(&format!("/console/tickets/{second}\"")));
    let a = call(&h, "GET", "/console/?status=nonsense", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text().contains("“status”"), "{}", a.text());
}

#[tokio::test]
async fn the_export_downloads_as_a_workbook_and_figures_show() {
    let (mut h, id) = office().await;
    let cookie = sign_in(&mut h, MANAGER).await;
    let figures = call(&h, "GET", "/console/figures", Some(&cookie), None).await;
    assert_eq!(figures.status, StatusCode::OK);
    assert!(figures.text().contains("/console/export/butler.xlsx?from="));
    let png = call(&h, "GET", "/console/chart.png", Some(&cookie), None).await;
    assert!(png.body.starts_with(b"\x89PNG"));
    let a = call(
        &h,
        "GET",
        "/console/export/butler.xlsx?from=2026-11-01&to=2026-11-30",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(a.body)).expect("an XLSX");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let ids: Vec<String> = sheet.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert_eq!(ids, [id.to_string()]);
    let csv = call(
        &h,
        "GET",
        "/console/export/tickets.csv?from=2026-11-01&to=2026-11-30",
        Some(&cookie),
        None,
    )
    .await;
    assert!(csv.text().contains("kitchen tap"));
    // Staff may not export unless the settings open it.
    let cookie = sign_in(&mut h, STAFF).await;
    let a = call(
        &h,
        "GET",
        "/console/export/butler.xlsx",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn mini_app_data_signed_by_the_bot_signs_in_and_forged_or_stale_data_does_not() {
    let (h, _) = office().await;
    let now = h.app.now().timestamp();
    let user = format!(r#"{{"id":{MANAGER},"first_name":"Boss","language_code":"en"}}"#);
    let data = |at: i64, token: &str| {
        sign_init_data(&[("auth_date", &at.to_string()), ("user", &user)], token)
    };
    let form = |d: String| {
        format!(
            "init_data={}",
            d.replace('%', "%25")
                .replace('&', "%26")
                .replace('=', "%3D")
        )
    };
    let good = call(
        &h,
        "POST",
        "/console/webapp",
        None,
        Some(&form(data(now, TOKEN))),
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER);
    let cookie = good.cookie.expect("a session");
    assert_eq!(
        call(&h, "GET", "/console/", Some(&cookie), None)
            .await
            .status,
        StatusCode::OK
    );
    for bad in [
        data(now, "123456:another-bot"),
        data(now - 7200, TOKEN),
        String::new(),
    ] {
        let a = call(&h, "POST", "/console/webapp", None, Some(&form(bad))).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert!(a.cookie.is_none());
    }
    // A genuine owner's data: no way in.
    let owner = format!(r#"{{"id":{OWNER},"first_name":"Li"}}"#);
    let d = sign_init_data(&[("auth_date", &now.to_string()), ("user", &owner)], TOKEN);
    let a = call(&h, "POST", "/console/webapp", None, Some(&form(d))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}
