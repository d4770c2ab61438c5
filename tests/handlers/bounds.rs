//! Bounded answers: no one can make Butler queue messages without end. A private flood
//! gets a handful of answers, a stranger in a group that is not registered is answered
//! once, the same refusal is said once, and reports replayed after downtime (old
//! message dates) are not taken for a flood.

use chrono::Duration;
use teloxide_tests::MockMessageText;

use crate::harness::*;

/// A group nobody registered, where a stranger added the bot.
const STRANGE_GROUP: i64 = -100_777;
/// Someone on Telegram who is neither owner, staff nor manager.
const STRANGER: u64 = 4_242;

/// Everything the bot has queued so far (sent, failed or waiting).
async fn outbox_rows(h: &Harness) -> i64 {
    let (sent, failed, pending) = h.app.store.outbox_counts().await.unwrap();
    sent + failed + pending
}

#[tokio::test]
async fn a_flood_of_private_messages_gets_a_handful_of_answers() {
    let mut h = Harness::new().await;
    let before = outbox_rows(&h).await;
    let said = [
        "hello?",
        "/help",
        "anyone there",
        "/start",
        "/frobnicate",
        "/take 1",
        "/my",
        "/watch 5",
        "spam spam spam",
    ];
    let mut answers = Vec::new();
    for i in 0..90 {
        let r = h
            .send(text(private(STRANGER), STRANGER, said[i % said.len()]))
            .await;
        answers.extend(texts(&r));
    }
    // One hint (chatter and misused commands share it), help once, the list once, the
    // managers-only refusal once.
    assert!(
        answers.len() <= 5,
        "{} answers: {answers:#?}",
        answers.len()
    );
    assert_eq!(
        answers
            .iter()
            .filter(|t| t.contains("I work in your building's owner group"))
            .count(),
        1,
        "{answers:#?}"
    );
    assert!(outbox_rows(&h).await - before <= 5);
    // A few minutes on, the next message gets a hint again.
    h.clock.advance(Duration::minutes(5));
    let r = h
        .send(text(private(STRANGER), STRANGER, "still there?"))
        .await;
    assert_eq!(texts(&r).len(), 1, "{:?}", texts(&r));
}

#[tokio::test]
async fn the_hint_interval_is_a_setting() {
    let mut h = Harness::with(|s| s.limits.hint_minutes = 30).await;
    let r = h.send(text(private(STRANGER), STRANGER, "hi")).await;
    assert_eq!(texts(&r).len(), 1);
    h.clock.advance(Duration::minutes(10));
    let r = h.send(text(private(STRANGER), STRANGER, "hi")).await;
    assert!(r.sent_messages.is_empty(), "{:?}", texts(&r));
    h.clock.advance(Duration::minutes(20));
    let r = h.send(text(private(STRANGER), STRANGER, "hi")).await;
    assert_eq!(texts(&r).len(), 1);
}

#[tokio::test]
async fn others_are_answered_during_a_private_flood() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    for _ in 0..30 {
        h.send(text(private(STRANGER), STRANGER, "hello")).await;
    }
    // Another person's hint, and an owner's report, are not held back by the flood.
    let r = h.send(text(private(NEIGHBOUR), NEIGHBOUR, "hello")).await;
    assert_eq!(texts(&r).len(), 1);
    let (_, r) = h.report(OWNER, "the tap drips").await;
    assert!(texts_to(&r, GROUP)[0].starts_with("Received: ticket #1"));
}

#[tokio::test]
async fn a_stranger_in_an_unregistered_group_is_answered_once_and_a_manager_always() {
    let mut h = Harness::new().await;
    let mut answers = 0;
    for i in 0..60 {
        let attempt = ["/register", "/register Mine", "/lang en", "/unregister"][i % 4];
        let r = h.send(text(group(STRANGE_GROUP), STRANGER, attempt)).await;
        answers += r.sent_messages.len();
    }
    assert_eq!(answers, 1, "one polite word, then silence");
    // Someone else right after: the group was answered a moment ago.
    let r = h
        .send(text(group(STRANGE_GROUP), NEIGHBOUR, "/register"))
        .await;
    assert!(r.sent_messages.is_empty(), "{:?}", texts(&r));
    // Later, another person is told once; the first stranger still hears nothing.
    h.clock.advance(Duration::minutes(10));
    let r = h
        .send(text(group(STRANGE_GROUP), STRANGER, "/register"))
        .await;
    assert!(r.sent_messages.is_empty(), "{:?}", texts(&r));
    let r = h
        .send(text(group(STRANGE_GROUP), NEIGHBOUR, "/register"))
        .await;
    assert_eq!(texts(&r), vec!["Only managers can do that.".to_owned()]);
    // The manager's /register always works, at once.
    let r = h
        .send(text(group(STRANGE_GROUP), MANAGER, "/register Lakeside"))
        .await;
    assert!(last_text(&r).contains("registered"), "{:?}", texts(&r));
    let r = h
        .send(text(group(STRANGE_GROUP), MANAGER, "/lang zh-CN"))
        .await;
    assert_eq!(texts(&r).len(), 1);
}

#[tokio::test]
async fn the_same_refusal_to_the_same_person_is_said_once() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let no_ticket = "There is no ticket #999999.";
    let r = h.send(text(staff_chat(), STAFF, "/done 999999")).await;
    assert_eq!(texts(&r), vec![no_ticket.to_owned()]);
    for _ in 0..5 {
        let r = h.send(text(staff_chat(), STAFF, "/done 999999")).await;
        assert!(r.sent_messages.is_empty(), "{:?}", texts(&r));
    }
    // A different refusal, or the same one to someone else, is said.
    let r = h.send(text(staff_chat(), STAFF, "/done 888888")).await;
    assert_eq!(texts(&r), vec!["There is no ticket #888888.".to_owned()]);
    let r = h.send(text(staff_chat(), STAFF2, "/done 999999")).await;
    assert_eq!(texts(&r), vec![no_ticket.to_owned()]);
    // Owners too: a bad unit, asked again and again.
    let bad_unit = || text(group(GROUP), OWNER, "/unit nowhere");
    assert_eq!(h.send(bad_unit()).await.sent_messages.len(), 1);
    assert!(h.send(bad_unit()).await.sent_messages.is_empty());
    // A few minutes on, it is said again.
    h.clock.advance(Duration::minutes(5));
    let r = h.send(text(staff_chat(), STAFF, "/done 999999")).await;
    assert_eq!(texts(&r), vec![no_ticket.to_owned()]);
}

/// A report `what` by OWNER in GROUP, dated `minutes_ago` before the clock.
fn dated_report(h: &Harness, what: &str, minutes_ago: i64) -> MockMessageText {
    text(group(GROUP), OWNER, &format!("/repair {what}"))
        .date(h.clock.now() - Duration::minutes(minutes_ago))
}

#[tokio::test]
async fn reports_replayed_after_downtime_are_not_taken_for_a_flood() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    // Eight reports sent two minutes apart during an outage of an hour, handled at once
    // when Butler is back (the inbox replays them in order).
    for i in 0..8 {
        let report = dated_report(&h, &format!("problem {i}"), 60 - 2 * i);
        let r = h.send(report).await;
        assert!(
            texts_to(&r, GROUP)[0].starts_with("Received: ticket #"),
            "{i}: {:?}",
            texts(&r)
        );
    }
    assert_eq!(
        h.app.store.owner_tickets(OWNER, 100).await.unwrap().len(),
        8
    );
}

#[tokio::test]
async fn a_real_flood_replayed_later_is_still_refused() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    // Seven reports sent within one minute, an hour ago: the sixth and seventh are
    // refused, the owner is told once.
    let mut told = 0;
    for i in 0..7 {
        let r = h.send(dated_report(&h, &format!("again {i}"), 60)).await;
        told += texts(&r)
            .iter()
            .filter(|t| t.contains("several reports in a short time"))
            .count();
    }
    assert_eq!(
        h.app.store.owner_tickets(OWNER, 100).await.unwrap().len(),
        5
    );
    assert_eq!(told, 1);
}
