//! Demo data for benchmarks and trying Butler out: a year of tickets with a realistic
//! spread, generated inside the database (SQLite's recursive CTEs, PostgreSQL's
//! `generate_series`), so a million tickets take seconds.

use chrono::{DateTime, Utc};

use super::db::Conn;
use super::{Result, Sql, Store, query, query_as, query_scalar};
use crate::domain::EventKind;

/// What [`Store::seed_demo`] made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Seeded {
    pub groups: i64,
    pub owners: i64,
    pub tickets: i64,
    pub events: i64,
    pub ratings: i64,
}

/// Staff ids of the demo data: 30 people, 9001..=9030.
pub const DEMO_STAFF: std::ops::RangeInclusive<i64> = 9001..=9030;

impl Store {
    /// Adds `tickets` tickets spread over the year before `now`, in `groups` owner groups
    /// (chat ids -1_000_001 …) with 400 owners each, handled by 30 staff members. Most
    /// are done and rated (60 % fives, 20 % fours, 10 % threes, 6 % twos, 4 % ones), 5 %
    /// were reopened once, the newest 2 % are still open.
    pub async fn seed_demo(&self, tickets: i64, groups: i64, now: DateTime<Utc>) -> Result<Seeded> {
        let groups = groups.max(1);
        let mut tx = self.write_tx().await?;
        let first_ticket: i64 = query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets")
            .fetch_one(&mut tx)
            .await?;
        seed_groups_and_owners(&mut tx, groups, now).await?;
        seed_draws(&mut tx, tickets, first_ticket, groups, now).await?;
        let open_from = first_ticket + tickets - (tickets / 50).max(1);
        seed_tickets(&mut tx, open_from).await?;
        seed_events(&mut tx, open_from).await?;
        seed_ratings(&mut tx, open_from, first_ticket).await?;
        query(Sql::each("DROP TABLE temp.seed", "DROP TABLE pg_temp.seed"))
            .execute(&mut tx)
            .await?;
        if self.is_postgres() {
            // The tickets were given their ids: PostgreSQL's identity goes on after them.
            query("SELECT setval(pg_get_serial_sequence('tickets', 'id'), MAX(id)) FROM tickets")
                .execute(&mut tx)
                .await?;
        }
        tx.commit().await?;
        query(Sql::each(
            "ANALYZE",
            "ANALYZE owner_groups, owners, tickets, ticket_events, ratings, follow_ups",
        ))
        .execute(&self.writer)
        .await?;
        Ok(query_as(
            "SELECT (SELECT COUNT(*) FROM owner_groups) AS groups, (SELECT COUNT(*) FROM owners) AS owners,
                    (SELECT COUNT(*) FROM tickets) AS tickets, (SELECT COUNT(*) FROM ticket_events) AS events,
                    (SELECT COUNT(*) FROM ratings) AS ratings",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

impl Store {
    /// How many owner groups seed-demo did not make. Its groups are told apart by all of
    /// what it writes: a chat id from -1_000_001 down, the name `Demo Garden n` matching
    /// that id, and registered by the first demo staff member (9001).
    pub async fn groups_not_seeded(&self) -> Result<i64> {
        Ok(query_scalar(
            "SELECT COUNT(*) FROM owner_groups
             WHERE NOT (chat_id <= -1000001 AND registered_by = ?
                        AND name = 'Demo Garden ' || (-1000000 - chat_id))",
        )
        .bind(DEMO_STAFF.start())
        .fetch_one(&self.pool)
        .await?)
    }
}

/// Owners per demo group.
const OWNERS_PER_GROUP: i64 = 400;

/// The groups (registered 400 days before `now`) and their owners, unless already there.
async fn seed_groups_and_owners(tx: &mut Conn<'_>, groups: i64, now: DateTime<Utc>) -> Result<()> {
    query(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?1)
         INSERT INTO owner_groups (chat_id, name, active, registered_by, registered_at)
         SELECT -1000000 - n, 'Demo Garden ' || n, TRUE, 9001, ?2 FROM g WHERE TRUE
         ON CONFLICT DO NOTHING",
    )
    .bind(groups)
    .bind(now - chrono::Duration::days(400))
    .execute(&mut *tx)
    .await?;
    query(
        "WITH RECURSIVE o(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM o WHERE n < ?1)
         INSERT INTO owners (user_id, name, unit, updated_at)
         SELECT 100000 + n, 'Owner ' || n, ((n % 30) + 1) || '-' || (100 + n % 2800), ?2 FROM o
         WHERE TRUE ON CONFLICT DO NOTHING",
    )
    .bind(groups * OWNERS_PER_GROUP)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// `temp.seed`: one row per ticket with its random draws; on SQLite the report's time as
/// a julian day, on PostgreSQL as a `timestamptz`; the offsets in days.
async fn seed_draws(
    tx: &mut Conn<'_>,
    tickets: i64,
    first_ticket: i64,
    groups: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    query(Sql::each(
        "DROP TABLE IF EXISTS temp.seed",
        "DROP TABLE IF EXISTS pg_temp.seed",
    ))
    .execute(&mut *tx)
    .await?;
    query(Sql::each(
        "CREATE TEMP TABLE seed AS
         WITH RECURSIVE t(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM t WHERE n < ?1 - 1)
         SELECT ?2 + n AS id,
                -- spread evenly over the year, oldest first
                julianday(?3) - 365.0 + 365.0 * n / ?1 AS created,
                abs(random()) % ?4 AS grp,
                abs(random()) % ?5 AS owner,
                abs(random()) % 30 AS staff,
                abs(random()) % 100 AS dice,
                abs(random()) % 100 AS score_dice,
                (1 + abs(random()) % 40) / 1440.0 AS take_after,
                (1 + abs(random()) % 48) / 24.0 AS done_after,
                abs(random()) % 8 AS cat
         FROM t",
        "CREATE TEMP TABLE seed AS
         SELECT ?2 + n AS id,
                -- spread evenly over the year, oldest first
                ?3 + ((365.0 * n / ?1 - 365.0) * 86400)::float8 * interval '1 second' AS created,
                floor(random() * ?4)::bigint AS grp,
                floor(random() * ?5)::bigint AS owner,
                floor(random() * 30)::bigint AS staff,
                floor(random() * 100)::bigint AS dice,
                floor(random() * 100)::bigint AS score_dice,
                (1 + floor(random() * 40)) / 1440.0 AS take_after,
                (1 + floor(random() * 48)) / 24.0 AS done_after,
                floor(random() * 8)::bigint AS cat
         FROM generate_series(0, ?1 - 1) AS t(n)",
    ))
    .bind(tickets)
    .bind(first_ticket)
    .bind(now)
    .bind(groups)
    .bind(OWNERS_PER_GROUP)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The tickets of `temp.seed`; those from `open_from` on are still open.
async fn seed_tickets(tx: &mut Conn<'_>, open_from: i64) -> Result<()> {
    let insert = |at: &str, seed: &str| {
        format!(
            "INSERT INTO tickets (id, group_chat_id, report_chat_id, report_message_id, owner_id, unit, category, text, status,
                              priority, taken_by, taken_by_name, rating_round, created_at, updated_at)
         SELECT id, -1000001 - grp, -1000001 - grp, id, 100001 + grp * 400 + owner, NULL,
                CASE cat WHEN 0 THEN 'plumbing' WHEN 1 THEN 'electrical' WHEN 2 THEN 'lift'
                         WHEN 3 THEN 'door_lock' WHEN 4 THEN 'appliance' WHEN 5 THEN 'public_area'
                         WHEN 6 THEN 'cleaning' ELSE 'other' END,
                'Demo report ' || id,
                CASE WHEN id >= ?1 THEN 'reported' WHEN dice < 90 THEN 'rated' ELSE 'done' END,
                FALSE,
                CASE WHEN id >= ?1 THEN NULL ELSE 9001 + staff END,
                CASE WHEN id >= ?1 THEN NULL ELSE 'Staff ' || (staff + 1) END,
                CASE WHEN id >= ?1 THEN 0 ELSE 1 END,
                {at}, {at}
         FROM {seed}"
        )
    };
    query(Sql::each(
        insert(&seed_at("0", false), "temp.seed"),
        insert(&seed_at("0", true), "pg_temp.seed"),
    ))
    .bind(open_from)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The time `offset` (days, an expression over `temp.seed`) after a ticket's report.
fn seed_at(offset: &str, postgres: bool) -> String {
    if postgres {
        format!("created + (({offset}) * 86400)::float8 * interval '1 second'")
    } else {
        format!("strftime('%Y-%m-%dT%H:%M:%fZ', created + {offset})")
    }
}

/// Each ticket's events: reported; then, unless still open, taken, maybe reopened,
/// done and mostly rated.
async fn seed_events(tx: &mut Conn<'_>, open_from: i64) -> Result<()> {
    let owner = "100001 + grp * 400 + owner";
    let staff = "9001 + staff";
    for (kind, actor, when, condition) in [
        (EventKind::Reported, owner, "0", "TRUE"),
        (EventKind::Taken, staff, "take_after", "id < ?1"),
        (
            EventKind::Reopened,
            owner,
            "take_after + done_after / 2",
            "id < ?1 AND dice >= 95",
        ),
        (EventKind::Done, staff, "take_after + done_after", "id < ?1"),
        (
            EventKind::Rated,
            owner,
            "take_after + done_after + 0.1",
            "id < ?1 AND dice < 90",
        ),
    ] {
        let insert = |postgres: bool, seed: &str| {
            let at = seed_at(when, postgres);
            format!(
                "INSERT INTO ticket_events (ticket_id, kind, actor_id, actor_name, at)
             SELECT id, ?2, {actor}, 'demo', {at} FROM {seed} WHERE {condition}"
            )
        };
        query(Sql::each(
            insert(false, "temp.seed"),
            insert(true, "pg_temp.seed"),
        ))
        .bind(open_from)
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The ratings of the rated tickets, and a follow-up for each low score.
async fn seed_ratings(tx: &mut Conn<'_>, open_from: i64, first_ticket: i64) -> Result<()> {
    let insert = |postgres: bool, seed: &str| {
        format!(
            "INSERT INTO ratings (ticket_id, round, owner_id, score, at)
         SELECT id, 1, 100001 + grp * 400 + owner,
                CASE WHEN score_dice < 60 THEN 5 WHEN score_dice < 80 THEN 4 WHEN score_dice < 90 THEN 3
                     WHEN score_dice < 96 THEN 2 ELSE 1 END,
                {}
         FROM {seed} WHERE id < ?1 AND dice < 90",
            seed_at("take_after + done_after + 0.1", postgres)
        )
    };
    query(Sql::each(
        insert(false, "temp.seed"),
        insert(true, "pg_temp.seed"),
    ))
    .bind(open_from)
    .execute(&mut *tx)
    .await?;
    query(
        "INSERT INTO follow_ups (ticket_id, reason, round, opened_at)
         SELECT r.ticket_id, 'low_score', 1, r.at FROM ratings r
         WHERE r.ticket_id >= ?1 AND r.score <= 3",
    )
    .bind(first_ticket)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_data_has_the_promised_shape() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::store::testing::database_url(dir.path()).await)
            .await
            .unwrap();
        let now = Utc::now();
        let s = store.seed_demo(2_000, 5, now).await.unwrap();
        assert_eq!(s.tickets, 2_000);
        assert_eq!(s.groups, 5);
        assert_eq!(s.owners, 2_000);
        // Every ticket reported; all but the newest 2 % taken and done.
        let open = store.open_tickets(10_000).await.unwrap();
        assert_eq!(open.len(), 40);
        assert!((1_600..=1_990).contains(&s.ratings), "{s:?}");
        let t = store
            .ticket(crate::domain::TicketId(1))
            .await
            .unwrap()
            .expect("readable like any ticket");
        assert!(t.created_at < now - chrono::Duration::days(300));
        // Seeding again adds, never collides.
        let again = store.seed_demo(100, 5, now).await.unwrap();
        assert_eq!(again.tickets, 2_100);
    }
}
