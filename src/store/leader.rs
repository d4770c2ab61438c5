//! Several Butlers on one PostgreSQL database: which one leads, and the outbox's wake-ups
//! between them.
//!
//! The leader is the instance whose connection holds a session-level advisory lock,
//! ([`LEADER_LOCK`], the schema's hash), taken with `pg_try_advisory_lock` on a
//! connection of its own ([`Candidate`]): held as long as that connection lives, and
//! dropped by PostgreSQL the moment it ends (a clean stop, `kill -9`, a crash: the
//! server sees the socket close). Nothing of Butler's decides who leads: the lock does.
//!
//! Commits that enqueue messages on another instance wake the leader's outbox sender
//! through `NOTIFY` ([`Store::outbox_announce`], heard by [`OutboxWakeups`]), on one
//! channel for every schema, with the schema's name as the payload: Butlers in other
//! schemas of the database (the tests') ignore each other's.

use sqlx::postgres::{PgConnection, PgListener};
use sqlx::{ConnectOptions, Connection};

use super::db::Db;
use super::{Error, Result, Store};

/// The advisory lock's first key: "BTLL", Butler's leader. The second is the schema's
/// hash, as for [`super::WRITE_LOCK`].
pub const LEADER_LOCK: i32 = i32::from_be_bytes(*b"BTLL");

/// The channel the outbox's wake-ups go on; the payload names the schema.
const OUTBOX_CHANNEL: &str = "butler_outbox";

/// A connection of its own that tries for the leader's lock, and holds it once taken:
/// the lock lives as long as this connection.
pub struct Candidate {
    conn: PgConnection,
}

impl Store {
    /// A candidate for leadership, named `instance` in `pg_stat_activity`
    /// (`application_name`): a new connection to the database, never one of the pool's
    /// (a session lock on a pooled connection would pass to whoever takes it next).
    pub async fn leader_candidate(&self, instance: &str) -> Result<Candidate> {
        let Db::Postgres(pool) = &self.pool else {
            return Err(Error::Unsupported("leadership is PostgreSQL's"));
        };
        let name = format!("butler {instance}");
        let options = (*pool.connect_options()).clone().application_name(&name);
        Ok(Candidate {
            conn: options.connect().await?,
        })
    }

    /// Wakes the leader's outbox sender, in whichever instance it runs: a `NOTIFY`, heard
    /// by [`OutboxWakeups`]. Nothing on SQLite (one instance: the wake is in process).
    pub async fn outbox_announce(&self) -> Result<()> {
        let Db::Postgres(pool) = &self.pool else {
            return Ok(());
        };
        sqlx::query("SELECT pg_notify($1, current_schema())")
            .bind(OUTBOX_CHANNEL)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Listens for [`Store::outbox_announce`] of every instance on this schema.
    pub async fn outbox_wakeups(&self) -> Result<OutboxWakeups> {
        let Db::Postgres(pool) = &self.pool else {
            return Err(Error::Unsupported(
                "wake-ups between instances are PostgreSQL's",
            ));
        };
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(pool)
            .await?;
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(OUTBOX_CHANNEL).await?;
        Ok(OutboxWakeups { listener, schema })
    }
}

impl Candidate {
    /// Takes the leader's lock if no other session holds it; `true` when this connection
    /// holds it now. Never waits for it.
    pub async fn try_lead(&mut self) -> Result<bool> {
        Ok(
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))")
                .bind(LEADER_LOCK)
                .fetch_one(&mut self.conn)
                .await?,
        )
    }

    /// Whether the connection is still there (and with it the lock it holds): an error
    /// when it broke. A session's lock is released only when it ends or unlocks, and
    /// nothing here unlocks.
    pub async fn still_there(&mut self) -> Result<()> {
        Ok(self.conn.ping().await?)
    }

    /// Ends the connection, and with it the lock if held: another instance may lead.
    pub async fn resign(self) {
        let _ = self.conn.close().await;
    }
}

/// Wake-ups of the outbox on this schema, from any instance.
pub struct OutboxWakeups {
    listener: PgListener,
    schema: String,
}

impl OutboxWakeups {
    /// Waits for the next wake-up on this schema. A broken connection is made again by
    /// the listener itself (what was said meanwhile is lost: the sender also looks every
    /// second); an error when it cannot be.
    pub async fn next(&mut self) -> Result<()> {
        loop {
            let heard = self.listener.recv().await?;
            if heard.payload() == self.schema {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    /// Two stores on one new schema, or `None` (SKIPPED) without PostgreSQL.
    async fn two_on_one_schema() -> Option<(Store, Store)> {
        let Some(base) = testing::postgres_url() else {
            eprintln!(
                "SKIPPED: leadership needs PostgreSQL ({})",
                testing::POSTGRES_ENV
            );
            return None;
        };
        let url = testing::new_schema(&base).await;
        Some((
            Store::open(&url).await.unwrap(),
            Store::open(&url).await.unwrap(),
        ))
    }

    #[tokio::test]
    async fn one_candidate_leads_and_the_lock_goes_with_its_connection() {
        let Some((a, b)) = two_on_one_schema().await else {
            return;
        };
        // A name no other test run uses: its connection is the one ended below.
        let name = format!(
            "{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        );
        let mut first = a.leader_candidate(&name).await.unwrap();
        let mut second = b.leader_candidate("b").await.unwrap();
        assert!(first.try_lead().await.unwrap());
        assert!(!second.try_lead().await.unwrap(), "one leader at a time");
        first.still_there().await.unwrap();
        // The leader's connection ends, as when its process is killed.
        let killed: bool = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(format!("butler {name}"))
        .fetch_one(match &b.pool {
            Db::Postgres(pool) => pool,
            Db::Sqlite(_) => unreachable!(),
        })
        .await
        .unwrap();
        assert!(killed);
        assert!(
            first.still_there().await.is_err(),
            "the leader sees it broke"
        );
        // pg_terminate_backend only signals: the backend lets go of its locks as it exits,
        // a moment later.
        let mut took = false;
        for _ in 0..100 {
            took = second.try_lead().await.unwrap();
            if took {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(took, "the lock went with it within 5 s");
        // Another schema's Butler has a lock of its own.
        let (other, _) = two_on_one_schema().await.unwrap();
        let mut elsewhere = other.leader_candidate("c").await.unwrap();
        assert!(elsewhere.try_lead().await.unwrap());
    }

    #[tokio::test]
    async fn a_standby_hears_the_wake_ups_of_its_schema_only() {
        let Some((a, b)) = two_on_one_schema().await else {
            return;
        };
        let (other, _) = two_on_one_schema().await.unwrap();
        let mut heard = b.outbox_wakeups().await.unwrap();
        let wait = std::time::Duration::from_millis(500);
        other.outbox_announce().await.unwrap();
        assert!(
            tokio::time::timeout(wait, heard.next()).await.is_err(),
            "another schema's wake-up is not ours"
        );
        a.outbox_announce().await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), heard.next())
            .await
            .expect("heard")
            .unwrap();
    }
}
