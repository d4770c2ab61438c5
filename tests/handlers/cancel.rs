//! The owner withdraws a report: `/cancel N` or the Cancel button under the confirmation.

use butler::domain::{EventKind, TicketId, TicketStatus};
use butler::store::BotMessageKind;
use teloxide::types::Message;

use crate::harness::*;

async fn status(h: &Harness, id: TicketId) -> TicketStatus {
    h.app.store.ticket(id).await.unwrap().unwrap().status
}

/// The edit of the card in these responses.
fn card_edit(r: &teloxide_tests::server::Responses, card: &Message) -> Message {
    r.edited_messages_text
        .iter()
        .map(|e| e.message.clone())
        .find(|m| m.id == card.id)
        .expect("the card was edited")
}

#[tokio::test]
async fn the_confirmation_carries_a_cancel_button() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let confirmation = h.bot_message(id, BotMessageKind::Confirmation).await;
    assert_eq!(buttons(&confirmation), vec![vec![format!("cancel:{id}")]]);
}

#[tokio::test]
async fn cancel_closes_a_waiting_ticket_and_tells_staff_and_owner() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;

    let r = h.send(text(group(GROUP), OWNER, "/cancel 1")).await;
    assert_eq!(status(&h, id).await, TicketStatus::Cancelled);
    let edit = card_edit(&r, &card);
    assert!(
        edit.text()
            .unwrap()
            .contains("Status: withdrawn by the owner"),
        "{:?}",
        edit.text()
    );
    assert!(buttons(&edit).is_empty(), "no Take any more");
    assert_eq!(
        texts_to(&r, STAFF_CHAT),
        vec!["#1 was withdrawn by its reporter, Li. No need to go.".to_owned()]
    );
    let to_owner = sent_to(&r, GROUP);
    assert_eq!(to_owner.len(), 1);
    assert_eq!(
        to_owner[0].text(),
        Some(
            "Ticket #1 is withdrawn. If the problem comes back, just report it again with /repair."
        )
    );
    let command = to_owner[0].reply_to_message().unwrap();
    assert_eq!(
        command.text(),
        Some("/cancel 1"),
        "answered under the command"
    );

    let events = h.app.store.story(id).await.unwrap().events;
    let last = events.last().unwrap();
    assert_eq!(last.kind, EventKind::Cancelled);
    assert_eq!(last.actor, "Li");

    // A Take pressed on the old card afterwards is refused.
    let r = h.press(STAFF, &card, "take:1").await;
    assert_eq!(toast(&r), Some(("This ticket is closed.".to_owned(), true)));
    assert_eq!(status(&h, id).await, TicketStatus::Cancelled);
}

#[tokio::test]
async fn cancelling_a_taken_ticket_tells_the_holder() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    h.send(text(private(STAFF), STAFF, "/start")).await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    h.press(STAFF, &card, "take:1").await;

    let confirmation = h.bot_message(id, BotMessageKind::Confirmation).await;
    let r = h.press(OWNER, &confirmation, "cancel:1").await;
    assert_eq!(toast(&r), Some(("#1 withdrawn.".to_owned(), false)));
    assert_eq!(status(&h, id).await, TicketStatus::Cancelled);
    assert!(
        buttons(&card_edit(&r, &card)).is_empty(),
        "no Done any more"
    );
    assert_eq!(
        texts_to(&r, STAFF_CHAT),
        vec!["#1 was withdrawn by its reporter, Li. Wang, no need to go.".to_owned()]
    );
    let private = texts_to(&r, STAFF as i64);
    assert_eq!(private.len(), 1, "{private:?}");
    assert!(
        private[0].starts_with("#1 (Sunrise Garden, —) was withdrawn by its reporter"),
        "{private:?}"
    );
    // The owner hears it under the report.
    let to_owner = sent_to(&r, GROUP);
    assert_eq!(
        to_owner[0].text().unwrap(),
        "Ticket #1 is withdrawn. If the problem comes back, just report it again with /repair."
    );
    let report = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(
        to_owner[0].reply_to_message().map(|m| m.id.0),
        Some(report.report_message_id)
    );
}

#[tokio::test]
async fn only_the_reporter_may_cancel() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let refusal = "Only the owner who reported this ticket can withdraw it.";

    let r = h.send(text(group(GROUP), NEIGHBOUR, "/cancel 1")).await;
    assert_eq!(last_text(&r), refusal);
    let confirmation = h.bot_message(id, BotMessageKind::Confirmation).await;
    let r = h.press(NEIGHBOUR, &confirmation, "cancel:1").await;
    assert_eq!(toast(&r), Some((refusal.to_owned(), true)));
    assert!(r.sent_messages.is_empty() && r.edited_messages_text.is_empty());
    let r = h.press(STAFF, &confirmation, "cancel:1").await;
    assert_eq!(toast(&r), Some((refusal.to_owned(), true)));
    assert_eq!(status(&h, id).await, TicketStatus::Reported);
}

#[tokio::test]
async fn a_finished_or_cancelled_ticket_cannot_be_cancelled() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (done, _) = h.report(OWNER, "tap leaks").await;
    h.take_and_finish(done).await;
    let r = h.send(text(group(GROUP), OWNER, "/cancel 1")).await;
    assert_eq!(
        last_text(&r),
        "This ticket is already finished, so it can no longer be withdrawn."
    );
    assert_eq!(status(&h, done).await, TicketStatus::Done);
    // The Cancel button stays under the confirmation; a late press is refused.
    let confirmation = h.bot_message(done, BotMessageKind::Confirmation).await;
    let r = h.press(OWNER, &confirmation, "cancel:1").await;
    assert_eq!(
        toast(&r),
        Some((
            "This ticket is already finished, so it can no longer be withdrawn.".to_owned(),
            true
        ))
    );

    let (gone, _) = h.report(OWNER, "door squeaks").await;
    h.send(text(group(GROUP), OWNER, "/cancel 2")).await;
    let r = h.send(text(group(GROUP), OWNER, "/cancel #2")).await;
    assert_eq!(last_text(&r), "This report has already been withdrawn.");
    let confirmation = h.bot_message(gone, BotMessageKind::Confirmation).await;
    let r = h.press(OWNER, &confirmation, "cancel:2").await;
    assert_eq!(
        toast(&r),
        Some(("This report has already been withdrawn.".to_owned(), true))
    );
    assert!(r.sent_messages.is_empty() && r.edited_messages_text.is_empty());
}

#[tokio::test]
async fn cancel_without_a_good_number_says_how() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "tap leaks").await;
    let r = h.send(text(group(GROUP), OWNER, "/cancel")).await;
    assert_eq!(
        last_text(&r),
        "To withdraw one of your reports: /cancel <ticket number>, for example /cancel 12"
    );
    let r = h.send(text(group(GROUP), OWNER, "/cancel 99")).await;
    assert!(last_text(&r).contains("#99"), "{}", last_text(&r));
    let r = h.send(text(group(GROUP), OWNER, "/cancel abc")).await;
    assert!(last_text(&r).contains("abc"), "{}", last_text(&r));
    assert_eq!(
        status(&h, TicketId(1)).await,
        TicketStatus::Reported,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_cancelled_ticket_is_not_counted_as_done() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "tap leaks").await;
    h.send(text(group(GROUP), OWNER, "/cancel 1")).await;
    let r = h.send(text(staff_chat(), STAFF, "/stats 7")).await;
    let answer = last_text(&r);
    let lines: Vec<&str> = answer.lines().collect();
    assert_eq!(lines[1], "Reported 1 · taken 0 · done 0", "{answer}");

    let r = h.send(text(staff_chat(), MANAGER, "/summary")).await;
    let summary = texts_to(&r, STAFF_CHAT).join("\n");
    assert!(summary.contains("\nNew today: 1\n"), "{summary}");
    assert!(summary.contains("\nDone today: 0\n"), "{summary}");
    assert!(
        summary.contains("\nStill open: 0 (0 waiting to be taken, 0 in progress)"),
        "{summary}"
    );
}

#[tokio::test]
async fn cancel_in_the_staff_chat_points_to_the_owner_group() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "tap leaks").await;
    let r = h.send(text(staff_chat(), STAFF, "/cancel 1")).await;
    assert!(!r.sent_messages.is_empty());
    assert_eq!(status(&h, TicketId(1)).await, TicketStatus::Reported);
}

/// A complaint may be about staff: withdrawing it tells the managers under their card,
/// and says nothing in the staff chat (before, a line "#1 was withdrawn by its reporter,
/// Li. No need to go." went there, naming the owner of a complaint staff never saw).
#[tokio::test]
async fn a_withdrawn_complaint_is_told_to_the_managers_and_never_to_the_staff_chat() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.send(text(private(MANAGER), MANAGER, "/start")).await;
    h.send(text(group(GROUP), OWNER, "/complain the guard was rude"))
        .await;
    let r = h.send(text(group(GROUP), OWNER, "/cancel 1")).await;
    assert_eq!(status(&h, TicketId(1)).await, TicketStatus::Cancelled);
    assert!(texts_to(&r, STAFF_CHAT).is_empty(), "{:?}", texts(&r));
    let to_manager = sent_to(&r, MANAGER as i64);
    assert_eq!(to_manager.len(), 1, "{:?}", texts(&r));
    assert_eq!(
        to_manager[0].text(),
        Some("#1 was withdrawn by its owner, Li: nothing more to answer.")
    );
    let card = h
        .app
        .store
        .latest_bot_message(MANAGER as i64, 1, BotMessageKind::RequestCard)
        .await
        .unwrap()
        .expect("the complaint's card");
    assert_eq!(
        to_manager[0].reply_to_message().map(|m| m.id.0),
        Some(card),
        "under the complaint's card"
    );
    assert_eq!(
        texts_to(&r, GROUP),
        vec![
            "Ticket #1 is withdrawn. If the problem comes back, just report it again with /repair."
        ]
    );
}
