//! Telegram (or the way to it) in trouble: 429 storms and 5xx outages delay messages but
//! lose and reorder none.

use std::time::Duration;

use butler_emulator::{Fault, FaultRule, Message};

use crate::harness::*;

/// The bot's messages in `chat` as (message replied to, first line).
fn bot_lines(story: &Story, chat: i64) -> Vec<(Option<i32>, String)> {
    story
        .emu
        .bot_messages_in(chat)
        .iter()
        .map(|m: &Message| (m.reply_to, m.body().lines().next().unwrap_or("").to_owned()))
        .collect()
}

#[tokio::test]
async fn a_429_storm_on_send_message_delays_but_loses_and_reorders_nothing() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let before = bot_lines(&story, GROUP).len();
    story.emu.inject(
        FaultRule::new(Fault::TooManyRequests { retry_after: 1 })
            .method("sendMessage")
            .times(3),
    );
    let reports: Vec<Message> = ["the tap leaks", "the light is out", "the lift is stuck"]
        .iter()
        .map(|t| {
            story
                .emu
                .user_sends_text(GROUP, OWNER, &format!("/repair {t}"), None)
                .unwrap()
        })
        .collect();
    story
        .until("three cards and three confirmations", |s| {
            let cards = s
                .bot_messages_in(STAFF_CHAT)
                .iter()
                .filter(|m| m.body().starts_with("🔧"))
                .count();
            (cards == 3 && s.bot_messages_in(GROUP).len() == before + 3).then_some(())
        })
        .await;
    let expected: Vec<(Option<i32>, String)> = reports
        .iter()
        .zip(1..)
        .map(|(r, n)| {
            let category = ["Plumbing", "Electrical", "Lift"][n - 1];
            (
                Some(r.id),
                format!(
                    "Received: ticket #{n} ({category}). Staff will take it within 10 minutes, and you will hear about it here."
                ),
            )
        })
        .collect();
    assert_eq!(
        bot_lines(&story, GROUP)[before..],
        expected,
        "{}",
        story.context()
    );
    let cards: Vec<String> = bot_lines(&story, STAFF_CHAT)
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(
        cards,
        vec!["🔧 #1 · Plumbing", "🔧 #2 · Electrical", "🔧 #3 · Lift"]
    );
    let refused = story
        .emu
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.status == 429)
        .count();
    assert_eq!(refused, 3);
}

#[tokio::test]
async fn five_seconds_of_502_on_every_method_delay_a_report_but_lose_nothing() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    // The gateway fails: the long poll in flight is cut with a 502 page, and so is
    // everything for five seconds.
    story.emu.inject(
        FaultRule::new(Fault::BadGateway { html: true }).for_duration(Duration::from_secs(5)),
    );
    let report = story
        .emu
        .user_sends_text(GROUP, OWNER, "/repair water on the stairs", None)
        .unwrap();
    // teloxide waits 10 s after a 5xx, then backs off: allow for it.
    let confirmation = story
        .until_within(
            "the confirmation after the outage",
            Duration::from_secs(30),
            |s| Story::bot_reply(s, GROUP, report.id, "Received: ticket #1"),
        )
        .await;
    assert!(confirmation.body().contains("(Plumbing)"));
    let card = story.card(1).await;
    assert_eq!(card.button_labels(), vec!["Take", "Assign"]);
    let outage = story.emu.calls().iter().filter(|c| c.status == 502).count();
    assert!(outage >= 1, "the outage was met\n{}", story.context());
    assert_eq!(
        story.emu.read(|s| s.replies_to(GROUP, report.id).len()),
        1,
        "one confirmation, with the unit hint"
    );
}

#[tokio::test]
async fn a_message_that_meets_a_502_is_sent_again_later() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    story.emu.inject(
        FaultRule::new(Fault::BadGateway { html: false })
            .method("sendMessage")
            .chat(GROUP)
            .for_duration(Duration::from_secs(3)),
    );
    let report = story
        .emu
        .user_sends_text(GROUP, OWNER, "/repair no power in the kitchen", None)
        .unwrap();
    let confirmation = story
        .until_within("the confirmation, retried", Duration::from_secs(30), |s| {
            Story::bot_reply(s, GROUP, report.id, "Received: ticket #1")
        })
        .await;
    assert!(confirmation.body().contains("(Electrical)"));
    story.card(1).await;
    let group_sends: Vec<u16> = story
        .emu
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.chat_id == Some(GROUP))
        .map(|c| c.status)
        .collect();
    assert!(group_sends.contains(&502), "{group_sends:?}");
    // The confirmation, with the hint to set the unit, once.
    let answers: Vec<String> = story
        .emu
        .bot_messages_in(GROUP)
        .iter()
        .filter(|m| m.reply_to == Some(report.id))
        .map(|m| m.body().to_owned())
        .collect();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers[0].starts_with("Received: ticket #1"));
    assert!(answers[0].contains("Tip: set your unit"));
}
