//! Files: uploads kept, `sendDocument`, `getFile` and the download, the memory bound.

use std::time::Instant;

use serde_json::{Value, json};

use super::{GROUP, OWNER, call, error_of, served, world};
use crate::api::Answer;
use crate::*;

/// A JPEG of the sandbox's samples (640 × 480).
const JPEG: &[u8] = include_bytes!("../../../../assets/sandbox/samples/tap-leak.jpg");

fn uploads(name: &str, upload: Upload) -> Uploads {
    Uploads::from([(name.to_owned(), upload)])
}

fn call_with(s: &mut State, method: &str, params: Value, files: &Uploads) -> Answer {
    let Value::Object(p) = params else {
        panic!("params must be an object")
    };
    s.call(method, &p, files, Instant::now())
}

#[test]
fn pictures_are_known_by_their_bytes_with_their_size() {
    use crate::state::{STOCK_PHOTO, image_size, image_type};
    assert_eq!(image_type(JPEG), Some(("image/jpeg", "jpg")));
    assert_eq!(image_size(JPEG), Some((640, 480)));
    assert_eq!(image_type(STOCK_PHOTO), Some(("image/png", "png")));
    assert_eq!(image_size(STOCK_PHOTO), Some((160, 120)));
    assert_eq!(image_size(b"GIF89a\x02\x01\x03\x00"), Some((258, 3)));
    assert_eq!(image_type(b"<svg/>"), None);
    assert_eq!(
        image_size(b"\xFF\xD8\xFF"),
        None,
        "a cut-off JPEG has no size"
    );
}

#[test]
fn an_uploaded_photo_keeps_its_bytes_and_what_is_not_a_picture_is_refused() {
    let mut s = world();
    let sent = call_with(
        &mut s,
        "sendPhoto",
        json!({ "chat_id": GROUP }),
        &uploads("photo", Upload::new(JPEG).named("chart.jpg")),
    );
    let sizes = sent.result().unwrap()["photo"].as_array().unwrap().clone();
    let largest = sizes.last().unwrap();
    assert_eq!(
        (largest["width"].clone(), largest["height"].clone()),
        (json!(640), json!(480))
    );
    assert_eq!(largest["file_size"], json!(JPEG.len()));
    assert_eq!(sizes[0]["width"], json!(90), "the thumbnail's longer side");
    let unique = largest["file_unique_id"].as_str().unwrap();
    let (meta, bytes) = s.file_contents(unique).unwrap();
    assert_eq!(&bytes[..], JPEG);
    assert_eq!(meta.mime_type, "image/jpeg");
    assert!(meta.file_path.starts_with("photos/") && meta.file_path.ends_with(".jpg"));

    let text = call_with(
        &mut s,
        "sendPhoto",
        json!({ "chat_id": GROUP }),
        &uploads("photo", Upload::new(&b"not a picture"[..]).named("a.jpg")),
    );
    assert_eq!(
        error_of(&text),
        (400, "Bad Request: IMAGE_PROCESS_FAILED".into())
    );
    let empty = call_with(
        &mut s,
        "sendPhoto",
        json!({ "chat_id": GROUP }),
        &uploads("photo", Upload::new(Vec::new()).named("a.jpg")),
    );
    assert_eq!(
        error_of(&empty),
        (400, "Bad Request: file must be non-empty".into())
    );
    assert_eq!(s.bot_messages_in(GROUP).len(), 1);
}

#[test]
fn get_file_gives_the_path_of_a_photo_someone_sent_and_refuses_unknown_ids() {
    let mut s = world();
    let msg = s
        .user_sends_photo_file(GROUP, OWNER, JPEG.into(), Some("/repair tap"), None)
        .unwrap();
    let photo = msg.photo.unwrap();
    let file = call(&mut s, "getFile", json!({ "file_id": photo.file_id }));
    let f = file.result().unwrap();
    assert_eq!(f["file_id"], json!(photo.file_id));
    assert_eq!(f["file_unique_id"], json!(photo.file_unique_id));
    assert_eq!(f["file_size"], json!(JPEG.len()));
    let path = f["file_path"].as_str().unwrap().to_owned();
    let (meta, bytes) = s.download(&path).unwrap();
    assert_eq!((&bytes[..], meta.mime_type.as_str()), (JPEG, "image/jpeg"));
    assert_eq!(s.downloads(), std::slice::from_ref(&path));
    // The thumbnail's id names the same picture under its own unique id.
    let thumb = call(
        &mut s,
        "getFile",
        json!({ "file_id": photo.thumbnail_id() }),
    );
    assert_eq!(
        thumb.result().unwrap()["file_unique_id"],
        json!(format!("{}_t", photo.file_unique_id))
    );
    // A photo sent without bytes shows the stock picture.
    let plain = s
        .user_sends_photo(GROUP, OWNER, None, None, None)
        .unwrap()
        .photo
        .unwrap();
    let f = call(&mut s, "getFile", json!({ "file_id": plain.file_id }));
    let path = f.result().unwrap()["file_path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(&s.download(&path).unwrap().1[..], crate::state::STOCK_PHOTO);
    assert_eq!(
        s.kept_file_bytes(),
        JPEG.len(),
        "the stock picture costs nothing"
    );

    for bad in [json!({ "file_id": "AgACnope" }), json!({})] {
        let a = call(&mut s, "getFile", bad);
        assert_eq!(error_of(&a), (400, "Bad Request: invalid file_id".into()));
    }
    assert!(s.download("photos/file_999.jpg").is_none());
    assert!(
        s.user_sends_photo_file(GROUP, OWNER, "<svg/>".into(), None, None)
            .is_err()
    );
}

#[test]
fn documents_are_sent_by_upload_and_by_id_with_caption_and_reply_but_not_as_photos() {
    let mut s = world();
    let report = s.user_sends_text(GROUP, OWNER, "/export", None).unwrap();
    let xlsx = b"PK\x03\x04 a workbook".to_vec();
    let sent = call_with(
        &mut s,
        "sendDocument",
        json!({
            "chat_id": GROUP,
            "caption": "Export: 30 days",
            "reply_parameters": json!({ "message_id": report.id }).to_string(),
        }),
        &uploads(
            "document",
            Upload::new(xlsx.clone()).named("butler-export.xlsx"),
        ),
    );
    let r = sent.result().expect("sent").clone();
    assert_eq!(r["caption"], "Export: 30 days");
    assert_eq!(r["reply_to_message"]["message_id"], json!(report.id));
    let doc = &r["document"];
    assert_eq!(doc["file_name"], "butler-export.xlsx");
    assert_eq!(
        doc["mime_type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(doc["file_size"], json!(xlsx.len()));
    let shown = s.bot_messages_in(GROUP);
    let kept = shown[0].document.clone().expect("a document message");
    assert_eq!(kept.file_name.as_deref(), Some("butler-export.xlsx"));

    let file_id = doc["file_id"].as_str().unwrap();
    let f = call(&mut s, "getFile", json!({ "file_id": file_id }));
    let path = f.result().unwrap()["file_path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        path.starts_with("documents/") && path.ends_with(".xlsx"),
        "{path}"
    );
    assert_eq!(s.download(&path).unwrap().1.to_vec(), xlsx);

    let again = call(
        &mut s,
        "sendDocument",
        json!({ "chat_id": GROUP, "document": file_id }),
    );
    let again = &again.result().unwrap()["document"];
    assert_eq!(again["file_unique_id"], doc["file_unique_id"]);
    assert_eq!(again["file_name"], "butler-export.xlsx");

    let as_photo = call(
        &mut s,
        "sendPhoto",
        json!({ "chat_id": GROUP, "photo": file_id }),
    );
    assert_eq!(
        error_of(&as_photo),
        (400, "Bad Request: type of file mismatch".into())
    );
    let none = call(&mut s, "sendDocument", json!({ "chat_id": GROUP }));
    assert_eq!(
        error_of(&none),
        (
            400,
            "Bad Request: there is no document in the request".into()
        )
    );
    let caption = call(
        &mut s,
        "editMessageCaption",
        json!({ "chat_id": GROUP, "message_id": shown[0].id, "caption": "new" }),
    );
    assert_eq!(caption.status, 200, "a document's caption can be edited");
}

#[test]
fn file_memory_is_bounded_and_the_oldest_contents_go_first() {
    let mut s = State::new(Options {
        file_memory: 2_500,
        ..Options::default()
    });
    s.add_user(User::new(OWNER, "Li"));
    s.create_group(GROUP, "Sunrise Garden", &[OWNER]).unwrap();
    let mut ids = Vec::new();
    for n in 0..3 {
        let a = call_with(
            &mut s,
            "sendDocument",
            json!({ "chat_id": GROUP }),
            &uploads("document", Upload::new(vec![n; 1_000]).named("r.csv")),
        );
        ids.push(
            a.result().unwrap()["document"]["file_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert!(s.kept_file_bytes() <= 2_500, "{}", s.kept_file_bytes());
    let first = call(&mut s, "getFile", json!({ "file_id": ids[0] }));
    assert_eq!(
        error_of(&first),
        (400, "Bad Request: file is temporarily unavailable".into())
    );
    // Its id still sends.
    let resent = call(
        &mut s,
        "sendDocument",
        json!({ "chat_id": GROUP, "document": ids[0] }),
    );
    assert_eq!(resent.status, 200);
    for id in &ids[1..] {
        let f = call(&mut s, "getFile", json!({ "file_id": id }));
        let path = f.result().unwrap()["file_path"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(s.download(&path).unwrap().1.len(), 1_000);
    }
}

#[tokio::test]
async fn teloxide_fetches_a_photo_through_get_file_and_the_download_and_sends_documents() {
    use teloxide::net::Download;
    use teloxide::prelude::*;
    use teloxide::types::{InputFile, MessageId, ReplyParameters};
    let (emu, bot) = served().await;
    let report = emu
        .user_sends_photo_file(GROUP, OWNER, JPEG, Some("/repair tap"), None)
        .unwrap();
    let photo = report.photo.clone().unwrap();
    let file = bot.get_file(photo.file_id.clone().into()).await.unwrap();
    assert_eq!(file.meta.unique_id.0, photo.file_unique_id);
    assert_eq!(file.meta.size as usize, JPEG.len());
    let mut got = Vec::new();
    bot.download_file(&file.path, &mut got).await.unwrap();
    assert_eq!(got, JPEG);
    assert_eq!(
        emu.read(|s| s.downloads().to_vec()),
        vec![file.path.clone()]
    );
    // The same URL by hand: the bytes and their type.
    let url = emu.file_url("1234:TEST", &file.path);
    let (status, content_type, body) = http_get(&url).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    assert_eq!(body, JPEG);
    let (status, _, body) = http_get(&emu.file_url("1234:TEST", "photos/nope.jpg")).await;
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("\"Not Found\""));

    let workbook = b"PK\x03\x04 a workbook".to_vec();
    let sent = bot
        .send_document(
            ChatId(GROUP),
            InputFile::memory(workbook.clone()).file_name("butler-export.xlsx"),
        )
        .caption("Export")
        .reply_parameters(ReplyParameters::new(MessageId(report.id)))
        .await
        .unwrap();
    let doc = sent.document().expect("a document");
    assert_eq!(doc.file_name.as_deref(), Some("butler-export.xlsx"));
    assert_eq!(sent.caption(), Some("Export"));
    assert_eq!(sent.reply_to_message().unwrap().id.0, report.id);
    let file = bot.get_file(doc.file.id.clone()).await.unwrap();
    let mut got = Vec::new();
    bot.download_file(&file.path, &mut got).await.unwrap();
    assert_eq!(got, workbook);
    // A chart goes up as a photo upload, and comes back as the same PNG.
    let chart = bot
        .send_photo(
            ChatId(GROUP),
            InputFile::memory(crate::state::STOCK_PHOTO).file_name("chart.png"),
        )
        .await
        .unwrap();
    let unique = &chart.photo().unwrap().last().unwrap().file.unique_id.0;
    let (meta, bytes) = emu.file_contents(unique).unwrap();
    assert_eq!(
        (&bytes[..], meta.mime_type.as_str()),
        (crate::state::STOCK_PHOTO, "image/png")
    );
}

#[test]
fn an_unknown_method_reads_as_an_invalid_token_in_teloxide() {
    // Why the sandbox once logged "Invalid bot token" for /export: Telegram answers an
    // unknown method and a bad token alike (404 "Not Found"), and teloxide reads that as
    // `ApiError::InvalidToken`. The emulator had no sendDocument.
    let mut s = world();
    let a = call(
        &mut s,
        "sendDocument",
        json!({ "chat_id": GROUP, "document": "x" }),
    );
    assert_ne!(a.status, 404, "sendDocument is a method now");
    let unknown = call(&mut s, "sendSticker", json!({ "chat_id": GROUP }));
    let parsed: teloxide::ApiError =
        serde_json::from_value(json!(unknown.description().unwrap())).unwrap();
    assert_eq!(parsed, teloxide::ApiError::InvalidToken);
}

/// A plain HTTP GET: status, content type, body.
async fn http_get(url: &str) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, raw[split + 4..].to_vec())
}
