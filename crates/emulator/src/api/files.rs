//! `getFile` and the download that follows it, as Telegram serves them: `getFile` answers
//! a `File` (`file_id`, `file_unique_id`, `file_size`, `file_path`), and
//! `GET {api_url}/file/bot<token>/<file_path>` gives the bytes (see `server`).

use axum::body::Bytes;
use serde_json::{Value, json};

use super::Answer;
use super::params::{Params, string};
use crate::state::{FileMeta, State};

/// The largest file a bot may download (Telegram's 20 MB).
pub const DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

impl State {
    pub(super) fn get_file(&self, p: &Params) -> Result<Value, Answer> {
        let file_id = string(p, "file_id").unwrap_or_default();
        let file_id = file_id.trim();
        let invalid = || Answer::bad("Bad Request: invalid file_id");
        if file_id.is_empty() {
            return Err(invalid());
        }
        let r = self.files.lookup(file_id).ok_or_else(invalid)?;
        let meta = self.files.meta(&r.unique).ok_or_else(invalid)?;
        if meta.file_size > DOWNLOAD_LIMIT {
            return Err(Answer::bad("Bad Request: file is too big"));
        }
        if self.files.contents(&r.unique).is_none() {
            return Err(Answer::bad("Bad Request: file is temporarily unavailable"));
        }
        let unique = if r.thumbnail {
            format!("{}_t", r.unique)
        } else {
            r.unique.clone()
        };
        Ok(json!({
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": meta.file_size,
            "file_path": meta.file_path,
        }))
    }

    /// The file at `file_path` (from `getFile`) and its bytes, if kept; recorded in
    /// [`State::downloads`].
    pub(crate) fn download(&mut self, file_path: &str) -> Option<(FileMeta, Bytes)> {
        self.files.download(file_path)
    }
}
