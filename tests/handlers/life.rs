//! Chat life, corrections and floods: edits, membership, supergroups, repeats.

use butler::store::BotMessageKind;
use serde_json::json;
use teloxide::types::Update;
use teloxide_tests::MockEditedMessage;

use crate::harness::*;

/// An update as Telegram sends it. (Parsed from text: teloxide reads the update kind
/// from borrowed keys, which `from_value` does not give.)
fn raw_update(value: serde_json::Value) -> Update {
    let update: Update = serde_json::from_str(&value.to_string()).expect("a valid update");
    assert!(
        !matches!(update.kind, teloxide::types::UpdateKind::Error(_)),
        "unparsed: {value}"
    );
    update
}

fn membership(chat: i64, status: &str) -> Update {
    raw_update(json!({
        "update_id": 1,
        "my_chat_member": {
            "chat": {"id": chat, "type": "group", "title": "Sunrise Garden"},
            "from": {"id": MANAGER, "is_bot": false, "first_name": "Boss"},
            "date": 1_790_000_000,
            "old_chat_member": {"user": {"id": 123456, "is_bot": true, "first_name": "Butler", "username": "test_bot"}, "status": "member"},
            "new_chat_member": {"user": {"id": 123456, "is_bot": true, "first_name": "Butler", "username": "test_bot"}, "status": status}
        }
    }))
}

#[tokio::test]
async fn an_edited_report_updates_the_ticket_and_tells_staff() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let report = text(group(GROUP), OWNER, "/repair the tap leaks").id(777);
    h.send(report.clone()).await;
    let id = h.latest_ticket().await.unwrap();

    let edited = report
        .text("/repair the tap and the sink leak")
        .edit_date(chrono::Utc::now())
        .build();
    let r = h.send(MockEditedMessage::new(edited)).await;
    assert_eq!(
        h.app.store.ticket(id).await.unwrap().unwrap().text,
        "the tap and the sink leak"
    );
    assert!(
        sent_to(&r, STAFF_CHAT)[0]
            .text()
            .unwrap()
            .contains("edited the report:\nthe tap and the sink leak")
    );
    assert!(
        r.edited_messages_text
            .iter()
            .any(|e| e.message.text().unwrap().contains("the sink"))
    );
    let kinds: Vec<String> = h
        .app
        .store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.0.to_string())
        .collect();
    assert_eq!(kinds, ["reported", "edited"]);
}

#[tokio::test]
async fn editing_an_ordinary_message_changes_nothing() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let chatter = text(group(GROUP), OWNER, "hello").id(778);
    h.send(chatter.clone()).await;
    let r = h
        .send(MockEditedMessage::new(
            chatter.text("/repair sneaky").build(),
        ))
        .await;
    assert!(r.sent_messages.is_empty());
    assert!(h.latest_ticket().await.is_none());
}

#[tokio::test]
async fn an_owner_flooding_reports_is_told_once_to_slow_down() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let mut warnings = 0;
    for i in 0..9 {
        let r = h
            .send(text(group(GROUP), OWNER, &format!("/repair problem {i}")))
            .await;
        warnings += texts(&r)
            .iter()
            .filter(|t| t.contains("several reports in a short time"))
            .count();
    }
    assert_eq!(
        h.app.store.owner_tickets(OWNER, 100).await.unwrap().len(),
        5
    );
    assert_eq!(warnings, 1, "one polite warning, not one per message");
    // Another owner is not held back, and after the window the owner may report again.
    h.report(NEIGHBOUR, "corridor light").await;
    h.clock.advance(chrono::Duration::minutes(2));
    let r = h.send(text(group(GROUP), OWNER, "/repair one more")).await;
    assert!(texts(&r)[0].contains("#7"), "{:?}", texts(&r));
}

#[tokio::test]
async fn the_bot_removed_from_a_group_sends_nothing_there_until_it_is_back() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap").await;
    h.send(membership(GROUP, "left")).await;
    assert!(h.app.store.chat_unreachable(GROUP).await.unwrap().is_some());

    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h.press(STAFF, &card, "take:1").await;
    assert!(
        sent_to(&r, GROUP).is_empty(),
        "nothing is sent to a group the bot left"
    );
    assert!(
        !r.edited_messages_text.is_empty(),
        "the staff side still works"
    );

    h.send(membership(GROUP, "member")).await;
    assert!(h.app.store.chat_unreachable(GROUP).await.unwrap().is_none());
    let r = h.reply_text(staff_chat(), STAFF, &card, "on my way").await;
    assert_eq!(sent_to(&r, GROUP).len(), 1);
}

#[tokio::test]
async fn a_group_that_became_a_supergroup_keeps_its_tickets() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap").await;
    let supergroup = -100_777_000_i64;
    h.send(raw_update(json!({
        "update_id": 2,
        "message": {
            "message_id": 900, "date": 1_790_000_000,
            "chat": {"id": GROUP, "type": "group", "title": "Sunrise Garden"},
            "from": {"id": OWNER, "is_bot": false, "first_name": "Li"},
            "migrate_to_chat_id": supergroup
        }
    })))
    .await;
    assert!(h.app.store.group(GROUP).await.unwrap().is_none());
    assert!(h.app.store.group(supergroup).await.unwrap().is_some());
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(
        ticket.group_chat_id, supergroup,
        "the ticket follows the group"
    );

    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h.press(STAFF, &card, "take:1").await;
    assert_eq!(
        sent_to(&r, supergroup).len(),
        1,
        "the owner hears in the supergroup"
    );
}

#[tokio::test]
async fn the_same_progress_message_handled_twice_is_relayed_once() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    h.press(STAFF, &card, "take:1").await;
    let progress = text(staff_chat(), STAFF, "coming at 3")
        .reply_to_message(card.clone())
        .id(5555);
    let first = h.send(progress.clone()).await;
    let second = h.send(progress).await;
    assert_eq!(sent_to(&first, GROUP).len(), 1);
    assert!(second.sent_messages.is_empty(), "{:?}", texts(&second));
}
