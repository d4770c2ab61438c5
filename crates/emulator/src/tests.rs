//! The emulator answers as Telegram does: checked on the state directly (fast), and over
//! HTTP with teloxide's own client, so that what teloxide sends is what the emulator reads
//! and what the emulator answers is what teloxide parses.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::api::Answer;
use super::*;

const GROUP: i64 = -100_111;
const OWNER: u64 = 100;
const OTHER: u64 = 101;

fn world() -> State {
    let mut s = State::new(Options::default());
    s.add_user(User::new(OWNER, "Li").language("en"));
    s.add_user(User::new(OTHER, "Zhao"));
    s.create_group(GROUP, "Sunrise Garden", &[OWNER, OTHER])
        .unwrap();
    s.create_private_chat(OWNER).unwrap();
    s
}

fn call(s: &mut State, method: &str, params: Value) -> Answer {
    let Value::Object(p) = params else {
        panic!("params must be an object")
    };
    s.call(method, &p, &Uploads::new(), Instant::now())
}

fn error_of(a: &Answer) -> (u16, String) {
    (a.status, a.description().unwrap_or_default())
}

fn update_ids(a: &Answer) -> Vec<i64> {
    a.result()
        .and_then(Value::as_array)
        .expect("a list of updates")
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect()
}

#[test]
fn get_updates_confirms_everything_below_the_offset_and_nothing_else() {
    let mut s = world();
    for text in ["/repair one", "/repair two", "/repair three"] {
        s.user_sends_text(GROUP, OWNER, text, None).unwrap();
    }
    let all = update_ids(&call(&mut s, "getUpdates", json!({})));
    assert_eq!(all.len(), 3);
    // Reading does not confirm: the same three again.
    assert_eq!(update_ids(&call(&mut s, "getUpdates", json!({}))), all);
    // offset = second id: the first is confirmed and gone for good.
    let rest = update_ids(&call(&mut s, "getUpdates", json!({ "offset": all[1] })));
    assert_eq!(rest, all[1..]);
    assert_eq!(s.confirmed_offset() as i64, all[1]);
    assert_eq!(update_ids(&call(&mut s, "getUpdates", json!({}))), all[1..]);
    // limit
    assert_eq!(
        update_ids(&call(&mut s, "getUpdates", json!({ "limit": 1 }))),
        vec![all[1]]
    );
    // Past the last: nothing pending.
    let after = update_ids(&call(&mut s, "getUpdates", json!({ "offset": all[2] + 1 })));
    assert!(after.is_empty());
    assert!(s.pending_updates().is_empty());
}

#[test]
fn a_negative_offset_keeps_only_the_last_updates() {
    let mut s = world();
    for text in ["/a", "/b", "/c"] {
        s.user_sends_text(GROUP, OWNER, text, None).unwrap();
    }
    let last = update_ids(&call(&mut s, "getUpdates", json!({ "offset": -1 })));
    assert_eq!(last.len(), 1);
    assert_eq!(s.pending_updates().len(), 1);
    assert_eq!(s.confirmed_offset() as i64, last[0]);
}

#[test]
fn allowed_updates_is_remembered_and_leaves_other_kinds_unstored() {
    let mut s = world();
    call(
        &mut s,
        "getUpdates",
        json!({ "allowed_updates": ["message", "callback_query"] }),
    );
    let m = s.user_sends_text(GROUP, OWNER, "/repair x", None).unwrap();
    s.user_edits_message(GROUP, m.id, OWNER, "/repair y")
        .unwrap();
    s.bot_removed_from(GROUP).unwrap();
    // A later call without allowed_updates keeps the setting.
    call(&mut s, "getUpdates", json!({ "timeout": 0 }));
    let kinds: Vec<String> = s.pending_updates().into_iter().map(|u| u.kind).collect();
    assert_eq!(kinds, vec!["message"]);
}

#[test]
fn text_is_limited_to_4096_utf16_units_after_trimming() {
    let mut s = world();
    let emoji = "😀".repeat(2048); // 4096 units
    let ok = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": format!("  {emoji}\n") }),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.result().unwrap()["text"], json!(emoji));
    let long = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "😀".repeat(2049) }),
    );
    assert_eq!(
        error_of(&long),
        (400, "Bad Request: message is too long".into())
    );
    let ascii = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "a".repeat(4097) }),
    );
    assert_eq!(ascii.status, 400);
    let empty = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": " \n " }),
    );
    assert_eq!(
        error_of(&empty),
        (400, "Bad Request: message text is empty".into())
    );
    let caption = "漏".repeat(1025);
    let file = s.user_sends_photo(GROUP, OWNER, None, None, None).unwrap();
    let file_id = file.photo.unwrap().file_id;
    let a = call(
        &mut s,
        "sendPhoto",
        json!({ "chat_id": GROUP, "photo": file_id, "caption": caption }),
    );
    assert_eq!(
        error_of(&a),
        (400, "Bad Request: message caption is too long".into())
    );
    assert_eq!(
        s.bot_messages_in(GROUP).len(),
        1,
        "only the first message was sent"
    );
}

#[test]
fn an_edit_that_changes_nothing_is_not_modified() {
    let mut s = world();
    let kb = json!({ "inline_keyboard": [[{ "text": "Take", "callback_data": "take:1" }]] });
    let sent = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "card", "reply_markup": kb }),
    );
    let id = sent.result().unwrap()["message_id"].as_i64().unwrap();
    let same = call(
        &mut s,
        "editMessageText",
        json!({ "chat_id": GROUP, "message_id": id, "text": "card ", "reply_markup": kb }),
    );
    let (status, description) = error_of(&same);
    assert_eq!(status, 400);
    assert!(description.starts_with("Bad Request: message is not modified"));
    // Same text without the keyboard: a change (the keyboard goes).
    let bare = call(
        &mut s,
        "editMessageText",
        json!({ "chat_id": GROUP, "message_id": id, "text": "card" }),
    );
    assert_eq!(bare.status, 200);
    let shown = s.message(GROUP, id as i32).unwrap();
    assert!(shown.buttons.is_empty());
    assert!(shown.edit_date.is_some());
    let markup_again = call(
        &mut s,
        "editMessageReplyMarkup",
        json!({ "chat_id": GROUP, "message_id": id }),
    );
    assert!(error_of(&markup_again).1.contains("not modified"));
}

#[test]
fn a_429_carries_retry_after_in_telegrams_shape() {
    let mut s = world();
    s.faults.push(
        FaultRule::new(Fault::TooManyRequests { retry_after: 3 })
            .method("sendMessage")
            .times(1),
        Instant::now(),
    );
    let a = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "hi" }),
    );
    assert_eq!(a.status, 429);
    assert_eq!(
        a.body,
        super::api::AnswerBody::Json(json!({
            "ok": false,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": { "retry_after": 3 }
        }))
    );
    assert!(
        s.bot_messages_in(GROUP).is_empty(),
        "a refused call sends nothing"
    );
    assert_eq!(
        call(
            &mut s,
            "sendMessage",
            json!({ "chat_id": GROUP, "text": "hi" })
        )
        .status,
        200
    );
    let statuses: Vec<u16> = s.calls_of("sendmessage").iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![429, 200]);
}

#[test]
fn a_lost_answer_still_sends() {
    let mut s = world();
    s.faults
        .push(FaultRule::new(Fault::LostAnswer).times(1), Instant::now());
    let a = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "hi" }),
    );
    assert_eq!(a.status, 502);
    assert!(a.body_text().contains("<html>"));
    assert_eq!(s.bot_messages_in(GROUP).len(), 1);
}

#[test]
fn a_migrated_group_answers_with_its_new_id() {
    let mut s = world();
    let new_id = s.migrate_to_supergroup(GROUP).unwrap();
    let a = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "hi" }),
    );
    assert_eq!(a.status, 400);
    let AnswerBodyJson(body) = AnswerBodyJson::of(&a);
    assert_eq!(body["parameters"]["migrate_to_chat_id"], json!(new_id));
    assert_eq!(
        body["description"],
        "Bad Request: group chat was upgraded to a supergroup chat"
    );
    assert_eq!(
        call(
            &mut s,
            "sendMessage",
            json!({ "chat_id": new_id, "text": "hi" })
        )
        .status,
        200
    );
    let old = s.messages_in(GROUP);
    assert_eq!(
        old.last().unwrap().service,
        Some(Service::MigrateTo(new_id))
    );
    let fresh = s.messages_in(new_id);
    assert_eq!(fresh[0].service, Some(Service::MigrateFrom(GROUP)));
    let kinds: Vec<Value> = s
        .pending_updates()
        .into_iter()
        .map(|u| u.json["message"]["chat"]["id"].clone())
        .collect();
    assert_eq!(kinds, vec![json!(GROUP), json!(new_id)]);
}

struct AnswerBodyJson(Value);

impl AnswerBodyJson {
    fn of(a: &Answer) -> Self {
        match &a.body {
            super::api::AnswerBody::Json(v) => Self(v.clone()),
            other => panic!("not JSON: {other:?}"),
        }
    }
}

#[test]
fn blocked_kicked_and_unknown_chats_are_refused_as_telegram_does() {
    let mut s = world();
    s.block_bot(OWNER);
    let blocked = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": OWNER, "text": "hi" }),
    );
    assert_eq!(
        error_of(&blocked),
        (403, "Forbidden: bot was blocked by the user".into())
    );
    s.bot_removed_from(GROUP).unwrap();
    let kicked = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "hi" }),
    );
    assert_eq!(
        error_of(&kicked),
        (403, "Forbidden: bot was kicked from the group chat".into())
    );
    let unknown = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": -5, "text": "hi" }),
    );
    assert_eq!(
        error_of(&unknown),
        (400, "Bad Request: chat not found".into())
    );
    let never_started = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": OTHER, "text": "hi" }),
    );
    assert_eq!(never_started.status, 403);
}

#[test]
fn files_are_known_only_once_someone_sent_them_and_come_back_with_a_new_id() {
    let mut s = world();
    let unknown = call(
        &mut s,
        "sendPhoto",
        json!({ "chat_id": GROUP, "photo": "AgACnope" }),
    );
    assert_eq!(
        error_of(&unknown),
        (
            400,
            "Bad Request: wrong file identifier/HTTP URL specified".into()
        )
    );
    let theirs = s
        .user_sends_photo(GROUP, OWNER, Some("/repair"), None, None)
        .unwrap()
        .photo
        .unwrap();
    let sent = call(
        &mut s,
        "sendPhoto",
        json!({ "chat_id": GROUP, "photo": theirs.file_id, "caption": "#1" }),
    );
    let sizes = sent.result().unwrap()["photo"].as_array().unwrap().clone();
    let largest = sizes.last().unwrap();
    assert_ne!(largest["file_id"], json!(theirs.file_id));
    assert_eq!(largest["file_unique_id"], json!(theirs.file_unique_id));
    // The new id works too.
    let again = call(
        &mut s,
        "sendPhoto",
        json!({ "chat_id": GROUP, "photo": largest["file_id"] }),
    );
    assert_eq!(again.status, 200);
}

#[test]
fn replies_to_missing_messages_fail_unless_allowed() {
    let mut s = world();
    let missing = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "hi", "reply_parameters": { "message_id": 999 } }),
    );
    assert_eq!(
        error_of(&missing),
        (400, "Bad Request: message to be replied not found".into())
    );
    let allowed = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "hi",
                "reply_parameters": { "message_id": 999, "allow_sending_without_reply": true } }),
    );
    assert_eq!(allowed.status, 200);
    assert!(allowed.result().unwrap().get("reply_to_message").is_none());
    let m = s
        .user_sends_text(GROUP, OWNER, "/repair tap", None)
        .unwrap();
    let reply = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "got it", "reply_parameters": { "message_id": m.id } }),
    );
    assert_eq!(
        reply.result().unwrap()["reply_to_message"]["text"],
        "/repair tap"
    );
}

#[test]
fn callback_data_over_64_bytes_is_refused() {
    let mut s = world();
    let a = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "x",
                "reply_markup": { "inline_keyboard": [[{ "text": "b", "callback_data": "d".repeat(65) }]] } }),
    );
    assert_eq!(
        error_of(&a),
        (400, "Bad Request: BUTTON_DATA_INVALID".into())
    );
}

#[test]
fn a_press_is_answered_once_with_at_most_200_characters() {
    let mut s = world();
    let kb = json!({ "inline_keyboard": [[{ "text": "5", "callback_data": "rate:1:1:5" }]] });
    let sent = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "rate", "reply_markup": kb }),
    );
    let id = sent.result().unwrap()["message_id"].as_i64().unwrap() as i32;
    assert!(matches!(
        s.user_presses_button(GROUP, id, OWNER, "rate:1:1:4"),
        Err(DriverError::NoSuchButton { .. })
    ));
    let q = s.user_presses_label(GROUP, id, OWNER, "5").unwrap();
    let long = call(
        &mut s,
        "answerCallbackQuery",
        json!({ "callback_query_id": q, "text": "x".repeat(201) }),
    );
    assert_eq!(
        error_of(&long),
        (400, "Bad Request: MESSAGE_TOO_LONG".into())
    );
    let ok = call(
        &mut s,
        "answerCallbackQuery",
        json!({ "callback_query_id": q, "text": "Thanks" }),
    );
    assert_eq!(ok.status, 200);
    let twice = call(
        &mut s,
        "answerCallbackQuery",
        json!({ "callback_query_id": q }),
    );
    assert_eq!(twice.status, 400);
    assert_eq!(s.callback_answers()[0].text.as_deref(), Some("Thanks"));
    assert_eq!(s.callback_answers()[0].data, "rate:1:1:5");
}

#[test]
fn in_privacy_mode_the_bot_hears_commands_and_replies_to_itself_only() {
    let mut s = world();
    s.user_sends_text(GROUP, OWNER, "good morning everyone", None)
        .unwrap();
    s.user_sends_text(GROUP, OWNER, "/start@other_bot", None)
        .unwrap();
    s.user_sends_text(GROUP, OWNER, "/repair the lift", None)
        .unwrap();
    let sent = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "ticket #1" }),
    );
    let bot_msg = sent.result().unwrap()["message_id"].as_i64().unwrap() as i32;
    s.user_sends_text(GROUP, OWNER, "it is floor 3", Some(bot_msg))
        .unwrap();
    s.user_sends_text(OWNER as i64, OWNER, "hello", None)
        .unwrap();
    let heard: Vec<String> = s
        .pending_updates()
        .iter()
        .map(|u| u.json["message"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(heard, vec!["/repair the lift", "it is floor 3", "hello"]);
    // Everyone in the group still sees everything.
    assert_eq!(s.messages_in(GROUP).len(), 5);
}

#[test]
fn get_chat_member_answers_member_or_left() {
    let mut s = world();
    s.add_user(User::new(300, "Stranger"));
    let member = call(
        &mut s,
        "getChatMember",
        json!({ "chat_id": GROUP, "user_id": OWNER }),
    );
    assert_eq!(member.result().unwrap()["status"], "member");
    let left = call(
        &mut s,
        "getChatMember",
        json!({ "chat_id": GROUP, "user_id": 300 }),
    );
    assert_eq!(left.result().unwrap()["status"], "left");
    let t: teloxide::types::ChatMember =
        serde_json::from_value(member.result().unwrap().clone()).unwrap();
    assert!(t.is_present());
}

#[test]
fn the_rate_limit_mode_refuses_a_second_message_within_a_second() {
    let mut s = world();
    s.set_rate_limits(Some(RateLimits::telegram()));
    assert_eq!(
        call(
            &mut s,
            "sendMessage",
            json!({ "chat_id": GROUP, "text": "1" })
        )
        .status,
        200
    );
    let second = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "2" }),
    );
    assert_eq!(second.status, 429);
    assert_eq!(s.rate_limited_count(), 1);
    assert_eq!(
        call(
            &mut s,
            "sendMessage",
            json!({ "chat_id": OWNER, "text": "3" })
        )
        .status,
        200
    );
}

#[test]
fn set_my_commands_records_each_scope_and_language() {
    let mut s = world();
    let cmds = json!([{ "command": "repair", "description": "Report a repair" }]);
    for lang in [None, Some("zh")] {
        let mut p = json!({ "commands": cmds, "scope": { "type": "chat", "chat_id": GROUP } });
        if let Some(l) = lang {
            p["language_code"] = json!(l);
        }
        assert_eq!(call(&mut s, "setMyCommands", p).status, 200);
    }
    // Setting one again replaces it.
    call(
        &mut s,
        "setMyCommands",
        json!({ "commands": cmds, "scope": { "type": "chat", "chat_id": GROUP } }),
    );
    assert_eq!(s.commands().len(), 2);
    let bad = call(
        &mut s,
        "setMyCommands",
        json!({ "commands": [{ "command": "Repair!", "description": "x" }] }),
    );
    assert_eq!(bad.status, 400);
    let no_chat = call(
        &mut s,
        "setMyCommands",
        json!({ "commands": cmds, "scope": { "type": "chat", "chat_id": -9 } }),
    );
    assert_eq!(
        error_of(&no_chat),
        (400, "Bad Request: chat not found".into())
    );
}

#[test]
fn every_update_and_answer_parses_as_teloxide_types() {
    use teloxide::types::{Update, UpdateKind};
    let mut s = world();
    let report = s
        .user_sends_photo(GROUP, OWNER, Some("/repair leak"), None, Some("album-1"))
        .unwrap();
    let kb = json!({ "inline_keyboard": [[{ "text": "Take", "callback_data": "take:1" }]] });
    let sent = call(
        &mut s,
        "sendMessage",
        json!({ "chat_id": GROUP, "text": "#1", "reply_markup": kb,
                "reply_parameters": { "message_id": report.id } }),
    );
    let bot_msg: teloxide::types::Message =
        serde_json::from_value(sent.result().unwrap().clone()).unwrap();
    assert_eq!(bot_msg.reply_to_message().unwrap().id.0, report.id);
    assert!(bot_msg.reply_markup().is_some());
    s.user_sends_text(GROUP, OWNER, "floor 3", Some(bot_msg.id.0))
        .unwrap();
    s.user_presses_button(GROUP, bot_msg.id.0, OTHER, "take:1")
        .unwrap();
    s.user_edits_message(GROUP, report.id, OWNER, "/repair big leak")
        .unwrap();
    let new_id = s.migrate_to_supergroup(GROUP).unwrap();
    s.bot_removed_from(new_id).unwrap();
    s.bot_added_to(new_id).unwrap();
    let updates = update_ids(&call(&mut s, "getUpdates", json!({})));
    assert_eq!(updates.len(), 9);
    let parsed: Vec<Update> = s
        .pending_updates()
        .into_iter()
        // As teloxide reads them: from the text of the answer.
        .map(|u| {
            serde_json::from_str(&u.json.to_string()).unwrap_or_else(|e| panic!("{e}: {}", u.json))
        })
        .collect();
    let kinds: Vec<&str> = parsed
        .iter()
        .map(|u| match &u.kind {
            UpdateKind::Message(_) => "message",
            UpdateKind::EditedMessage(_) => "edited_message",
            UpdateKind::CallbackQuery(_) => "callback_query",
            UpdateKind::MyChatMember(_) => "my_chat_member",
            UpdateKind::Error(_) => "error",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "message",
            "message",
            "callback_query",
            "edited_message",
            "message",
            "message",
            "my_chat_member",
            "my_chat_member",
            "message"
        ]
    );
    let UpdateKind::Message(photo) = &parsed[0].kind else {
        unreachable!()
    };
    assert_eq!(photo.caption(), Some("/repair leak"));
    assert_eq!(photo.photo().unwrap().len(), 2);
    assert_eq!(photo.media_group_id().unwrap().0, "album-1");
    let UpdateKind::CallbackQuery(q) = &parsed[2].kind else {
        unreachable!()
    };
    assert_eq!(q.data.as_deref(), Some("take:1"));
    assert!(q.regular_message().is_some());
    let UpdateKind::Message(m) = &parsed[4].kind else {
        unreachable!()
    };
    assert_eq!(m.migrate_to_chat_id().map(|c| c.0), Some(new_id));
    let UpdateKind::Message(m) = &parsed[5].kind else {
        unreachable!()
    };
    assert!(m.chat.is_supergroup());
    let me: teloxide::types::Me =
        serde_json::from_value(call(&mut s, "getMe", json!({})).result().unwrap().clone()).unwrap();
    assert_eq!(me.username(), "butler_test_bot");
}

// ---- over HTTP, with teloxide as the client ------------------------------------------

async fn served() -> (EmulatorHandle, teloxide::Bot) {
    let emu = Emulator::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    emu.write(|s| {
        s.add_user(User::new(OWNER, "Li"));
        s.create_group(GROUP, "Sunrise Garden", &[OWNER]).unwrap();
    });
    let bot = teloxide::Bot::new("1234:TEST").set_api_url(emu.api_url().parse().unwrap());
    (emu, bot)
}

#[tokio::test]
async fn teloxide_requests_json_and_multipart_alike_are_understood() {
    use teloxide::prelude::*;
    use teloxide::types::{
        InlineKeyboardButton, InlineKeyboardMarkup, InputFile, InputMedia, InputMediaPhoto,
        MessageId, ReplyParameters,
    };
    let (emu, bot) = served().await;
    let report = emu
        .user_sends_photo(GROUP, OWNER, Some("/repair tap"), None, None)
        .unwrap();
    let file = report.photo.clone().unwrap().file_id;
    // sendPhoto by file id goes as multipart; nested values as JSON strings.
    let sent = bot
        .send_photo(ChatId(GROUP), InputFile::file_id(file.clone().into()))
        .caption("#1 — photo")
        .reply_parameters(ReplyParameters::new(MessageId(report.id)).allow_sending_without_reply())
        .await
        .unwrap();
    assert_eq!(sent.caption(), Some("#1 — photo"));
    assert_eq!(sent.reply_to_message().unwrap().id.0, report.id);
    let album = bot
        .send_media_group(
            ChatId(GROUP),
            vec![
                InputMedia::Photo(
                    InputMediaPhoto::new(InputFile::file_id(file.clone().into())).caption("two"),
                ),
                InputMedia::Photo(InputMediaPhoto::new(InputFile::file_id(file.into()))),
            ],
        )
        .await
        .unwrap();
    assert_eq!(album.len(), 2);
    assert_eq!(album[0].media_group_id(), album[1].media_group_id());
    let card = bot
        .send_message(ChatId(GROUP), "card")
        .reply_markup(InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("Take", "take:1"),
        ]]))
        .await
        .unwrap();
    let same = bot
        .edit_message_text(ChatId(GROUP), card.id, "card")
        .reply_markup(InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("Take", "take:1"),
        ]]))
        .await;
    assert!(matches!(
        same,
        Err(teloxide::RequestError::Api(
            teloxide::ApiError::MessageNotModified
        ))
    ));
    let shown = emu.messages_in(GROUP);
    assert_eq!(shown.len(), 5);
    assert_eq!(shown[1].reply_to, Some(report.id));
    assert_eq!(shown[4].button_data(), vec!["take:1"]);
    let photo_call = &emu.calls_of("sendPhoto")[0];
    assert_eq!(photo_call.chat_id, Some(GROUP));
    assert_eq!(
        photo_call.params["reply_parameters"]["message_id"],
        json!(report.id)
    );
}

#[tokio::test]
async fn a_long_poll_wakes_when_an_update_arrives() {
    use teloxide::prelude::*;
    let (emu, bot) = served().await;
    let poll = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    emu.wait_for(|s| s.poll_generation == 1, Duration::from_secs(5))
        .await
        .unwrap();
    emu.user_sends_text(GROUP, OWNER, "/repair lift", None)
        .unwrap();
    let updates = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("the poll answered at once")
        .unwrap()
        .unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(emu.calls_of("getUpdates").len(), 1);
}

#[tokio::test]
async fn a_second_get_updates_ends_the_first_with_409() {
    use teloxide::prelude::*;
    let (emu, bot) = served().await;
    let first = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    emu.wait_for(|s| s.poll_generation == 1, Duration::from_secs(5))
        .await
        .unwrap();
    let second = bot.get_updates().timeout(0).await.unwrap();
    assert!(second.is_empty());
    let first = tokio::time::timeout(Duration::from_secs(5), first)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        first,
        Err(teloxide::RequestError::Api(
            teloxide::ApiError::TerminatedByOtherGetUpdates
        ))
    ));
}

#[tokio::test]
async fn a_driver_can_wait_for_a_condition() {
    let (emu, _bot) = served().await;
    let missing = emu
        .wait_for(
            |s| !s.messages_in(GROUP).is_empty(),
            Duration::from_millis(50),
        )
        .await;
    assert!(missing.is_err());
    let emu2 = emu.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        emu2.user_sends_text(GROUP, OWNER, "/repair x", None)
            .unwrap();
    });
    let found = emu
        .wait_find(
            |s| s.messages_in(GROUP).first().map(|m| m.id),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(found, 1);
}

#[test]
fn an_unknown_method_is_not_found_and_still_recorded() {
    let mut s = world();
    let a = call(&mut s, "sendSticker", json!({ "chat_id": GROUP }));
    assert_eq!(error_of(&a), (404, "Not Found".into()));
    // Method names are case-insensitive and recorded by their canonical name.
    assert_eq!(call(&mut s, "GETME", json!({})).status, 200);
    let methods: Vec<&str> = s.calls().iter().map(|c| c.method.as_str()).collect();
    assert_eq!(methods, vec!["sendSticker", "getMe"]);
}

mod files;
