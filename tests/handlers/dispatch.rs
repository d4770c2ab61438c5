//! Dispatch: the roster, `/trades`, `/assign` (and the card's Assign button),
//! `/transfer`, `/return`, `/open` filters and the dispatch figures.

use butler::domain::{EventKind, TicketId, TicketStatus};
use butler::store::BotMessageKind;
use calamine::{Reader, Xlsx, open_workbook_from_rs};
use teloxide::types::{Chat, Message};
use teloxide_tests::{MockMessageText, MockUser};

use crate::common::{LANG, name_of};
use crate::harness::*;

/// Wang's and Chen's Telegram usernames.
fn username_of(id: u64) -> Option<&'static str> {
    match id {
        STAFF => Some("wang"),
        STAFF2 => Some("Chen_W"),
        MANAGER => Some("boss"),
        _ => None,
    }
}

/// A message from `from`, with their username when they have one.
fn says(chat: Chat, from: u64, body: &str) -> MockMessageText {
    let mut u = MockUser::new()
        .id(from)
        .first_name(name_of(from))
        .language_code(LANG);
    if let Some(name) = username_of(from) {
        u = u.username(name);
    }
    MockMessageText::new().chat(chat).from(u.build()).text(body)
}

/// The owner group, and Wang and Chen having spoken in the staff chat (on the roster).
async fn office() -> Harness {
    office_with(|_| {}).await
}

async fn office_with(adjust: impl FnOnce(&mut butler::config::Settings)) -> Harness {
    let mut h = Harness::with(adjust).await;
    h.register(GROUP).await;
    for who in [STAFF, STAFF2] {
        h.send(says(staff_chat(), who, "good morning")).await;
    }
    h
}

async fn say(h: &mut Harness, from: u64, body: &str) -> Vec<String> {
    texts(&h.send(says(staff_chat(), from, body)).await)
}

async fn status(h: &Harness, id: TicketId) -> (TicketStatus, Option<u64>) {
    let t = h.app.store.ticket(id).await.unwrap().unwrap();
    (t.status, t.taken_by.map(|(who, _)| who))
}

#[tokio::test]
async fn the_roster_lists_who_spoke_in_the_staff_chat_and_managers_set_their_trades() {
    let mut h = office().await;
    assert_eq!(
        say(&mut h, STAFF, "/staff").await,
        vec![
            "Staff (2) — trades · tickets in hand:\nChen (@chen_w) · no trades set · 0 in hand\n\
             Wang (@wang) · no trades set · 0 in hand"
                .to_owned()
        ]
    );
    // Localized names and keys alike, any case.
    let r = say(&mut h, MANAGER, "/trades @WANG plumbing, Electrical").await;
    assert_eq!(r, vec!["Wang's trades: Plumbing, Electrical.".to_owned()]);
    let r = say(&mut h, STAFF, "/staff").await;
    assert!(
        r[0].contains("Wang (@wang) · Plumbing, Electrical · 0 in hand"),
        "{r:?}"
    );
    assert!(
        r[0].contains("Boss (@boss)"),
        "the manager spoke too: {r:?}"
    );

    let r = say(&mut h, STAFF, "/trades @chen_w lift").await;
    assert_eq!(r, vec!["Only managers can do that.".to_owned()]);
    let r = say(&mut h, MANAGER, "/trades @ghost lift").await;
    assert!(
        r[0].starts_with("I don't know “@ghost” on the staff"),
        "{r:?}"
    );
    let r = say(&mut h, MANAGER, "/trades @chen_w roofing").await;
    assert!(r[0].starts_with("“roofing” is not a category"), "{r:?}");
    let r = say(&mut h, MANAGER, "/trades").await;
    assert!(r[0].starts_with("Name the person"), "{r:?}");
}

#[tokio::test]
async fn a_manager_assigns_and_the_card_the_owner_and_the_assignee_are_told() {
    let mut h = office().await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    // Wang has started the bot privately: Butler may write to him.
    h.send(says(private(STAFF), STAFF, "/start")).await;

    let r = h
        .send(says(
            staff_chat(),
            MANAGER,
            "/assign 1 @wang bring a wrench",
        ))
        .await;
    assert_eq!(status(&h, id).await, (TicketStatus::Taken, Some(STAFF)));
    let staff = texts_to(&r, STAFF_CHAT);
    assert!(
        staff.contains(&"Ticket #1 is Wang's now.".to_owned()),
        "{staff:?}"
    );
    assert!(
        staff.contains(&"Boss assigned #1 to Wang: bring a wrench".to_owned()),
        "{staff:?}"
    );
    assert_eq!(
        texts_to(&r, GROUP),
        vec!["Ticket #1: Wang is taking care of it.".to_owned()]
    );
    let private = texts_to(&r, STAFF as i64);
    assert_eq!(private.len(), 1, "{private:?}");
    assert!(
        private[0].starts_with("Boss gave you ticket #1 (Plumbing).")
            && private[0].contains("tap leaks")
            && private[0].ends_with("bring a wrench"),
        "{private:?}"
    );
    let edit = &r.edited_messages_text[0].message;
    assert!(edit.text().unwrap().contains("taken by Wang"));

    let events = h.app.store.events(id).await.unwrap();
    let tail: Vec<_> = events.iter().rev().take(2).rev().cloned().collect();
    assert_eq!(
        tail,
        vec![
            (
                EventKind::Assigned,
                "Boss".to_owned(),
                Some("Wang: bring a wrench".to_owned())
            ),
            (
                EventKind::Taken,
                "Wang".to_owned(),
                Some("assigned".to_owned())
            ),
        ]
    );
}

#[tokio::test]
async fn someone_who_never_started_the_bot_is_not_written_to_privately() {
    let mut h = office().await;
    h.report(OWNER, "tap leaks").await;
    let r = h
        .send(says(staff_chat(), MANAGER, "/assign 1 @chen_w"))
        .await;
    assert!(texts_to(&r, STAFF2 as i64).is_empty());
    assert!(texts_to(&r, GROUP)[0].contains("Chen is taking care"));
}

#[tokio::test]
async fn staff_cannot_assign_unknown_people_are_refused_and_dispatchers_may() {
    let mut h = office().await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let r = say(&mut h, STAFF2, "/assign 1 @wang").await;
    assert_eq!(
        r,
        vec!["Only managers and dispatchers can assign tickets.".to_owned()]
    );
    let r = say(&mut h, MANAGER, "/assign 1 @ghost").await;
    assert!(r[0].starts_with("I don't know “@ghost”"), "{r:?}");
    let r = say(&mut h, MANAGER, "/assign 1 wang").await;
    assert!(r[0].starts_with("I don't know “wang”"), "{r:?}");
    let r = say(&mut h, MANAGER, "/assign").await;
    assert!(r[0].starts_with("Usage: /assign N @username"), "{r:?}");
    assert_eq!(status(&h, id).await, (TicketStatus::Reported, None));
    drop(h); // one MockBot at a time

    let mut h = office_with(|s| s.dispatchers = vec![STAFF2]).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let r = say(&mut h, STAFF2, "/assign 1 @wang").await;
    assert!(r.contains(&"Ticket #1 is Wang's now.".to_owned()), "{r:?}");
    assert_eq!(status(&h, id).await, (TicketStatus::Taken, Some(STAFF)));
    // Taken now: assigning again is refused; /transfer is the way.
    let r = say(&mut h, STAFF2, "/assign 1 @chen_w").await;
    assert_eq!(r, vec!["This ticket is already taken by Wang.".to_owned()]);
}

#[tokio::test]
async fn a_reply_to_someones_message_names_them_instead_of_a_username() {
    let mut h = office().await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    // Chen's message in the staff chat, as the bot saw it.
    let hello: Message = says(staff_chat(), STAFF2, "I'm free").build();
    let r = h
        .send(says(staff_chat(), MANAGER, "/assign 1").reply_to_message(hello))
        .await;
    assert!(
        texts_to(&r, STAFF_CHAT).contains(&"Ticket #1 is Chen's now.".to_owned()),
        "{:?}",
        texts(&r)
    );
    assert_eq!(status(&h, id).await, (TicketStatus::Taken, Some(STAFF2)));
}

#[tokio::test]
async fn the_holder_or_a_manager_transfers_an_open_ticket_and_not_a_finished_one() {
    let mut h = office().await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    say(&mut h, STAFF, "/take 1").await;
    let r = say(&mut h, STAFF2, "/transfer 1 @chen_w").await;
    assert_eq!(
        r,
        vec!["Only Wang, who has this ticket, or a manager can hand it on.".to_owned()]
    );
    let r = h
        .send(says(
            staff_chat(),
            STAFF,
            "/transfer 1 @chen_w need a ladder",
        ))
        .await;
    assert!(
        texts_to(&r, STAFF_CHAT).contains(&"Wang handed #1 on to Chen: need a ladder".to_owned()),
        "{:?}",
        texts(&r)
    );
    assert_eq!(
        texts_to(&r, GROUP),
        vec!["Ticket #1: Chen is taking care of it.".to_owned()]
    );
    assert_eq!(status(&h, id).await, (TicketStatus::Taken, Some(STAFF2)));
    let r = say(&mut h, MANAGER, "/transfer 1 @wang").await;
    assert!(
        r.contains(&"Ticket #1 handed on to Wang.".to_owned()),
        "{r:?}"
    );

    let (done, _) = h.report(OWNER, "sink drain blocked").await;
    h.take_and_finish(done).await;
    let r = say(&mut h, MANAGER, &format!("/transfer {done} @chen_w")).await;
    assert_eq!(r, vec!["This ticket is already done.".to_owned()]);
}

#[tokio::test]
async fn only_the_holder_returns_a_ticket_with_a_reason_and_it_waits_again() {
    let mut h = office().await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    say(&mut h, STAFF, "/take 1").await;
    let r = say(&mut h, STAFF2, "/return 1 busy").await;
    assert_eq!(
        r,
        vec!["Only the person who has this ticket can return it.".to_owned()]
    );
    let r = say(&mut h, STAFF, "/return 1").await;
    assert!(r[0].starts_with("Please say why"), "{r:?}");
    let r = h
        .send(says(staff_chat(), STAFF, "/return 1 needs a part"))
        .await;
    assert_eq!(status(&h, id).await, (TicketStatus::Reported, None));
    let staff = texts_to(&r, STAFF_CHAT);
    assert!(
        staff.contains(&"Wang returned #1; it is waiting again. Reason: needs a part".to_owned()),
        "{staff:?}"
    );
    assert!(texts_to(&r, GROUP).is_empty(), "the owner is not told");
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let edit = r.edited_messages_text.last().unwrap();
    assert_eq!(edit.message.id, card.id);
    assert!(buttons(&edit.message)[0].contains(&"take:1".to_owned()));
    // Back to waiting: someone else may take it.
    say(&mut h, STAFF2, "/take 1").await;
    assert_eq!(status(&h, id).await, (TicketStatus::Taken, Some(STAFF2)));
}

/// The roster buttons under the menu the Assign button put under card `id`.
async fn open_menu(h: &mut Harness, id: TicketId, by: u64) -> (Message, Option<(String, bool)>) {
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h.press(by, &card, &format!("assign:{id}")).await;
    let menu = sent_to(&r, STAFF_CHAT).last().cloned();
    (menu.unwrap_or(card), toast(&r))
}

#[tokio::test]
async fn the_assign_button_offers_the_trade_first_then_the_least_busy() {
    let mut h = office().await;
    say(&mut h, MANAGER, "/trades @chen_w plumbing").await;
    let (plumbing, _) = h.report(OWNER, "tap leaks").await;
    h.report(OWNER, "strange noise").await;
    h.report(OWNER, "another noise").await;
    say(&mut h, STAFF, "/take 2").await; // Wang: 1 in hand
    say(&mut h, STAFF2, "/take 3").await; // Chen: 1 in hand, but has the trade

    let (staff_press, alert) = open_menu(&mut h, plumbing, STAFF).await;
    assert_eq!(
        alert.map(|a| a.1),
        Some(true),
        "staff may not assign: {staff_press:?}"
    );
    let (menu, note) = open_menu(&mut h, plumbing, MANAGER).await;
    assert_eq!(
        note,
        Some(("Pick someone under the card.".to_owned(), false))
    );
    assert_eq!(menu.text(), Some("Assign #1 to (✓ has the trade):"));
    assert_eq!(
        buttons(&menu),
        vec![
            vec![format!("assignto:1:{STAFF2}")],
            vec![format!("assignto:1:{MANAGER}")],
            vec![format!("assignto:1:{STAFF}")],
        ],
        "Chen has the trade; then Boss with none in hand; then Wang"
    );
    let labels: Vec<String> = menu.reply_markup().unwrap().inline_keyboard[0]
        .iter()
        .map(|b| b.text.clone())
        .collect();
    assert_eq!(labels, vec!["Chen ✓ · 1 in hand".to_owned()]);

    // Forged or stale: someone not on the roster, another ticket's number.
    for data in ["assignto:1:999", "assignto:2:201", "assign:1"] {
        let r = h.press(MANAGER, &menu, data).await;
        assert_eq!(
            toast(&r).map(|t| t.1),
            Some(true),
            "{data} under the menu is refused"
        );
        assert!(r.sent_messages.is_empty(), "{data}");
    }
    assert_eq!(status(&h, plumbing).await, (TicketStatus::Reported, None));

    let r = h
        .press(MANAGER, &menu, &format!("assignto:1:{STAFF2}"))
        .await;
    assert_eq!(
        toast(&r),
        Some(("Ticket #1 is Chen's now.".to_owned(), false))
    );
    assert_eq!(
        status(&h, plumbing).await,
        (TicketStatus::Taken, Some(STAFF2))
    );
    assert!(texts_to(&r, GROUP)[0].contains("Chen is taking care"));
    // The menu again, once assigned: refused with who has it.
    let r = h
        .press(MANAGER, &menu, &format!("assignto:1:{STAFF}"))
        .await;
    assert_eq!(
        toast(&r),
        Some(("This ticket is already taken by Chen.".to_owned(), true))
    );
}

#[tokio::test]
async fn a_busy_assignee_is_assigned_with_a_warning_to_the_assigner() {
    let mut h = office_with(|s| s.max_open_per_staff = 1).await;
    h.report(OWNER, "tap leaks").await;
    let (second, _) = h.report(OWNER, "light out").await;
    say(&mut h, STAFF, "/take 1").await;
    let r = say(&mut h, MANAGER, "/assign 2 @wang").await;
    assert!(
        r.contains(
            &"Ticket #2 is Wang's now.\nNote: Wang already had 1 ticket in hand.".to_owned()
        ),
        "{r:?}"
    );
    assert_eq!(status(&h, second).await, (TicketStatus::Taken, Some(STAFF)));
    // Below the limit: no warning.
    let (third, _) = h.report(OWNER, "door noise").await;
    let r = say(&mut h, MANAGER, &format!("/assign {third} @chen_w")).await;
    assert!(r.contains(&"Ticket #3 is Chen's now.".to_owned()), "{r:?}");
}

#[tokio::test]
async fn open_lists_by_category_holder_or_unassigned() {
    let mut h = office().await;
    h.report(OWNER, "tap leaks").await;
    h.report(OWNER, "light out").await;
    say(&mut h, STAFF, "/take 1").await;
    let line = |r: &[String], id: &str| r[0].lines().any(|l| l.starts_with(id));

    for (filter, one, two) in [
        ("", true, true),
        (" plumbing", true, false),
        (" Electrical", false, true),
        (" @wang", true, false),
        (" @chen_w", false, false),
        (" unassigned", false, true),
    ] {
        let r = say(&mut h, STAFF2, &format!("/open{filter}")).await;
        assert_eq!(
            (line(&r, "#1 "), line(&r, "#2 ")),
            (one, two),
            "/open{filter}: {r:?}"
        );
    }
    let r = say(&mut h, STAFF2, "/open paused").await;
    assert_eq!(r, vec!["No open tickets.".to_owned()]);
    say(&mut h, MANAGER, "/pause 1 waiting for a part").await;
    let r = say(&mut h, STAFF2, "/open paused").await;
    assert!(line(&r, "#1 ") && !line(&r, "#2 "), "{r:?}");
    let r = say(&mut h, STAFF2, "/open roof").await;
    assert!(r[0].starts_with("“roof” is not a category"), "{r:?}");
    let r = say(&mut h, STAFF2, "/open @ghost").await;
    assert!(r[0].starts_with("I don't know “@ghost”"), "{r:?}");
}

#[tokio::test]
async fn stats_and_export_count_assigned_self_taken_transfers_and_returns() {
    let mut h = office().await;
    for what in ["tap leaks", "light out", "door noise"] {
        h.report(OWNER, what).await;
    }
    say(&mut h, STAFF, "/take 1").await;
    say(&mut h, MANAGER, "/assign 2 @wang").await;
    say(&mut h, STAFF, "/transfer 2 @chen_w").await;
    say(&mut h, MANAGER, "/assign 3 @chen_w").await;
    say(&mut h, STAFF2, "/return 3 wrong building").await;
    let r = say(&mut h, MANAGER, "/stats").await;
    let text = &r[0];
    assert!(
        text.contains(
            "Dispatch — took themselves · assigned · transferred to them · returned:\n\
             Chen: 0 · 1 · 1 · 1\nWang: 1 · 1 · 0 · 0"
        ),
        "{text}"
    );
    let r = h.send(says(staff_chat(), MANAGER, "/export")).await;
    assert_eq!(r.sent_messages_document.len(), 1, "{:?}", texts(&r));
    let bytes = h.app.store.outbox_file(1).await.unwrap().expect("kept");
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("Dispatch").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|row| row.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        rows,
        [
            [
                "Staff member",
                "Took themselves",
                "Assigned to them",
                "Transferred to them",
                "Returned"
            ],
            ["Chen", "0", "1", "1", "1"],
            ["Wang", "1", "1", "0", "0"],
        ]
    );
}
