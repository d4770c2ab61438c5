//! What a newcomer tripped over in the staff chat.

use butler::domain::{TicketId, TicketStatus};
use butler::store::BotMessageKind;

use crate::harness::*;

#[tokio::test]
async fn a_done_photo_replying_to_the_card_takes_its_caption_as_the_note() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "printer jammed").await;
    h.send(text(staff_chat(), STAFF, "/take 1")).await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h
        .reply_photo(
            staff_chat(),
            STAFF,
            &card,
            "cartridge",
            Some("/done replaced the cartridge"),
        )
        .await;
    assert!(
        !texts(&r).iter().any(|t| t.contains("not a ticket number")),
        "{:?}",
        texts(&r)
    );
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Done);
    let to_owner = texts_to(&r, GROUP).join("\n");
    assert!(to_owner.contains("replaced the cartridge"), "{to_owner}");
    assert_eq!(photos_sent_to(&r, GROUP), vec!["cartridge".to_owned()]);
}

#[tokio::test]
async fn note_and_category_in_a_reply_to_the_card_take_all_the_words() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "something odd").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h
        .reply_text(staff_chat(), STAFF, &card, "/note owner home after six")
        .await;
    assert_eq!(last_text(&r), "Note added to #1.");
    let events = h.app.store.events(id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|(_, _, d)| d.as_deref() == Some("owner home after six"))
    );
    let r = h
        .reply_text(staff_chat(), STAFF, &card, "/category Doors and locks")
        .await;
    assert_eq!(last_text(&r), "#1 is now in category Doors and locks.");
}

#[tokio::test]
async fn typed_take_done_and_reopen_are_answered_under_the_command() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "tap leaks").await;
    let r = h.send(text(staff_chat(), STAFF, "/take 1")).await;
    assert!(texts_to(&r, STAFF_CHAT).contains(&"#1 is yours.".to_owned()));
    h.send(photo(staff_chat(), STAFF, "fix", Some("/done 1")))
        .await;
    let ticket = h.app.store.ticket(TicketId(1)).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Done);
    let r = h
        .send(text(staff_chat(), STAFF, "/reopen 1 still drips"))
        .await;
    assert!(
        texts_to(&r, STAFF_CHAT).contains(&"#1 is open again; the owner has been told.".to_owned()),
        "{:?}",
        texts(&r)
    );
    let card = h.bot_message(TicketId(1), BotMessageKind::Card).await;
    h.reply_photo(staff_chat(), STAFF, &card, "fix2", None)
        .await;
    let r = h.send(text(staff_chat(), STAFF, "/done 1")).await;
    assert!(
        texts_to(&r, STAFF_CHAT)
            .iter()
            .any(|t| t.starts_with("#1 is done.")),
        "{:?}",
        texts(&r)
    );
}

#[tokio::test]
async fn a_card_shows_only_the_buttons_that_work_now() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    assert_eq!(
        buttons(&card),
        vec![vec!["take:1".to_owned(), "assign:1".to_owned()]]
    );
    let r = h.press(STAFF, &card, "take:1").await;
    let edited = &r.edited_messages_text[0].message;
    assert_eq!(buttons(edited), vec![vec!["done:1".to_owned()]]);
}

#[tokio::test]
async fn categories_are_listed_and_typed_by_their_names() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "the gate").await;
    let r = h
        .send(text(staff_chat(), STAFF, "/category 1 Security"))
        .await;
    let answer = last_text(&r);
    assert!(answer.contains("“Security” is not a category"), "{answer}");
    assert!(answer.contains("Doors and locks"), "{answer}");
    assert!(answer.contains("Public areas"), "{answer}");
    assert!(
        !answer.contains("door_lock") && !answer.contains("public_area"),
        "{answer}"
    );
    let r = h.send(text(staff_chat(), STAFF, "/category 1")).await;
    assert!(
        last_text(&r).contains("Doors and locks"),
        "{}",
        last_text(&r)
    );
    for (typed, name) in [
        ("public areas", "Public areas"),
        ("门锁", "Doors and locks"),
        ("door_lock", "Doors and locks"),
        ("PLUMBING", "Plumbing"),
    ] {
        let r = h
            .send(text(staff_chat(), STAFF, &format!("/category 1 {typed}")))
            .await;
        assert_eq!(last_text(&r), format!("#1 is now in category {name}."));
    }
}

#[tokio::test]
async fn an_sla_alert_reads_in_hours_not_hundreds_of_minutes() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "tap leaks").await;
    h.send(text(staff_chat(), STAFF, "/take 1")).await;
    let at = h.app.now() + chrono::Duration::minutes(838);
    let r = h.tick_at(at).await;
    let alerts = texts_to(&r, STAFF_CHAT).join("\n");
    assert!(alerts.contains("was taken 14 hours ago"), "{alerts}");
    assert!(alerts.contains("(target: 30 minutes)"), "{alerts}");
}
