//! Forgetting an owner (`butler forget-owner`): what the database holds of one person as
//! an owner is replaced with a placeholder, in one transaction, while every row that a
//! figure counts stays (tickets, events, ratings, photos keep their rows and times).
//!
//! - `owners`: the name becomes the placeholder and the watch-list mark is cleared (the
//!   unit and language stay: the unit belongs to the flat, not the person).
//! - `tickets` they reported: the text becomes the placeholder (unit, category, times,
//!   status stay).
//! - `ticket_events` they made on their own tickets (the report, details they added,
//!   ratings, comments): their name and the event's text become the placeholder.
//! - `ratings` they gave: the comment becomes the placeholder; the score stays.
//! - `photos` they added to their own tickets: the Telegram file id (which fetches the
//!   picture) becomes the placeholder.
//! - `private_chats`, `unreachable_chats`: their rows are deleted.
//! - `outbox`: messages to their private chat and messages about their tickets (a
//!   `ticket_id` anywhere in the payload) are deleted; so are sent or failed messages
//!   whose text holds their name or one of their texts. A message still waiting to be
//!   sent to others is kept unless it is about their tickets.
//! - `outbox_files`: files (exports, charts) no unsent message needs are deleted at once,
//!   not after the usual week: an export holds names.
//! - `inbox`: updates in which they appear as a Telegram user or private chat (any
//!   integer `id` equal to their user id anywhere in the update's JSON: the sender of a
//!   message, edit, button press or member change, a replied-to message's author, their
//!   private chat) are deleted, and handled updates whose text holds their name or one of
//!   their texts (another person's reply quoting them, a reply to a card).
//!
//! Texts are looked for by their first line's first [`NEEDLE_CHARS`] characters (cards
//! and lists shorten a text, never cut its start); one shorter than [`MIN_NEEDLE_CHARS`]
//! is not looked for, so that a short name or "ok" does not match other people's rows.

use super::db::Conn;
use super::{Result, Sql, Store, query, query_as, query_scalar};

/// How much of a text is looked for in stored messages and updates.
pub const NEEDLE_CHARS: usize = 12;
/// Texts shorter than this are not looked for in stored messages and updates.
pub const MIN_NEEDLE_CHARS: usize = 4;

/// What [`Store::forget_owner`] changed: rows anonymised, then rows deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Forgotten {
    /// Whether the owner was known.
    pub owner: bool,
    pub tickets: u64,
    pub events: u64,
    pub ratings: u64,
    pub photos: u64,
    pub outbox: u64,
    pub outbox_files: u64,
    pub inbox: u64,
    /// Rows of `private_chats` and `unreachable_chats`.
    pub chats: u64,
}

/// The owner's own tickets, as a subquery on `?1` (the user id).
const OWN_TICKETS: &str = "(SELECT id FROM tickets WHERE owner_id = ?1)";

impl Store {
    /// Replaces what the database holds of owner `user_id` with `placeholder` and deletes
    /// the messages and updates that hold it, in one transaction (see the module notes).
    pub async fn forget_owner(&self, user_id: u64, placeholder: &str) -> Result<Forgotten> {
        let mut tx = self.write_tx().await?;
        let user = user_id as i64;
        let known: bool = query_scalar("SELECT EXISTS (SELECT 1 FROM owners WHERE user_id = ?)")
            .bind(user)
            .fetch_one(&mut tx)
            .await?;
        if !known {
            return Ok(Forgotten::default());
        }
        let needles = serde_json::to_string(&needles(&mut tx, user).await?)
            .map_err(|e| super::Error::Corrupt(e.to_string()))?;
        // ?1 the user id, ?2 the placeholder, ?3 the needles: bound as far as used.
        let mut run = async |sql: Sql<'_>| -> Result<u64> {
            let uses = |p: &str| match &sql {
                Sql::Same(s) => s.contains(p),
                Sql::Each { sqlite, postgres } => sqlite.contains(p) || postgres.contains(p),
            };
            let (second, third) = (uses("?2") || uses("?3"), uses("?3"));
            let mut query = query(sql).bind(user);
            if second {
                query = query.bind(placeholder);
            }
            if third {
                query = query.bind(needles.as_str());
            }
            Ok(query.execute(&mut tx).await?.rows_affected())
        };
        let forgotten = Forgotten {
            owner: run("UPDATE owners SET name = ?2, watched = FALSE WHERE user_id = ?1".into())
                .await?
                > 0,
            tickets: run("UPDATE tickets SET text = ?2 WHERE owner_id = ?1".into()).await?,
            events: run(format!(
                "UPDATE ticket_events
                 SET actor_name = ?2, detail = CASE WHEN detail IS NULL THEN NULL ELSE ?2 END
                 WHERE actor_id = ?1 AND ticket_id IN {OWN_TICKETS}"
            )
            .into())
            .await?,
            ratings: run(
                "UPDATE ratings SET comment = ?2 WHERE owner_id = ?1 AND comment IS NOT NULL"
                    .into(),
            )
            .await?,
            photos: run(format!(
                "UPDATE photos SET file_id = ?2 WHERE added_by = ?1 AND ticket_id IN {OWN_TICKETS}"
            )
            .into())
            .await?,
            chats: run("DELETE FROM private_chats WHERE user_id = ?1".into()).await?
                + run("DELETE FROM unreachable_chats WHERE chat_id = ?1".into()).await?,
            outbox: run(Sql::each(FORGET_OUTBOX, FORGET_OUTBOX_PG)).await?,
            outbox_files: run(Sql::each(
                "DELETE FROM outbox_files WHERE id NOT IN (
                     SELECT json_extract(payload, '$.file') FROM outbox
                     WHERE sent_at IS NULL AND failed IS NULL
                       AND json_extract(payload, '$.file') IS NOT NULL)",
                "DELETE FROM outbox_files WHERE id NOT IN (
                     SELECT (payload::jsonb ->> 'file')::bigint FROM outbox
                     WHERE sent_at IS NULL AND failed IS NULL
                       AND payload::jsonb ->> 'file' IS NOT NULL)",
            ))
            .await?,
            inbox: run(Sql::each(FORGET_INBOX, FORGET_INBOX_PG)).await?,
        };
        tx.commit().await?;
        Ok(forgotten)
    }
}

impl Store {
    /// Every `table.column` of the database where `text` occurs in some row (blobs read as
    /// text): to check that a person was forgotten.
    pub async fn columns_holding(&self, text: &str) -> Result<Vec<String>> {
        // (table, column, whether PostgreSQL holds it as bytes)
        let columns: Vec<(String, String, bool)> = query_as(Sql::each(
            "SELECT m.name, c.name, FALSE FROM sqlite_schema m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'
             ORDER BY m.name, c.cid",
            "SELECT c.table_name::text, c.column_name::text, c.data_type = 'bytea'
             FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
               AND c.table_name NOT LIKE '\\_sqlx%'
             ORDER BY c.table_name COLLATE \"C\", c.ordinal_position",
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut found = Vec::new();
        for (table, column, bytes) in columns {
            // SQLite reads a blob as text; PostgreSQL looks for the text's bytes.
            let pg = if bytes {
                format!("position(convert_to(?, 'UTF8') IN \"{column}\")")
            } else {
                format!("strpos(CAST(\"{column}\" AS TEXT), ?)")
            };
            let sql = Sql::each(
                format!(
                    "SELECT EXISTS (SELECT 1 FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), ?) > 0)"
                ),
                format!("SELECT EXISTS (SELECT 1 FROM \"{table}\" WHERE {pg} > 0)"),
            );
            let hit: bool = query_scalar(&sql).bind(text).fetch_one(&self.pool).await?;
            if hit {
                found.push(format!("{table}.{column}"));
            }
        }
        Ok(found)
    }
}

/// Outbox rows to their private chat or about their tickets, and done rows holding one of
/// their texts (`?3`, a JSON array); payloads are read decoded, whatever their escaping.
const FORGET_OUTBOX: &str = "DELETE FROM outbox WHERE chat_id = ?1 OR id IN (
    SELECT o.id FROM outbox o, json_tree(o.payload) j
    WHERE (j.key = 'ticket_id' AND j.atom IN (SELECT id FROM tickets WHERE owner_id = ?1))
       OR ((o.sent_at IS NOT NULL OR o.failed IS NOT NULL) AND j.type = 'text'
           AND EXISTS (SELECT 1 FROM json_each(?3) n WHERE instr(j.atom, n.value) > 0)))";

/// [`FORGET_OUTBOX`] on PostgreSQL: every value of the payload (`strict $.**`) read
/// through jsonpath, whatever its depth.
const FORGET_OUTBOX_PG: &str = "DELETE FROM outbox WHERE chat_id = ?1 OR id IN (
    SELECT o.id FROM outbox o
    WHERE EXISTS (SELECT 1 FROM jsonb_path_query(o.payload::jsonb, 'strict $.**.ticket_id', '{}', true) t
                  WHERE t #>> '{}' IN (SELECT id::text FROM tickets WHERE owner_id = ?1))
       OR ((o.sent_at IS NOT NULL OR o.failed IS NOT NULL)
           AND EXISTS (SELECT 1
                       FROM jsonb_path_query(o.payload::jsonb, 'strict $.** ? (@.type() == \"string\")', '{}', true) j,
                            jsonb_array_elements_text(?3::jsonb) n
                       WHERE strpos(j #>> '{}', n) > 0)))";

/// Updates in which they appear as a user or private chat, and handled ones holding one
/// of their texts.
const FORGET_INBOX: &str = "DELETE FROM inbox WHERE update_id IN (
    SELECT i.update_id FROM inbox i, json_tree(i.payload) j
    WHERE (j.key = 'id' AND j.type = 'integer' AND j.atom = ?1)
       OR (i.handled_at IS NOT NULL AND j.type = 'text'
           AND EXISTS (SELECT 1 FROM json_each(?3) n WHERE instr(j.atom, n.value) > 0)))";

/// [`FORGET_INBOX`] on PostgreSQL.
const FORGET_INBOX_PG: &str = "DELETE FROM inbox WHERE update_id IN (
    SELECT i.update_id FROM inbox i
    WHERE jsonb_path_exists(i.payload::jsonb, 'strict $.**.id ? (@.type() == \"number\" && @ == $user)',
                            jsonb_build_object('user', ?1::bigint), true)
       OR (i.handled_at IS NOT NULL
           AND EXISTS (SELECT 1
                       FROM jsonb_path_query(i.payload::jsonb, 'strict $.** ? (@.type() == \"string\")', '{}', true) j,
                            jsonb_array_elements_text(?3::jsonb) n
                       WHERE strpos(j #>> '{}', n) > 0)))";

/// The starts of the owner's name and texts that are long enough to look for.
async fn needles(tx: &mut Conn<'_>, user: i64) -> Result<Vec<String>> {
    let texts: Vec<String> = query_scalar(format!(
        "SELECT name FROM owners WHERE user_id = ?1
         UNION SELECT text FROM tickets WHERE owner_id = ?1
         UNION SELECT detail FROM ticket_events
               WHERE actor_id = ?1 AND detail IS NOT NULL AND ticket_id IN {OWN_TICKETS}
         UNION SELECT comment FROM ratings WHERE owner_id = ?1 AND comment IS NOT NULL
         UNION SELECT file_id FROM photos WHERE added_by = ?1 AND ticket_id IN {OWN_TICKETS}"
    ))
    .bind(user)
    .fetch_all(&mut *tx)
    .await?;
    let mut needles: Vec<String> = texts.iter().filter_map(|t| needle(t)).collect();
    needles.sort();
    needles.dedup();
    Ok(needles)
}

/// What is looked for of `text`: its first line's first [`NEEDLE_CHARS`] characters, if
/// there are at least [`MIN_NEEDLE_CHARS`].
fn needle(text: &str) -> Option<String> {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    let start: String = line.chars().take(NEEDLE_CHARS).collect();
    (start.chars().count() >= MIN_NEEDLE_CHARS).then_some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_looked_for_by_the_start_of_its_first_line() {
        assert_eq!(
            needle("Kitchen tap leaks badly"),
            Some("Kitchen tap ".into())
        );
        assert_eq!(needle("  水龙头漏水\n急"), Some("水龙头漏水".into()));
        assert_eq!(needle("ok"), None);
        assert_eq!(needle("Li"), None);
        assert_eq!(needle(""), None);
    }
}
