//! Kinds, urgency and repeat repairs (issue 15): complaints and suggestions reach the
//! managers and never the staff chat; urgency A is guessed from either language, set by
//! staff, told to managers at once and alerted again until taken; a repair of the same
//! unit and category within 30 days of a finished one is flagged and counted.

use butler::domain::{Kind, TicketStatus, Urgency};
use butler::store::BotMessageKind;
use chrono::Duration;

use crate::harness::*;

/// A managers' group for complaints (`complaints_chat_id`).
const COMPLAINTS: i64 = -100_555;

/// The latest card of complaint or suggestion `id` in `chat`, as the chat shows it.
async fn request_card(h: &Harness, chat: i64, id: i64) -> teloxide::types::Message {
    let message = h
        .app
        .store
        .latest_bot_message(chat, id, BotMessageKind::RequestCard)
        .await
        .unwrap()
        .expect("a request card");
    h.sent
        .iter()
        .rev()
        .find(|m| m.id.0 == message)
        .cloned()
        .expect("the card was seen")
}

async fn with_manager_in_private() -> Harness {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.send(text(private(MANAGER), MANAGER, "/start")).await;
    h
}

#[tokio::test]
async fn a_complaint_goes_to_the_managers_privately_and_never_to_the_staff_chat() {
    let mut h = with_manager_in_private().await;
    let r = h
        .send(text(
            group(GROUP),
            OWNER,
            "/complain the guard was rude to me",
        ))
        .await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty(), "{:?}", texts(&r));
    let owner = texts_to(&r, GROUP);
    assert_eq!(owner.len(), 1);
    assert!(owner[0].starts_with("Received: complaint #1."), "{owner:?}");
    assert!(owner[0].contains("not to the staff group"));
    let cards = sent_to(&r, MANAGER as i64);
    assert_eq!(cards.len(), 1, "{:?}", texts(&r));
    let card = cards[0].text().unwrap();
    assert!(card.starts_with("📣 Complaint #1"), "{card}");
    assert!(card.contains("the guard was rude to me"));
    assert_eq!(buttons(&cards[0]), vec![vec!["close:1".to_owned()]]);
    let ticket = h.app.store.ticket(1.into()).await.unwrap().unwrap();
    assert_eq!(ticket.kind, Kind::Complaint);

    // Staff never see it: not in /open, and a guessed number is refused.
    let r = h.send(text(staff_chat(), STAFF, "/open")).await;
    assert!(!last_text(&r).contains("rude"), "{}", last_text(&r));
    let r = h.send(text(staff_chat(), STAFF, "/take 1")).await;
    assert_eq!(
        last_text(&r),
        "#1 is a complaint or a suggestion: the managers handle it, not the staff group."
    );
    // Nor the SLA sweep: no alert under a card that does not exist.
    let created = ticket.created_at;
    let r = h.tick_at(created + Duration::hours(30)).await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty(), "{:?}", texts(&r));
}

#[tokio::test]
async fn a_managers_reply_is_relayed_to_the_owner_and_closing_tells_the_owner() {
    let mut h = with_manager_in_private().await;
    h.send(text(
        group(GROUP),
        OWNER,
        "/complain the lobby lights are off at night",
    ))
    .await;
    let card = request_card(&h, MANAGER as i64, 1).await;
    let r = h
        .reply_text(
            private(MANAGER),
            MANAGER,
            &card,
            "We are sorry; fixed tonight.",
        )
        .await;
    assert_eq!(
        texts_to(&r, GROUP),
        vec!["Reply from the management office about #1:\nWe are sorry; fixed tonight."]
    );
    assert_eq!(
        texts_to(&r, MANAGER as i64),
        vec!["Sent to the owner of #1."]
    );
    assert!(texts_to(&r, STAFF_CHAT).is_empty());

    // The owner answers the relay: it reaches the managers, not the staff.
    let relay = h.bot_message(1.into(), BotMessageKind::Relay).await;
    let r = h
        .reply_text(group(GROUP), OWNER, &relay, "thank you, see tonight")
        .await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty());
    assert_eq!(
        texts_to(&r, MANAGER as i64),
        vec!["#1 — the owner adds:\nthank you, see tonight"]
    );

    let r = h.press(MANAGER, &card, "close:1").await;
    assert_eq!(toast(&r), Some(("#1 closed.".to_owned(), false)));
    let told = texts_to(&r, GROUP);
    assert_eq!(told.len(), 1);
    assert!(
        told[0].starts_with("Your complaint #1 has been dealt with"),
        "{told:?}"
    );
    let ticket = h.app.store.ticket(1.into()).await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Done);
    assert_eq!(ticket.rating_round, 0, "no rating question for a complaint");
    // Closed is closed.
    let r = h.press(MANAGER, &card, "close:1").await;
    assert_eq!(toast(&r).map(|t| t.1), Some(true));
}

#[tokio::test]
async fn complaints_go_to_the_complaints_chat_when_one_is_set_and_only_managers_answer() {
    let mut h = Harness::with(|s| s.complaints_chat_id = COMPLAINTS).await;
    h.register(GROUP).await;
    h.send(text(private(MANAGER), MANAGER, "/start")).await;
    let r = h
        .send(text(
            group(GROUP),
            OWNER,
            "/complain noise from the gym at 6am",
        ))
        .await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty());
    assert!(texts_to(&r, MANAGER as i64).is_empty(), "the chat instead");
    let cards = texts_to(&r, COMPLAINTS);
    assert_eq!(cards.len(), 1);
    assert!(cards[0].starts_with("📣 Complaint #1"));

    let card = request_card(&h, COMPLAINTS, 1).await;
    let chat = group(COMPLAINTS);
    let r = h.reply_text(chat.clone(), STAFF, &card, "ignore it").await;
    assert_eq!(last_text(&r), "Only managers can do that.");
    assert!(texts_to(&r, GROUP).is_empty());
    let r = h
        .reply_text(chat, MANAGER, &card, "We will talk to the gym.")
        .await;
    assert_eq!(
        texts_to(&r, GROUP),
        vec!["Reply from the management office about #1:\nWe will talk to the gym."]
    );
}

#[tokio::test]
async fn a_suggestion_is_acknowledged_and_numbered_with_the_repairs() {
    let mut h = with_manager_in_private().await;
    h.report(OWNER, "the tap leaks").await;
    let r = h
        .send(text(
            group(GROUP),
            NEIGHBOUR,
            "/suggest a bicycle shed by gate 2",
        ))
        .await;
    assert_eq!(
        texts_to(&r, GROUP),
        vec![
            "Thank you: suggestion #2 is received and passed on to the managers.\n\
             Reply to this message to add photos or details."
        ]
    );
    assert!(texts_to(&r, STAFF_CHAT).is_empty());
    let cards = texts_to(&r, MANAGER as i64);
    assert!(cards[0].starts_with("💡 Suggestion #2"), "{cards:?}");

    let r = h.send(text(group(GROUP), OWNER, "/suggest")).await;
    assert_eq!(
        last_text(&r),
        "Usage: /suggest <your idea>. It goes to the managers."
    );
    let r = h.send(text(group(GROUP), OWNER, "/complain   ")).await;
    assert!(last_text(&r).starts_with("Usage: /complain"));
    assert_eq!(h.latest_ticket().await, Some(2.into()), "nothing made");
}

#[tokio::test]
async fn urgency_is_guessed_from_english_and_chinese_words_and_managers_are_told_at_once() {
    let mut h = with_manager_in_private().await;
    let (one, r) = h.report(OWNER, "I smell GAS in the kitchen").await;
    let card = texts_to(&r, STAFF_CHAT);
    assert!(card[0].contains("🔴 A — urgent"), "{card:?}");
    let confirmation = texts_to(&r, GROUP);
    assert!(
        confirmation[0].contains("🔴 Marked urgent (A)"),
        "{confirmation:?}"
    );
    let told = texts_to(&r, MANAGER as i64);
    assert_eq!(told.len(), 1);
    assert!(told[0].starts_with("🔴 Urgent (A) #1"), "{told:?}");

    let (two, r) = h.report(NEIGHBOUR, "3号楼有人困电梯了").await;
    assert_eq!(texts_to(&r, MANAGER as i64).len(), 1);
    let (three, r) = h.report(OWNER, "the bedroom door sticks").await;
    assert!(texts_to(&r, MANAGER as i64).is_empty());
    assert!(texts_to(&r, STAFF_CHAT)[0].contains("Urgency: B"));
    let (four, _) = h.report(OWNER, "墙面掉漆了").await;
    let level = |id| {
        let store = h.app.store.clone();
        async move { store.ticket(id).await.unwrap().unwrap().urgency }
    };
    assert_eq!(level(one).await, Urgency::A);
    assert_eq!(level(two).await, Urgency::A);
    assert_eq!(level(three).await, Urgency::B);
    assert_eq!(level(four).await, Urgency::C);
}

#[tokio::test]
async fn staff_set_urgency_and_bad_levels_and_owners_are_refused() {
    let mut h = with_manager_in_private().await;
    let (id, _) = h.report(OWNER, "the bedroom door squeaks").await;
    let r = h.send(text(staff_chat(), STAFF, "/urgency 1 a")).await;
    assert_eq!(texts_to(&r, STAFF_CHAT), vec!["#1 is now urgency A."]);
    assert!(texts_to(&r, MANAGER as i64)[0].starts_with("🔴 Urgent (A) #1"));
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.urgency, Urgency::A);
    let edits: Vec<_> = r
        .edited_messages_text
        .iter()
        .filter_map(|e| e.message.text().map(str::to_owned))
        .collect();
    assert!(
        edits.iter().any(|e| e.contains("🔴 A")),
        "the card was edited: {edits:?}"
    );

    let r = h.send(text(staff_chat(), STAFF, "/urgency 1 D")).await;
    assert_eq!(
        last_text(&r),
        "“D” is not an urgency level: use A, B or C, e.g. /urgency 42 A."
    );
    let r = h.send(text(staff_chat(), STAFF, "/urgency 1")).await;
    assert!(last_text(&r).starts_with("Usage: /urgency N A|B|C"));
    let r = h.send(text(group(GROUP), OWNER, "/urgency 1 C")).await;
    assert_eq!(last_text(&r), "/urgency is used in the staff chat.");
    let r = h.send(text(staff_chat(), OWNER, "/urgency 1 C")).await;
    assert_eq!(
        last_text(&r),
        "Sorry, only current members of the staff group can do that."
    );
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.urgency, Urgency::A, "unchanged by the refusals");
}

#[tokio::test]
async fn an_urgent_tickets_take_alert_repeats_until_it_is_taken() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h
        .report(OWNER, "water flooding the corridor, no water upstairs")
        .await;
    let plain = h.report(NEIGHBOUR, "a light is out").await.0;
    let created = h.app.store.ticket(id).await.unwrap().unwrap().created_at;
    let alerts = |r: &teloxide_tests::server::Responses| {
        texts_to(r, STAFF_CHAT)
            .into_iter()
            .filter(|t| t.contains("#1"))
            .collect::<Vec<_>>()
    };

    // An A repair is due to be taken within 5 minutes ([sla.A]), then alerted every 5.
    let r = h.tick_at(created + Duration::minutes(6)).await;
    assert_eq!(
        alerts(&r),
        vec!["🔴 #1 is URGENT (A) and has waited 6 minutes: please take it now."]
    );
    let r = h.tick_at(created + Duration::minutes(9)).await;
    assert!(alerts(&r).is_empty(), "not before the interval");
    let r = h.tick_at(created + Duration::minutes(10)).await;
    assert_eq!(alerts(&r).len(), 1, "again after 5 minutes");
    let r = h.tick_at(created + Duration::minutes(11)).await;
    assert!(alerts(&r).is_empty(), "once per interval");
    let r = h.tick_at(created + Duration::minutes(15)).await;
    assert_eq!(alerts(&r).len(), 1);

    h.send(text(staff_chat(), STAFF, "/take 1")).await;
    // (Its first update is due 15 minutes after the take: not yet.)
    let r = h.tick_at(created + Duration::minutes(25)).await;
    assert!(alerts(&r).is_empty(), "taken: no more");
    let kept = h.app.store.ticket_alerts(id).await.unwrap();
    let takes = kept.iter().filter(|(kind, _)| kind == "take").count();
    assert_eq!(takes, 3, "{kept:?}");
    // The B ticket beside it was alerted once.
    let plain = h.app.store.ticket_alerts(plain).await.unwrap();
    assert_eq!(plain.iter().filter(|(kind, _)| kind == "take").count(), 1);
}

/// The owner (unit 3-1201) has the tap fixed; returns the fixed ticket.
async fn fixed_tap(h: &mut Harness) -> butler::domain::TicketId {
    h.register(GROUP).await;
    h.send(text(group(GROUP), OWNER, "/unit 3-1201")).await;
    h.send(text(group(GROUP), NEIGHBOUR, "/unit 3-1202")).await;
    let (id, _) = h.report(OWNER, "the kitchen tap leaks").await;
    h.take_and_finish(id).await;
    id
}

#[tokio::test]
async fn a_repair_of_the_same_unit_and_category_within_30_days_is_flagged_and_counted() {
    let mut h = Harness::new().await;
    let first = fixed_tap(&mut h).await;
    h.clock.advance(Duration::days(29));
    let (again, r) = h.report(OWNER, "the tap leaks again").await;
    let card = texts_to(&r, STAFF_CHAT);
    assert!(
        card[0].contains("🔁 Repeat of #1: same unit and category within 30 days"),
        "{card:?}"
    );
    let ticket = h.app.store.ticket(again).await.unwrap().unwrap();
    assert_eq!(ticket.repeat_of, Some(first));
    // A different unit, same category: not a repeat.
    let (other, r) = h.report(NEIGHBOUR, "my tap leaks too").await;
    assert!(!texts_to(&r, STAFF_CHAT)[0].contains("Repeat"));
    assert_eq!(
        h.app.store.ticket(other).await.unwrap().unwrap().repeat_of,
        None
    );

    let r = h.send(text(staff_chat(), STAFF, "/stats 60")).await;
    assert!(
        last_text(&r).contains("Repeat repairs (same unit and category within 30 days of a finished one): 1 of 3 repairs (33"),
        "{}",
        last_text(&r)
    );
}

#[tokio::test]
async fn a_repair_more_than_30_days_after_the_earlier_one_is_no_repeat() {
    let mut h = Harness::new().await;
    fixed_tap(&mut h).await;
    h.clock.advance(Duration::days(31));
    let (later, r) = h.report(OWNER, "the tap leaks again").await;
    assert!(!texts_to(&r, STAFF_CHAT)[0].contains("Repeat"));
    assert_eq!(
        h.app.store.ticket(later).await.unwrap().unwrap().repeat_of,
        None
    );
}

#[tokio::test]
async fn last_months_suggestions_are_listed_for_the_managers_in_the_monthly_report() {
    use butler::outbox::Outgoing;
    use chrono::TimeZone;
    let mut h = with_manager_in_private().await;
    h.send(text(
        group(GROUP),
        OWNER,
        "/suggest a bicycle shed by gate 2",
    ))
    .await;
    h.send(text(group(GROUP), OWNER, "/complain the guard was rude"))
        .await;
    let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
    h.clock.set(now);
    let mut tx = h.app.store.begin().await.unwrap();
    butler::figures::enqueue_monthly_report(&h.app.store, &h.app.settings, &mut tx, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let texts: Vec<(i64, String)> = h
        .app
        .store
        .outbox_due(now, 100)
        .await
        .unwrap()
        .iter()
        .filter_map(|row| match serde_json::from_str(&row.payload).unwrap() {
            Outgoing::Text { chat_id, text, .. } => Some((chat_id, text)),
            _ => None,
        })
        .collect();
    let lists: Vec<&(i64, String)> = texts
        .iter()
        .filter(|(_, t)| t.starts_with("💡 Suggestions"))
        .collect();
    assert_eq!(lists.len(), 1, "{texts:?}");
    assert_eq!(
        lists[0].0, MANAGER as i64,
        "the managers', not the staff chat's"
    );
    assert_eq!(
        lists[0].1,
        "💡 Suggestions 2026-11: 1\n#1 · Sunrise Garden · Li: a bicycle shed by gate 2"
    );
}

#[tokio::test]
async fn staff_cannot_read_a_complaint_by_ticket_or_find_but_managers_can() {
    let mut h = with_manager_in_private().await;
    h.send(text(
        group(GROUP),
        OWNER,
        "/complain the guard Wang was rude",
    ))
    .await;
    let r = h.send(text(staff_chat(), STAFF, "/ticket 1")).await;
    assert_eq!(
        last_text(&r),
        "#1 is a complaint or a suggestion: the managers handle it, not the staff group."
    );
    let r = h.send(text(staff_chat(), STAFF, "/find guard")).await;
    assert!(!last_text(&r).contains("#1"), "{}", last_text(&r));
    let r = h.send(text(private(MANAGER), MANAGER, "/ticket 1")).await;
    assert!(
        last_text(&r).contains("the guard Wang was rude"),
        "{:?}",
        texts(&r)
    );
}
