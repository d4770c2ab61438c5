//! Delivery nobody can starve (issue 12): people before a broadcast, chats before rows,
//! chats that come back, and a "sent" mark that cannot be written. Timing claims are
//! asserted as the order of the Bot API calls, never as wall-clock limits.

use std::time::Duration;

use butler_emulator::{Call, State};
use chrono::{Timelike, Utc};

use crate::harness::*;

/// SLA and rating sweeps that stay quiet (the demo ticket would raise alerts).
const QUIET_SWEEPS: &str = "[sla]\ntake_minutes = 1000000\nfirst_update_minutes = 1000000\nresolve_hours = 100000\n[rating]\nreminder_hours = 100000\nexpire_hours = 100001\n";

fn text_of(c: &Call) -> &str {
    c.params["text"].as_str().unwrap_or("")
}

fn sent(c: &Call, chat: i64) -> bool {
    c.ok() && c.method == "sendMessage" && c.chat_id == Some(chat)
}

/// The arrival number of the first successful send to `chat` whose text starts `prefix`.
fn first_send(s: &State, chat: i64, prefix: &str) -> Option<usize> {
    s.calls()
        .iter()
        .find(|c| sent(c, chat) && text_of(c).starts_with(prefix))
        .map(|c| c.seq)
}

fn greeting_sends(s: &State) -> Vec<usize> {
    s.calls()
        .iter()
        .filter(|c| {
            c.ok() && c.method == "sendMessage" && c.chat_id.is_some_and(|id| id <= -1_000_001)
        })
        .map(|c| c.seq)
        .collect()
}

#[tokio::test]
async fn a_report_during_a_large_greeting_is_answered_before_most_of_it() {
    let groups = 150;
    // The greeting's cron time, a few seconds ahead in the cast's zone (UTC+8, no DST).
    let fire = Utc::now() + chrono::Duration::hours(8) + chrono::Duration::seconds(8);
    let cron = format!("{} {} {} * * *", fire.second(), fire.minute(), fire.hour());
    let tweaks = format!("{QUIET_SWEEPS}[schedule]\nmorning_greeting = \"{cron}\"\n");
    let story = Story::start_with_demo_groups(&tweaks, groups).await;
    story.manager_registers_group().await;
    story
        .until_within("the greeting is under way", Duration::from_secs(40), |s| {
            (greeting_sends(s).len() >= 10).then_some(())
        })
        .await;
    let report = story.owner_reports("the kitchen tap is leaking").await;
    story.card(report.ticket).await;
    story
        .until_within("the whole greeting is sent", Duration::from_secs(40), |s| {
            (greeting_sends(s).len() >= groups).then_some(())
        })
        .await;
    let (greetings, confirmation, card) = story.emu.read(|s| {
        (
            greeting_sends(s),
            first_send(s, GROUP, "Received: ticket #").expect("confirmed"),
            first_send(s, STAFF_CHAT, &format!("🔧 #{}", report.ticket)).expect("a card"),
        )
    });
    let after = |seq: usize| greetings.iter().filter(|g| **g > seq).count();
    // At 28.8 a second the greeting takes 5 s; the report came 0.3 s into it. Behind the
    // broadcast, both would come after all of it.
    assert!(
        after(confirmation) > groups / 2 && after(card) > groups / 2,
        "greetings sent after the confirmation: {}, after the card: {} (of {groups})\n{}",
        after(confirmation),
        after(card),
        story.context()
    );
    assert_eq!(story.emu.rate_limited_count(), 0);
}

#[tokio::test]
async fn a_chat_with_300_queued_messages_does_not_delay_another_chats() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    // 300 messages queued for the manager's private chat (one a second may go there),
    // as if a job had written them; of the same class as a report's answers.
    let store = story.store().await;
    let queued: Vec<(i64, String)> = (0..300)
        .map(|n| {
            let payload = format!(r#"{{"op":"text","chat_id":{MANAGER},"text":"queued {n}"}}"#);
            (MANAGER as i64, payload)
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_payloads(&queued, false, Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    story
        .until("the queue starts going out", |s| {
            first_send(s, MANAGER as i64, "queued 0")
        })
        .await;
    let report = story.owner_reports("the kitchen tap is leaking").await;
    story.card(report.ticket).await;
    let queued: Vec<String> = story.emu.read(|s| {
        s.calls()
            .iter()
            .filter(|c| sent(c, MANAGER as i64))
            .map(|c| text_of(c).to_owned())
            .collect()
    });
    assert!(
        queued.len() < 30,
        "{} of the 300 went before the report's card\n{}",
        queued.len(),
        story.context()
    );
    let expected: Vec<String> = (0..queued.len()).map(|n| format!("queued {n}")).collect();
    assert_eq!(queued, expected, "in order within the chat");
}

#[tokio::test]
async fn the_staff_chat_removed_and_added_back_gets_the_card_with_its_buttons() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    story.emu.bot_removed_from(STAFF_CHAT).unwrap();
    let report = story.owner_reports("the kitchen tap is leaking").await;
    let head = format!("🔧 #{} ·", report.ticket);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        story
            .emu
            .bot_messages_in(STAFF_CHAT)
            .iter()
            .all(|m| !m.body().starts_with(&head)),
        "no card while the bot is out of the staff chat"
    );
    let (_, failed, _) = story.store().await.outbox_counts().await.unwrap();
    assert_eq!(failed, 0, "the card waits, it is not failed");

    story.emu.bot_added_to(STAFF_CHAT).unwrap();
    let card = story.card(report.ticket).await;
    assert!(
        card.button_data().iter().any(|d| d.starts_with("take:")),
        "the card keeps its buttons: {:?}",
        card.button_data()
    );
    let line = story
        .until("the line saying how many waited", |s| {
            s.bot_messages_in(STAFF_CHAT)
                .into_iter()
                .find(|m| m.body().starts_with("⏳"))
        })
        .await;
    assert!(line.body().ends_with(": 1."), "{}", line.body());
    assert!(line.id > card.id, "the line follows what waited");
    // And the card works.
    let answer = story.staff_presses(card.id, "Take").await;
    assert!(!answer.show_alert, "{answer:?}");
}

#[tokio::test]
async fn a_sent_mark_that_cannot_be_written_is_retried_and_nothing_is_sent_twice() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let store = story.store().await;
    // The registration's answer is on record (else its chat would wait for its mark).
    assert_eq!(unsent(&store).await, 0);
    // The disk refuses every "sent" mark, as a full disk would.
    let db = story.database().await;
    db.refuse(
        "no_sent_marks",
        "UPDATE OF sent_at",
        "outbox",
        "database or disk is full",
    )
    .await;
    let report = story.owner_reports("the kitchen tap is leaking").await;
    story.card(report.ticket).await;
    story
        .until("Butler says it keeps the mark", |_| {
            story
                .butler
                .stderr()
                .contains("the sent mark could not be written")
                .then_some(())
        })
        .await;
    // Several retries of the mark meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let count = |s: &State, chat: i64, prefix: &str| {
        s.calls()
            .iter()
            .filter(|c| sent(c, chat) && text_of(c).starts_with(prefix))
            .count()
    };
    let card_head = format!("🔧 #{}", report.ticket);
    let sends = story.emu.read(|s| {
        (
            count(s, GROUP, "Received: ticket #"),
            count(s, STAFF_CHAT, &card_head),
        )
    });
    assert_eq!(sends, (1, 1), "{}", story.context());

    db.allow("no_sent_marks", "outbox").await;
    assert_eq!(
        unsent(&store).await,
        0,
        "the marks are written once the disk takes them"
    );
    let sends = story.emu.read(|s| {
        (
            count(s, GROUP, "Received: ticket #"),
            count(s, STAFF_CHAT, &card_head),
        )
    });
    assert_eq!(sends, (1, 1), "nothing sent twice: {}", story.context());
    // The card's id was recorded with its mark: the card works.
    let card = story.card(report.ticket).await;
    let answer = story.staff_presses(card.id, "Take").await;
    assert!(!answer.show_alert, "{answer:?}");
}

/// Unsent rows in the outbox, once none are left or after a few seconds of waiting.
async fn unsent(store: &butler::store::Store) -> i64 {
    let mut unsent = i64::MAX;
    for _ in 0..100 {
        (_, _, unsent) = store.outbox_counts().await.unwrap();
        if unsent == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unsent
}
