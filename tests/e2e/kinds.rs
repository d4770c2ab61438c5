//! Kinds and cancel end to end (issue 15): a complaint reaches only the managers'
//! private chats, never the staff chat, and a manager's reply reaches the owner; a
//! suggestion is acknowledged; an owner withdraws a report with the Cancel button and the
//! staff card loses its buttons.

use crate::harness::*;

/// The manager starts Butler in their private chat (where complaints reach them).
async fn manager_starts_the_bot(story: &Story) -> i64 {
    let private = MANAGER as i64;
    let start = story
        .emu
        .user_sends_text(private, MANAGER, "/start", None)
        .unwrap();
    story
        .until("the manager is greeted privately", |s| {
            s.replies_to(private, start.id)
                .into_iter()
                .find(|m| m.is_from_bot())
        })
        .await;
    private
}

#[tokio::test]
async fn a_complaint_reaches_only_the_manager_and_the_managers_reply_reaches_the_owner() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let private = manager_starts_the_bot(&story).await;
    let staff_before = story.emu.messages_in(STAFF_CHAT).len();

    let complaint = story
        .emu
        .user_sends_text(
            GROUP,
            OWNER,
            "/complain the night guard was rude to me",
            None,
        )
        .unwrap();
    let confirmation = story
        .until("the complaint is confirmed", |s| {
            Story::bot_reply(s, GROUP, complaint.id, "Received: complaint #1.")
        })
        .await;
    assert!(
        confirmation.body().contains("not to the staff group"),
        "{}",
        confirmation.body()
    );
    let card = story
        .until("the manager gets the complaint privately", |s| {
            s.bot_messages_in(private)
                .into_iter()
                .find(|m| m.body().starts_with("📣 Complaint #1"))
        })
        .await;
    assert!(card.body().contains("the night guard was rude to me"));
    assert_eq!(card.button_data(), vec!["close:1"]);

    let reply = story
        .replies(
            private,
            MANAGER,
            card.id,
            "We are sorry; we have spoken to him.",
        )
        .await;
    story
        .until("the manager is told it was sent", |s| {
            Story::bot_reply(s, private, reply.id, "Sent to the owner of #1.")
        })
        .await;
    let relayed = story
        .until("the owner hears the manager's reply", |s| {
            Story::bot_reply(
                s,
                GROUP,
                complaint.id,
                "Reply from the management office about #1:",
            )
        })
        .await;
    assert_eq!(
        relayed.body(),
        "Reply from the management office about #1:\nWe are sorry; we have spoken to him."
    );

    // A repair afterwards reaches the staff chat as usual: by then, anything the
    // complaint had sent there would have been sent too (one sending path, in order).
    let repair = story.owner_reports("the lobby door does not close").await;
    story.card(repair.ticket).await;
    let staff_chat: Vec<String> = story.emu.messages_in(STAFF_CHAT)[staff_before..]
        .iter()
        .map(|m| m.body().to_owned())
        .collect();
    assert!(
        staff_chat
            .iter()
            .all(|m| !m.contains("rude") && !m.contains("#1 ") && !m.contains("omplaint")),
        "the staff chat saw the complaint: {staff_chat:?}"
    );
    assert!(
        story.bad_requests().is_empty(),
        "{:?}",
        story.bad_requests()
    );
}

#[tokio::test]
async fn a_suggestion_is_acknowledged_and_reaches_the_manager() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let private = manager_starts_the_bot(&story).await;
    let suggestion = story
        .emu
        .user_sends_text(GROUP, OWNER, "/suggest a bicycle shed by gate 2", None)
        .unwrap();
    let thanks = story
        .until("the suggestion is acknowledged", |s| {
            Story::bot_reply(s, GROUP, suggestion.id, "Thank you: suggestion #1")
        })
        .await;
    assert!(thanks.body().contains("passed on to the managers"));
    story
        .until("the manager gets the suggestion", |s| {
            s.bot_messages_in(private)
                .into_iter()
                .find(|m| m.body().contains("a bicycle shed by gate 2"))
        })
        .await;
    assert!(
        story
            .emu
            .bot_messages_in(STAFF_CHAT)
            .iter()
            .all(|m| !m.body().contains("bicycle")),
        "suggestions are the managers'"
    );
}

#[tokio::test]
async fn an_owner_withdraws_a_report_with_the_cancel_button_and_the_card_loses_its_buttons() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let report = story.owner_reports("the hallway light flickers").await;
    let card = story.card(report.ticket).await;
    assert_eq!(card.button_labels(), vec!["Take", "Assign"]);
    assert_eq!(report.confirmation.button_labels(), vec!["Cancel report"]);

    let answer = story
        .owner_presses(report.confirmation.id, "Cancel report")
        .await;
    assert_eq!(answer.text.as_deref(), Some("#1 withdrawn."));
    let edited = story
        .until("the card says it was withdrawn, without buttons", |s| {
            s.message(STAFF_CHAT, card.id)
                .filter(|m| m.body().contains("withdrawn by the owner") && m.buttons.is_empty())
        })
        .await;
    assert!(edited.body().starts_with("🔧 #1 ·"), "{}", edited.body());
    story
        .until("the staff chat is told under the card", |s| {
            Story::bot_reply(s, STAFF_CHAT, card.id, "#1 was withdrawn by its reporter")
        })
        .await;
    story
        .until("the owner is told", |s| {
            Story::bot_reply(s, GROUP, report.message.id, "Ticket #1 is withdrawn.")
        })
        .await;

    // Nobody can take it any more.
    let take = story
        .emu
        .user_sends_text(STAFF_CHAT, STAFF, "/take 1", None)
        .unwrap();
    let refused = story
        .until("a late /take is refused", |s| {
            s.replies_to(STAFF_CHAT, take.id)
                .into_iter()
                .find(|m| m.is_from_bot())
        })
        .await;
    assert_eq!(refused.body(), "This ticket is closed.");
    assert!(
        story.bad_requests().is_empty(),
        "{:?}",
        story.bad_requests()
    );
}
