use butler::domain::TicketStatus;
use butler::store::{BotMessageKind, PhotoKind};

use crate::harness::*;

#[tokio::test]
async fn take_edits_the_card_and_tells_the_owner_who_is_coming() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;

    let r = h.press(STAFF, &card, "take:1").await;
    assert_eq!(toast(&r), Some(("#1 is yours.".to_owned(), false)));
    let edit = &r.edited_messages_text[0];
    assert_eq!(edit.message.id, card.id);
    assert!(edit.message.text().unwrap().contains("taken by Wang"));
    assert_eq!(buttons(&edit.message), vec![vec!["done:1".to_owned()]]);
    let to_owner = sent_to(&r, GROUP);
    assert_eq!(
        to_owner[0].text(),
        Some("Ticket #1: Wang is taking care of it.")
    );
    let report_id = h
        .app
        .store
        .ticket(id)
        .await
        .unwrap()
        .unwrap()
        .report_message_id;
    assert_eq!(
        to_owner[0].reply_to_message().map(|m| m.id.0),
        Some(report_id)
    );

    let r = h.press(STAFF2, &card, "take:1").await;
    assert_eq!(
        toast(&r),
        Some(("This ticket is already taken by Wang.".to_owned(), true))
    );
    assert!(r.sent_messages.is_empty() && r.edited_messages_text.is_empty());
}

#[tokio::test]
async fn take_and_done_work_as_commands_too() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "tap leaks").await;
    let r = h.send(text(staff_chat(), STAFF, "/take 1")).await;
    assert!(texts(&r).iter().any(|t| t.contains("Wang is taking care")));
    let r = h
        .send(photo(
            staff_chat(),
            STAFF,
            "done-photo",
            Some("/done 1 replaced the washer"),
        ))
        .await;
    let to_owner = sent_to(&r, GROUP);
    assert_eq!(
        photos_sent_to(&r, GROUP),
        vec!["done-photo".to_owned()],
        "the completion photo goes to the owner"
    );
    assert!(
        to_owner[0]
            .caption()
            .unwrap()
            .contains("replaced the washer")
    );
    assert_eq!(
        h.app
            .store
            .photos(butler::domain::TicketId(1), PhotoKind::Completion)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn take_by_replying_to_the_card_without_a_number() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "tap leaks").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    h.reply_text(staff_chat(), STAFF, &card, "/take").await;
    assert_eq!(
        h.app.store.ticket(id).await.unwrap().unwrap().status,
        TicketStatus::Taken
    );
}

#[tokio::test]
async fn done_without_a_photo_since_take_is_refused_with_the_reason() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "light out").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    h.press(STAFF, &card, "take:1").await;

    let r = h.press(STAFF, &card, "done:1").await;
    let (alert, is_alert) = toast(&r).unwrap();
    assert!(is_alert && alert.contains("photo"), "{alert}");
    assert_eq!(
        h.app.store.ticket(id).await.unwrap().unwrap().status,
        TicketStatus::Taken
    );

    let r = h.send(text(staff_chat(), STAFF, "/done 1")).await;
    assert!(
        last_text(&r).contains("A photo of the finished work is needed"),
        "{:?}",
        texts(&r)
    );
}

#[tokio::test]
async fn done_without_photo_is_allowed_when_the_setting_is_off() {
    let mut h = Harness::with(|s| s.rating.require_completion_photo = false).await;
    h.register(GROUP).await;
    h.report(OWNER, "light out").await;
    h.send(text(staff_chat(), STAFF, "/take 1")).await;
    let r = h.send(text(staff_chat(), STAFF, "/done 1")).await;
    assert!(
        texts(&r)
            .iter()
            .any(|t| t.contains("Ticket #1 is done (Wang).")),
        "{:?}",
        texts(&r)
    );
}

#[tokio::test]
async fn progress_replies_are_relayed_under_the_owners_report() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "water heater broken").await;
    let report_id = h
        .app
        .store
        .ticket(id)
        .await
        .unwrap()
        .unwrap()
        .report_message_id;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    h.press(STAFF, &card, "take:1").await;

    let r = h
        .reply_text(staff_chat(), STAFF, &card, "coming at 3 pm with a new part")
        .await;
    let relayed = sent_to(&r, GROUP);
    assert_eq!(
        relayed[0].text(),
        Some("Ticket #1 — update from Wang:\ncoming at 3 pm with a new part")
    );
    assert_eq!(
        relayed[0].reply_to_message().map(|m| m.id.0),
        Some(report_id)
    );
    assert!(
        texts_to(&r, STAFF_CHAT)
            .last()
            .unwrap()
            .contains("Sent to the owner of #1")
    );

    let r = h
        .reply_photo(
            staff_chat(),
            STAFF,
            &card,
            "progress-1",
            Some("old part removed"),
        )
        .await;
    let relayed = sent_to(&r, GROUP);
    assert_eq!(photos_sent_to(&r, GROUP), vec!["progress-1".to_owned()]);
    assert!(relayed[0].caption().unwrap().contains("old part removed"));
    assert_eq!(
        relayed[0].reply_to_message().map(|m| m.id.0),
        Some(report_id)
    );
    assert_eq!(
        h.app.store.photos(id, PhotoKind::Progress).await.unwrap(),
        vec!["progress-1".to_owned()]
    );

    // Now Done is allowed, and the owner gets the rating question.
    let r = h.press(STAFF, &card, "done:1").await;
    assert!(!toast(&r).unwrap().1, "a toast, not an alert");
    let group_msgs = sent_to(&r, GROUP);
    assert!(group_msgs[0].text().unwrap().contains("is done"));
    let question = group_msgs.last().unwrap();
    assert!(question.text().unwrap().contains("rate from 1"));
    assert_eq!(
        buttons(question)[0],
        (1..=5).map(|s| format!("rate:1:1:{s}")).collect::<Vec<_>>()
    );
    assert_eq!(buttons(question)[1], vec!["nf:1:1".to_owned()]);
}

#[tokio::test]
async fn an_album_reply_to_a_card_relays_every_photo() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "broken window").await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    h.press(STAFF, &card, "take:1").await;
    for (i, f) in ["w1", "w2", "w3"].iter().enumerate() {
        let caption = (i == 0).then_some("before and after");
        let m = album_item(staff_chat(), STAFF, f, "alb-9", caption).reply_to_message(card.clone());
        let r = h.send(m).await;
        assert_eq!(photos_sent_to(&r, GROUP), vec![f.to_string()]);
    }
    assert_eq!(
        h.app
            .store
            .photos(id, PhotoKind::Progress)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn progress_on_a_finished_ticket_is_refused() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "fence").await;
    h.take_and_finish(id).await;
    let card = h.bot_message(id, BotMessageKind::Card).await;
    let r = h
        .reply_text(staff_chat(), STAFF, &card, "one more thing")
        .await;
    assert!(last_text(&r).contains("already done"));
    assert!(sent_to(&r, GROUP).is_empty());
}

#[tokio::test]
async fn only_the_taker_or_a_manager_can_close() {
    let mut h = Harness::with(|s| s.rating.require_completion_photo = false).await;
    h.register(GROUP).await;
    h.report(OWNER, "door").await;
    h.send(text(staff_chat(), STAFF, "/take 1")).await;
    let r = h.send(text(staff_chat(), STAFF2, "/done 1")).await;
    assert!(last_text(&r).contains("handled by Wang"));
    let r = h.send(text(staff_chat(), MANAGER, "/done 1")).await;
    assert!(texts(&r).iter().any(|t| t.contains("is done")));
}

#[tokio::test]
async fn reopen_category_and_note() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let (id, _) = h.report(OWNER, "strange noise").await;
    let r = h.send(text(staff_chat(), STAFF, "/category 1 lift")).await;
    assert_eq!(last_text(&r), "#1 is now in category Lift.");
    assert!(
        r.edited_messages_text[0]
            .message
            .text()
            .unwrap()
            .contains("· Lift")
    );
    let r = h.send(text(staff_chat(), STAFF, "/category 1 水暖")).await;
    assert!(last_text(&r).contains("Plumbing"));
    let r = h
        .send(text(staff_chat(), STAFF, "/category 1 spaceship"))
        .await;
    assert!(last_text(&r).contains("“spaceship” is not a category"));

    let r = h
        .send(text(staff_chat(), STAFF, "/note 1 owner prefers mornings"))
        .await;
    assert_eq!(last_text(&r), "Note added to #1.");
    assert!(sent_to(&r, GROUP).is_empty(), "notes stay internal");
    let r = h.send(text(staff_chat(), STAFF, "/note 1")).await;
    assert!(last_text(&r).contains("add some text"));

    let r = h.send(text(staff_chat(), STAFF, "/reopen 1")).await;
    assert!(last_text(&r).contains("Only a finished ticket"));
    h.take_and_finish(id).await;
    let r = h
        .send(text(staff_chat(), STAFF, "/reopen 1 owner called again"))
        .await;
    assert!(
        sent_to(&r, GROUP)[0]
            .text()
            .unwrap()
            .contains("#1 has been reopened")
    );
    assert_eq!(
        h.app.store.ticket(id).await.unwrap().unwrap().status,
        TicketStatus::Taken
    );
    let kinds: Vec<String> = h
        .app
        .store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.0.to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "reported", "category", "category", "note", "taken", "progress", "done", "reopened"
        ]
    );
}

#[tokio::test]
async fn open_and_mine_list_the_right_tickets() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(staff_chat(), STAFF, "/open")).await;
    assert_eq!(last_text(&r), "No open tickets.");
    h.report(OWNER, "one").await;
    h.report(OWNER, "two").await;
    h.send(text(staff_chat(), STAFF, "/take 2")).await;
    let open = last_text(&h.send(text(staff_chat(), STAFF, "/open")).await);
    assert!(
        open.contains("Open tickets (2)")
            && open.contains("#1")
            && open.contains("#2 · Other · taken (Wang)"),
        "{open}"
    );
    let mine = last_text(&h.send(text(staff_chat(), STAFF, "/mine")).await);
    assert!(mine.contains("#2") && !mine.contains("#1"), "{mine}");
    let theirs = last_text(&h.send(text(staff_chat(), STAFF2, "/mine")).await);
    assert_eq!(theirs, "You have no open tickets.");
}
