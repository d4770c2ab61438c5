//! Files: every file id the bot may send again, and the bytes behind them, as Telegram's
//! servers keep them for `getFile` and the download (`GET /file/bot<token>/<file_path>`).
//!
//! Contents are kept in memory within [`Options::file_memory`](super::Options) bytes
//! (64 MiB by default): past it, the oldest contents are forgotten first (their ids still
//! work for sending; `getFile` then answers "file is temporarily unavailable"). A photo a
//! driver sends without a picture shows the stock picture, which costs nothing.

use std::collections::{HashMap, VecDeque};

use axum::body::Bytes;
use serde::Serialize;

use crate::model::{Document, Photo};

/// The picture behind a photo a driver sends without bytes (`assets/stock-photo.png`).
pub const STOCK_PHOTO: &[u8] = include_bytes!("../../assets/stock-photo.png");

/// A file part of a multipart call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub bytes: Bytes,
    /// The part's `filename`.
    pub file_name: Option<String>,
    /// The part's `Content-Type`, if it had one.
    pub content_type: Option<String>,
}

impl Upload {
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self {
            bytes: bytes.into(),
            file_name: None,
            content_type: None,
        }
    }

    pub fn named(mut self, file_name: impl Into<String>) -> Self {
        self.file_name = Some(file_name.into());
        self
    }
}

/// A call's uploaded parts, by part name (`photo`, `document`, or an `attach://` name).
pub type Uploads = HashMap<String, Upload>;

/// What a file was sent as; a file id of one kind is refused as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Photo,
    Document,
}

/// What the emulator knows of a file, kept for as long as it runs (its bytes may go).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMeta {
    pub file_unique_id: String,
    pub kind: FileKind,
    /// Where the download finds it: `photos/file_3.png`, `documents/file_4.xlsx`.
    pub file_path: String,
    pub file_size: u64,
    pub mime_type: String,
    pub file_name: Option<String>,
    /// Photos' pixels (0 for documents).
    pub width: u32,
    pub height: u32,
}

/// A file id the bot may use: its file, and whether it names the photo's thumbnail.
#[derive(Debug, Clone)]
pub(crate) struct FileRef {
    pub unique: String,
    pub thumbnail: bool,
}

/// The file store. Private fields: files come in through `new_photo`, `new_document` and
/// `reissue`, so that the memory bound holds.
#[derive(Debug)]
pub(crate) struct Files {
    ids: HashMap<String, FileRef>,
    meta: HashMap<String, FileMeta>,
    paths: HashMap<String, String>,
    contents: HashMap<String, Bytes>,
    /// Kept contents that count against the bound, oldest first.
    order: VecDeque<String>,
    kept_bytes: usize,
    limit: usize,
    next: u64,
    downloads: Vec<String>,
}

impl Files {
    pub fn new(limit: usize) -> Self {
        Self {
            ids: HashMap::new(),
            meta: HashMap::new(),
            paths: HashMap::new(),
            contents: HashMap::new(),
            order: VecDeque::new(),
            kept_bytes: 0,
            limit,
            next: 1,
            downloads: Vec::new(),
        }
    }

    /// A fresh number, for file ids and album ids.
    pub fn next_number(&mut self) -> u64 {
        let n = self.next;
        self.next += 1;
        n
    }

    /// A new photo file, known from now on: `bytes` must be a picture (see
    /// [`image_type`]); `None` stands for the stock picture.
    pub fn new_photo(&mut self, bytes: Option<Bytes>) -> Photo {
        let counted = bytes.is_some();
        let bytes = bytes.unwrap_or_else(|| Bytes::from_static(STOCK_PHOTO));
        let (mime, ext) = image_type(&bytes).unwrap_or(("image/jpeg", "jpg"));
        let (width, height) = image_size(&bytes).unwrap_or((1280, 960));
        let n = self.next_number();
        let meta = FileMeta {
            file_unique_id: format!("AQAD{n:06}"),
            kind: FileKind::Photo,
            file_path: format!("photos/file_{n}.{ext}"),
            file_size: bytes.len() as u64,
            mime_type: mime.to_owned(),
            file_name: None,
            width,
            height,
        };
        let photo = photo_of(format!("AgACAgUAAxkBAAI{n:06}"), &meta);
        self.add(meta, bytes, counted);
        self.know_photo(&photo);
        photo
    }

    /// A new document file from an upload: its type from the name, as Telegram guesses it.
    pub fn new_document(&mut self, upload: &Upload) -> Document {
        let n = self.next_number();
        let file_name = upload
            .file_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("file_{n}"));
        let ext = extension(&file_name);
        let mime = mime_of(&ext)
            .map(str::to_owned)
            .or_else(|| upload.content_type.clone())
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let path_ext = if ext.is_empty() { "bin".into() } else { ext };
        let meta = FileMeta {
            file_unique_id: format!("AgAD{n:06}"),
            kind: FileKind::Document,
            file_path: format!("documents/file_{n}.{path_ext}"),
            file_size: upload.bytes.len() as u64,
            mime_type: mime,
            file_name: Some(file_name),
            width: 0,
            height: 0,
        };
        let doc = document_of(format!("BQACAgUAAxkBAAI{n:06}"), &meta);
        self.add(meta, upload.bytes.clone(), true);
        self.ids
            .insert(doc.file_id.clone(), plain(&doc.file_unique_id));
        doc
    }

    /// The same photo under a new id, as Telegram returns for a photo a bot sends on.
    pub fn reissue_photo(&mut self, unique: &str) -> Option<Photo> {
        let meta = self.meta.get(unique)?.clone();
        let n = self.next_number();
        let photo = photo_of(format!("AgACAgUAAxkDAAI{n:06}"), &meta);
        self.know_photo(&photo);
        Some(photo)
    }

    /// The same document under a new id.
    pub fn reissue_document(&mut self, unique: &str) -> Option<Document> {
        let meta = self.meta.get(unique)?.clone();
        let n = self.next_number();
        let doc = document_of(format!("BQACAgUAAxkDAAI{n:06}"), &meta);
        self.ids.insert(doc.file_id.clone(), plain(unique));
        Some(doc)
    }

    fn know_photo(&mut self, photo: &Photo) {
        self.ids
            .insert(photo.file_id.clone(), plain(&photo.file_unique_id));
        let thumbnail = FileRef {
            unique: photo.file_unique_id.clone(),
            thumbnail: true,
        };
        self.ids.insert(photo.thumbnail_id(), thumbnail);
    }

    fn add(&mut self, meta: FileMeta, bytes: Bytes, counted: bool) {
        let unique = meta.file_unique_id.clone();
        self.paths.insert(meta.file_path.clone(), unique.clone());
        self.meta.insert(unique.clone(), meta);
        if counted {
            self.kept_bytes += bytes.len();
            self.order.push_back(unique.clone());
        }
        self.contents.insert(unique.clone(), bytes);
        // The oldest go first; the newest stays even when it alone is over the bound.
        while self.kept_bytes > self.limit && self.order.len() > 1 {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(b) = self.contents.remove(&old) {
                self.kept_bytes -= b.len();
            }
        }
    }

    pub fn lookup(&self, file_id: &str) -> Option<&FileRef> {
        self.ids.get(file_id)
    }

    pub fn meta(&self, unique: &str) -> Option<&FileMeta> {
        self.meta.get(unique)
    }

    /// The bytes of a file, while kept.
    pub fn contents(&self, unique: &str) -> Option<Bytes> {
        self.contents.get(unique).cloned()
    }

    /// A download: the file at `path`, if its bytes are kept; recorded.
    pub fn download(&mut self, path: &str) -> Option<(FileMeta, Bytes)> {
        let unique = self.paths.get(path)?;
        let bytes = self.contents.get(unique)?.clone();
        let meta = self.meta.get(unique)?.clone();
        self.downloads.push(path.to_owned());
        Some((meta, bytes))
    }

    pub fn downloads(&self) -> &[String] {
        &self.downloads
    }

    /// Bytes kept that count against the bound.
    pub fn kept_bytes(&self) -> usize {
        self.kept_bytes
    }
}

fn plain(unique: &str) -> FileRef {
    FileRef {
        unique: unique.to_owned(),
        thumbnail: false,
    }
}

fn photo_of(file_id: String, meta: &FileMeta) -> Photo {
    Photo {
        file_id,
        file_unique_id: meta.file_unique_id.clone(),
        width: meta.width,
        height: meta.height,
        file_size: meta.file_size,
    }
}

fn document_of(file_id: String, meta: &FileMeta) -> Document {
    Document {
        file_id,
        file_unique_id: meta.file_unique_id.clone(),
        file_name: meta.file_name.clone(),
        mime_type: meta.mime_type.clone(),
        file_size: meta.file_size,
    }
}

/// A file name's extension, lower case, without the dot ("" when none).
fn extension(file_name: &str) -> String {
    match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 8 => ext
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// The MIME type Telegram gives a document by its extension.
fn mime_of(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "csv" => "text/csv",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => return None,
    })
}

/// A picture's type by its first bytes (PNG, JPEG, GIF, WebP): MIME type and extension.
/// Telegram refuses anything else as a photo.
pub fn image_type(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("image/gif", "gif"))
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

/// A picture's width and height from its header (PNG, GIF, JPEG).
pub fn image_size(b: &[u8]) -> Option<(u32, u32)> {
    let be16 = |at: usize| Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32);
    let be32 = |at: usize| Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?));
    let le16 = |at: usize| Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32);
    match image_type(b)?.0 {
        "image/png" => Some((be32(16)?, be32(20)?)),
        "image/gif" => Some((le16(6)?, le16(8)?)),
        "image/jpeg" => {
            // Walk the segments to the frame header (SOF0..SOF15 but DHT, JPG, DAC).
            let mut at = 2;
            loop {
                if *b.get(at)? != 0xFF {
                    return None;
                }
                let marker = *b.get(at + 1)?;
                let len = be16(at + 2)? as usize;
                if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
                    return Some((be16(at + 7)?, be16(at + 5)?));
                }
                at += 2 + len;
            }
        }
        _ => None,
    }
}
