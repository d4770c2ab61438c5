//! Floods that must not make Butler queue without end: a stranger writing privately
//! hundreds of times gets a handful of answers, and an owner's report sent after the
//! flood is confirmed as usual.

use std::time::Duration;

use butler_emulator::{RateLimits, User};

use crate::harness::*;

/// Someone on Telegram who is neither owner, staff nor manager.
const STRANGER: u64 = 4_242;

#[tokio::test]
async fn a_private_flood_gets_one_hint_and_a_report_after_it_is_still_confirmed() {
    let story = Story::start("").await;
    story.emu.set_rate_limits(Some(RateLimits::telegram()));
    story.manager_registers_group().await;
    story
        .emu
        .add_user(User::new(STRANGER, "Stranger").language("en"));
    story.emu.create_private_chat(STRANGER).unwrap();
    for i in 0..300 {
        story
            .emu
            .user_sends_text(STRANGER as i64, STRANGER, &format!("hello {i}"), None)
            .unwrap();
    }
    // Sent after the whole flood: handled after it by the same poller.
    let report = story.owner_reports("the kitchen tap drips").await;
    assert_eq!(report.ticket, 1);
    story.card(report.ticket).await;

    // Every update of the flood handled (300 + the registration + the report).
    let deadline = tokio::time::Instant::now() + STEP;
    let db = story.database().await;
    let handled = "SELECT COUNT(*) FROM inbox WHERE handled_at IS NOT NULL";
    while db.count(handled).await.unwrap_or(0) < 302 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flood was not handled\n{}",
            story.context()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let to_stranger = story.emu.bot_messages_in(STRANGER as i64);
    assert_eq!(
        to_stranger.len(),
        1,
        "one hint for 300 messages: {:?}",
        to_stranger
            .iter()
            .map(|m| m.body().to_owned())
            .collect::<Vec<_>>()
    );
    assert!(to_stranger[0].body().contains("owner group"));
}
