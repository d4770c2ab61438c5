//! Who may do what beyond taking and finishing: reopening a rated ticket and `/export`
//! are the managers' (export can be opened to staff in the settings).

use butler::domain::TicketStatus;
use butler::store::BotMessageKind;

use crate::harness::*;

/// A ticket reported, taken and finished by Wang, and rated 5 by the owner.
async fn rated_ticket(h: &mut Harness) -> butler::domain::TicketId {
    let (id, _) = h.report(OWNER, "kitchen tap leaking").await;
    h.take_and_finish(id).await;
    let question = h.bot_message(id, BotMessageKind::Rating).await;
    h.press(OWNER, &question, &format!("rate:{id}:1:5")).await;
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Rated);
    id
}

#[tokio::test]
async fn a_staff_member_cannot_reopen_a_rated_ticket_but_a_manager_can() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let id = rated_ticket(&mut h).await;
    for who in [STAFF, STAFF2] {
        let r = h
            .send(text(staff_chat(), who, &format!("/reopen {id}")))
            .await;
        assert_eq!(
            texts(&r),
            vec!["This ticket has been rated; only a manager can reopen it.".to_owned()]
        );
        assert!(texts_to(&r, GROUP).is_empty(), "the owner is not told");
        let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
        assert_eq!(ticket.status, TicketStatus::Rated);
    }
    let r = h
        .send(text(
            staff_chat(),
            MANAGER,
            &format!("/reopen {id} owner called"),
        ))
        .await;
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Taken);
    assert!(
        texts_to(&r, GROUP).iter().any(|t| t.contains("reopened")),
        "{:?}",
        texts(&r)
    );
}

#[tokio::test]
async fn a_staff_member_still_reopens_a_finished_unrated_ticket() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "door lock broken").await;
    h.take_and_finish(id).await;
    h.send(text(staff_chat(), STAFF2, &format!("/reopen {id}")))
        .await;
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Taken);
}

#[tokio::test]
async fn export_is_for_managers_unless_opened_to_staff() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    rated_ticket(&mut h).await;
    let r = h.send(text(staff_chat(), STAFF, "/export")).await;
    assert!(r.sent_messages_document.is_empty());
    assert_eq!(texts(&r), vec!["Only managers can do that.".to_owned()]);
    let r = h.send(text(staff_chat(), MANAGER, "/export")).await;
    assert_eq!(r.sent_messages_document.len(), 1, "{:?}", texts(&r));
    drop(h); // one MockBot at a time

    let mut h = Harness::with(|s| s.export.staff_may_export = true).await;
    h.register(GROUP).await;
    rated_ticket(&mut h).await;
    let r = h.send(text(staff_chat(), STAFF, "/export")).await;
    assert_eq!(r.sent_messages_document.len(), 1, "{:?}", texts(&r));
}
