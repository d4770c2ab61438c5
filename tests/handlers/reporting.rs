use butler::domain::TicketStatus;
use butler::store::{BotMessageKind, PhotoKind};

use crate::harness::*;

#[tokio::test]
async fn a_report_gets_a_numbered_confirmation_under_it_and_a_card_in_the_staff_chat() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;

    let (id, r) = h.report(OWNER, "the kitchen pipe leaks").await;

    let to_group = sent_to(&r, GROUP);
    let confirmation = to_group[0].text().unwrap();
    assert!(
        confirmation.contains("ticket #1 (Plumbing)"),
        "{confirmation}"
    );
    assert!(confirmation.contains("within 10 minutes"), "{confirmation}");
    let reported = to_group[0]
        .reply_to_message()
        .expect("answered under the report");
    assert_eq!(reported.text(), Some("/repair the kitchen pipe leaks"));

    let cards = sent_to(&r, STAFF_CHAT);
    assert_eq!(cards.len(), 1);
    let card = cards[0].text().unwrap();
    assert!(
        card.contains("#1 · Plumbing")
            && card.contains("the kitchen pipe leaks")
            && card.contains("Li"),
        "{card}"
    );
    assert_eq!(
        buttons(&cards[0]),
        vec![vec!["take:1".to_owned(), "assign:1".to_owned()]]
    );

    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Reported);
    assert_eq!(ticket.report_message_id, reported.id.0);
    let events = h.app.store.events(id).await.unwrap();
    assert_eq!(events[0].0, "reported");
}

#[tokio::test]
async fn report_is_an_alias_and_works_addressed_to_the_bot() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h
        .send(text(
            group(GROUP),
            OWNER,
            "/report@test_bot lift stuck on floor 3",
        ))
        .await;
    let to_group = texts_to(&r, GROUP);
    assert!(to_group[0].contains("#1 (Lift)"), "{to_group:?}");
}

#[tokio::test]
async fn a_photo_captioned_repair_reports_with_the_photo_shown_under_the_card() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h
        .send(photo(
            group(GROUP),
            OWNER,
            "crack-1",
            Some("/repair crack in the corridor wall"),
        ))
        .await;

    let id = h.latest_ticket().await.expect("ticket");
    assert_eq!(
        h.app.store.photos(id, PhotoKind::Report).await.unwrap(),
        vec!["crack-1".to_owned()]
    );
    let staff = sent_to(&r, STAFF_CHAT);
    assert_eq!(staff.len(), 2, "card and photo");
    assert!(staff[0].text().unwrap().contains("Photos: 1"));
    let shown = &staff[1];
    assert!(shown.photo().is_some());
    assert_eq!(photos_sent_to(&r, STAFF_CHAT), vec!["crack-1".to_owned()]);
    assert_eq!(
        shown.reply_to_message().map(|m| m.id),
        Some(staff[0].id),
        "photo sits under the card"
    );
}

#[tokio::test]
async fn a_photo_with_just_repair_as_caption_is_a_report() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.send(photo(group(GROUP), OWNER, "p", Some("/repair")))
        .await;
    let id = h.latest_ticket().await.expect("ticket");
    assert_eq!(
        h.app.store.ticket(id).await.unwrap().unwrap().text,
        "(photo report)"
    );
}

#[tokio::test]
async fn later_album_photos_join_the_ticket_of_the_captioned_first() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.send(album_item(
        group(GROUP),
        OWNER,
        "a1",
        "album-7",
        Some("/repair water on the floor"),
    ))
    .await;
    let r = h
        .send(album_item(group(GROUP), OWNER, "a2", "album-7", None))
        .await;
    let id = h.latest_ticket().await.unwrap();
    assert_eq!(
        h.app.store.photos(id, PhotoKind::Report).await.unwrap(),
        vec!["a1".to_owned(), "a2".to_owned()]
    );
    assert_eq!(h.app.store.owner_tickets(OWNER, 10).await.unwrap().len(), 1);
    assert!(
        sent_to(&r, STAFF_CHAT).iter().any(|m| m.photo().is_some()),
        "the photo reaches staff"
    );
}

#[tokio::test]
async fn the_same_report_delivered_twice_makes_one_ticket_and_one_card() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let report = text(group(GROUP), OWNER, "/repair no hot water").id(4242);
    let first = h.send(report.clone()).await;
    let second = h.send(report).await;
    assert_eq!(sent_to(&first, STAFF_CHAT).len(), 1);
    assert!(
        second.sent_messages.is_empty(),
        "a redelivery sends nothing: {:?}",
        texts(&second)
    );
    assert_eq!(h.app.store.owner_tickets(OWNER, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_overlong_report_is_stored_whole_and_shown_shortened() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let long = "漏水".repeat(3000); // 6,000 characters: over Telegram's 4,096
    let (id, r) = h.report(OWNER, &long).await;
    assert_eq!(
        h.app
            .store
            .ticket(id)
            .await
            .unwrap()
            .unwrap()
            .text
            .chars()
            .count(),
        6000
    );
    let card = sent_to(&r, STAFF_CHAT)[0].text().unwrap().to_owned();
    assert!(
        card.encode_utf16().count() <= 4096,
        "card is {} units",
        card.encode_utf16().count()
    );
    assert!(card.contains('…'));
}

#[tokio::test]
async fn unit_is_set_once_and_appears_on_later_cards() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (_, r) = h.report(OWNER, "light broken").await;
    assert!(
        texts(&r).iter().any(|t| t.contains("/unit 3-1201")),
        "hint to set the unit"
    );

    let r = h.send(text(group(GROUP), OWNER, "/unit 3-1201")).await;
    assert_eq!(last_text(&r), "Your unit is now 3-1201.");
    let (_, r) = h.report(OWNER, "socket sparks").await;
    let card = sent_to(&r, STAFF_CHAT)[0].text().unwrap().to_owned();
    assert!(card.contains("unit 3-1201"), "{card}");
    assert!(
        !texts(&r).iter().any(|t| t.contains("Tip:")),
        "no hint once the unit is known"
    );

    let r = h.send(text(group(GROUP), OWNER, "/unit penthouse")).await;
    assert!(
        last_text(&r).contains("“penthouse” is not a unit"),
        "{:?}",
        texts(&r)
    );
    let r = h.send(text(group(GROUP), OWNER, "/unit")).await;
    assert!(last_text(&r).contains("/unit 3-1201"));
}

#[tokio::test]
async fn my_lists_the_owners_tickets_and_says_so_when_there_are_none() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(group(GROUP), OWNER, "/my")).await;
    assert!(last_text(&r).contains("no tickets yet"));
    h.report(OWNER, "lift noisy").await;
    h.report(NEIGHBOUR, "corridor light").await;
    let r = h.send(text(group(GROUP), OWNER, "/my")).await;
    let list = last_text(&r);
    assert!(
        list.contains("#1") && !list.contains("lift noisy") && !list.contains("#2"),
        "{list}"
    );
}

#[tokio::test]
async fn replying_to_the_confirmation_adds_text_and_photos_for_staff() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "bathroom drain blocked").await;
    let confirmation = h.bot_message(id, BotMessageKind::Confirmation).await;
    let card = h.bot_message(id, BotMessageKind::Card).await;

    let r = h
        .reply_text(group(GROUP), OWNER, &confirmation, "it is getting worse")
        .await;
    let to_staff = sent_to(&r, STAFF_CHAT);
    assert!(to_staff[0].text().unwrap().contains("it is getting worse"));
    assert_eq!(to_staff[0].reply_to_message().map(|m| m.id), Some(card.id));
    assert!(
        texts_to(&r, GROUP)
            .last()
            .unwrap()
            .contains("Added to ticket #1")
    );

    let r = h
        .reply_photo(group(GROUP), OWNER, &confirmation, "drain-2", None)
        .await;
    assert!(sent_to(&r, STAFF_CHAT).iter().any(|m| m.photo().is_some()));
    let edits = &r.edited_messages_text;
    assert!(
        edits
            .iter()
            .any(|e| e.message.text().unwrap().contains("Photos: 1")),
        "card shows the photo count"
    );
    assert_eq!(
        h.app.store.photos(id, PhotoKind::Report).await.unwrap(),
        vec!["drain-2".to_owned()]
    );

    let r = h
        .reply_text(group(GROUP), NEIGHBOUR, &confirmation, "mine too")
        .await;
    assert!(last_text(&r).contains("Only the owner who reported #1"));
    assert!(sent_to(&r, STAFF_CHAT).is_empty());
}

#[tokio::test]
async fn a_watch_listed_owners_report_is_priority_and_managers_are_told_privately() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h
        .send(text(staff_chat(), MANAGER, &format!("/watch {OWNER}")))
        .await;
    assert!(last_text(&r).contains("watch list"));

    let (id, r) = h.report(OWNER, "gas smell in the kitchen").await;
    assert!(h.app.store.ticket(id).await.unwrap().unwrap().priority);
    let card = sent_to(&r, STAFF_CHAT)[0].text().unwrap().to_owned();
    assert!(card.contains("Priority"), "{card}");
    let alert = sent_to(&r, MANAGER as i64);
    assert_eq!(alert.len(), 1);
    assert!(alert[0].text().unwrap().contains("gas smell"));

    h.send(text(staff_chat(), MANAGER, &format!("/unwatch {OWNER}")))
        .await;
    let (id, r) = h.report(OWNER, "another thing").await;
    assert!(!h.app.store.ticket(id).await.unwrap().unwrap().priority);
    assert!(sent_to(&r, MANAGER as i64).is_empty());
}

#[tokio::test]
async fn staff_cannot_use_the_watch_list() {
    let mut h = Harness::new().await;
    let r = h.send(text(staff_chat(), STAFF, "/watch 100")).await;
    assert!(last_text(&r).contains("Only managers"));
    let r = h.send(text(staff_chat(), MANAGER, "/watch someone")).await;
    assert!(last_text(&r).contains("Usage: /watch"));
}
