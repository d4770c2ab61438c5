-- Bounded answers and retention (issue 12).

-- When the owner sent the report, as Telegram dated the message. The per-owner flood
-- limit counts reports by this date, not by when Butler handled them, so that reports
-- replayed after downtime (the inbox, or Telegram's backlog) are not refused. Rows
-- written before this column existed take their creation time.
ALTER TABLE tickets ADD COLUMN reported_at TEXT;
UPDATE tickets SET reported_at = created_at;
CREATE INDEX tickets_owner_reported ON tickets(owner_id, reported_at);

-- Pruning finds handled updates by `inbox_unhandled (handled_at, update_id)` and sent
-- messages by `outbox_pending (sent_at, failed, id)`; failed messages are few and are
-- found among the unsent ones. No new index is needed for either.
