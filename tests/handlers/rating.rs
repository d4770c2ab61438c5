use butler::domain::TicketStatus;
use butler::store::BotMessageKind;
use teloxide::types::{Message, MessageId};
use teloxide_tests::server::Responses;

use crate::harness::*;

#[tokio::test]
async fn only_the_reporter_can_rate_and_the_question_shows_the_score() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap").await;
    h.take_and_finish(id).await;
    let question = h.bot_message(id, BotMessageKind::Rating).await;

    let r = h.press(NEIGHBOUR, &question, "rate:1:1:1").await;
    assert_eq!(
        toast(&r),
        Some((
            "Only the owner who reported this can rate it.".to_owned(),
            true
        ))
    );
    assert!(r.edited_messages_text.is_empty());
    assert!(h.app.store.ratings(id).await.unwrap().is_empty());

    let r = h.press(OWNER, &question, "rate:1:1:5").await;
    assert!(!toast(&r).unwrap().1, "a toast, not an alert");
    let edited = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == question.id)
        .expect("question edited");
    assert_eq!(
        edited.message.text(),
        Some("Thank you. You rated #1: ★★★★★ (5/5).")
    );
    assert!(buttons(&edited.message).is_empty(), "buttons are gone");
    assert_eq!(h.app.store.ratings(id).await.unwrap(), vec![(1, 5)]);
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Rated);
    assert!(sent_to(&r, STAFF_CHAT).is_empty(), "no follow-up for a 5");
    assert!(
        r.edited_messages_text
            .iter()
            .any(|e| e.message.text().unwrap().contains("rated 5/5")),
        "card shows the score"
    );

    let r = h.press(OWNER, &question, "rate:1:1:1").await;
    assert_eq!(
        toast(&r),
        Some(("This question has already been answered.".to_owned(), true))
    );
    assert_eq!(h.app.store.ratings(id).await.unwrap(), vec![(1, 5)]);
}

#[tokio::test]
async fn a_low_score_asks_what_went_wrong_and_opens_a_follow_up_a_manager_closes_and_rerates() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap").await;
    h.take_and_finish(id).await;
    let question = h.bot_message(id, BotMessageKind::Rating).await;

    let r = h.press(OWNER, &question, "rate:1:1:2").await;
    let asked = sent_to(&r, GROUP);
    assert!(
        asked[0].text().unwrap().contains("what went wrong"),
        "{:?}",
        texts(&r)
    );
    let follow_up_card = sent_to(&r, STAFF_CHAT);
    assert_eq!(follow_up_card.len(), 1);
    assert!(
        follow_up_card[0]
            .text()
            .unwrap()
            .contains("Follow-up F1 for #1: score 2")
    );

    // The owner answers, optionally; managers see it under the follow-up card.
    let low_q = h.bot_message(id, BotMessageKind::LowScoreQuestion).await;
    let r = h
        .reply_text(group(GROUP), OWNER, &low_q, "the tap drips again")
        .await;
    let relayed = sent_to(&r, STAFF_CHAT);
    assert!(relayed[0].text().unwrap().contains("the tap drips again"));
    assert_eq!(
        relayed[0].reply_to_message().map(|m| m.id),
        Some(follow_up_card[0].id)
    );

    // Only a manager closes it, with a note.
    let fu_card = h.bot_message(id, BotMessageKind::FollowUp).await;
    let r = h.reply_text(staff_chat(), STAFF, &fu_card, "called").await;
    assert!(last_text(&r).contains("Only managers"));
    let r = h
        .reply_text(
            staff_chat(),
            MANAGER,
            &fu_card,
            "Called the owner; plumber returns Friday",
        )
        .await;
    let edit = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == fu_card.id)
        .expect("card edited");
    assert!(
        edit.message
            .text()
            .unwrap()
            .contains("Closed by Boss: Called the owner")
    );
    assert_eq!(
        buttons(&edit.message),
        vec![vec!["rerate:1".to_owned(), "tell:1".to_owned()]]
    );

    // Staff may not ask for a new rating; the manager may, once.
    let r = h.press(STAFF, &fu_card, "rerate:1").await;
    assert_eq!(
        toast(&r).unwrap(),
        ("Only managers can do that.".to_owned(), true)
    );
    let r = h.press(MANAGER, &fu_card, "rerate:1").await;
    let again = sent_to(&r, GROUP);
    assert!(again[0].text().unwrap().contains("After the follow-up"));
    assert_eq!(buttons(&again[0])[0][4], "rate:1:2:5");
    let r = h.press(MANAGER, &fu_card, "rerate:1").await;
    assert!(toast(&r).unwrap().1, "a second re-rate is refused");

    let question2 = h.bot_message(id, BotMessageKind::Rating).await;
    h.press(OWNER, &question2, "rate:1:2:4").await;
    assert_eq!(
        h.app.store.ratings(id).await.unwrap(),
        vec![(1, 2), (2, 4)],
        "both scores are kept"
    );
    // The old question's buttons are stale now.
    let r = h.press(OWNER, &question, "rate:1:1:5").await;
    assert!(toast(&r).unwrap().1);
    assert_eq!(h.app.store.ratings(id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn not_fixed_reopens_the_ticket_for_the_same_staff_member() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap").await;
    h.take_and_finish(id).await;
    let question = h.bot_message(id, BotMessageKind::Rating).await;

    let r = h.press(NEIGHBOUR, &question, "nf:1:1").await;
    assert!(toast(&r).unwrap().1);
    let r = h.press(OWNER, &question, "nf:1:1").await;
    let edited = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == question.id)
        .unwrap();
    assert!(edited.message.text().unwrap().contains("not fixed yet"));
    assert!(
        sent_to(&r, STAFF_CHAT)[0]
            .text()
            .unwrap()
            .contains("#1 reopened by the owner")
    );
    let t = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(t.status, TicketStatus::Taken);
    assert_eq!(t.taken_by.map(|(id, _)| id), Some(STAFF));

    // Fixed for real this time: a new photo is needed, then a new question (round 2).
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h.press(STAFF, &card, "done:1").await;
    assert!(toast(&r).unwrap().0.contains("photo"));
    h.reply_photo(staff_chat(), STAFF, &card, "fixed-again", None)
        .await;
    let r = h.press(STAFF, &card, "done:1").await;
    let q2 = sent_to(&r, GROUP).last().cloned().unwrap();
    assert_eq!(buttons(&q2)[0][0], "rate:1:2:1");
}

/// A low score, its follow-up closed by the manager with a note, and a new rating question
/// asked: returns the ticket, the follow-up card and the second question.
async fn rerated(h: &mut Harness) -> (butler::domain::TicketId, Message, Message, Responses) {
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap").await;
    h.take_and_finish(id).await;
    let question = h.bot_message(id, BotMessageKind::Rating).await;
    h.press(OWNER, &question, "rate:1:1:2").await;
    let fu_card = h.bot_message(id, BotMessageKind::FollowUp).await;
    h.reply_text(staff_chat(), MANAGER, &fu_card, "Plumber returns Friday")
        .await;
    let r = h.press(MANAGER, &fu_card, "rerate:1").await;
    let question2 = h.bot_message(id, BotMessageKind::Rating).await;
    assert_ne!(question2.id, question.id, "a new question");
    (id, fu_card, question2, r)
}

#[tokio::test]
async fn not_fixed_on_the_second_question_reopens_the_ticket() {
    let mut h = Harness::new().await;
    let (id, _, question2, _) = rerated(&mut h).await;

    let r = h.press(OWNER, &question2, "nf:1:2").await;
    assert!(
        !toast(&r).unwrap().1,
        "not refused: {:?}",
        toast(&r).unwrap().0
    );
    let edited = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == question2.id)
        .expect("second question edited");
    assert!(edited.message.text().unwrap().contains("not fixed yet"));
    assert!(
        sent_to(&r, STAFF_CHAT)
            .iter()
            .any(|m| m.text().unwrap().contains("#1 reopened by the owner"))
    );
    let t = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(t.status, TicketStatus::Taken);
    assert_eq!(t.taken_by.map(|(id, _)| id), Some(STAFF));
    assert_eq!(h.app.store.ratings(id).await.unwrap(), vec![(1, 2)]);

    // Pressed again: now it is answered.
    let r = h.press(OWNER, &question2, "nf:1:2").await;
    assert!(toast(&r).unwrap().1);
}

#[tokio::test]
async fn follow_ups_reach_the_managers_who_started_the_bot_privately() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    // The manager has started the bot; a low score's follow-up reaches them too.
    h.send(text(private(MANAGER), MANAGER, "/start")).await;
    let (id, _) = h.report(OWNER, "tap").await;
    h.take_and_finish(id).await;
    let question = h.bot_message(id, BotMessageKind::Rating).await;
    let r = h.press(OWNER, &question, "rate:1:1:2").await;
    assert_eq!(
        sent_to(&r, STAFF_CHAT).len(),
        1,
        "the card in the staff chat"
    );
    let private = sent_to(&r, MANAGER as i64);
    assert_eq!(private.len(), 1, "{:?}", texts(&r));
    let text = private[0].text().unwrap();
    assert!(text.contains("Follow-up F1 for #1: score 2"), "{text}");
    assert!(text.contains("in the staff chat"), "{text}");
}

#[tokio::test]
async fn the_note_stays_after_rate_again_and_a_manager_may_tell_the_owner_once() {
    let mut h = Harness::new().await;
    let (id, fu_card, _, r) = rerated(&mut h).await;
    // "rate again" kept the note and who closed it, and says who asked.
    let edit = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == fu_card.id)
        .expect("card edited");
    let text = edit.message.text().unwrap();
    assert!(
        text.contains("Closed by Boss: Plumber returns Friday"),
        "{text}"
    );
    assert!(
        text.contains("Boss asked the owner to rate again"),
        "{text}"
    );
    assert_eq!(buttons(&edit.message), vec![vec!["tell:1".to_owned()]]);
    let r = h.press(STAFF, &fu_card, "tell:1").await;
    assert_eq!(
        toast(&r).unwrap(),
        ("Only managers can do that.".to_owned(), true)
    );
    assert!(sent_to(&r, GROUP).is_empty());

    let r = h.press(MANAGER, &fu_card, "tell:1").await;
    assert_eq!(
        toast(&r).unwrap(),
        ("The owner has been told.".to_owned(), false)
    );
    let told = sent_to(&r, GROUP);
    assert_eq!(told.len(), 1);
    assert_eq!(
        told[0].text(),
        Some(
            "Thank you for your patience with #1. Our manager followed up on it: Plumber returns Friday"
        )
    );
    assert_eq!(
        told[0].reply_to_message().map(|m| m.id),
        Some(MessageId(
            h.app
                .store
                .ticket(id)
                .await
                .unwrap()
                .unwrap()
                .report_message_id
        )),
        "under the owner's report"
    );
    let edit = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == fu_card.id)
        .expect("card edited");
    let text = edit.message.text().unwrap();
    assert!(text.contains("Boss told the owner"), "{text}");
    assert!(
        buttons(&edit.message).is_empty(),
        "{:?}",
        buttons(&edit.message)
    );

    let r = h.press(MANAGER, &fu_card, "tell:1").await;
    assert!(sent_to(&r, GROUP).is_empty(), "told once");
}
