//! Owner groups (`owner_groups`) and owners (`owners`).

use chrono::{DateTime, Utc};

use super::tickets::parse_unit;
use super::{Error, Result, Sql, Store, Tx, query, query_as, query_scalar};
use crate::domain::Unit;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Group {
    pub chat_id: i64,
    pub name: String,
    pub locale: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct Owner {
    pub user_id: u64,
    pub name: String,
    pub unit: Option<Unit>,
    pub locale: Option<String>,
    pub watched: bool,
}

/// An owner's row, before its unit is parsed.
#[derive(sqlx::FromRow)]
struct OwnerRecord {
    #[sqlx(try_from = "i64")]
    user_id: u64,
    name: String,
    unit: Option<String>,
    locale: Option<String>,
    watched: bool,
}

impl TryFrom<OwnerRecord> for Owner {
    type Error = Error;
    fn try_from(r: OwnerRecord) -> Result<Self> {
        Ok(Owner {
            user_id: r.user_id,
            name: r.name,
            unit: parse_unit(r.unit)?,
            locale: r.locale,
            watched: r.watched,
        })
    }
}

impl Store {
    pub async fn group(&self, chat_id: i64) -> Result<Option<Group>> {
        Ok(
            query_as("SELECT chat_id, name, locale, active FROM owner_groups WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn owner(&self, user_id: u64) -> Result<Option<Owner>> {
        let row: Option<OwnerRecord> =
            query_as("SELECT user_id, name, unit, locale, watched FROM owners WHERE user_id = ?")
                .bind(user_id as i64)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Owner::try_from).transpose()
    }

    /// A group became a supergroup: its tickets follow the new id (ON UPDATE CASCADE),
    /// and messages waiting for the old id go to the new one. Idempotent.
    pub async fn move_chat(&self, from: i64, to: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let exists: Option<i64> =
            query_scalar("SELECT chat_id FROM owner_groups WHERE chat_id = ?")
                .bind(to)
                .fetch_optional(&mut tx)
                .await?;
        if exists.is_none() {
            query("UPDATE owner_groups SET chat_id = ? WHERE chat_id = ?")
                .bind(to)
                .bind(from)
                .execute(&mut tx)
                .await?;
        }
        query(Sql::each(
            "UPDATE outbox SET chat_id = ?1, payload = json_set(payload, '$.chat_id', ?1)
             WHERE chat_id = ?2 AND sent_at IS NULL AND failed IS NULL",
            "UPDATE outbox SET chat_id = ?1,
                 payload = jsonb_set(payload::jsonb, '{chat_id}', to_jsonb(?1::bigint))::text
             WHERE chat_id = ?2 AND sent_at IS NULL AND failed IS NULL",
        ))
        .bind(to)
        .bind(from)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Tx<'_> {
    /// Registers (or re-activates and renames) an owner group. True if it was new.
    pub async fn register_group(
        &mut self,
        chat_id: i64,
        name: &str,
        by: u64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let existed: Option<i64> =
            query_scalar("SELECT chat_id FROM owner_groups WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(&mut self.0)
                .await?;
        query(
            "INSERT INTO owner_groups (chat_id, name, active, registered_by, registered_at) VALUES (?, ?, TRUE, ?, ?)
             ON CONFLICT(chat_id) DO UPDATE SET name = excluded.name, active = TRUE",
        )
        .bind(chat_id)
        .bind(name)
        .bind(by as i64)
        .bind(now)
        .execute(&mut self.0)
        .await?;
        Ok(existed.is_none())
    }

    /// True if the group was active.
    pub async fn deactivate_group(&mut self, chat_id: i64) -> Result<bool> {
        let r = query("UPDATE owner_groups SET active = FALSE WHERE chat_id = ? AND active = TRUE")
            .bind(chat_id)
            .execute(&mut self.0)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn set_group_locale(&mut self, chat_id: i64, locale: &str) -> Result<()> {
        query("UPDATE owner_groups SET locale = ? WHERE chat_id = ?")
            .bind(locale)
            .bind(chat_id)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    /// The registered owner groups Butler still serves, oldest registration first.
    pub async fn active_groups(&mut self) -> Result<Vec<Group>> {
        Ok(query_as(
            "SELECT chat_id, name, locale, active FROM owner_groups
             WHERE active = TRUE AND chat_id NOT IN (SELECT chat_id FROM unreachable_chats)
             ORDER BY registered_at, chat_id",
        )
        .fetch_all(&mut self.0)
        .await?)
    }

    /// Records an owner as last seen (name and Telegram language).
    pub async fn touch_owner(
        &mut self,
        user_id: u64,
        name: &str,
        locale: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Owner> {
        let r: OwnerRecord = query_as(
            "INSERT INTO owners (user_id, name, locale, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT(user_id) DO UPDATE SET name = excluded.name,
                 locale = COALESCE(excluded.locale, owners.locale), updated_at = excluded.updated_at
             RETURNING user_id, name, unit, locale, watched",
        )
        .bind(user_id as i64)
        .bind(name)
        .bind(locale)
        .bind(now)
        .fetch_one(&mut self.0)
        .await?;
        r.try_into()
    }

    pub async fn set_owner_unit(
        &mut self,
        user_id: u64,
        unit: &Unit,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query("UPDATE owners SET unit = ?, updated_at = ? WHERE user_id = ?")
            .bind(&**unit)
            .bind(now)
            .bind(user_id as i64)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    /// Puts an owner on (or off) the watch list; an owner not seen yet is created.
    pub async fn set_watched(
        &mut self,
        user_id: u64,
        watched: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query(
            "INSERT INTO owners (user_id, name, watched, updated_at) VALUES (?, '', ?, ?)
             ON CONFLICT(user_id) DO UPDATE SET watched = excluded.watched, updated_at = excluded.updated_at",
        )
        .bind(user_id as i64)
        .bind(watched)
        .bind(now)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }
}
