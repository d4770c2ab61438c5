//! Scheduled messages: the scheduler ticks at set clock times inside a dispatch (see
//! `Harness::tick`), and the tests look at what the chats received and what was stored.

use butler::clock::Clock;
use butler::config::CronSpec;
use butler::domain::{Actor, Category, EventKind, TicketStatus};
use butler::jobs::{Job, Scheduler, run_calendar_job};
use butler::store::{BotMessageKind, JobOutcome, NewTicket};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::harness::*;

const GROUP2: i64 = -100_222;
const GROUP3: i64 = -100_333;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Texts the bot sent to `chat`.
fn greeting_runs(runs: &[(DateTime<Utc>, String)]) -> Vec<(DateTime<Utc>, &str)> {
    runs.iter().map(|(t, o)| (*t, o.as_str())).collect()
}

// ---- the morning greeting ----

#[tokio::test]
async fn the_morning_greeting_reaches_every_active_group_in_its_language_with_yesterdays_record() {
    let mut h = Harness::new().await; // Asia/Shanghai, 08:00; the clock is the 24th, 10:00
    h.register(GROUP).await;
    h.send(text(group(GROUP2), MANAGER, "/register Moonlight Court"))
        .await;
    h.send(text(group(GROUP2), MANAGER, "/lang zh")).await;
    h.send(text(group(GROUP3), MANAGER, "/register Old Block"))
        .await;
    h.send(text(group(GROUP3), MANAGER, "/unregister")).await;

    let (one, _) = h.report(OWNER, "the tap leaks").await;
    h.take_and_finish(one).await;
    let q = h.bot_message(one, BotMessageKind::Rating).await;
    h.press(OWNER, &q, "rate:1:1:5").await;
    let (two, _) = h.report(OWNER, "no light in the hall").await;
    h.take_and_finish(two).await;
    let q = h.bot_message(two, BotMessageKind::Rating).await;
    h.press(OWNER, &q, "rate:2:1:2").await;
    h.report(NEIGHBOUR, "the door sticks").await;

    // 08:00 on the 25th in Shanghai.
    let r = h.tick_at(at("2026-11-25T00:00:00Z")).await;

    assert_eq!(
        texts_to(&r, GROUP),
        vec![
            "Good morning, Sunrise Garden!\n\
             Today is Wednesday, 25 November 2026.\n\
             \n\
             Yesterday: 3 repair reports received, 2 repairs done.\n\
             Satisfaction: 50% (1 of 2 ratings were 4 or 5).\n\
             Something to repair? Send /repair and what is wrong, here in the group."
        ]
    );
    let zh = texts_to(&r, GROUP2);
    assert_eq!(zh.len(), 1);
    assert!(
        zh[0].starts_with("Moonlight Court的各位业主，早上好！\n今天是2026年11月25日 星期三。"),
        "{zh:?}"
    );
    assert!(
        zh[0].contains("昨天很平静"),
        "a quiet day is said kindly: {zh:?}"
    );
    assert!(
        texts_to(&r, GROUP3).is_empty(),
        "an unregistered group is left alone"
    );
    let report = h.last_tick().await;
    assert_eq!(
        report.ran.first(),
        Some(&(Job::MorningGreeting, at("2026-11-25T00:00:00Z")))
    );
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

#[tokio::test]
async fn a_holiday_text_replaces_the_plain_greeting() {
    let mut h = Harness::with(|s| {
        s.holidays
            .insert("11-25".into(), "Happy Thanksgiving from the office!".into());
    })
    .await;
    h.register(GROUP).await;
    let r = h.tick_at(at("2026-11-25T00:00:00Z")).await;
    let text = &texts_to(&r, GROUP)[0];
    assert!(
        text.starts_with(
            "Happy Thanksgiving from the office!\nToday is Wednesday, 25 November 2026."
        ),
        "{text}"
    );
    assert!(!text.contains("Good morning"), "{text}");

    // The next day is an ordinary one.
    let r = h.tick_at(at("2026-11-26T00:00:00Z")).await;
    assert!(texts_to(&r, GROUP)[0].starts_with("Good morning, Sunrise Garden!"));
}

#[tokio::test]
async fn a_restarted_butler_on_the_same_database_sends_each_greeting_once() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let eight = at("2026-11-25T00:00:00Z");

    // A second process on the same file claims 08:00 and dies before sending (kill -9
    // after the commit): its greeting waits in the outbox.
    let other = butler::build_app(h.app.settings.clone(), Clock::fixed(eight))
        .await
        .unwrap();
    let report = Scheduler::new().tick(&other, eight).await;
    assert!(report.ran.contains(&(Job::MorningGreeting, eight)));

    // This one ticks the same time: it sends the waiting greeting and writes no other.
    let r = h.tick_at(eight).await;
    assert_eq!(texts_to(&r, GROUP).len(), 1);
    assert!(
        !h.last_tick()
            .await
            .ran
            .contains(&(Job::MorningGreeting, eight))
    );
    let r = h.tick_at(eight + Duration::seconds(30)).await;
    assert!(texts_to(&r, GROUP).is_empty());
    let again = Scheduler::new()
        .tick(&other, eight + Duration::seconds(40))
        .await;
    assert!(
        again
            .ran
            .iter()
            .all(|(job, _)| *job != Job::MorningGreeting)
    );
    // Two processes that both found 08:00 due before either committed: one wins the claim.
    assert_eq!(
        run_calendar_job(&other, Job::MorningGreeting, eight, eight)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        run_calendar_job(&h.app, Job::MorningGreeting, eight, eight)
            .await
            .unwrap(),
        None
    );
    let r = h.tick_at(eight + Duration::minutes(1)).await;
    assert!(texts_to(&r, GROUP).is_empty());
    assert_eq!(
        greeting_runs(&h.app.store.job_runs("morning_greeting").await.unwrap()),
        vec![(eight, "ran")]
    );

    // Killed before the commit: nothing happened, and the time is still due.
    let next = eight + Duration::days(1);
    let mut tx = other.store.begin().await.unwrap();
    assert!(
        tx.claim_job("morning_greeting", next, JobOutcome::Ran, next)
            .await
            .unwrap()
    );
    drop(tx);
    let r = h.tick_at(next).await;
    assert_eq!(
        texts_to(&r, GROUP).len(),
        1,
        "sent once after the lost claim"
    );
}

#[tokio::test]
async fn a_greeting_missed_while_down_is_sent_on_start_within_the_catch_up_window() {
    let mut h = Harness::new().await; // catch_up_minutes = 60
    h.register(GROUP).await;
    let r = h.tick_at(at("2026-11-25T00:00:00Z")).await;
    assert_eq!(texts_to(&r, GROUP).len(), 1);

    // Down from before 08:00 on the 26th until 08:40.
    let r = h.tick_at(at("2026-11-26T00:40:00Z")).await;
    let sent = texts_to(&r, GROUP);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Thursday, 26 November 2026"), "{sent:?}");
    let r = h.tick_at(at("2026-11-26T00:41:00Z")).await;
    assert!(texts_to(&r, GROUP).is_empty(), "caught up once");
    assert_eq!(
        greeting_runs(&h.app.store.job_runs("morning_greeting").await.unwrap()),
        vec![
            (at("2026-11-25T00:00:00Z"), "ran"),
            (at("2026-11-26T00:00:00Z"), "ran")
        ]
    );
}

#[tokio::test]
async fn a_greeting_missed_longer_ago_than_the_catch_up_window_is_skipped_and_recorded() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.tick_at(at("2026-11-25T00:00:00Z")).await;

    // Down until 10:00 on the 27th: 08:00 was two hours ago, the 26th's even longer.
    let r = h.tick_at(at("2026-11-27T02:00:00Z")).await;
    assert!(
        texts_to(&r, GROUP).is_empty(),
        "a stale greeting is not sent"
    );
    assert_eq!(
        h.last_tick().await.skipped,
        vec![(Job::MorningGreeting, at("2026-11-27T00:00:00Z"))]
    );
    let r = h.tick_at(at("2026-11-27T02:05:00Z")).await;
    assert!(texts_to(&r, GROUP).is_empty());
    assert!(
        h.last_tick().await.skipped.is_empty(),
        "skipped (and logged) once"
    );

    let r = h.tick_at(at("2026-11-28T00:00:00Z")).await;
    assert_eq!(texts_to(&r, GROUP).len(), 1, "the next morning is normal");
    assert_eq!(
        greeting_runs(&h.app.store.job_runs("morning_greeting").await.unwrap()),
        vec![
            (at("2026-11-25T00:00:00Z"), "ran"),
            (at("2026-11-27T00:00:00Z"), "skipped"),
            (at("2026-11-28T00:00:00Z"), "ran"),
        ]
    );
}

/// Ticks every 15 minutes over `[from, to)` and returns the greetings GROUP received.
async fn greetings_between(h: &mut Harness, from: &str, to: &str) -> Vec<String> {
    let mut t = at(from);
    let mut out = Vec::new();
    while t < at(to) {
        let r = h.tick_at(t).await;
        out.extend(texts_to(&r, GROUP));
        assert!(h.last_tick().await.failures.is_empty());
        t += Duration::minutes(15);
    }
    out
}

#[tokio::test]
async fn in_berlin_a_0230_greeting_fires_once_on_both_days_the_clocks_change() {
    let mut h = Harness::with(|s| {
        s.timezone = Tz::Europe__Berlin;
        s.schedule.morning_greeting = CronSpec::parse("0 30 2 * * *").unwrap();
    })
    .await;
    h.register(GROUP).await;

    // 29 March 2026: at 02:00 CET the clocks jump to 03:00; 02:30 never happens.
    let spring = greetings_between(&mut h, "2026-03-28T22:00:00Z", "2026-03-29T04:00:00Z").await;
    assert_eq!(spring.len(), 1, "{spring:?}");
    assert!(spring[0].contains("Sunday, 29 March 2026"), "{spring:?}");

    // 25 October 2026: at 03:00 CEST the clocks go back to 02:00; 02:30 happens twice.
    let autumn = greetings_between(&mut h, "2026-10-24T22:00:00Z", "2026-10-25T04:00:00Z").await;
    assert_eq!(autumn.len(), 1, "{autumn:?}");
    assert!(autumn[0].contains("Sunday, 25 October 2026"), "{autumn:?}");

    assert_eq!(
        greeting_runs(&h.app.store.job_runs("morning_greeting").await.unwrap()),
        vec![
            (at("2026-03-29T01:00:00Z"), "ran"),     // 03:00 CEST, the jump
            (at("2026-10-24T00:30:00Z"), "skipped"), // months "down" in between
            (at("2026-10-25T00:30:00Z"), "ran"),     // 02:30 CEST, the first one
        ]
    );
}

#[tokio::test]
async fn in_new_york_a_0230_greeting_fires_once_when_the_clocks_spring_forward() {
    let mut h = Harness::with(|s| {
        s.timezone = Tz::America__New_York;
        s.schedule.morning_greeting = CronSpec::parse("0 30 2 * * *").unwrap();
    })
    .await;
    h.register(GROUP).await;
    // 8 March 2026: 02:00 EST jumps to 03:00 EDT.
    let sent = greetings_between(&mut h, "2026-03-08T05:00:00Z", "2026-03-08T11:00:00Z").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        greeting_runs(&h.app.store.job_runs("morning_greeting").await.unwrap()),
        vec![(at("2026-03-08T07:00:00Z"), "ran")]
    );
}

#[tokio::test]
async fn in_new_york_a_0130_greeting_fires_once_when_the_clocks_fall_back() {
    let mut h = Harness::with(|s| {
        s.timezone = Tz::America__New_York;
        s.schedule.morning_greeting = CronSpec::parse("0 30 1 * * *").unwrap();
    })
    .await;
    h.register(GROUP).await;
    // 1 November 2026: 02:00 EDT goes back to 01:00 EST; 01:30 happens at 05:30 and 06:30 UTC.
    let sent = greetings_between(&mut h, "2026-11-01T04:00:00Z", "2026-11-01T10:00:00Z").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        greeting_runs(&h.app.store.job_runs("morning_greeting").await.unwrap()),
        vec![(at("2026-11-01T05:30:00Z"), "ran")]
    );
}

#[tokio::test]
async fn the_scheduler_loop_runs_what_is_due_and_stops_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let eight = at("2026-11-25T00:00:00Z");
    let app = butler::build_app(settings(&dir.path().join("butler.db")), Clock::fixed(eight))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let loop_ = tokio::spawn(butler::jobs::run_scheduler(app.clone(), async move {
        let _ = stopped.await;
    }));
    // The loop ticks before it first looks at the shutdown signal.
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), loop_)
        .await
        .expect("the loop stops on shutdown")
        .unwrap();
    assert_eq!(
        greeting_runs(&app.store.job_runs("morning_greeting").await.unwrap()),
        vec![(eight, "ran")]
    );
}

// ---- the daily summary ----

#[tokio::test]
async fn the_daily_summary_tells_the_staff_chat_how_the_day_went() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (one, _) = h.report(OWNER, "the tap leaks").await;
    h.take_and_finish(one).await;
    let q = h.bot_message(one, BotMessageKind::Rating).await;
    h.press(OWNER, &q, "rate:1:1:4").await;
    let (two, _) = h.report(OWNER, "no light").await;
    let card = h.bot_message(two, BotMessageKind::Card).await;
    h.press(STAFF, &card, "take:2").await;
    h.report(NEIGHBOUR, "the door sticks").await;

    // 18:00 on the 24th in Shanghai.
    let r = h.tick_at(at("2026-11-24T10:00:00Z")).await;
    let summary: Vec<String> = texts_to(&r, STAFF_CHAT)
        .into_iter()
        .filter(|t| t.starts_with("📊"))
        .collect();
    assert_eq!(
        summary,
        vec![
            "📊 Daily summary, Tuesday, 24 November 2026\n\
             New today: 3\n\
             Done today: 1\n\
             Still open: 2 (1 waiting to be taken, 1 in progress)\n\
             Overdue (past an SLA): 2\n\
             Ratings today: 1, satisfaction 100%\n\
             Open follow-ups: 0\n\
             \n\
             Staff today (taken / done / average score):\n\
             Wang: 2 / 1 / 4.0"
        ]
    );
    let summary_msg = sent_to(&r, STAFF_CHAT)
        .into_iter()
        .find(|m| m.text().is_some_and(|t| t.starts_with("📊")))
        .unwrap();
    assert!(
        summary_msg.reply_to_message().is_none(),
        "a message of its own"
    );
}

#[tokio::test]
async fn a_summary_too_long_for_one_message_is_split_cleanly() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let now = h.clock.now();
    let names: Vec<String> = (0..200)
        .map(|i| format!("Staff member {i:03} {}", "with a rather long name"))
        .collect();
    let mut tx = h.app.store.begin().await.unwrap();
    tx.touch_owner(OWNER, "Li", Some("en"), now).await.unwrap();
    for (i, name) in names.iter().enumerate() {
        let id = tx
            .insert_ticket(
                &NewTicket {
                    group_chat_id: GROUP,
                    report_message_id: 10_000 + i as i32,
                    owner_id: OWNER,
                    unit: None,
                    category: Category::Other,
                    text: "x",
                    priority: false,
                    kind: butler::domain::Kind::Repair,
                    urgency: butler::domain::Urgency::B,
                    repeat_of: None,
                    reported_at: now,
                    staff_chat: None,
                },
                now,
            )
            .await
            .unwrap()
            .unwrap();
        let who = Actor {
            id: 5_000 + i as u64,
            name: name.to_owned(),
            is_manager: false,
        };
        tx.add_event(id, EventKind::Reported, &who, None, now)
            .await
            .unwrap();
        tx.set_taken(id, &who, now).await.unwrap();
        tx.add_event(id, EventKind::Taken, &who, None, now)
            .await
            .unwrap();
        tx.set_status(id, TicketStatus::Done, now).await.unwrap();
        tx.add_event(id, EventKind::Done, &who, None, now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let r = h.tick_at(at("2026-11-24T10:00:00Z")).await;
    let parts = texts_to(&r, STAFF_CHAT);
    assert!(parts.len() >= 3, "{} parts", parts.len());
    assert!(
        parts[0].starts_with("📊 Daily summary, Tuesday, 24 November 2026\nNew today: 200\n"),
        "{:.300}",
        parts[0]
    );
    for part in &parts[1..] {
        assert!(
            part.starts_with(
                "📊 Daily summary, Tuesday, 24 November 2026 (continued)\nStaff member"
            ),
            "{part:.80}"
        );
    }
    for part in &parts {
        assert!(part.encode_utf16().count() <= 4096);
        // Split between lines: every staff line is whole.
        for line in part.lines().filter(|l| l.starts_with("Staff member")) {
            assert!(line.ends_with(": 1 / 1 / —"), "{line}");
        }
    }
    let all = parts.join("\n");
    for name in &names {
        assert!(all.contains(&format!("{name}: 1 / 1 / —")), "{name} lost");
    }
}

// ---- SLA watch ----

#[tokio::test]
async fn a_ticket_not_taken_in_time_is_alerted_once_under_its_card() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "the tap leaks").await;
    let created = h.app.store.ticket(id).await.unwrap().unwrap().created_at;
    let card = h.bot_message(id, BotMessageKind::Card).await;

    let r = h.tick_at(created + Duration::minutes(9)).await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty());
    let r = h.tick_at(created + Duration::minutes(11)).await;
    let alerts = sent_to(&r, STAFF_CHAT);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].text(),
        Some("⏰ #1 has waited 11 minutes and nobody has taken it yet (target: 10 minutes).")
    );
    assert_eq!(alerts[0].reply_to_message().map(|m| m.id), Some(card.id));
    let r = h.tick_at(created + Duration::minutes(12)).await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty(), "alerted once");
    // The take alert, and the owner's Hurry up button (offered at the same sweep).
    assert_eq!(
        h.app.store.ticket_alerts(id).await.unwrap(),
        vec![("hurry_offer".to_owned(), 0), ("take".to_owned(), 0)]
    );
}

#[tokio::test]
async fn a_taker_without_progress_is_reminded_once_by_name() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (one, _) = h.report(OWNER, "the tap leaks").await;
    let card = h.bot_message(one, BotMessageKind::Card).await;
    h.press(STAFF, &card, "take:1").await;
    let taken = h.clock.now();
    // The second ticket's taker sends progress: no reminder for it.
    let (two, _) = h.report(NEIGHBOUR, "the door sticks").await;
    let card2 = h.bot_message(two, BotMessageKind::Card).await;
    h.press(STAFF2, &card2, "take:2").await;
    let card2 = h.bot_message(two, BotMessageKind::Card).await;
    h.reply_text(staff_chat(), STAFF2, &card2, "on my way")
        .await;

    let r = h.tick_at(taken + Duration::minutes(29)).await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty());
    let r = h.tick_at(taken + Duration::minutes(31)).await;
    let reminders = sent_to(&r, STAFF_CHAT);
    assert_eq!(reminders.len(), 1, "{:?}", texts(&r));
    assert_eq!(
        reminders[0].text(),
        Some(
            "⏰ Wang: #1 was taken 31 minutes ago and the owner has heard no progress yet \
             (target: 30 minutes). Reply to the card with a photo or a word on how it goes."
        )
    );
    assert_eq!(reminders[0].reply_to_message().map(|m| m.id), Some(card.id));
    let r = h.tick_at(taken + Duration::minutes(45)).await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty(), "reminded once");
    assert!(h.app.store.ticket_alerts(two).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_ticket_open_too_long_goes_to_managers_privately_once_they_can_be_reached() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (one, _) = h.report(OWNER, "the tap leaks").await;
    let created = h.app.store.ticket(one).await.unwrap().unwrap().created_at;
    let card = h.bot_message(one, BotMessageKind::Card).await;

    // The manager has never written to Butler privately: Telegram would refuse a private
    // message, so the escalation goes to the staff chat, under the card.
    let r = h
        .tick_at(created + Duration::hours(24) + Duration::minutes(1))
        .await;
    let escalations: Vec<_> = sent_to(&r, STAFF_CHAT)
        .into_iter()
        .filter(|m| m.text().is_some_and(|t| t.starts_with("🚨")))
        .collect();
    assert_eq!(escalations.len(), 1);
    assert_eq!(
        escalations[0].text(),
        Some("🚨 Managers: #1 has been open for 24 hours (target: 24 hours).")
    );
    assert_eq!(
        escalations[0].reply_to_message().map(|m| m.id),
        Some(card.id)
    );
    assert!(sent_to(&r, MANAGER as i64).is_empty());

    // Once the manager has started a private chat, escalations go there.
    h.send(text(private(MANAGER), MANAGER, "/start")).await;
    let (two, _) = h.report(OWNER, "no light in the hall").await;
    let created = h.app.store.ticket(two).await.unwrap().unwrap().created_at;
    let r = h.tick_at(created + Duration::hours(25)).await;
    let private = texts_to(&r, MANAGER as i64);
    assert_eq!(
        private,
        vec![
            "🚨 #2 has been open for 25 hours (target: 24 hours).\n\
             Sunrise Garden · unit — · Li\n\
             Status: waiting to be taken\n\
             no light in the hall"
        ]
    );
    assert!(
        texts_to(&r, STAFF_CHAT)
            .iter()
            .all(|t| !t.starts_with("🚨")),
        "#1 is not escalated twice, #2 went privately"
    );
    let r = h.tick_at(created + Duration::hours(26)).await;
    assert!(texts_to(&r, MANAGER as i64).is_empty(), "escalated once");
}

// ---- rating reminders ----

#[tokio::test]
async fn an_unrated_ticket_is_reminded_once_then_closes_as_unrated_with_a_follow_up() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "the tap leaks").await;
    h.take_and_finish(id).await;
    let done = h.clock.now();
    let question = h.bot_message(id, BotMessageKind::Rating).await;

    let r = h.tick_at(done + Duration::hours(23)).await;
    assert!(texts_to(&r, GROUP).is_empty());
    let r = h
        .tick_at(done + Duration::hours(24) + Duration::minutes(10))
        .await;
    let reminders = sent_to(&r, GROUP);
    assert_eq!(reminders.len(), 1);
    assert_eq!(
        reminders[0].text(),
        Some(
            "A gentle reminder: how satisfied are you with the repair of #1? Please tap a \
             score under the question. It stays open for another 47 hours."
        )
    );
    assert_eq!(
        reminders[0].reply_to_message().map(|m| m.id),
        Some(question.id)
    );
    let r = h.tick_at(done + Duration::hours(25)).await;
    assert!(texts_to(&r, GROUP).is_empty(), "reminded once");

    // 72 hours: the question closes, and the ticket joins the follow-ups.
    let r = h
        .tick_at(done + Duration::hours(72) + Duration::minutes(10))
        .await;
    let closed = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == question.id)
        .expect("the question is edited");
    assert_eq!(
        closed.message.text(),
        Some(
            "The rating question for #1 has closed without a score. Thank you; the \
             management office may call you about this repair."
        )
    );
    assert!(buttons(&closed.message).is_empty(), "no buttons left");
    let cards = sent_to(&r, STAFF_CHAT);
    assert_eq!(cards.len(), 1);
    assert!(
        cards[0]
            .text()
            .unwrap()
            .starts_with("📋 Follow-up F1 for #1: not rated (the question expired)\n"),
        "{:?}",
        cards[0].text()
    );
    let card = h.bot_message(id, BotMessageKind::Card).await;
    assert_eq!(cards[0].reply_to_message().map(|m| m.id), Some(card.id));
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(
        ticket.status,
        TicketStatus::Done,
        "closed as unrated, not rated"
    );
    assert!(h.app.store.events(id).await.unwrap().contains(&(
        EventKind::RatingExpired,
        "Butler".into(),
        Some("1".into())
    )));

    // A late press on the old buttons is refused.
    let r = h.press(OWNER, &question, "rate:1:1:5").await;
    assert_eq!(
        toast(&r),
        Some(("This rating question has closed.".to_owned(), true))
    );
    assert!(h.app.store.ratings(id).await.unwrap().is_empty());
    let r = h.tick_at(done + Duration::hours(74)).await;
    assert!(
        texts_to(&r, GROUP).is_empty() && texts_to(&r, STAFF_CHAT).is_empty(),
        "{:?}",
        texts(&r)
    );

    // A manager closes the follow-up; there is no score to ask again for.
    let fu = h.bot_message(id, BotMessageKind::FollowUp).await;
    let r = h
        .reply_text(staff_chat(), MANAGER, &fu, "Called: all fine now")
        .await;
    let edit = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == fu.id)
        .unwrap();
    assert!(edit.message.text().unwrap().contains("not rated"));
    assert!(
        edit.message
            .text()
            .unwrap()
            .contains("Closed by Boss: Called: all fine now")
    );
    // Nothing to rate again after no rating; the manager may still tell the owner.
    assert_eq!(buttons(&edit.message), vec![vec!["tell:1".to_owned()]]);
}

#[tokio::test]
async fn a_question_past_expiry_when_first_seen_closes_without_a_reminder() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "the tap leaks").await;
    h.take_and_finish(id).await;
    let done = h.clock.now();
    let r = h.tick_at(done + Duration::hours(73)).await;
    assert!(
        texts_to(&r, GROUP).is_empty(),
        "no reminder for a closed question"
    );
    assert_eq!(r.edited_messages_text.len(), 1);
    assert_eq!(
        h.app.store.ticket_alerts(id).await.unwrap(),
        vec![("rating_expired".to_owned(), 1)]
    );
}

// ---- /greet, /summary, /notice ----

#[tokio::test]
async fn greet_previews_the_first_groups_greeting_for_the_manager_only() {
    let mut h = Harness::new().await;
    let r = h.send(text(staff_chat(), MANAGER, "/greet")).await;
    assert!(last_text(&r).starts_with("No owner group is registered yet."));

    h.register(GROUP).await;
    let r = h.send(text(staff_chat(), MANAGER, "/greet")).await;
    assert_eq!(
        texts_to(&r, STAFF_CHAT),
        vec![
            "Preview of today's morning greeting for Sunrise Garden:\n\n\
             Good morning, Sunrise Garden!\n\
             Today is Tuesday, 24 November 2026.\n\n\
             Yesterday was quiet: no repairs were reported or finished. Have a pleasant day!\n\
             Something to repair? Send /repair and what is wrong, here in the group."
        ]
    );
    assert!(sent_to(&r, GROUP).is_empty(), "a preview goes nowhere else");

    let r = h.send(text(private(MANAGER), MANAGER, "/greet")).await;
    assert!(texts_to(&r, MANAGER as i64)[0].starts_with("Preview of today's morning greeting"));
    let r = h.send(text(staff_chat(), STAFF, "/greet")).await;
    assert_eq!(last_text(&r), "Only managers can do that.");
}

#[tokio::test]
async fn summary_posts_todays_summary_where_it_was_asked() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "the tap leaks").await;

    let r = h.send(text(staff_chat(), STAFF, "/summary")).await;
    let sent = texts_to(&r, STAFF_CHAT);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("📊 Daily summary, Tuesday, 24 November 2026\nNew today: 1\n"));

    let r = h.send(text(private(MANAGER), MANAGER, "/summary")).await;
    assert!(texts_to(&r, MANAGER as i64)[0].starts_with("📊 Daily summary"));
    let r = h.send(text(private(OWNER), OWNER, "/summary")).await;
    assert_eq!(last_text(&r), "Only managers can do that.");
    assert!(
        h.app
            .store
            .job_runs("daily_summary")
            .await
            .unwrap()
            .is_empty(),
        "not a scheduled run"
    );
}

#[tokio::test]
async fn a_notice_goes_to_every_active_group_only_after_its_author_confirms() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.send(text(group(GROUP2), MANAGER, "/register Moonlight Court"))
        .await;
    h.send(text(group(GROUP2), MANAGER, "/lang zh")).await;

    let r = h.send(text(staff_chat(), MANAGER, "/notice")).await;
    assert!(last_text(&r).starts_with("Usage: /notice <text>"));

    let r = h
        .send(text(
            staff_chat(),
            MANAGER,
            "/notice Water is off on Tuesday from 9 to 12.",
        ))
        .await;
    let question = sent_to(&r, STAFF_CHAT)[0].clone();
    assert_eq!(
        question.text(),
        Some("Send this notice to 2 owner groups?\n\nWater is off on Tuesday from 9 to 12.")
    );
    assert_eq!(
        buttons(&question),
        vec![vec![
            "notice:1:send".to_owned(),
            "notice:1:cancel".to_owned()
        ]]
    );
    assert!(sent_to(&r, GROUP).is_empty() && sent_to(&r, GROUP2).is_empty());

    // Someone else may not send it; nor may the data be put under another message.
    let r = h.press(STAFF, &question, "notice:1:send").await;
    assert_eq!(
        toast(&r),
        Some((
            "Only the manager who wrote this notice can send or cancel it.".to_owned(),
            true
        ))
    );
    let other = h.send(text(staff_chat(), MANAGER, "/help")).await;
    let other = sent_to(&other, STAFF_CHAT)[0].clone();
    let r = h.press(MANAGER, &other, "notice:1:send").await;
    assert_eq!(
        toast(&r),
        Some(("This button is no longer valid.".to_owned(), true))
    );
    let r = h.press(MANAGER, &question, "notice:99:send").await;
    assert!(toast(&r).unwrap().1, "an unknown notice is refused");
    assert!(sent_to(&r, GROUP).is_empty());

    let r = h.press(MANAGER, &question, "notice:1:send").await;
    assert_eq!(
        texts_to(&r, GROUP),
        vec!["📢 Notice from the management office:\nWater is off on Tuesday from 9 to 12."]
    );
    assert_eq!(
        texts_to(&r, GROUP2),
        vec!["📢 物业服务中心通知：\nWater is off on Tuesday from 9 to 12."]
    );
    let edited = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == question.id)
        .unwrap();
    assert_eq!(
        edited.message.text(),
        Some("✅ Sent to 2 owner groups:\n\nWater is off on Tuesday from 9 to 12.")
    );
    assert!(buttons(&edited.message).is_empty());
    assert_eq!(toast(&r), Some(("Sent to 2 groups.".to_owned(), false)));

    let r = h.press(MANAGER, &question, "notice:1:send").await;
    assert!(toast(&r).unwrap().1, "sent once");
    assert!(sent_to(&r, GROUP).is_empty());
}

#[tokio::test]
async fn a_cancelled_notice_is_never_sent() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h
        .send(text(
            private(MANAGER),
            MANAGER,
            "/notice Lift maintenance on Friday",
        ))
        .await;
    let question = sent_to(&r, MANAGER as i64)[0].clone();
    let r = h.press(MANAGER, &question, "notice:1:cancel").await;
    assert!(sent_to(&r, GROUP).is_empty());
    assert_eq!(toast(&r), Some(("Cancelled.".to_owned(), false)));
    let r = h.press(MANAGER, &question, "notice:1:send").await;
    assert!(toast(&r).unwrap().1);
    assert!(sent_to(&r, GROUP).is_empty());
}

#[tokio::test]
async fn notice_and_greet_belong_in_the_staff_chat_or_a_private_chat() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(group(GROUP), MANAGER, "/notice hello")).await;
    assert_eq!(
        last_text(&r),
        "/notice is used in the staff chat or in a private chat with me."
    );
}

#[tokio::test]
async fn the_monthly_report_is_scheduled_on_the_first_with_chart_and_workbook() {
    // Exports opened to staff, so the workbook goes to the staff chat as well.
    let mut h = Harness::with(|s| s.export.staff_may_export = true).await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "the tap leaks").await;
    h.take_and_finish(id).await;
    // The clock stands on 24 November; 09:00 on 1 December in Shanghai is 01:00 UTC.
    let r = h.tick_at(at("2026-12-01T01:00:00Z")).await;
    let report = texts_to(&r, STAFF_CHAT);
    assert!(
        report.iter().any(|t| t.contains("Monthly report")),
        "{report:?}"
    );
    let mut documents: Vec<_> = r
        .sent_messages_document
        .iter()
        .map(|d| d.message.chat.id.0)
        .collect();
    documents.sort();
    let mut expected = vec![STAFF_CHAT, MANAGER as i64];
    expected.sort();
    assert_eq!(
        documents, expected,
        "the XLSX to the staff chat and each manager"
    );
    assert!(
        r.sent_messages_photo
            .iter()
            .any(|p| p.message.chat.id.0 == STAFF_CHAT),
        "the chart"
    );
    // Once per month, however often the scheduler ticks.
    let again = h.tick_at(at("2026-12-01T01:05:00Z")).await;
    assert!(again.sent_messages_document.is_empty());
}

#[tokio::test]
async fn a_group_the_bot_was_removed_from_gets_no_greeting() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.app
        .store
        .mark_unreachable(GROUP, "bot removed from the chat", false, h.app.now())
        .await
        .unwrap();
    let r = h.tick_at(at("2026-11-25T00:00:00Z")).await;
    assert!(texts_to(&r, GROUP).is_empty());
}
