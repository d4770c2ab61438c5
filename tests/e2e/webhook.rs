//! Webhook mode's own promises: only Telegram (the secret) gets in, a delivery is stored
//! before it is answered, and a delivery made twice is handled once. (The ticket loop,
//! the longest report and the kill -9 burst run in webhook mode beside their polling
//! versions.)

use std::time::Duration;

use butler_emulator::webhook::post;

use crate::harness::*;

async fn inbox_has(story: &Story, update_id: i64) -> bool {
    story
        .count(&format!(
            "SELECT COUNT(*) FROM inbox WHERE update_id = {update_id}"
        ))
        .await
        > 0
}

/// A report as Telegram would deliver it, with an update id the emulator never uses.
fn forged_report(update_id: i64) -> String {
    serde_json::json!({
        "update_id": update_id,
        "message": {
            "message_id": 4242,
            "date": 1_780_000_000,
            "chat": { "id": GROUP, "type": "group", "title": "Sunrise Garden" },
            "from": { "id": OWNER, "is_bot": false, "first_name": "Li", "language_code": "en" },
            "text": "/repair forged: open the gate",
            "entities": [{ "type": "bot_command", "offset": 0, "length": 7 }]
        }
    })
    .to_string()
}

#[tokio::test]
async fn a_delivery_without_the_right_secret_is_refused_401_and_nothing_is_stored() {
    let story = Story::start_in(Mode::Webhook, "").await;
    story.manager_registers_group().await;
    let url = format!("http://{}/telegram", story.butler.webhook.unwrap());
    let wait = Duration::from_secs(5);
    let body = forged_report(77_777);
    for secret in [None, Some("wrong"), Some(&WEBHOOK_SECRET[1..])] {
        assert_eq!(post(&url, secret, &body, wait).await, Ok(401), "{secret:?}");
    }
    // Not an update at all, with the right secret: refused too.
    assert_eq!(
        post(&url, Some(WEBHOOK_SECRET), "{\"hello\":1}", wait).await,
        Ok(400)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!inbox_has(&story, 77_777).await, "a forged update stored");
    assert_eq!(
        story.emu.read(|s| s.replies_to(GROUP, 4242).len()),
        0,
        "{}",
        story.context()
    );
    // A real report still gets through, ticket #1: the forged one made none.
    let report = story.owner_reports("the tap leaks").await;
    assert_eq!(report.ticket, 1);
    assert!(
        story
            .butler
            .stderr()
            .contains("without the right secret token")
    );
}

#[tokio::test]
async fn a_delivery_made_twice_is_answered_both_times_and_handled_once() {
    let story = Story::start_in(Mode::Webhook, "").await;
    story.manager_registers_group().await;
    // Butler's first 200 is lost on the way back: Telegram delivers the report again.
    story.emu.lose_webhook_answers(1);
    let report = story.owner_reports("water from the ceiling").await;
    let id = story
        .until("the report delivered twice, the second time taken", |s| {
            let tries = s.deliveries();
            let last = tries.last()?;
            let twice = tries
                .iter()
                .filter(|d| d.update_id == last.update_id)
                .count()
                == 2;
            (twice && last.ok()).then_some(last.update_id)
        })
        .await;
    story.card(report.ticket).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tries: Vec<_> = story
        .emu
        .deliveries()
        .into_iter()
        .filter(|d| d.update_id == id)
        .collect();
    assert_eq!(
        tries[0].status,
        Some(200),
        "Butler answered the first delivery"
    );
    let confirmations = story.emu.read(|s| {
        s.replies_to(GROUP, report.message.id)
            .iter()
            .filter(|m| m.is_from_bot())
            .count()
    });
    assert_eq!(confirmations, 1, "{}", story.context());
    let cards = story.emu.read(|s| {
        s.bot_messages_in(STAFF_CHAT)
            .iter()
            .filter(|m| m.body().starts_with("🔧"))
            .count()
    });
    assert_eq!(cards, 1, "{}", story.context());
    let log = story.butler.stderr();
    assert_eq!(log.matches("a repeated delivery").count(), 1, "{log}");
    let handled = log
        .lines()
        .filter(|l| l.contains(&format!("update_id={id}")) && l.contains("update handled"))
        .count();
    assert_eq!(handled, 1, "{log}");
}

#[tokio::test]
async fn a_delivery_that_cannot_be_stored_is_answered_500_and_taken_when_delivered_again() {
    let story = Story::start_in(Mode::Webhook, "").await;
    story.manager_registers_group().await;
    // The disk refuses the inbox's rows (a trigger stands in for a full or failing disk):
    // the delivery cannot be stored, so Butler must not answer 200.
    let db = story.database().await;
    db.refuse("refuse_inbox", "INSERT", "inbox", "the disk is full")
        .await;
    let report = story
        .emu
        .user_sends_text(GROUP, OWNER, "/repair the boiler is dead", None)
        .unwrap();
    story
        .until("deliveries answered 500", |s| {
            let refused = s
                .deliveries()
                .iter()
                .filter(|d| d.status == Some(500))
                .count();
            (refused >= 2).then_some(())
        })
        .await;
    assert_eq!(story.emu.pending_updates().len(), 1, "Telegram keeps it");
    db.allow("refuse_inbox", "inbox").await;
    let confirmed = story.confirmed(report.clone()).await;
    assert_eq!(confirmed.ticket, 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let confirmations = story.emu.read(|s| {
        s.replies_to(GROUP, report.id)
            .iter()
            .filter(|m| m.is_from_bot())
            .count()
    });
    assert_eq!(confirmations, 1, "{}", story.context());
    assert!(
        story
            .butler
            .stderr()
            .contains("writing a delivered update to the inbox failed")
    );
}
