//! The whole loop, as the owner group and the staff chat see it.

use crate::harness::*;

#[tokio::test]
async fn a_photo_report_is_taken_relayed_finished_and_rated_in_both_chats() {
    photo_report_loop(Mode::Polling).await;
}

#[tokio::test]
async fn on_a_webhook_a_photo_report_is_taken_relayed_finished_and_rated_in_both_chats() {
    photo_report_loop(Mode::Webhook).await;
}

async fn photo_report_loop(mode: Mode) {
    let mut story = Story::start_in(mode, "").await;
    story.manager_registers_group().await;
    // In any order: teloxide gathers them in a set.
    let mut asked_for = story
        .emu
        .read(|s| s.allowed_updates().map(<[String]>::to_vec))
        .unwrap_or_default();
    asked_for.sort();
    assert_eq!(
        asked_for,
        vec![
            "callback_query",
            "chat_member",
            "edited_message",
            "message",
            "my_chat_member"
        ],
        "the update kinds Butler's handler tree asks Telegram for"
    );
    let menus = story.emu.read(|s| {
        s.commands()
            .iter()
            .map(|set| {
                let scope = set.scope["type"].as_str().unwrap_or("").to_owned();
                let names: Vec<String> = set.commands.iter().map(|(n, _)| n.clone()).collect();
                (scope, set.language_code.clone(), names)
            })
            .collect::<Vec<_>>()
    });
    let private = ["start", "help", "my"];
    let groups = [
        "repair", "unit", "my", "help", "complain", "suggest", "cancel",
    ];
    let staff = [
        "open", "mine", "take", "done", "reopen", "category", "note", "summary", "stats", "export",
        "help", "pause", "resume", "urgency",
    ];
    let expected: Vec<(String, Option<String>, Vec<String>)> = [
        ("all_private_chats", &private[..]),
        ("all_group_chats", &groups[..]),
        ("chat", &staff[..]),
    ]
    .into_iter()
    .flat_map(|(scope, names)| {
        [Some("zh".to_owned()), None].map(|lang| {
            let names = names.iter().map(|n| n.to_string()).collect();
            (scope.to_owned(), lang, names)
        })
    })
    .collect();
    assert_eq!(menus, expected, "the command menus, per scope and language");
    let private_en = story.emu.read(|s| s.commands()[1].commands.clone());
    assert_eq!(
        private_en,
        [
            ("start", "Start"),
            ("help", "What I can do"),
            ("my", "Your tickets")
        ]
        .map(|(n, d)| (n.to_owned(), d.to_owned()))
    );

    // The owner reports with a photo: confirmed under the report, a card and the photo in
    // the staff chat.
    let report = story
        .owner_reports_with_photo("the kitchen tap is leaking")
        .await;
    assert_eq!(report.ticket, 1);
    assert!(
        report
            .confirmation
            .body()
            .starts_with("Received: ticket #1 (Plumbing)"),
        "{}",
        report.confirmation.body()
    );
    let card = story.card(1).await;
    assert!(card.body().contains("Sunrise Garden"), "{}", card.body());
    assert!(card.body().contains("the kitchen tap is leaking"));
    assert_eq!(card.button_labels(), vec!["Take", "Assign"]);
    let report_photo = report.message.photo.clone().unwrap();
    let photo_on_card = story
        .until("the report's photo under the card", |s| {
            s.replies_to(STAFF_CHAT, card.id)
                .into_iter()
                .find(|m| m.is_from_bot() && m.photo.is_some())
        })
        .await;
    assert_eq!(
        photo_on_card.photo.unwrap().file_unique_id,
        report_photo.file_unique_id,
        "the staff see the owner's own photo"
    );
    assert_eq!(
        photo_on_card.caption.as_deref(),
        Some("#1 — photo from the report")
    );

    // Take: the card shows who, the owner hears who is coming.
    let answer = story.staff_presses(card.id, "Take").await;
    assert_eq!(answer.text.as_deref(), Some("#1 is yours."));
    let taken = story
        .until("the card shows the taker", |s| {
            s.message(STAFF_CHAT, card.id)
                .filter(|m| m.body().contains("Status: taken by Wang"))
        })
        .await;
    assert_eq!(taken.button_labels(), vec!["Done"]);
    story
        .until("the owner hears who is coming", |s| {
            Story::bot_reply(
                s,
                GROUP,
                report.message.id,
                "Ticket #1: Wang is taking care of it.",
            )
        })
        .await;

    // Progress: a photo replying to the card reaches the owner under their report.
    let progress = story
        .staff_replies_with_photo(card.id, "washer replaced")
        .await;
    let relayed = story
        .until("the progress photo under the report", |s| {
            s.replies_to(GROUP, report.message.id)
                .into_iter()
                .find(|m| m.is_from_bot() && m.photo.is_some())
        })
        .await;
    assert_eq!(
        relayed.caption.as_deref(),
        Some("Ticket #1 — update from Wang:\nwasher replaced")
    );
    assert_eq!(
        relayed.photo.unwrap().file_unique_id,
        progress.photo.unwrap().file_unique_id
    );
    story
        .until("staff are told it was sent", |s| {
            Story::bot_reply(s, STAFF_CHAT, progress.id, "Sent to the owner of #1.")
        })
        .await;

    // Done: the owner is told and asked, neutrally, for a score.
    let answer = story.staff_presses(card.id, "Done").await;
    assert_eq!(
        answer.text.as_deref(),
        Some("#1 is done. The owner has been asked for a rating.")
    );
    let question = story
        .until("the rating question", |s| {
            Story::bot_reply(s, GROUP, report.message.id, "How satisfied are you")
        })
        .await;
    assert_eq!(
        question.button_labels(),
        vec!["1", "2", "3", "4", "5", "Not fixed yet"]
    );
    let done = story
        .until("the card shows done", |s| {
            s.message(STAFF_CHAT, card.id)
                .filter(|m| m.body().contains("done by Wang"))
        })
        .await;
    assert!(done.buttons.is_empty(), "a done card has no buttons");

    // The owner rates 5: the question becomes the thanks, the card shows the score.
    let answer = story.owner_presses(question.id, "5").await;
    assert_eq!(answer.text.as_deref(), Some("Thank you for your rating."));
    let rated = story
        .until("the question is edited to the thanks", |s| {
            s.message(GROUP, question.id)
                .filter(|m| m.body().starts_with("Thank you. You rated #1"))
        })
        .await;
    assert_eq!(rated.body(), "Thank you. You rated #1: ★★★★★ (5/5).");
    assert!(rated.buttons.is_empty());
    story
        .until("the card shows the score", |s| {
            s.message(STAFF_CHAT, card.id)
                .filter(|m| m.body().contains("rated 5/5"))
        })
        .await;

    // The owner group as the owner sees it: their report and, under it, every step.
    let group: Vec<String> = story.emu.read(|s| {
        s.replies_to(GROUP, report.message.id)
            .iter()
            .map(|m| m.body().to_owned())
            .collect()
    });
    assert_eq!(
        group,
        vec![
            "Received: ticket #1 (Plumbing). Staff will take it within 10 minutes, and you will hear about it here.\nReply to this message to add photos or details.\nTip: set your unit once with /unit 3-1201 so staff know where to go.".to_owned(),
            "Ticket #1: Wang is taking care of it.".to_owned(),
            "Ticket #1 — update from Wang:\nwasher replaced".to_owned(),
            "Ticket #1 is done (Wang).".to_owned(),
            "Thank you. You rated #1: ★★★★★ (5/5).".to_owned(),
        ],
        "{}",
        story.context()
    );
    assert!(story.emu.failed_calls().is_empty(), "{}", story.context());

    // SIGTERM: a clean exit, every update confirmed.
    let status = story.butler.stop().await;
    assert!(status.success(), "exit {status:?}\n{}", story.context());
    assert!(
        story.emu.pending_updates().is_empty(),
        "unconfirmed after a clean stop: {:?}",
        story.emu.pending_updates()
    );
}
