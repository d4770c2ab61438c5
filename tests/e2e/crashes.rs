//! Nothing lost, nothing doubled: kill -9 at the worst moments, blocked people, removed
//! bots, floods, and a clean stop.

use std::time::{Duration, Instant};

use butler_emulator::{Fault, FaultRule, State, User};

use crate::harness::*;

/// How many of the bot's messages in `chat` reply to `to` and start with `prefix`.
fn answers(story: &Story, chat: i64, to: i32, prefix: &str) -> usize {
    story.emu.read(|s| {
        s.replies_to(chat, to)
            .iter()
            .filter(|m| m.is_from_bot() && m.body().starts_with(prefix))
            .count()
    })
}

fn cards_in(s: &State) -> Vec<String> {
    s.bot_messages_in(STAFF_CHAT)
        .iter()
        .map(|m| m.body().to_owned())
        .filter(|b| b.starts_with("🔧"))
        .collect()
}

fn cards(story: &Story) -> Vec<String> {
    story.emu.read(cards_in)
}

async fn tickets_in(story: &Story) -> i64 {
    story.count("SELECT COUNT(*) FROM tickets").await
}

/// After a restart: report `report` in GROUP is confirmed (`what`), its card shows, and a
/// second later there is still one confirmation, one card and one ticket.
async fn confirmed_once_after_restart(story: &mut Story, report: i32, what: &str) {
    story
        .until(what, |s| {
            Story::bot_reply(s, GROUP, report, "Received: ticket #1")
        })
        .await;
    story
        .until("its card", |s| (cards_in(s).len() == 1).then_some(()))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        answers(story, GROUP, report, "Received:"),
        1,
        "{}",
        story.context()
    );
    assert_eq!(cards(story).len(), 1, "{}", story.context());
    assert_eq!(tickets_in(story).await, 1);
}

#[tokio::test]
async fn a_report_received_but_not_yet_stored_when_butler_dies_is_handled_once_after_restart() {
    let mut story = Story::start("").await;
    story.manager_registers_group().await;
    // Another process holds the database's write lock (a change begun in a store of its
    // own: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock): Butler receives the
    // report but cannot store it, so it must not confirm it to Telegram.
    let other = story.store().await;
    let lock = other.begin().await.expect("taking the write lock");
    let polls = story.emu.calls_of("getUpdates").len();
    let report = story
        .emu
        .user_sends_text(GROUP, OWNER, "/repair the boiler is dead", None)
        .unwrap();
    story
        .until("butler fetched the report", |s| {
            (s.calls()
                .iter()
                .filter(|c| c.method == "getUpdates")
                .count()
                > polls)
                .then_some(())
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    story.butler.kill9();
    // Rolled back, and the connection let go.
    drop(lock);
    other.close().await;

    story.butler.restart();
    confirmed_once_after_restart(
        &mut story,
        report.id,
        "the report is confirmed after the restart",
    )
    .await;
}

/// Owners who report once each in the burst (user ids from 300): one report each, so no
/// one meets the per-owner flood limit.
const BURST: u64 = 24;

/// Updates stored in the inbox, and how many of them are handled.
async fn inbox_counts(story: &Story) -> (i64, i64) {
    let db = story.database().await;
    let count = async |sql| db.count(sql).await.expect("counting the inbox");
    (
        count("SELECT COUNT(*) FROM inbox").await,
        count("SELECT COUNT(handled_at) FROM inbox").await,
    )
}

/// A burst of reports from many owners; kill -9 once the first few are confirmed, and the
/// rest of the burst arrives while Butler is down. After the restart nothing is lost and
/// nothing is handled twice: every report has exactly one ticket, every ticket a card,
/// and every update is stored once and handled. A message the outbox had sent when the
/// kill came, before it could write "sent", goes out again (it cannot know Telegram got
/// it): only those may show twice.
async fn a_burst_survives_kill_9(mode: Mode) {
    let mut story = Story::start_with_in(mode, "[delivery]\nrate_limits = false", |emu| {
        for i in 0..BURST {
            emu.add_user(User::new(300 + i, format!("Owner {i}")).language("en"));
            emu.add_member(GROUP, 300 + i).unwrap();
        }
    })
    .await;
    story.manager_registers_group().await;
    let send = |story: &Story, i: u64| {
        story
            .emu
            .user_sends_text(GROUP, 300 + i, &format!("/repair burst report {i}"), None)
            .unwrap()
    };
    const RECEIVED: &str = "Received: ticket #";
    let mut reports: Vec<_> = (0..BURST / 2).map(|i| send(&story, i)).collect();
    story
        .until("the first reports are confirmed", |s| {
            (tickets_named(s, GROUP, RECEIVED).len() >= 3).then_some(())
        })
        .await;
    story.butler.kill9();
    // What the dead process had already written to the socket still lands.
    tokio::time::sleep(IN_FLIGHT).await;
    let before_kill = story.emu.read(|s| tickets_named(s, GROUP, RECEIVED));
    reports.extend((BURST / 2..BURST).map(|i| send(&story, i)));

    story.butler.restart();
    story
        .until_within("every report confirmed", 2 * STEP, |s| {
            (distinct(tickets_named(s, GROUP, RECEIVED)).len() as u64 >= BURST).then_some(())
        })
        .await;
    story
        .until("every card", |s| {
            (distinct(tickets_named(s, STAFF_CHAT, "🔧 #")).len() as u64 >= BURST).then_some(())
        })
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let confirmations = story.emu.read(|s| tickets_named(s, GROUP, RECEIVED));
    let mut tickets = std::collections::BTreeSet::new();
    for report in &reports {
        let named = numbers_answering(&confirmations, report.id);
        let context = || format!("report {}: {named:?}\n{}", report.id, story.context());
        assert!(!named.is_empty(), "lost: {}", context());
        assert!(
            named.iter().all(|n| *n == named[0]),
            "two tickets: {}",
            context()
        );
        let sent_before = before_kill.iter().any(|(to, _)| *to == Some(report.id));
        assert!(
            named.len() == 1 || sent_before,
            "confirmed twice: {}",
            context()
        );
        tickets.insert(named[0]);
    }
    assert_eq!(tickets.len() as u64, BURST, "one ticket a report");
    assert_eq!(tickets_in(&story).await as u64, BURST);
    let cards = distinct(story.emu.read(|s| tickets_named(s, STAFF_CHAT, "🔧 #")));
    let carded: std::collections::BTreeSet<i64> = cards.iter().map(|(_, n)| *n).collect();
    assert!(carded.is_superset(&tickets), "{}", story.context());
    let updates = story.emu.read(|s| s.next_update_id()) - 1000;
    assert_eq!(
        inbox_counts(&story).await,
        (updates as i64, updates as i64),
        "each update stored once and handled"
    );
    assert!(story.emu.pending_updates().is_empty());
    if mode == Mode::Webhook {
        assert!(
            story.emu.deliveries().iter().any(|d| d.status.is_none()),
            "deliveries met Butler down and were made again"
        );
    }
}

#[tokio::test]
async fn a_burst_of_reports_survives_kill_9_with_nothing_lost_and_nothing_handled_twice() {
    a_burst_survives_kill_9(Mode::Polling).await;
}

#[tokio::test]
async fn on_a_webhook_a_burst_of_reports_survives_kill_9_with_nothing_lost_and_nothing_handled_twice()
 {
    a_burst_survives_kill_9(Mode::Webhook).await;
}

#[tokio::test]
async fn messages_waiting_when_butler_is_killed_are_sent_once_after_restart() {
    let mut story = Story::start("").await;
    story.manager_registers_group().await;
    // Telegram is failing: the confirmation and the card wait in the outbox.
    story.emu.inject(
        FaultRule::new(Fault::BadGateway { html: false })
            .method("sendMessage")
            .for_duration(Duration::from_secs(600)),
    );
    let report = story
        .emu
        .user_sends_text(GROUP, OWNER, "/repair water from the ceiling", None)
        .unwrap();
    story
        .until("a send met the outage", |s| {
            s.calls()
                .iter()
                .any(|c| c.method == "sendMessage" && c.status == 502)
                .then_some(())
        })
        .await;
    story.butler.kill9();
    story.emu.clear_faults();

    story.butler.restart();
    confirmed_once_after_restart(
        &mut story,
        report.id,
        "the confirmation, sent from the outbox after the restart",
    )
    .await;
}

#[tokio::test]
async fn a_manager_who_blocked_the_bot_is_not_written_to_again() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let m = story
        .emu
        .user_sends_text(STAFF_CHAT, MANAGER, &format!("/watch {OWNER}"), None)
        .unwrap();
    story
        .until("the watch list is set", |s| {
            Story::bot_reply(s, STAFF_CHAT, m.id, "User 100 is on the watch list")
        })
        .await;
    story.emu.block_bot(MANAGER);

    let first = story.owner_reports("gas smell in the kitchen").await;
    assert!(first.confirmation.body().contains("#1"));
    story
        .until("the alert to the manager was refused", |s| {
            s.calls()
                .iter()
                .any(|c| c.chat_id == Some(MANAGER as i64) && c.status == 403)
                .then_some(())
        })
        .await;
    let second = story.owner_reports("and the lift").await;
    assert!(second.confirmation.body().contains("#2"));
    story.card(2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let to_manager = story
        .emu
        .calls()
        .iter()
        .filter(|c| c.chat_id == Some(MANAGER as i64) && c.method == "sendMessage")
        .count();
    assert_eq!(
        to_manager,
        1,
        "one refused attempt, then silence\n{}",
        story.context()
    );
}

#[tokio::test]
async fn the_bot_removed_from_a_group_writes_nothing_there_until_added_back() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let report = story.owner_reports("the gate is stuck").await;
    let card = story.card(report.ticket).await;
    story.emu.bot_removed_from(GROUP).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;

    story.staff_presses(card.id, "Take").await;
    story
        .until("the card shows the taker", |s| {
            s.message(STAFF_CHAT, card.id)
                .filter(|m| m.body().contains("taken by Wang"))
        })
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let to_group_after = |story: &Story| {
        story
            .emu
            .calls()
            .iter()
            .filter(|c| c.chat_id == Some(GROUP) && c.method == "sendMessage")
            .count()
    };
    let before = to_group_after(&story);
    assert!(
        !story
            .emu
            .calls()
            .iter()
            .any(|c| c.chat_id == Some(GROUP) && c.status == 403),
        "Butler knew it was removed and did not try\n{}",
        story.context()
    );

    story.emu.bot_added_to(GROUP).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    story
        .replies(STAFF_CHAT, STAFF, card.id, "on my way with a ladder")
        .await;
    story
        .until("progress reaches the group again", |s| {
            Story::bot_reply(s, GROUP, report.message.id, "Ticket #1 — update from Wang")
        })
        .await;
    assert_eq!(to_group_after(&story), before + 1);
}

#[tokio::test]
async fn a_hundred_reports_in_a_second_make_five_tickets_and_one_polite_warning() {
    let story = Story::start("[delivery]\nrate_limits = false").await;
    story.manager_registers_group().await;
    for i in 0..100 {
        story
            .emu
            .user_sends_text(GROUP, OWNER, &format!("/repair problem number {i}"), None)
            .unwrap();
    }
    story
        .until("five cards", |s| (cards_in(s).len() == 5).then_some(()))
        .await;
    story
        .until("one warning", |s| {
            let warnings = s
                .bot_messages_in(GROUP)
                .iter()
                .filter(|m| m.body().contains("several reports in a short time"))
                .count();
            (warnings == 1).then_some(())
        })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(cards(&story).len(), 5);
    assert_eq!(tickets_in(&story).await, 5);
    let warnings = story
        .emu
        .bot_messages_in(GROUP)
        .iter()
        .filter(|m| m.body().contains("several reports"))
        .count();
    assert_eq!(warnings, 1, "{}", story.context());
}

#[tokio::test]
async fn an_edited_report_reaches_staff_under_the_card() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let report = story.owner_reports("the tap drips").await;
    let card = story.card(report.ticket).await;
    story
        .emu
        .user_edits_message(
            GROUP,
            report.message.id,
            OWNER,
            "/repair the tap drips and the sink is cracked",
        )
        .unwrap();
    story
        .until("staff hear of the correction under the card", |s| {
            Story::bot_reply(s, STAFF_CHAT, card.id, "#1 — the owner edited the report")
        })
        .await;
    story
        .until("the card shows the new text", |s| {
            s.message(STAFF_CHAT, card.id)
                .filter(|m| m.body().contains("the sink is cracked"))
        })
        .await;
}

#[tokio::test]
async fn sigterm_stops_butler_cleanly_within_ten_seconds_and_the_token_never_shows() {
    let mut story = Story::start("").await;
    story.manager_registers_group().await;
    let report = story.owner_reports("a report before the stop").await;
    assert!(report.confirmation.body().contains("#1"));
    // A message in flight meets a failing Telegram (teloxide waits 10 s inside a request
    // that got a 5xx): the stop must still come within 10 s.
    story.emu.inject(
        FaultRule::new(Fault::BadGateway { html: true })
            .method("sendMessage")
            .for_duration(Duration::from_secs(60)),
    );
    story
        .emu
        .user_sends_text(GROUP, OWNER, "/repair one more", None)
        .unwrap();
    story
        .until("the send is failing", |s| {
            s.calls().iter().any(|c| c.status == 502).then_some(())
        })
        .await;
    let asked = Instant::now();
    let status = story.butler.stop().await;
    let took = asked.elapsed();
    assert!(
        status.success(),
        "exit status {status:?}\n{}",
        story.context()
    );
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    let log = story.butler.stderr();
    assert!(
        !log.contains(TOKEN) && !log.contains("E2E-TEST-TOKEN"),
        "the token leaked:\n{log}"
    );
    assert!(log.contains("stopped"), "{log}");
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_update_span() {
    let mut story = Story::start("log_format = \"json\"").await;
    story.manager_registers_group().await;
    story.owner_reports("the tap leaks").await;
    story.butler.stop().await;
    let log = story.butler.stderr();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 3);
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["name"] == "update" && l["span"]["update_id"].is_number()),
        "a line logged inside an update's span names it:\n{log}"
    );
}
