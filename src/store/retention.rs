//! Pruning what is only kept for a while: handled updates (`inbox`) and sent or failed
//! messages (`outbox`). Each call deletes at most one batch, in one short write, so that
//! the write lock is never held long; `jobs::retention` calls them in turn.

use chrono::{DateTime, Utc};

use super::{Result, Store, query, query_as};

impl Store {
    /// Deletes up to `batch` updates handled before `before`, oldest first; returns how
    /// many. Updates not handled yet are never deleted, nor the newest update (its id is
    /// where polling resumes after a restart).
    pub async fn prune_inbox(&self, before: DateTime<Utc>, batch: i64) -> Result<u64> {
        let r = query(
            "DELETE FROM inbox WHERE update_id IN (
                 SELECT update_id FROM inbox
                 WHERE handled_at IS NOT NULL AND handled_at < ?1
                   AND update_id < (SELECT MAX(update_id) FROM inbox)
                 ORDER BY handled_at LIMIT ?2)",
        )
        .bind(before)
        .bind(batch)
        .execute(&self.writer)
        .await?;
        Ok(r.rows_affected())
    }

    /// Deletes up to `batch` messages sent before `before`, or failed and written before
    /// it; returns how many. A message still to be sent is never deleted.
    pub async fn prune_outbox(&self, before: DateTime<Utc>, batch: i64) -> Result<u64> {
        let sent = query(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?1 LIMIT ?2)",
        )
        .bind(before)
        .bind(batch)
        .execute(&self.writer)
        .await?
        .rows_affected();
        let room = batch - sent as i64;
        if room <= 0 {
            return Ok(sent);
        }
        let failed = query(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox
                 WHERE sent_at IS NULL AND failed IS NOT NULL AND created_at < ?1 LIMIT ?2)",
        )
        .bind(before)
        .bind(room)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(sent + failed)
    }

    /// (inbox rows, outbox rows) kept now: for tests and health checks.
    pub async fn kept_rows(&self) -> Result<(i64, i64)> {
        Ok(
            query_as("SELECT (SELECT COUNT(*) FROM inbox), (SELECT COUNT(*) FROM outbox)")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
