//! Input as long as Telegram lets people send never makes Butler send something Telegram
//! refuses: no 400 reaches the emulator, and what people read fits Telegram's limits.

use crate::harness::*;

/// "/repair " (8 units) and 2044 emoji (4088 units): the longest report an app sends.
fn longest_report_text() -> String {
    "😀".repeat(2044)
}

#[tokio::test]
async fn the_longest_report_telegram_allows_is_confirmed_and_carded_without_a_400() {
    longest_report(Mode::Polling).await;
}

#[tokio::test]
async fn on_a_webhook_the_longest_report_is_confirmed_and_carded_without_a_400() {
    longest_report(Mode::Webhook).await;
}

async fn longest_report(mode: Mode) {
    let story = Story::start_in(mode, "").await;
    story.manager_registers_group().await;
    let text = longest_report_text();
    assert_eq!(units(&format!("/repair {text}")), 4096);
    let report = story.owner_reports(&text).await;
    let card = story.card(report.ticket).await;
    assert!(units(card.body()) <= 4096);
    assert!(card.body().contains("😀😀😀"), "the card shows the report");
    assert_eq!(card.button_labels(), vec!["Take", "Assign"]);
    assert!(
        story.bad_requests().is_empty(),
        "{:?}\n{}",
        story.bad_requests(),
        story.context()
    );
}

#[tokio::test]
async fn long_progress_and_details_are_relayed_within_telegrams_limits() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let report = story.owner_reports("the lift is stuck").await;
    let card = story.card(report.ticket).await;

    // Staff reply to the card with the longest text an app sends: relayed under the
    // report behind a header, so it must be cut to fit.
    let progress = story
        .replies(STAFF_CHAT, STAFF, card.id, &"🔧".repeat(2048))
        .await;
    let relayed = story
        .until("the long progress note under the report", |s| {
            Story::bot_reply(s, GROUP, report.message.id, "Ticket #1 — update from Wang:")
        })
        .await;
    assert!(
        units(relayed.body()) <= 4096,
        "{} units",
        units(relayed.body())
    );
    story
        .until("staff are told it was sent", |s| {
            Story::bot_reply(s, STAFF_CHAT, progress.id, "Sent to the owner of #1.")
        })
        .await;

    // A progress photo with the longest caption an app sends.
    let photo = story
        .staff_replies_with_photo(card.id, &"📷".repeat(512))
        .await;
    let relayed_photo = story
        .until("the photo under the report", |s| {
            s.replies_to(GROUP, report.message.id)
                .into_iter()
                .find(|m| m.is_from_bot() && m.photo.is_some())
        })
        .await;
    assert!(units(relayed_photo.body()) <= 1024);
    story
        .until("staff are told the photo was sent", |s| {
            Story::bot_reply(s, STAFF_CHAT, photo.id, "Sent to the owner of #1.")
        })
        .await;

    // The owner adds the longest detail by replying to the confirmation.
    let detail = story
        .replies(GROUP, OWNER, report.confirmation.id, &"漏水".repeat(2048))
        .await;
    story
        .until("the owner is told the detail was added", |s| {
            Story::bot_reply(s, GROUP, detail.id, "Added to ticket #1.")
        })
        .await;
    let forwarded = story
        .until("the detail under the card", |s| {
            Story::bot_reply(s, STAFF_CHAT, card.id, "#1 — the owner adds:")
        })
        .await;
    assert!(units(forwarded.body()) <= 4096);
    assert!(
        story.bad_requests().is_empty(),
        "{:?}\n{}",
        story.bad_requests(),
        story.context()
    );
}
