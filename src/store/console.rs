//! The web console's tables (`console_links`, `console_sessions`) and its board: tickets
//! filtered and searched, newest first, a page at a time from a cursor (keyset paging:
//! `id < cursor`, never an OFFSET, so the thousandth page costs what the first does).
//!
//! Tokens arrive here already hashed: the store never sees a link's or a cookie's secret.

use chrono::{DateTime, Utc};

use super::story::{ilike_terms, like, phrase};
use super::tickets::fetch_tickets;
use super::{Result, Store, Tx, query, query_as, query_scalar};
use crate::domain::{Category, Kind, SearchQuery, Ticket, TicketId, TicketStatus, Urgency};

/// Words shorter than this cannot use the trigram index (as for `/find`).
const TRIGRAM: usize = 3;

/// Who a sign-in link or a session is for.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsolePerson {
    pub user_id: i64,
    pub name: String,
    /// The language the console speaks to them (a locale code).
    pub locale: String,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsoleSession {
    pub user_id: i64,
    pub name: String,
    pub locale: String,
    /// The token every POST of this session must carry.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// What the board shows: every `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct BoardQuery {
    /// Any of these statuses (empty: any).
    pub statuses: Vec<TicketStatus>,
    pub kind: Option<Kind>,
    /// Repairs only (staff do not see complaints and suggestions).
    pub staff_work_only: bool,
    pub urgency: Option<Urgency>,
    pub category: Option<Category>,
    pub group: Option<i64>,
    /// The staff member holding it.
    pub holder: Option<u64>,
    /// Reported at or after.
    pub from: Option<DateTime<Utc>>,
    /// Reported before.
    pub to: Option<DateTime<Utc>>,
    pub search: Option<SearchQuery>,
    /// The page after this ticket (the last one shown); `None`: the first page.
    pub before: Option<TicketId>,
}

/// One page of the board.
#[derive(Debug, Clone)]
pub struct BoardPage {
    pub tickets: Vec<Ticket>,
    /// The cursor of the next page, when there is one.
    pub next: Option<TicketId>,
}

impl Store {
    /// The session whose cookie hashes to `token_hash`, if still valid at `now`.
    pub async fn console_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsoleSession>> {
        Ok(query_as(
            "SELECT user_id, name, locale, csrf, expires_at FROM console_sessions
             WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// One page of the board: at most `limit` tickets, newest first.
    pub async fn board(&self, q: &BoardQuery, limit: i64) -> Result<BoardPage> {
        let (sql, binds) = board_sql(q, self.is_postgres());
        let mut query = query_scalar::<i64>(&sql);
        for b in binds {
            query = match b {
                Bind::Int(n) => query.bind(n),
                Bind::Text(s) => query.bind(s),
                Bind::Time(t) => query.bind(t),
            };
        }
        let mut ids = query.bind(limit + 1).fetch_all(&self.pool).await?;
        let more = ids.len() as i64 > limit;
        ids.truncate(limit.max(0) as usize);
        let next = more.then(|| ids.last().copied().map(TicketId)).flatten();
        let mut conn = self.begin_read().await?;
        let tickets = fetch_tickets(&mut conn.0, ids).await?;
        Ok(BoardPage { tickets, next })
    }

    /// The owner groups, by name: (chat id, name).
    pub async fn group_names(&self) -> Result<Vec<(i64, String)>> {
        Ok(
            query_as("SELECT chat_id, name FROM owner_groups ORDER BY name, chat_id")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

impl Tx<'_> {
    /// Records a sign-in link (its token's hash) for `person`, valid until `expires`;
    /// links past their time are deleted meanwhile.
    pub async fn add_console_link(
        &mut self,
        token_hash: &str,
        person: &ConsolePerson,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        query("DELETE FROM console_links WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut self.0)
            .await?;
        query(
            "INSERT INTO console_links (token_hash, user_id, name, locale, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(person.user_id)
        .bind(&person.name)
        .bind(&person.locale)
        .bind(now)
        .bind(expires)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }

    /// Uses the link whose token hashes to `token_hash`: its person when it was valid and
    /// unused at `now`, and it is used from then on; `None` otherwise.
    pub async fn redeem_console_link(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsolePerson>> {
        Ok(query_as(
            "UPDATE console_links SET used_at = ?2
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
             RETURNING user_id, name, locale",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut self.0)
        .await?)
    }

    /// Starts a session (its cookie's hash) for `person` with its CSRF token; sessions
    /// past their time are deleted meanwhile.
    pub async fn add_console_session(
        &mut self,
        token_hash: &str,
        person: &ConsolePerson,
        csrf: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        query("DELETE FROM console_sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut self.0)
            .await?;
        query(
            "INSERT INTO console_sessions (token_hash, user_id, name, locale, csrf, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(person.user_id)
        .bind(&person.name)
        .bind(&person.locale)
        .bind(csrf)
        .bind(now)
        .bind(expires)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }

    /// Ends the session whose cookie hashes to `token_hash` (signing out).
    pub async fn end_console_session(&mut self, token_hash: &str) -> Result<()> {
        query("DELETE FROM console_sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }
}

enum Bind {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
}

/// The full-text terms of a search (all must match), and the filters (with their values)
/// for what the index cannot find: the exact unit, words shorter than a trigram.
fn search_terms(s: &SearchQuery, filters: &mut Vec<String>, binds: &mut Vec<Bind>) -> Vec<String> {
    let mut matches = Vec::new();
    if let Some(unit) = &s.unit {
        matches.push(format!("unit : {}", phrase(unit.as_ref())));
        filters.push("t.unit = ?".into());
        binds.push(Bind::Text(unit.as_ref().to_owned()));
    }
    for (category, word) in &s.categories {
        let code = phrase(category.code());
        if word.chars().count() >= TRIGRAM {
            matches.push(format!("(category : {code} OR text : {})", phrase(word)));
        } else {
            matches.push(format!("category : {code}"));
        }
    }
    for word in &s.words {
        if word.chars().count() >= TRIGRAM {
            matches.push(format!("text : {}", phrase(word)));
        } else {
            filters.push("t.text LIKE ? ESCAPE '\\'".into());
            binds.push(Bind::Text(like(word)));
        }
    }
    matches
}

/// A search on PostgreSQL: filters only ([`ilike_terms`]), no full-text terms.
fn ilike_filters(s: &SearchQuery, filters: &mut Vec<String>, binds: &mut Vec<Bind>) -> Vec<String> {
    let (clauses, values, _) = ilike_terms(s);
    filters.extend(clauses.into_iter().map(str::to_owned));
    binds.extend(values.into_iter().map(Bind::Text));
    Vec::new()
}

/// The board's SQL and its values, but for the limit (bound last), on SQLite or (when
/// `postgres`) PostgreSQL. With words to search for, SQLite's full-text index is read
/// newest first and each match checked against the filters (`CROSS JOIN` keeps that
/// order); else the tickets are read newest first through whichever index the filters
/// make best. PostgreSQL's search is conditions among the others ([`ilike_terms`]),
/// its planner choosing between the trigram indexes and the newest first.
fn board_sql(q: &BoardQuery, postgres: bool) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let mut sql = String::new();
    let mut filters: Vec<String> = Vec::new();
    let matches = match &q.search {
        Some(s) if postgres => ilike_filters(s, &mut filters, &mut binds),
        Some(s) => search_terms(s, &mut filters, &mut binds),
        None => Vec::new(),
    };
    // With words, order and page by the index's own rowid: the full-text index then reads
    // newest first and stops at the page (ordering by `t.id` sorted every match: 800 ms
    // for a common word on a million tickets, 2 ms this way).
    let id = if matches.is_empty() {
        "t.id"
    } else {
        "f.rowid"
    };
    if postgres {
        sql.push_str("SELECT t.id FROM tickets t WHERE TRUE");
    } else if matches.is_empty() {
        sql.push_str("SELECT t.id FROM tickets t WHERE 1");
    } else {
        sql.push_str(
            "SELECT t.id FROM tickets_fts f CROSS JOIN tickets t ON t.id = f.rowid
             WHERE tickets_fts MATCH ?",
        );
        binds.insert(0, Bind::Text(matches.join(" AND ")));
    }
    let mut more = |clause: &str, bind: Bind| {
        filters.push(clause.to_owned());
        binds.push(bind);
    };
    if let Some(before) = q.before {
        more(&format!("{id} < ?"), Bind::Int(before.0));
    }
    if let Some(k) = q.kind {
        more("t.kind = ?", Bind::Text(k.code().into()));
    }
    if let Some(u) = q.urgency {
        more("t.urgency = ?", Bind::Text(u.code().into()));
    }
    if let Some(c) = q.category {
        more("t.category = ?", Bind::Text(c.code().into()));
    }
    if let Some(g) = q.group {
        more("t.group_chat_id = ?", Bind::Int(g));
    }
    if let Some(h) = q.holder {
        more("t.taken_by = ?", Bind::Int(h as i64));
    }
    if let Some(from) = q.from {
        more("t.created_at >= ?", Bind::Time(from));
    }
    if let Some(to) = q.to {
        more("t.created_at < ?", Bind::Time(to));
    }
    if q.staff_work_only {
        filters.push("t.kind = 'repair'".into());
    }
    if !q.statuses.is_empty() {
        let codes: Vec<String> = q
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.code()))
            .collect();
        filters.push(format!("t.status IN ({})", codes.join(",")));
    }
    // The binds of `filters` were pushed in the order of their clauses, after the MATCH
    // (and the unit's, which comes first of the filters).
    for f in &filters {
        sql.push_str(" AND ");
        sql.push_str(f);
    }
    sql.push_str(&format!(" ORDER BY {id} DESC LIMIT ?"));
    (sql, binds)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waiting tickets of unit 3-1201 about "leak" and "水", the page before #90.
    fn waiting_leaks_before_90() -> BoardQuery {
        BoardQuery {
            search: Some(SearchQuery {
                unit: Some("3-1201".parse().unwrap()),
                categories: vec![],
                words: vec!["leak".into(), "水".into()],
            }),
            statuses: vec![TicketStatus::Reported],
            before: Some(TicketId(90)),
            ..Default::default()
        }
    }

    #[test]
    fn a_search_reads_the_index_newest_first_and_filters_after_it() {
        let q = waiting_leaks_before_90();
        let (sql, binds) = board_sql(&q, false);
        assert!(sql.contains("tickets_fts f CROSS JOIN tickets t"), "{sql}");
        assert!(
            sql.contains(
                "MATCH ? AND t.unit = ? AND t.text LIKE ? ESCAPE '\\' AND f.rowid < ? AND t.status IN ('reported')"
            ),
            "{sql}"
        );
        assert!(sql.ends_with("ORDER BY f.rowid DESC LIMIT ?"), "{sql}");
        assert_eq!(binds.len(), 4);
        assert!(matches!(&binds[0], Bind::Text(m) if m == "unit : \"3-1201\" AND text : \"leak\""));
        assert!(matches!(&binds[3], Bind::Int(90)));
    }

    #[test]
    fn on_postgres_a_search_is_conditions_among_the_filters() {
        let q = BoardQuery {
            holder: Some(7),
            ..waiting_leaks_before_90()
        };
        let (sql, binds) = board_sql(&q, true);
        assert_eq!(
            sql,
            "SELECT t.id FROM tickets t WHERE TRUE AND t.unit = ? \
             AND t.text ILIKE ? ESCAPE '\\' AND t.text ILIKE ? ESCAPE '\\' \
             AND t.id < ? AND t.taken_by = ? AND t.status IN ('reported') \
             ORDER BY t.id DESC LIMIT ?"
        );
        assert_eq!(binds.len(), 5);
        assert!(matches!(&binds[0], Bind::Text(u) if u == "3-1201"));
        assert!(matches!(&binds[1], Bind::Text(w) if w == "%leak%"));
        assert!(matches!(&binds[3], Bind::Int(90)));
        assert!(matches!(&binds[4], Bind::Int(7)));
        let (sql, binds) = board_sql(&BoardQuery::default(), true);
        assert_eq!(
            sql,
            "SELECT t.id FROM tickets t WHERE TRUE ORDER BY t.id DESC LIMIT ?"
        );
        assert!(binds.is_empty());
    }

    #[test]
    fn no_filter_reads_the_newest_tickets() {
        let (sql, binds) = board_sql(&BoardQuery::default(), false);
        assert_eq!(
            sql,
            "SELECT t.id FROM tickets t WHERE 1 ORDER BY t.id DESC LIMIT ?"
        );
        assert!(binds.is_empty());
    }
}
