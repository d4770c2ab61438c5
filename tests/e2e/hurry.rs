//! Hurry up (issue 15, item 4) end to end, where time matters: on the real clock the take
//! time (one minute here) passes, the SLA sweep (each minute) puts Hurry up under the
//! owner's confirmation beside Cancel, and the owner's press reaches the staff chat under
//! the card; a second press within the hour is refused politely.

use std::time::Duration;

use crate::harness::*;

#[tokio::test]
async fn after_the_take_time_the_owners_hurry_up_reaches_the_staff_chat() {
    let story = Story::start("[sla]\ntake_minutes = 1\n").await;
    story.manager_registers_group().await;
    let report = story.owner_reports("the tap leaks").await;
    assert!(
        report
            .confirmation
            .body()
            .contains("Staff will take it within 1 minute,"),
        "{}",
        report.confirmation.body()
    );
    assert_eq!(report.confirmation.button_labels(), vec!["Cancel report"]);
    let card = story.card(report.ticket).await;

    // A minute for the take time, up to a minute more for the next sweep.
    let offered = story
        .until_within(
            "Hurry up under the confirmation",
            Duration::from_secs(150),
            |s| {
                s.message(GROUP, report.confirmation.id)
                    .filter(|m| m.button_labels().contains(&"Hurry up"))
            },
        )
        .await;
    assert_eq!(offered.button_labels(), vec!["Hurry up", "Cancel report"]);
    assert_eq!(offered.body(), report.confirmation.body(), "the same words");

    let answer = story
        .owner_presses(report.confirmation.id, "Hurry up")
        .await;
    assert_eq!(
        answer.text.as_deref(),
        Some("We have asked them to hurry with #1.")
    );
    let ping = story
        .until("the ping under the card", |s| {
            Story::bot_reply(
                s,
                STAFF_CHAT,
                card.id,
                "⏩ The owner of #1 asks to hurry up",
            )
        })
        .await;
    assert!(
        ping.body().contains("nobody has taken it yet"),
        "{}",
        ping.body()
    );

    let again = story
        .owner_presses(report.confirmation.id, "Hurry up")
        .await;
    assert!(again.show_alert);
    assert!(
        again
            .text
            .as_deref()
            .unwrap_or_default()
            .starts_with("You already hurried this ticket up within the last hour."),
        "{:?}",
        again.text
    );
    assert!(
        story.bad_requests().is_empty(),
        "{:?}",
        story.bad_requests()
    );
}
