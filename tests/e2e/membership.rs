//! Staff are the current members of the staff chat, as the emulator's getChatMember says;
//! a member change reaches Butler as `chat_member` (the bot is an administrator there).

use butler_emulator::MemberChange;

use crate::harness::*;

const NOT_STAFF: &str = "Sorry, only current members of the staff group can do that.";

#[tokio::test]
async fn a_restricted_member_is_refused_at_once_after_telegram_reports_it() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let first = story.owner_reports("the kitchen tap is leaking").await;
    let card = story.card(first.ticket).await;
    // A member takes: Butler asked Telegram and remembers the answer for a minute.
    let answer = story.staff_presses(card.id, "Take").await;
    assert!(!answer.show_alert, "{answer:?}");

    // Restricted, still in the chat: the change arrives as chat_member (before the next
    // report, and in the staff chat's order before the press) and drops what Butler
    // remembered.
    story
        .emu
        .change_member(STAFF_CHAT, STAFF, MemberChange::Restricted)
        .unwrap();
    let second = story.owner_reports("and the lift is stuck").await;
    let card = story.card(second.ticket).await;
    let answer = story.staff_presses(card.id, "Take").await;
    assert_eq!(
        answer.text.as_deref(),
        Some(NOT_STAFF),
        "{}",
        story.context()
    );
    assert!(answer.show_alert);
    let card = story.card(second.ticket).await;
    assert!(
        card.button_data().iter().any(|d| d.starts_with("take:")),
        "the card is unchanged: {}",
        card.body()
    );
    let asked = story.emu.read(|s| {
        s.calls_of("getChatMember")
            .iter()
            .filter(|c| c.params["user_id"].as_u64() == Some(STAFF))
            .count()
    });
    assert_eq!(
        asked,
        2,
        "asked again after the change: {}",
        story.context()
    );
}
