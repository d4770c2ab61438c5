//! The SLA policy per kind and urgency, business hours, and Hurry up (issue 15, items 3
//! and 4): each ticket's deadlines are set by its kind and urgency (B and C over the
//! business-hours calendar), the confirmation promises them, the sweep alerts against
//! them (a complaint's first response and reply too), and once one has passed the owner
//! gets a Hurry up button that pings whoever works on the ticket, once an hour.

use butler::domain::calendar::BusinessHours;
use butler::domain::{EventKind, TicketId};
use butler::store::BotMessageKind;
use chrono::{DateTime, Duration, TimeZone, Utc};
use teloxide::types::Message;
use teloxide_tests::server::Responses;

use crate::harness::*;

/// `h:m` on 2026-11-`day` in Shanghai (the 27th is a Friday).
fn shanghai(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, day, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Open Monday to Saturday (or to Friday), 08:30 to 18:00.
fn office(saturday: bool) -> BusinessHours {
    let mut days: Vec<String> = ["mon", "tue", "wed", "thu", "fri"]
        .map(String::from)
        .to_vec();
    if saturday {
        days.push("sat".into());
    }
    BusinessHours::parse(&days, "08:30", "18:00").unwrap()
}

async fn ticket(h: &Harness, id: TicketId) -> butler::domain::Ticket {
    h.app.store.ticket(id).await.unwrap().unwrap()
}

/// The edit of the owner's confirmation in these responses, if any.
fn confirmation_edit(r: &Responses) -> Option<Message> {
    r.edited_messages_text
        .iter()
        .map(|e| e.message.clone())
        .find(|m| m.chat.id.0 == GROUP)
}

fn hurried(story: &butler::domain::Story) -> usize {
    story
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Hurried)
        .count()
}

#[tokio::test]
async fn each_urgency_has_its_own_deadlines_and_the_confirmation_promises_the_take() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (b, r) = h.report(OWNER, "a light is out").await;
    assert!(
        texts_to(&r, GROUP)[0].contains("Staff will take it within 10 minutes,"),
        "{:?}",
        texts_to(&r, GROUP)
    );
    let (a, r) = h.report(NEIGHBOUR, "gas smell in the stairwell").await;
    assert!(texts_to(&r, GROUP)[0].contains("Staff will take it within 5 minutes,"));
    let (c, r) = h.report(OWNER, "paint scratch on the lobby door").await;
    assert!(texts_to(&r, GROUP)[0].contains("Staff will take it within 1 hour,"));

    for (id, take, resolve) in [
        (b, Duration::minutes(10), Duration::hours(24)),
        (a, Duration::minutes(5), Duration::hours(4)),
        (c, Duration::minutes(60), Duration::hours(72)),
    ] {
        let t = ticket(&h, id).await;
        assert_eq!(t.due.take, Some(t.created_at + take), "#{id}");
        assert_eq!(t.due.resolve, Some(t.created_at + resolve), "#{id}");
        assert_eq!(t.due.first_update, None, "set when taken");
    }

    // Taken: the first update is due after the level's time; /urgency moves the take
    // and resolve times to the new level's.
    let taken_at = h.clock.now() + Duration::seconds(1);
    h.send(text(staff_chat(), STAFF, &format!("/take {a}")))
        .await;
    assert_eq!(
        ticket(&h, a).await.due.first_update,
        Some(taken_at + Duration::minutes(15))
    );
    h.send(text(staff_chat(), STAFF, &format!("/urgency {b} A")))
        .await;
    let t = ticket(&h, b).await;
    assert_eq!(t.due.take, Some(t.created_at + Duration::minutes(5)));
    assert_eq!(t.due.resolve, Some(t.created_at + Duration::hours(4)));
}

#[tokio::test]
async fn a_b_report_at_1755_on_a_friday_is_due_after_the_next_opening_and_an_a_report_is_not() {
    let mut h = Harness::with(|s| s.business_hours = Some(office(true))).await;
    h.register(GROUP).await;
    // The report is dated a second after this: 17:55:00.
    h.clock.set(shanghai(27, 17, 55) - Duration::seconds(1));
    let (b, r) = h.report(OWNER, "a light is out").await;
    assert!(
        texts_to(&r, GROUP)[0]
            .contains("Staff will take it by 08:35 tomorrow (business hours), and you will hear"),
        "{:?}",
        texts_to(&r, GROUP)
    );
    let (a, r) = h.report(NEIGHBOUR, "no water upstairs").await;
    assert!(texts_to(&r, GROUP)[0].contains("Staff will take it within 5 minutes,"));
    let tb = ticket(&h, b).await;
    assert_eq!(
        tb.due.take,
        Some(shanghai(28, 8, 35)),
        "5 minutes Friday, 5 Saturday"
    );
    let ta = ticket(&h, a).await;
    assert_eq!(ta.due.take, Some(ta.created_at + Duration::minutes(5)));
    assert_eq!(ta.due.resolve, Some(ta.created_at + Duration::hours(4)));

    let alerts = |r: &Responses, id: TicketId| {
        texts_to(r, STAFF_CHAT)
            .into_iter()
            .filter(|t| t.contains(&format!("#{id} ")))
            .count()
    };
    let r = h.tick_at(shanghai(27, 18, 1)).await;
    assert_eq!(alerts(&r, a), 1, "A runs day and night");
    assert_eq!(alerts(&r, b), 0, "the office is closed: B's clock stands");
    let r = h.tick_at(shanghai(27, 23, 0)).await;
    assert_eq!(alerts(&r, b), 0);
    let r = h.tick_at(shanghai(28, 8, 34)).await;
    assert_eq!(alerts(&r, b), 0);
    let r = h.tick_at(shanghai(28, 8, 36)).await;
    assert_eq!(alerts(&r, b), 1, "due at 08:35 on Saturday");
}

#[tokio::test]
async fn without_saturday_a_friday_evening_report_is_promised_for_monday() {
    let mut h = Harness::with(|s| s.business_hours = Some(office(false))).await;
    h.register(GROUP).await;
    h.clock.set(shanghai(27, 19, 0) - Duration::seconds(1));
    let (id, r) = h.report(OWNER, "a light is out").await;
    assert!(
        texts_to(&r, GROUP)[0].contains("Staff will take it by 08:40 on 11-30 (business hours)"),
        "{:?}",
        texts_to(&r, GROUP)
    );
    assert_eq!(ticket(&h, id).await.due.take, Some(shanghai(30, 8, 40)));
}

async fn with_manager_in_private() -> Harness {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.send(text(private(MANAGER), MANAGER, "/start")).await;
    h
}

#[tokio::test]
async fn a_complaint_promises_an_answer_and_missed_deadlines_alert_the_managers_once_each() {
    let mut h = with_manager_in_private().await;
    let r = h
        .send(text(group(GROUP), OWNER, "/complain the guard was rude"))
        .await;
    assert!(
        texts_to(&r, GROUP)[0].contains("a manager will answer you here within 2 hours."),
        "{:?}",
        texts_to(&r, GROUP)
    );
    // A second complaint that a manager answers in time.
    h.send(text(group(GROUP), NEIGHBOUR, "/complain noise at night"))
        .await;
    let card = h
        .app
        .store
        .latest_bot_message(MANAGER as i64, 2, BotMessageKind::RequestCard)
        .await
        .unwrap()
        .unwrap();
    let card = h.sent.iter().find(|m| m.id.0 == card).cloned().unwrap();
    h.reply_text(private(MANAGER), MANAGER, &card, "We will talk to them.")
        .await;
    let created = ticket(&h, TicketId(1)).await.created_at;
    let to_manager = |r: &Responses| texts_to(r, MANAGER as i64);

    let r = h.tick_at(created + Duration::minutes(119)).await;
    assert!(to_manager(&r).is_empty(), "{:?}", to_manager(&r));
    let r = h.tick_at(created + Duration::minutes(121)).await;
    assert_eq!(
        to_manager(&r),
        vec![
            "⏰ Complaint #1 has had no answer from a manager for 2 hours (target: 2 hours).\nSunrise Garden · unit — · Li\nthe guard was rude"
        ],
        "only #1: #2 was answered"
    );
    assert!(texts_to(&r, STAFF_CHAT).is_empty(), "never the staff chat");
    let r = h.tick_at(created + Duration::minutes(130)).await;
    assert!(to_manager(&r).is_empty(), "once");

    let r = h
        .tick_at(created + Duration::hours(48) + Duration::minutes(1))
        .await;
    let late = to_manager(&r);
    assert_eq!(late.len(), 2, "both complaints are still open: {late:?}");
    assert!(late[0].starts_with(
        "🚨 Complaint #1 has been open for 2 days and is not closed yet (target: 2 days)."
    ));
    let r = h.tick_at(created + Duration::hours(50)).await;
    assert!(
        !to_manager(&r).iter().any(|t| t.contains("not closed yet")),
        "once"
    );
}

#[tokio::test]
async fn hurry_up_appears_only_after_the_take_time_and_keeps_cancel() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let created = ticket(&h, id).await.created_at;
    let r = h.tick_at(created + Duration::minutes(9)).await;
    assert!(confirmation_edit(&r).is_none());
    let r = h.tick_at(created + Duration::minutes(10)).await;
    let edit = confirmation_edit(&r).expect("the confirmation gets its button");
    assert_eq!(
        buttons(&edit),
        vec![vec![format!("hurry:{id}"), format!("cancel:{id}")]]
    );
    let original = h.bot_message(id, BotMessageKind::Confirmation).await;
    assert_eq!(edit.id, original.id, "the confirmation itself");
    assert!(
        edit.text()
            .unwrap()
            .starts_with("Received: ticket #1 (Plumbing). Staff will take it within 10 minutes")
    );
    let r = h.tick_at(created + Duration::minutes(30)).await;
    assert!(confirmation_edit(&r).is_none(), "offered once");
}

#[tokio::test]
async fn only_the_reporter_hurries_and_once_an_hour_and_each_press_is_counted() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let confirmation = h.bot_message(id, BotMessageKind::Confirmation).await;
    let created = ticket(&h, id).await.created_at;

    // Before the take time: no button was offered, and a forged press is refused.
    let r = h.press(OWNER, &confirmation, "hurry:1").await;
    assert_eq!(
        toast(&r),
        Some((
            "The promised time has not passed yet; you can hurry it up once it has.".to_owned(),
            true
        ))
    );
    h.tick_at(created + Duration::minutes(11)).await;
    let r = h.press(NEIGHBOUR, &confirmation, "hurry:1").await;
    assert_eq!(
        toast(&r),
        Some((
            "Only the owner who reported this ticket can hurry it up.".to_owned(),
            true
        ))
    );
    assert!(texts_to(&r, STAFF_CHAT).is_empty());

    let r = h.press(OWNER, &confirmation, "hurry:1").await;
    assert_eq!(
        toast(&r),
        Some(("We have asked them to hurry with #1.".to_owned(), false))
    );
    let ping = sent_to(&r, STAFF_CHAT);
    assert_eq!(ping.len(), 1);
    assert_eq!(
        ping[0].text(),
        Some(
            "⏩ The owner of #1 asks to hurry up: nobody has taken it yet, and it has waited 11 minutes."
        )
    );
    let card = h.bot_message(id, BotMessageKind::Card).await;
    assert_eq!(
        ping[0].reply_to_message().map(|m| m.id),
        Some(card.id),
        "under the card"
    );

    h.clock
        .set(created + Duration::minutes(40) + Duration::seconds(1));
    let r = h.press(OWNER, &confirmation, "hurry:1").await;
    assert_eq!(
        toast(&r),
        Some((
            "You already hurried this ticket up within the last hour. You can press again in 31 minutes.".to_owned(),
            true
        ))
    );
    assert!(texts_to(&r, STAFF_CHAT).is_empty());
    let story = h.app.store.story(id).await.unwrap();
    assert_eq!(hurried(&story), 1, "the refused press is not counted");

    h.clock.set(created + Duration::minutes(72));
    let r = h.press(OWNER, &confirmation, "hurry:1").await;
    assert_eq!(texts_to(&r, STAFF_CHAT).len(), 1);
    let story = h.app.store.story(id).await.unwrap();
    assert_eq!(hurried(&story), 2);
}

#[tokio::test]
async fn a_hurry_up_reaches_the_holder_privately_or_by_name_under_the_card() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let confirmation = h.bot_message(id, BotMessageKind::Confirmation).await;
    h.send(text(staff_chat(), STAFF, "/take 1")).await;
    let created = ticket(&h, id).await.created_at;
    // Taken in time: the take time is no reason any more; the resolve time is.
    h.tick_at(created + Duration::hours(1)).await;
    let r = h.press(OWNER, &confirmation, "hurry:1").await;
    assert_eq!(toast(&r).map(|t| t.1), Some(true), "not due yet");

    h.tick_at(created + Duration::hours(24)).await;
    let r = h.press(OWNER, &confirmation, "hurry:1").await;
    assert_eq!(
        texts_to(&r, STAFF_CHAT),
        vec!["⏩ Wang: the owner of #1 asks you to hurry up; it has been open for 24 hours."]
    );

    // Once the holder has a private chat with Butler, the ping goes there.
    h.send(text(private(STAFF), STAFF, "/start")).await;
    h.clock.set(created + Duration::hours(26));
    let r = h.press(OWNER, &confirmation, "hurry:1").await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty());
    let private = texts_to(&r, STAFF as i64);
    assert_eq!(private.len(), 1, "{private:?}");
    assert!(private[0].starts_with(
        "⏩ The owner of #1 (Sunrise Garden, unit —) asks you to hurry up; it has been open for 26 hours."
    ));
}

#[tokio::test]
async fn a_paused_ticket_offers_no_hurry_up_and_a_complaints_hurry_reaches_the_managers() {
    let mut h = with_manager_in_private().await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    h.send(text(staff_chat(), STAFF, "/take 1")).await;
    h.send(text(staff_chat(), STAFF, "/pause 1 waiting for a part"))
        .await;
    let created = ticket(&h, id).await.created_at;
    let r = h.tick_at(created + Duration::hours(30)).await;
    assert!(confirmation_edit(&r).is_none(), "paused: its clocks stand");

    h.send(text(
        group(GROUP),
        NEIGHBOUR,
        "/complain the guard was rude",
    ))
    .await;
    let complaint = TicketId(2);
    let confirmation = h.bot_message(complaint, BotMessageKind::Confirmation).await;
    assert!(buttons(&confirmation).is_empty(), "no button at first");
    let at = ticket(&h, complaint).await.created_at;
    let r = h.tick_at(at + Duration::minutes(121)).await;
    let edit = confirmation_edit(&r).expect("offered after the first-response time");
    assert_eq!(
        buttons(&edit),
        vec![vec!["hurry:2".to_owned()]],
        "no Cancel on a complaint"
    );
    let r = h.press(NEIGHBOUR, &confirmation, "hurry:2").await;
    assert_eq!(
        texts_to(&r, MANAGER as i64),
        vec!["⏩ Zhao, who made complaint #2, asks for an answer; it has been open for 2 hours."]
    );
    assert!(texts_to(&r, STAFF_CHAT).is_empty());
}
