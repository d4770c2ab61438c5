//! Updates as received from Telegram (`inbox`), kept until handled so a crash loses none.

use chrono::{DateTime, Utc};

use super::{Error, Result, Sql, Store, query, query_as, query_scalar};

impl Store {
    /// Writes a batch of updates as received; returns the ids that still need handling
    /// (new ones, and ones received before but never handled).
    pub async fn inbox_receive(
        &self,
        updates: &[(i32, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<i32>> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        // On the disk before Telegram is told to forget these updates (the next poll).
        let mut unhandled = self
            .durably(async |tx| {
                let mut unhandled = std::collections::HashSet::new();
                // Two statements a chunk, not two an update (getUpdates gives at most 100).
                for chunk in updates.chunks(100) {
                    let rows = vec!["(?, ?, ?)"; chunk.len()].join(", ");
                    let mut insert = query(format!(
                        "INSERT INTO inbox (update_id, payload, received_at) VALUES {rows}
                         ON CONFLICT(update_id) DO NOTHING"
                    ));
                    for (id, payload) in chunk {
                        insert = insert.bind(*id).bind(payload.as_str()).bind(now);
                    }
                    insert.execute(&mut *tx).await?;
                    let marks = vec!["?"; chunk.len()].join(", ");
                    let mut select = query_scalar::<i32>(format!(
                        "SELECT update_id FROM inbox WHERE handled_at IS NULL AND update_id IN ({marks})"
                    ));
                    for (id, _) in chunk {
                        select = select.bind(*id);
                    }
                    let found: Vec<i32> = select.fetch_all(&mut *tx).await?;
                    unhandled.extend(found);
                }
                Ok(unhandled)
            })
            .await?;
        Ok(updates
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| unhandled.remove(id))
            .collect())
    }

    /// Writes one update a webhook delivered, on the disk before the delivery is answered;
    /// `true` when it is new. A repeated delivery (Telegram missed the answer) is not: that
    /// update is in hand already, or was left unhandled and is replayed on the next start.
    pub async fn inbox_deliver(&self, id: i32, payload: &str, now: DateTime<Utc>) -> Result<bool> {
        self.durably(async |tx| {
            let written = query(
                "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)
                 ON CONFLICT(update_id) DO NOTHING",
            )
            .bind(id)
            .bind(payload)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Ok(written.rows_affected() == 1)
        })
        .await
    }

    /// Updates received but not handled, oldest first.
    pub async fn inbox_unhandled(&self, limit: i64) -> Result<Vec<(i32, String)>> {
        Ok(query_as("SELECT update_id, payload FROM inbox WHERE handled_at IS NULL ORDER BY update_id LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Updates received before `before` and not handled, oldest first: what an instance
    /// that died (or stopped) left, once no live one can still be handling it.
    pub async fn inbox_unhandled_before(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(i32, String)>> {
        Ok(query_as(
            "SELECT update_id, payload FROM inbox
             WHERE handled_at IS NULL AND received_at < ? ORDER BY update_id LIMIT ?",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The highest update id ever received, if any.
    pub async fn inbox_last_id(&self) -> Result<Option<i32>> {
        Ok(query_scalar("SELECT MAX(update_id) FROM inbox")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Marks an update handled (with the marks of handlers finishing meanwhile, see
    /// [`super::batch`]).
    pub async fn inbox_handled(&self, id: i32, now: DateTime<Utc>) -> Result<()> {
        self.handled.write(self, (id, now)).await
    }

    pub(super) async fn write_handled(self, marks: Vec<(i32, DateTime<Utc>)>) -> Result<()> {
        let Some(now) = marks.iter().map(|(_, at)| *at).max() else {
            return Ok(());
        };
        let ids: Vec<i32> = marks.iter().map(|(id, _)| *id).collect();
        query(Sql::each(
            "UPDATE inbox SET handled_at = ?
             WHERE handled_at IS NULL AND update_id IN (SELECT value FROM json_each(?))",
            "UPDATE inbox SET handled_at = ?
             WHERE handled_at IS NULL
               AND update_id IN (SELECT value::integer FROM json_array_elements_text(?::json))",
        ))
        .bind(now)
        .bind(serde_json::to_string(&ids).map_err(|e| Error::Corrupt(e.to_string()))?)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks an update handled, its handling having failed for good (`why`): it is not
    /// dispatched again.
    pub async fn inbox_failed(&self, id: i32, why: &str, now: DateTime<Utc>) -> Result<()> {
        query("UPDATE inbox SET handled_at = ?, failed = ? WHERE update_id = ?")
            .bind(now)
            .bind(why)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Why handling the update failed for good, if it did.
    pub async fn inbox_failure(&self, id: i32) -> Result<Option<String>> {
        let failed: Option<Option<String>> =
            query_scalar("SELECT failed FROM inbox WHERE update_id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(failed.flatten())
    }

    /// True if the update was received and handled (its mark written).
    pub async fn inbox_is_handled(&self, id: i32) -> Result<bool> {
        let handled: Option<Option<DateTime<Utc>>> =
            query_scalar("SELECT handled_at FROM inbox WHERE update_id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(matches!(handled, Some(Some(_))))
    }
}
