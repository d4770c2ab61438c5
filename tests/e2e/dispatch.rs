//! Dispatch end to end: a manager assigns a ticket by @username; the owner hears who is
//! coming and the assignee, who started the bot, is told privately.

use butler_emulator::User;

use crate::common::{LANG, STAFF2};
use crate::harness::*;

#[tokio::test]
async fn a_manager_assigns_by_username_the_owner_hears_who_is_coming_and_the_assignee_is_told() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    // Chen joins the staff chat, starts the bot privately and asks for his tickets in the
    // staff chat (in privacy mode Butler hears commands there, not chatter).
    story
        .emu
        .add_user(User::new(STAFF2, "Chen").username("chen_w").language(LANG));
    story.emu.add_member(STAFF_CHAT, STAFF2).unwrap();
    let private = story.emu.create_private_chat(STAFF2).unwrap();
    let start = story
        .emu
        .user_sends_text(private, STAFF2, "/start", None)
        .unwrap();
    story
        .until("the greeting in private", |s| {
            s.replies_to(private, start.id)
                .into_iter()
                .find(|m| m.is_from_bot())
        })
        .await;
    story
        .emu
        .user_sends_text(STAFF_CHAT, STAFF2, "/mine", None)
        .unwrap();
    let report = story.owner_reports("the kitchen tap is leaking").await;
    story.card(report.ticket).await;

    // Chen is on the roster by the time the manager's command is handled: one chat's
    // updates are handled in order.
    let assign = story
        .emu
        .user_sends_text(
            STAFF_CHAT,
            MANAGER,
            &format!("/assign {} @chen_w", report.ticket),
            None,
        )
        .unwrap();
    story
        .until("the manager is answered", |s| {
            Story::bot_reply(s, STAFF_CHAT, assign.id, "Ticket #1 is Chen's now.")
        })
        .await;
    let to_owner = story
        .until("the owner hears who is coming", |s| {
            Story::bot_reply(
                s,
                GROUP,
                report.message.id,
                "Ticket #1: Chen is taking care",
            )
        })
        .await;
    assert_eq!(to_owner.body(), "Ticket #1: Chen is taking care of it.");
    let told = story
        .until("Chen is told privately", |s| {
            s.bot_messages_in(private)
                .into_iter()
                .find(|m| m.body().starts_with("Boss gave you ticket #1"))
        })
        .await;
    assert!(
        told.body().contains("the kitchen tap is leaking"),
        "{}",
        told.body()
    );
    let card = story.card(report.ticket).await;
    assert!(card.body().contains("taken by Chen"), "{}", card.body());
    assert!(
        story.bad_requests().is_empty(),
        "{:?}",
        story.bad_requests()
    );
}
