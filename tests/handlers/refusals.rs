use butler::store::BotMessageKind;
use teloxide_tests::MockCallbackQuery;

use crate::harness::*;

#[tokio::test]
async fn an_empty_repair_gets_an_example_and_makes_no_ticket() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    for empty in ["/repair", "/repair    ", "/report"] {
        let r = h.send(text(group(GROUP), OWNER, empty)).await;
        assert!(
            last_text(&r).contains("Please say what is wrong"),
            "{empty}: {:?}",
            texts(&r)
        );
        // Asked again at once, the same refusal is not repeated.
        let r = h.send(text(group(GROUP), OWNER, empty)).await;
        assert!(r.sent_messages.is_empty(), "{empty}: {:?}", texts(&r));
        h.clock.advance(chrono::Duration::minutes(5));
    }
    assert!(h.latest_ticket().await.is_none());
}

#[tokio::test]
async fn bad_and_unknown_ticket_numbers_are_answered() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(staff_chat(), STAFF, "/take abc")).await;
    assert_eq!(
        last_text(&r),
        "“abc” is not a ticket number. Use the number after #, for example 42."
    );
    let r = h.send(text(staff_chat(), STAFF, "/done 999999")).await;
    assert_eq!(last_text(&r), "There is no ticket #999999.");
    let r = h.send(text(staff_chat(), STAFF, "/take")).await;
    assert!(last_text(&r).starts_with("Usage: /take N"));
    let r = h.send(text(staff_chat(), STAFF, "/take #-5")).await;
    assert!(last_text(&r).contains("is not a ticket number"));
    let r = h
        .send(text(staff_chat(), STAFF, "/reopen 99999999999999999999999"))
        .await;
    assert!(last_text(&r).contains("is not a ticket number"));
}

#[tokio::test]
async fn stale_forged_and_unknown_buttons_change_nothing() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "one").await;
    h.report(OWNER, "two").await;
    let card1 = h.bot_message(id, BotMessageKind::Card).await;

    // Data naming another ticket than the card it sits under.
    let r = h.press(STAFF, &card1, "take:2").await;
    assert_eq!(
        toast(&r),
        Some(("This button is no longer valid.".to_owned(), true))
    );
    // Unknown data.
    let r = h.press(STAFF, &card1, "explode:1").await;
    assert_eq!(
        toast(&r),
        Some(("I do not know this button.".to_owned(), true))
    );
    let r = h.press(STAFF, &card1, "take:abc").await;
    assert_eq!(toast(&r).unwrap().0, "I do not know this button.");
    // A take button on a message Butler does not know.
    let stranger = text(staff_chat(), STAFF, "some message").id(31337).build();
    let r = h.press(STAFF, &stranger, "take:1").await;
    assert_eq!(toast(&r).unwrap().0, "This button is no longer valid.");
    // A card's button pressed from a message copied into an owner group.
    let confirmation = h.bot_message(id, BotMessageKind::Confirmation).await;
    let r = h.press(OWNER, &confirmation, "take:1").await;
    assert_eq!(toast(&r).unwrap().0, "This button is no longer valid.");
    // A message too old to be shown to the bot.
    let q = MockCallbackQuery::new()
        .from(user(STAFF))
        .data("take:1")
        .make_message_inaccessible();
    let r = h.send(q).await;
    assert_eq!(toast(&r).unwrap().0, "This button is no longer valid.");
    // A score out of range, forged.
    h.take_and_finish(id).await;
    let question = h.bot_message(id, BotMessageKind::Rating).await;
    let r = h.press(OWNER, &question, "rate:1:1:9").await;
    assert!(toast(&r).unwrap().1);

    let statuses: Vec<_> = h
        .app
        .store
        .open_tickets(10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id.0, t.status))
        .collect();
    assert_eq!(statuses, vec![(2, butler::domain::TicketStatus::Reported)]);
    assert!(h.app.store.ratings(id).await.unwrap().is_empty());
}

#[tokio::test]
async fn commands_in_the_wrong_chat_point_to_the_right_one() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(group(GROUP), OWNER, "/take 1")).await;
    assert_eq!(last_text(&r), "/take is used in the staff chat.");
    let r = h.send(text(staff_chat(), STAFF, "/repair leak")).await;
    assert_eq!(last_text(&r), "/repair is used in an owner group.");
    let r = h.send(text(private(OWNER), OWNER, "/repair leak")).await;
    assert_eq!(last_text(&r), "/repair is used in an owner group.");
    let r = h.send(text(group(GROUP), OWNER, "/watch 5")).await;
    assert!(last_text(&r).contains("staff chat or in a private chat"));
    // In a private chat, one hint per few minutes.
    let r = h.send(text(private(OWNER), OWNER, "/frobnicate")).await;
    assert!(r.sent_messages.is_empty(), "{:?}", texts(&r));
    h.clock.advance(chrono::Duration::minutes(5));
    let r = h.send(text(private(OWNER), OWNER, "/frobnicate")).await;
    assert!(last_text(&r).contains("I do not know that command"));
    // Another bot's command, or an unknown one not addressed to Butler, is left alone.
    let r = h.send(text(group(GROUP), OWNER, "/frobnicate")).await;
    assert!(r.sent_messages.is_empty());
    let r = h.send(text(group(GROUP), OWNER, "/take@other_bot 1")).await;
    assert!(r.sent_messages.is_empty());
    assert!(h.latest_ticket().await.is_none());
}

#[tokio::test]
async fn ordinary_chatter_in_groups_is_left_alone() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h
        .send(text(group(GROUP), OWNER, "good morning everyone"))
        .await;
    assert!(r.sent_messages.is_empty());
    let r = h.send(photo(group(GROUP), OWNER, "cat", None)).await;
    assert!(r.sent_messages.is_empty());
    let r = h.send(text(staff_chat(), STAFF, "lunch?")).await;
    assert!(r.sent_messages.is_empty());
}

#[tokio::test]
async fn unicode_rtl_and_emoji_survive_the_round_trip() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let odd = "水管 🚰💧 مرحبا \u{202e}reversed\u{202c} <b>&amp;</b>";
    let (id, r) = h.report(OWNER, odd).await;
    assert_eq!(h.app.store.ticket(id).await.unwrap().unwrap().text, odd);
    assert!(sent_to(&r, STAFF_CHAT)[0].text().unwrap().contains(odd));
}
