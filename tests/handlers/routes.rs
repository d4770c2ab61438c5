//! Routing to trade chats (`[[routes]]`) and pausing a ticket (`/pause`, `/resume`).

use butler::config::Route;
use butler::domain::Category;
use butler::store::BotMessageKind;
use chrono::Duration;
use teloxide::types::Chat;
use teloxide_tests::MockGroupChat;

use crate::harness::*;

/// The engineering staff chat, routed plumbing, electrical and lifts.
const ENGINEERING: i64 = -100_777;
/// A plumber: a member of the engineering chat only.
const PLUMBER: u64 = 300;

fn engineering() -> Chat {
    MockGroupChat::new()
        .id(ENGINEERING)
        .title("Engineering")
        .build()
}

async fn routed() -> Harness {
    let h = Harness::with(|s| {
        s.routes = vec![Route {
            name: "Engineering".into(),
            staff_chat_id: ENGINEERING,
            categories: vec![Category::Plumbing, Category::Electrical, Category::Lift],
        }];
    })
    .await;
    h.app.assume_member_of(ENGINEERING, PLUMBER, true);
    h.app.assume_member_of(ENGINEERING, STAFF, false);
    h.app.assume_member_of(STAFF_CHAT, PLUMBER, false);
    h
}

#[tokio::test]
async fn a_routed_ticket_card_goes_only_to_its_route_chat() {
    let mut h = routed().await;
    h.register(GROUP).await;
    let (id, r) = h.report(OWNER, "the pipe leaks").await;
    let cards = sent_to(&r, ENGINEERING);
    assert_eq!(cards.len(), 1, "{:?}", texts(&r));
    assert!(cards[0].text().unwrap().contains("Plumbing"));
    assert_eq!(
        buttons(&cards[0]),
        vec![vec![format!("take:{id}"), format!("assign:{id}")]]
    );
    assert!(
        sent_to(&r, STAFF_CHAT).is_empty(),
        "the main chat sees nothing"
    );
    let ticket = h.app.store.ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.staff_chat, Some(ENGINEERING));

    // What no route claims goes to the main chat.
    let (other, r) = h.report(OWNER, "the door lock is stuck").await;
    assert_eq!(sent_to(&r, STAFF_CHAT).len(), 1);
    assert!(sent_to(&r, ENGINEERING).is_empty());
    assert_eq!(
        h.app.store.ticket(other).await.unwrap().unwrap().staff_chat,
        None
    );

    // Each chat's /open lists its own tickets.
    let r = h.send(text(engineering(), PLUMBER, "/open")).await;
    let list = last_text(&r);
    assert!(
        list.contains(&format!("#{id}")) && !list.contains(&format!("#{other}")),
        "{list}"
    );
    let r = h.send(text(staff_chat(), STAFF, "/open")).await;
    let list = last_text(&r);
    assert!(
        list.contains(&format!("#{other}")) && !list.contains(&format!("#{id} ")),
        "{list}"
    );
}

#[tokio::test]
async fn a_member_of_only_the_main_chat_cannot_take_a_routed_ticket_a_manager_can() {
    let mut h = routed().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "the pipe leaks").await;

    let r = h
        .send(text(staff_chat(), STAFF, &format!("/take {id}")))
        .await;
    assert_eq!(
        last_text(&r),
        "That ticket is worked in Engineering: please act on it there (managers can act anywhere)."
    );
    // In the engineering chat, someone who is not a member of it is refused.
    let card = h.bot_message(id, BotMessageKind::Card).await;
    assert_eq!(card.chat.id.0, ENGINEERING);
    let r = h.press(STAFF, &card, &format!("take:{id}")).await;
    assert_eq!(
        toast(&r),
        Some((
            "Sorry, only current members of the staff group can do that.".to_owned(),
            true
        ))
    );
    assert_eq!(
        h.app.store.ticket(id).await.unwrap().unwrap().taken_by,
        None
    );

    // A manager may act from the main chat.
    let r = h
        .send(text(staff_chat(), MANAGER, &format!("/take {id}")))
        .await;
    assert!(
        texts_to(&r, GROUP)
            .iter()
            .any(|t| t.contains("Boss is taking care")),
        "{:?}",
        texts(&r)
    );
    assert_eq!(r.edited_messages_text[0].message.chat.id.0, ENGINEERING);
}

#[tokio::test]
async fn the_route_chat_members_take_and_work_the_ticket_there() {
    let mut h = routed().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "no water in the kitchen").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h.press(PLUMBER, &card, &format!("take:{id}")).await;
    assert_eq!(toast(&r).map(|t| t.1), Some(false), "{:?}", toast(&r));
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h
        .reply_photo(
            engineering(),
            PLUMBER,
            &card,
            "pipe-fixed",
            Some("new pipe"),
        )
        .await;
    assert!(!photos_sent_to(&r, GROUP).is_empty(), "{:?}", texts(&r));
    let r = h
        .send(text(
            engineering(),
            PLUMBER,
            &format!("/done {id} all good"),
        ))
        .await;
    assert!(
        texts_to(&r, GROUP).iter().any(|t| t.contains("all good")),
        "{:?}",
        texts(&r)
    );
    assert!(sent_to(&r, STAFF_CHAT).is_empty());
}

#[tokio::test]
async fn a_category_change_moves_the_card_to_the_routed_chat() {
    let mut h = routed().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "the door lock is stuck").await;
    let old = h.bot_message(id, BotMessageKind::Card).await;
    assert_eq!(old.chat.id.0, STAFF_CHAT);

    let r = h
        .send(text(
            staff_chat(),
            STAFF,
            &format!("/category {id} plumbing"),
        ))
        .await;
    let edit = r
        .edited_messages_text
        .iter()
        .find(|e| e.message.id == old.id && e.message.chat.id.0 == STAFF_CHAT)
        .expect("the old card is edited");
    let edited = edit.message.text().unwrap();
    assert!(
        edited.contains(&format!("#{id} moved to Engineering")),
        "{edited}"
    );
    assert!(
        buttons(&edit.message).is_empty(),
        "the old card has no buttons left"
    );
    let new_cards = sent_to(&r, ENGINEERING);
    assert_eq!(new_cards.len(), 1);
    assert!(new_cards[0].text().unwrap().contains("Plumbing"));
    assert!(
        texts_to(&r, STAFF_CHAT)
            .iter()
            .any(|t| t.contains("moved to Engineering")),
        "{:?}",
        texts(&r)
    );
    // From now on the card is the new one, in the new chat.
    let card = h.bot_message(id, BotMessageKind::Card).await;
    assert_eq!(card.chat.id.0, ENGINEERING);
    assert_eq!(card.id, new_cards[0].id);
    let r = h.press(PLUMBER, &card, &format!("take:{id}")).await;
    assert_eq!(r.edited_messages_text[0].message.chat.id.0, ENGINEERING);
}

// ---- Pause ----

#[tokio::test]
async fn a_pause_stops_the_sla_clock_and_resume_starts_it_again() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "the tap leaks").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    h.press(STAFF, &card, &format!("take:{id}")).await;
    let taken = h.clock.now();

    h.clock.set(taken + Duration::minutes(5));
    let r = h
        .send(text(
            staff_chat(),
            STAFF,
            &format!("/pause {id} waiting for a part"),
        ))
        .await;
    let to_owner = texts_to(&r, GROUP);
    assert_eq!(to_owner.len(), 1, "the owner is told once");
    assert!(to_owner[0].contains("on hold") && to_owner[0].contains("waiting for a part"));
    let edit = r.edited_messages_text[0].message.text().unwrap().to_owned();
    assert!(
        edit.contains("Paused since") && edit.contains("waiting for a part"),
        "{edit}"
    );

    // Paused: no reminder, no escalation, however long.
    let r = h.tick_at(taken + Duration::minutes(40)).await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty(), "{:?}", texts(&r));
    let r = h.tick_at(taken + Duration::hours(30)).await;
    assert!(texts(&r).is_empty(), "{:?}", texts(&r));

    let resumed = taken + Duration::hours(30) + Duration::minutes(1);
    h.clock.set(resumed);
    let r = h
        .send(text(staff_chat(), STAFF, &format!("/resume {id}")))
        .await;
    assert!(last_text(&r).contains("running again"), "{:?}", texts(&r));
    assert!(
        texts_to(&r, GROUP).is_empty(),
        "the owner is not told again"
    );
    // 5 minutes before the pause, 24 after: 29 of 30.
    let r = h.tick_at(resumed + Duration::minutes(24)).await;
    assert!(texts_to(&r, STAFF_CHAT).is_empty(), "{:?}", texts(&r));
    let r = h.tick_at(resumed + Duration::minutes(26)).await;
    let reminders = texts_to(&r, STAFF_CHAT);
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert!(
        reminders[0].contains("taken 31 minutes ago"),
        "{reminders:?}"
    );
    let events: Vec<String> = h
        .app
        .store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, who, detail)| format!("{k} {who} {}", detail.unwrap_or_default()))
        .collect();
    assert!(
        events.contains(&"paused Wang waiting for a part".to_owned()),
        "{events:?}"
    );
    assert!(events.contains(&"resumed Wang ".to_owned()), "{events:?}");
    let t = h.app.store.ticket(id).await.unwrap().unwrap();
    assert!(t.paused.is_none());
    assert_eq!(t.paused_secs, (30 * 60 + 1 - 5) * 60);
}

#[tokio::test]
async fn pause_refusals_are_answered() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "the tap leaks").await;
    let r = h
        .send(text(staff_chat(), STAFF, &format!("/pause {id} part")))
        .await;
    assert_eq!(last_text(&r), "Take the ticket first.");
    h.send(text(staff_chat(), STAFF, &format!("/take {id}")))
        .await;
    let r = h
        .send(text(staff_chat(), STAFF, &format!("/pause {id}")))
        .await;
    assert!(
        last_text(&r).starts_with("Usage: /pause N <reason>"),
        "{}",
        last_text(&r)
    );
    let r = h
        .send(text(staff_chat(), STAFF2, &format!("/pause {id} part")))
        .await;
    assert_eq!(
        last_text(&r),
        "Only the one who took the ticket, or a manager, can pause or resume it."
    );
    let r = h
        .send(text(staff_chat(), STAFF, &format!("/resume {id}")))
        .await;
    assert_eq!(last_text(&r), "That ticket is not paused.");
    h.send(text(
        staff_chat(),
        MANAGER,
        &format!("/pause {id} owner away"),
    ))
    .await;
    let r = h
        .send(text(staff_chat(), STAFF, &format!("/pause {id} again")))
        .await;
    assert!(
        last_text(&r).contains("already paused"),
        "{}",
        last_text(&r)
    );

    // Finished while paused: the pause ends with it.
    let (done, _) = h.report(NEIGHBOUR, "the sink drips").await;
    h.take_and_finish(done).await;
    let r = h
        .send(text(staff_chat(), STAFF, &format!("/pause {done} part")))
        .await;
    assert_eq!(last_text(&r), "This ticket is already done.");
}

#[tokio::test]
async fn open_paused_lists_only_the_paused_tickets_marked_as_paused() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (waiting, _) = h.report(OWNER, "the tap leaks").await;
    let (paused, _) = h.report(NEIGHBOUR, "the sink drips").await;
    h.send(text(staff_chat(), STAFF, &format!("/take {paused}")))
        .await;
    h.send(text(
        staff_chat(),
        STAFF,
        &format!("/pause {paused} waiting for a part"),
    ))
    .await;

    let r = h.send(text(staff_chat(), STAFF, "/open paused")).await;
    let list = last_text(&r);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[1].starts_with(&format!("#{paused} · Plumbing · taken (Wang) ⏸ · ")),
        "{list}"
    );

    let r = h.send(text(staff_chat(), STAFF, "/open")).await;
    let list = last_text(&r);
    assert!(list.contains(&format!("\n#{waiting} ·")), "{list}");
    assert!(list.contains(&format!("\n#{paused} · ")), "{list}");
    assert_eq!(list.matches('⏸').count(), 1, "{list}");
}
