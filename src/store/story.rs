//! Reading one ticket's whole story (`/ticket N`) and searching tickets (`/find`, over the
//! `tickets_fts` index of the search migration on SQLite; on PostgreSQL by `ILIKE` over
//! the trigram indexes of `tickets.text` and `tickets.unit`).

use chrono::{DateTime, Utc};

use super::tickets::fetch_tickets;
use super::{Error, Result, Store, Tx, query_as, query_scalar};
use crate::domain::{SearchQuery, Story, StoryEvent, StoryFollowUp, Ticket, TicketId};

/// Words shorter than this cannot use the trigram index.
const TRIGRAM: usize = 3;
/// A search ranks at most this many of the newest tickets the index finds: ranking every
/// match of a word most tickets hold would read them all (2 s on a million tickets).
const CANDIDATES: i64 = 1000;

#[derive(sqlx::FromRow)]
struct EventRow {
    kind: String,
    actor_name: String,
    detail: Option<String>,
    at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct FollowUpRow {
    id: i64,
    reason: String,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

const PHOTOS: &str = "SELECT file_id FROM photos WHERE ticket_id = ? ORDER BY id";

impl Store {
    /// Everything that happened to ticket `id`, oldest first.
    pub async fn story(&self, id: TicketId) -> Result<Story> {
        let events: Vec<EventRow> = query_as(
            "SELECT kind, actor_name, detail, at FROM ticket_events WHERE ticket_id = ? ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let events = events
            .into_iter()
            .map(|r| {
                Ok(StoryEvent {
                    kind: r.kind.parse().map_err(|e| Error::Corrupt(format!("{e}")))?,
                    actor: r.actor_name,
                    detail: r.detail,
                    at: r.at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let follow_ups: Vec<FollowUpRow> = query_as(
            "SELECT id, reason, opened_at, closed_at FROM follow_ups WHERE ticket_id = ? ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let follow_ups = follow_ups
            .into_iter()
            .map(|r| StoryFollowUp {
                id: r.id,
                low_score: r.reason == "low_score",
                opened_at: r.opened_at,
                closed_at: r.closed_at,
            })
            .collect();
        let photos = query_scalar(PHOTOS)
            .bind(id.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(Story {
            events,
            photos,
            follow_ups,
        })
    }

    /// The tickets that best match `q`, at most `limit`: the best first, the newest first
    /// among equals; ranked among the newest [`CANDIDATES`] the index finds.
    pub async fn search_tickets(&self, q: &SearchQuery, limit: i64) -> Result<Vec<Ticket>> {
        let (sql, binds) = if self.is_postgres() {
            search_sql_postgres(q)
        } else {
            search_sql(q)
        };
        let mut query = query_scalar::<i64>(&sql);
        for b in binds {
            query = query.bind(b);
        }
        let ids = query.bind(limit).fetch_all(&self.pool).await?;
        let mut conn = self.begin_read().await?;
        fetch_tickets(&mut conn.0, ids).await
    }
}

impl Tx<'_> {
    /// File ids of every photo of a ticket, oldest first.
    pub async fn all_photos(&mut self, id: TicketId) -> Result<Vec<String>> {
        Ok(query_scalar(PHOTOS)
            .bind(id.0)
            .fetch_all(&mut self.0)
            .await?)
    }
}

/// A phrase for FTS5: quoted, its quotes doubled.
pub(super) fn phrase(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// `%word%` for LIKE, its wildcards escaped with `\`.
pub(super) fn like(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A search's conditions for PostgreSQL (all must hold) and their values, in order: the
/// exact unit, each category (or its word in the text, when three characters or longer,
/// as SQLite's index finds it), each word in the text in any case (`ILIKE`, which the
/// trigram index serves from three characters on). Also the words a ticket's text is
/// ranked by (the category words found in the text count too).
pub(super) fn ilike_terms(q: &SearchQuery) -> (Vec<&'static str>, Vec<String>, Vec<String>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    let mut ranked = Vec::new();
    if let Some(unit) = &q.unit {
        clauses.push("t.unit = ?");
        binds.push(unit.as_ref().to_owned());
    }
    for (category, word) in &q.categories {
        binds.push(category.code().to_owned());
        if word.chars().count() >= TRIGRAM {
            clauses.push("(t.category = ? OR t.text ILIKE ? ESCAPE '\\')");
            binds.push(like(word));
            ranked.push(word.clone());
        } else {
            clauses.push("t.category = ?");
        }
    }
    for word in &q.words {
        clauses.push("t.text ILIKE ? ESCAPE '\\'");
        binds.push(like(word));
        ranked.push(word.clone());
    }
    (clauses, binds, ranked)
}

/// [`search_sql`] for PostgreSQL: the newest [`CANDIDATES`] tickets meeting every
/// condition of [`ilike_terms`], the most similar to the words first (pg_trgm's
/// `similarity`, case-blind: SQLite ranks by bm25), the newest first among equals.
fn search_sql_postgres(q: &SearchQuery) -> (String, Vec<String>) {
    let (clauses, mut binds, ranked) = ilike_terms(q);
    let mut filter = String::from("SELECT t.id, t.text FROM tickets t WHERE TRUE");
    for c in clauses {
        filter.push_str(" AND ");
        filter.push_str(c);
    }
    if ranked.is_empty() {
        return (
            format!("SELECT c.id FROM ({filter}) c ORDER BY c.id DESC LIMIT ?"),
            binds,
        );
    }
    binds.push(ranked.join(" "));
    let sql = format!(
        "SELECT c.id FROM ({filter} ORDER BY t.id DESC LIMIT {CANDIDATES}) c
         ORDER BY public.similarity(c.text, ?) DESC, c.id DESC LIMIT ?"
    );
    (sql, binds)
}

/// The SQL of a search and its values, but for the limit (bound last). Every part must
/// match: the unit (through the index, then exactly), each category (or its word in the
/// text), each word (through the index when three characters or longer, else by LIKE).
fn search_sql(q: &SearchQuery) -> (String, Vec<String>) {
    let mut matches = Vec::new();
    let mut filters = Vec::new();
    let mut binds = Vec::new();
    if let Some(unit) = &q.unit {
        matches.push(format!("unit : {}", phrase(unit.as_ref())));
    }
    for (category, word) in &q.categories {
        let code = phrase(category.code());
        if word.chars().count() >= TRIGRAM {
            matches.push(format!("(category : {code} OR text : {})", phrase(word)));
        } else {
            matches.push(format!("category : {code}"));
        }
    }
    for word in &q.words {
        if word.chars().count() >= TRIGRAM {
            matches.push(format!("text : {}", phrase(word)));
        } else {
            filters.push("t.text LIKE ? ESCAPE '\\'");
            binds.push(like(word));
        }
    }
    let mut sql = String::new();
    let order = if matches.is_empty() {
        sql.push_str("SELECT t.id FROM tickets t WHERE 1");
        "t.id DESC"
    } else {
        sql.push_str(&format!(
            "SELECT t.id FROM (SELECT rowid AS id, rank FROM tickets_fts WHERE tickets_fts MATCH ?
                                ORDER BY rowid DESC LIMIT {CANDIDATES}) c
             JOIN tickets t ON t.id = c.id WHERE 1"
        ));
        binds.insert(0, matches.join(" AND "));
        "c.rank, t.id DESC"
    };
    if let Some(unit) = &q.unit {
        sql.push_str(" AND t.unit = ?");
        // Right after the MATCH (a unit always puts a term in it), before the LIKEs.
        binds.insert(1, unit.as_ref().to_owned());
    }
    for f in filters {
        sql.push_str(" AND ");
        sql.push_str(f);
    }
    sql.push_str(&format!(" ORDER BY {order} LIMIT ?"));
    (sql, binds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Category;

    #[test]
    fn a_search_uses_the_index_for_long_words_and_like_for_short_ones() {
        let q = SearchQuery {
            unit: Some("3-1201".parse().unwrap()),
            categories: vec![(Category::Plumbing, "水暖".into())],
            words: vec!["leak\"s".into(), "漏水".into()],
        };
        let (sql, binds) = search_sql(&q);
        assert_eq!(
            binds,
            [
                "unit : \"3-1201\" AND category : \"plumbing\" AND text : \"leak\"\"s\"",
                "3-1201",
                "%漏水%"
            ]
        );
        assert!(
            sql.contains("WHERE 1 AND t.unit = ? AND t.text LIKE ?"),
            "{sql}"
        );
        assert!(sql.ends_with("ORDER BY c.rank, t.id DESC LIMIT ?"), "{sql}");
    }

    #[test]
    fn on_postgres_every_part_is_a_condition_and_the_words_rank() {
        let q = SearchQuery {
            unit: Some("3-1201".parse().unwrap()),
            categories: vec![
                (Category::Plumbing, "水暖".into()),
                (Category::Lift, "lift".into()),
            ],
            words: vec!["Leak_s".into(), "漏水".into()],
        };
        let (sql, binds) = search_sql_postgres(&q);
        assert_eq!(
            binds,
            [
                "3-1201",
                "plumbing",
                "lift",
                "%lift%",
                "%Leak\\_s%",
                "%漏水%",
                "lift Leak_s 漏水"
            ]
        );
        assert!(
            sql.contains(
                "WHERE TRUE AND t.unit = ? AND t.category = ? \
                 AND (t.category = ? OR t.text ILIKE ? ESCAPE '\\') \
                 AND t.text ILIKE ? ESCAPE '\\' AND t.text ILIKE ? ESCAPE '\\' \
                 ORDER BY t.id DESC LIMIT 1000"
            ),
            "{sql}"
        );
        assert!(
            sql.ends_with("similarity(c.text, ?) DESC, c.id DESC LIMIT ?"),
            "{sql}"
        );

        let unit_only = SearchQuery {
            unit: Some("3-1201".parse().unwrap()),
            ..Default::default()
        };
        let (sql, binds) = search_sql_postgres(&unit_only);
        assert_eq!(binds, ["3-1201"]);
        assert!(!sql.contains("similarity"), "{sql}");
        assert!(sql.ends_with("ORDER BY c.id DESC LIMIT ?"), "{sql}");
    }

    #[test]
    fn short_words_alone_scan_newest_first() {
        let q = SearchQuery {
            words: vec!["5%".into()],
            ..Default::default()
        };
        let (sql, binds) = search_sql(&q);
        assert_eq!(binds, ["%5\\%%"]);
        assert!(!sql.contains("MATCH"));
        assert!(sql.ends_with("ORDER BY t.id DESC LIMIT ?"));
    }
}
