//! Staff are the current members of the staff chat: someone who left (or only views a
//! public group) is refused politely and nothing changes. MockBot cannot answer
//! getChatMember, so membership is set on the `App` here; the end-to-end suite asks the
//! emulator.

use butler::domain::TicketStatus;
use butler::store::BotMessageKind;
use teloxide::types::{Update, UpdateKind};

use crate::harness::*;

const NOT_STAFF: &str = "Sorry, only current members of the staff group can do that.";

/// Telegram's report that `user` left the staff chat.
fn left_the_staff_chat(user: u64) -> Update {
    // From text, as Telegram sends it (teloxide reads an update's kind from a string).
    let json = serde_json::json!({
        "update_id": 1,
        "chat_member": {
            "chat": { "id": STAFF_CHAT, "type": "group", "title": "Staff" },
            "from": { "id": user, "is_bot": false, "first_name": "Chen" },
            "date": 1_764_000_000,
            "old_chat_member": {
                "user": { "id": user, "is_bot": false, "first_name": "Chen" },
                "status": "member"
            },
            "new_chat_member": {
                "user": { "id": user, "is_bot": false, "first_name": "Chen" },
                "status": "left"
            }
        }
    });
    let update: Update = serde_json::from_str(&json.to_string()).expect("a chat_member update");
    assert!(
        matches!(update.kind, UpdateKind::ChatMember(_)),
        "{:?}",
        update.kind
    );
    update
}

#[tokio::test]
async fn a_user_who_left_the_staff_chat_cannot_take_and_the_owner_is_not_told() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "kitchen tap leaking").await;
    h.app.assume_member(STAFF2, false);
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h.press(STAFF2, &card, &format!("take:{id}")).await;
    assert_eq!(toast(&r), Some((NOT_STAFF.to_owned(), true)));
    assert!(r.sent_messages.is_empty(), "{:?}", texts(&r));
    assert!(r.edited_messages_text.is_empty(), "the card is unchanged");
    let r = h
        .send(text(staff_chat(), STAFF2, &format!("/take {id}")))
        .await;
    assert_eq!(texts(&r), vec![NOT_STAFF.to_owned()]);
    // The same refusal to the same person is said once in a few minutes.
    let r = h.reply_text(staff_chat(), STAFF2, &card, "on my way").await;
    assert!(r.sent_messages.is_empty(), "{:?}", texts(&r));
    h.clock.advance(chrono::Duration::minutes(5));
    let r = h.reply_text(staff_chat(), STAFF2, &card, "on my way").await;
    assert_eq!(texts(&r), vec![NOT_STAFF.to_owned()]);
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Reported);
    assert!(ticket.taken_by.is_none());

    // A member takes it.
    let r = h.press(STAFF, &card, &format!("take:{id}")).await;
    assert!(!toast(&r).expect("answered").1, "{:?}", toast(&r));
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Taken);
    assert!(texts_to(&r, GROUP).iter().any(|t| t.contains("Wang")));
}

#[tokio::test]
async fn a_member_change_drops_what_butler_remembered() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "kitchen tap leaking").await;
    h.send(left_the_staff_chat(STAFF2)).await;
    // Forgotten: Telegram is asked again, and MockBot cannot answer, so no one vouches.
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h.press(STAFF2, &card, &format!("take:{id}")).await;
    assert_eq!(toast(&r), Some((NOT_STAFF.to_owned(), true)));
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Reported);
    // The manager is staff by the settings, member list or not.
    let r = h.press(MANAGER, &card, &format!("take:{id}")).await;
    assert!(!toast(&r).expect("answered").1, "{:?}", toast(&r));
}
