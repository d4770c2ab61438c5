-- The SLA policy per kind and urgency (issue 15, item 3) and Hurry up (item 4).
--
-- Each ticket's deadlines are worked out once, in Rust (the policy of its kind and
-- urgency, over the business-hours calendar when it follows one), and kept here; the SLA
-- sweep, Hurry up and the figures compare against them. Paused time is not in them: a
-- paused ticket's deadline is the stored one pushed back by the time spent paused.
--
--   take_due_at          a repair: taken by then (set at the report, and again when its
--                        urgency changes)
--   first_update_due_at  a repair: the owner hears progress by then (set at each take)
--   resolve_due_at       a repair: done by then; a complaint: the reply (closed) by then
--   response_due_at      a complaint: a manager's first answer by then
--
-- A suggestion has none. Existing tickets get the flat default policy (take 10 minutes,
-- first update 30 minutes after the latest take, resolve 24 hours; a complaint's first
-- response 2 hours, reply 48 hours), day and night: the settings are not known here.
ALTER TABLE tickets ADD COLUMN take_due_at TEXT;
ALTER TABLE tickets ADD COLUMN first_update_due_at TEXT;
ALTER TABLE tickets ADD COLUMN resolve_due_at TEXT;
ALTER TABLE tickets ADD COLUMN response_due_at TEXT;

UPDATE tickets SET
    take_due_at    = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+10 minutes'),
    resolve_due_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+24 hours')
WHERE kind IN ('repair');
UPDATE tickets SET
    first_update_due_at = (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', MAX(e.at), '+30 minutes')
                           FROM ticket_events e
                           WHERE e.ticket_id = tickets.id AND e.kind = 'taken')
WHERE kind IN ('repair') AND status = 'taken';
UPDATE tickets SET
    response_due_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+120 minutes'),
    resolve_due_at  = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+48 hours')
WHERE kind IN ('complaint');

-- The on-time take rate reads the take deadline beside the first take (covering index,
-- as before), and the reports never taken by the time their deadline passed by that
-- deadline.
DROP INDEX tickets_first_taken;
CREATE INDEX tickets_first_taken
    ON tickets(first_taken_at, group_chat_id, category, taken_by, taken_by_name, created_at, take_due_at)
    WHERE first_taken_at IS NOT NULL;
CREATE INDEX tickets_take_due
    ON tickets(take_due_at, group_chat_id, category, taken_by, status)
    WHERE first_taken_at IS NULL AND take_due_at IS NOT NULL;

-- New alerts sent once per ticket: a complaint's first response and reply missed, and the
-- Hurry up button put under the owner's confirmation. The kinds are checked, so the table
-- is rebuilt with the longer list (SQLite cannot change a CHECK in place).
CREATE TABLE ticket_alerts_new (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    kind      TEXT    NOT NULL CHECK (kind IN
                  ('take','first_update','resolve','rating_reminder','rating_expired',
                   'response','reply','hurry_offer')),
    round     INTEGER NOT NULL DEFAULT 0,
    sent_at   TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, kind, round)
);
INSERT INTO ticket_alerts_new (ticket_id, kind, round, sent_at)
    SELECT ticket_id, kind, round, sent_at FROM ticket_alerts;
DROP TABLE ticket_alerts;
ALTER TABLE ticket_alerts_new RENAME TO ticket_alerts;
