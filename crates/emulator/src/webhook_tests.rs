//! Webhooks as Telegram keeps them: set, refused, described, and updates posted to a
//! small HTTP server here that answers as the test tells it to.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::api::Answer;
use super::*;

const GROUP: i64 = -100_111;
const OWNER: u64 = 100;
const WAIT: Duration = Duration::from_secs(10);

fn call(s: &mut State, method: &str, params: Value) -> Answer {
    let Value::Object(p) = params else {
        panic!("params must be an object")
    };
    s.call(method, &p, &Uploads::new(), Instant::now())
}

fn world() -> State {
    let mut s = State::new(Options::default());
    s.add_user(User::new(OWNER, "Li"));
    s.create_group(GROUP, "Sunrise Garden", &[OWNER]).unwrap();
    s
}

#[test]
fn while_a_webhook_is_set_get_updates_answers_409_until_it_is_deleted() {
    let mut s = world();
    let set = call(
        &mut s,
        "setWebhook",
        json!({ "url": "http://127.0.0.1:9/hook", "secret_token": "s3cret_-X" }),
    );
    assert_eq!(set.status, 200);
    assert_eq!(
        s.webhook().unwrap().secret_token.as_deref(),
        Some("s3cret_-X")
    );
    let poll = call(&mut s, "getUpdates", json!({}));
    assert_eq!(poll.status, 409);
    assert!(poll.description().unwrap().contains("webhook is active"));
    assert_eq!(s.polls_started(), 0, "a refused poll is no poll");
    assert_eq!(call(&mut s, "deleteWebhook", json!({})).status, 200);
    assert!(s.webhook().is_none());
    assert_eq!(call(&mut s, "getUpdates", json!({})).status, 200);
}

#[test]
fn set_webhook_refuses_a_secret_outside_telegrams_alphabet_and_a_url_it_cannot_post_to() {
    let mut s = world();
    for secret in ["has space", "ü", &"a".repeat(257)] {
        let a = call(
            &mut s,
            "setWebhook",
            json!({ "url": "http://127.0.0.1:9/", "secret_token": secret }),
        );
        assert_eq!(a.status, 400, "{secret}");
    }
    let https = call(
        &mut s,
        "setWebhook",
        json!({ "url": "https://example.com/" }),
    );
    assert_eq!(https.status, 400);
    assert!(s.webhook().is_none());
    // An empty URL removes the webhook, as Telegram's does.
    call(
        &mut s,
        "setWebhook",
        json!({ "url": "http://127.0.0.1:9/" }),
    );
    call(&mut s, "setWebhook", json!({ "url": "" }));
    assert!(s.webhook().is_none());
}

#[test]
fn get_webhook_info_tells_the_url_the_pending_count_and_the_allowed_kinds() {
    let mut s = world();
    call(
        &mut s,
        "setWebhook",
        json!({ "url": "http://127.0.0.1:9/h", "allowed_updates": ["message", "callback_query"] }),
    );
    s.user_sends_text(GROUP, OWNER, "/repair one", None)
        .unwrap();
    s.user_sends_text(GROUP, OWNER, "/repair two", None)
        .unwrap();
    let info = call(&mut s, "getWebhookInfo", json!({}));
    let info = info.result().unwrap();
    assert_eq!(info["url"], "http://127.0.0.1:9/h");
    assert_eq!(info["pending_update_count"], 2);
    assert_eq!(
        info["allowed_updates"],
        json!(["message", "callback_query"])
    );
    // drop_pending_updates drops them.
    call(
        &mut s,
        "deleteWebhook",
        json!({ "drop_pending_updates": true }),
    );
    let info = call(&mut s, "getWebhookInfo", json!({}));
    assert_eq!(info.result().unwrap()["pending_update_count"], 0);
    assert_eq!(info.result().unwrap()["url"], "");
}

// ---- deliveries over HTTP --------------------------------------------------------------

/// What the receiving server saw: (secret header, update id) per request, the most
/// requests it held at once, and the statuses to answer (then 200).
#[derive(Default)]
struct Receiver {
    seen: Vec<(Option<String>, i64)>,
    in_flight: usize,
    most_in_flight: usize,
    answers: Vec<u16>,
}

async fn receiver() -> (String, Arc<Mutex<Receiver>>) {
    let state = Arc::new(Mutex::new(Receiver::default()));
    let app = axum::Router::new()
        .fallback(
            |axum::extract::State(r): axum::extract::State<Arc<Mutex<Receiver>>>,
             headers: HeaderMap,
             body: String| async move {
                let update: Value = serde_json::from_str(&body).unwrap();
                let secret = headers
                    .get(webhook::SECRET_HEADER)
                    .map(|v| v.to_str().unwrap().to_owned());
                {
                    let mut r = r.lock().unwrap();
                    r.in_flight += 1;
                    r.most_in_flight = r.most_in_flight.max(r.in_flight);
                    r.seen.push((secret, update["update_id"].as_i64().unwrap()));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                let mut r = r.lock().unwrap();
                r.in_flight -= 1;
                let status = if r.answers.is_empty() {
                    200
                } else {
                    r.answers.remove(0)
                };
                StatusCode::from_u16(status).unwrap()
            },
        )
        .with_state(state.clone());
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/telegram", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    (url, state)
}

async fn emulator() -> EmulatorHandle {
    let options = Options {
        webhook_retry_initial: Duration::from_millis(50),
        webhook_retry_max: Duration::from_millis(400),
        ..Options::default()
    };
    let emu = Emulator::start_with("127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap();
    emu.add_user(User::new(OWNER, "Li"));
    emu.create_group(GROUP, "Sunrise Garden", &[OWNER]).unwrap();
    emu
}

fn set_webhook(emu: &EmulatorHandle, url: &str) {
    let params = json!({ "url": url, "secret_token": "the-secret" });
    let a = emu.write(|s| call(s, "setWebhook", params));
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn updates_are_posted_in_order_one_at_a_time_with_the_secret() {
    let emu = emulator().await;
    let (url, seen) = receiver().await;
    for text in ["/repair one", "/repair two", "/repair three"] {
        emu.user_sends_text(GROUP, OWNER, text, None).unwrap();
    }
    set_webhook(&emu, &url);
    emu.wait_for(|s| s.pending_updates().is_empty(), WAIT)
        .await
        .unwrap();
    let r = seen.lock().unwrap();
    let ids: Vec<i64> = r.seen.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids, vec![1000, 1001, 1002]);
    assert!(
        r.seen
            .iter()
            .all(|(s, _)| s.as_deref() == Some("the-secret"))
    );
    assert_eq!(r.most_in_flight, 1, "one delivery at a time");
    assert!(emu.deliveries().iter().all(Delivery::ok));
    assert_eq!(emu.confirmed_offset(), 1003);
}

#[tokio::test]
async fn a_failing_webhook_is_retried_with_growing_pauses_and_counted_as_pending() {
    let emu = emulator().await;
    let (url, seen) = receiver().await;
    seen.lock().unwrap().answers = vec![500, 502, 500];
    set_webhook(&emu, &url);
    emu.user_sends_text(GROUP, OWNER, "/repair one", None)
        .unwrap();
    emu.user_sends_text(GROUP, OWNER, "/repair two", None)
        .unwrap();
    emu.wait_for(|s| s.deliveries().len() == 2, WAIT)
        .await
        .unwrap();
    let info = emu.write(|s| call(s, "getWebhookInfo", json!({})));
    let info = info.result().unwrap().clone();
    assert_eq!(info["pending_update_count"], 2, "{info}");
    assert!(
        info["last_error_message"].as_str().unwrap().contains("502"),
        "{info}"
    );
    emu.wait_for(|s| s.pending_updates().is_empty(), WAIT)
        .await
        .unwrap();
    let tries = emu.deliveries();
    let statuses: Vec<Option<u16>> = tries.iter().map(|d| d.status).collect();
    assert_eq!(
        statuses,
        vec![Some(500), Some(502), Some(500), Some(200), Some(200)]
    );
    // The first update is retried until taken; the second waits its turn behind it.
    let ids: Vec<i32> = tries.iter().map(|d| d.update_id).collect();
    assert_eq!(ids, vec![1000, 1000, 1000, 1000, 1001]);
    let gap = |i: usize| tries[i + 1].at - tries[i].at;
    assert!(gap(0) >= Duration::from_millis(50), "{:?}", gap(0));
    assert!(gap(1) >= Duration::from_millis(100), "{:?}", gap(1));
    assert!(gap(2) >= Duration::from_millis(200), "{:?}", gap(2));
}

#[tokio::test]
async fn a_bot_not_listening_is_retried_until_it_listens() {
    let emu = emulator().await;
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    drop(socket);
    set_webhook(&emu, &format!("http://{addr}/hook"));
    emu.user_sends_text(GROUP, OWNER, "/repair one", None)
        .unwrap();
    emu.wait_for(|s| s.deliveries().len() >= 2, WAIT)
        .await
        .unwrap();
    assert!(
        emu.deliveries()
            .iter()
            .all(|d| d.status.is_none() && !d.ok())
    );
    assert_eq!(emu.pending_updates().len(), 1, "nothing is lost meanwhile");

    let socket = tokio::net::TcpListener::bind(addr).await.unwrap();
    let app = axum::Router::new().fallback(|| async { StatusCode::OK });
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    emu.wait_for(|s| s.pending_updates().is_empty(), WAIT)
        .await
        .unwrap();
    assert!(emu.deliveries().last().unwrap().ok());
}

#[tokio::test]
async fn a_lost_answer_delivers_the_same_update_again() {
    let emu = emulator().await;
    let (url, seen) = receiver().await;
    set_webhook(&emu, &url);
    emu.lose_webhook_answers(1);
    emu.user_sends_text(GROUP, OWNER, "/repair one", None)
        .unwrap();
    emu.wait_for(|s| s.pending_updates().is_empty(), WAIT)
        .await
        .unwrap();
    let ids: Vec<i64> = seen
        .lock()
        .unwrap()
        .seen
        .iter()
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(ids, vec![1000, 1000]);
    let tries = emu.deliveries();
    assert_eq!(tries[0].status, Some(200));
    assert!(!tries[0].ok());
    assert!(tries[1].ok());
}

#[tokio::test]
async fn teloxide_sets_reads_and_deletes_the_webhook_and_a_waiting_poll_ends_with_409() {
    use teloxide::prelude::*;
    use teloxide::types::AllowedUpdate;
    let emu = emulator().await;
    let bot = teloxide::Bot::new("1234:TEST").set_api_url(emu.api_url().parse().unwrap());
    let poll = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    emu.wait_for(|s| s.polls_started() == 1, WAIT)
        .await
        .unwrap();
    // Nothing listens there: deliveries fail and the update waits.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!("http://{}/hook", free.local_addr().unwrap());
    drop(free);
    let url = bot.api_url().join(&hook).unwrap();
    bot.set_webhook(url)
        .secret_token("abc")
        .allowed_updates([AllowedUpdate::Message, AllowedUpdate::MyChatMember])
        .drop_pending_updates(false)
        .await
        .unwrap();
    let ended = tokio::time::timeout(WAIT, poll).await.unwrap().unwrap();
    assert!(ended.is_err(), "the waiting poll is ended: {ended:?}");
    assert_eq!(emu.webhook().unwrap().secret_token.as_deref(), Some("abc"));
    emu.user_sends_text(GROUP, OWNER, "/repair one", None)
        .unwrap();
    emu.wait_for(|s| !s.deliveries().is_empty(), WAIT)
        .await
        .unwrap();
    let info = bot.get_webhook_info().await.unwrap();
    assert_eq!(info.url.map(|u| u.to_string()), Some(hook));
    assert_eq!(info.pending_update_count, 1);
    assert!(info.last_error_message.is_some());
    bot.delete_webhook().await.unwrap();
    assert!(emu.webhook().is_none());
    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), 1, "what waited is there for polling");
}
