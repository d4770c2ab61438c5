-- The figures leave paused time out (issue 14): a ticket's time to done is the time from
-- the report to its latest completion less the time it spent paused before then.
--
-- done_paused_secs  the paused time up to the latest `done` event: `paused_secs` as it
--                   stood when that event was written (a completion ends any pause
--                   first, so the sum is whole then). A reopened ticket paused again
--                   keeps it until it is done again, like `done_at`. 0 when never done.
--
-- Kept on the ticket by the `done` trigger, like the other milestones, so that the done
-- figures still read one covering index range.
ALTER TABLE tickets ADD COLUMN done_paused_secs INTEGER NOT NULL DEFAULT 0;

-- Tickets done before this migration: the pauses that ended (were resumed) by the latest
-- completion, each from its `paused` event to its `resumed` event.
UPDATE tickets SET done_paused_secs = COALESCE((
    SELECT SUM(CAST(ROUND((julianday(r.at) - julianday(
               (SELECT MAX(p.at) FROM ticket_events p
                WHERE p.ticket_id = r.ticket_id AND p.kind = 'paused' AND p.at <= r.at)
           )) * 86400.0) AS INTEGER))
    FROM ticket_events r
    WHERE r.ticket_id = tickets.id AND r.kind = 'resumed' AND r.at <= tickets.done_at
), 0)
WHERE done_at IS NOT NULL AND paused_secs > 0;

DROP TRIGGER ticket_done;
CREATE TRIGGER ticket_done AFTER INSERT ON ticket_events WHEN NEW.kind = 'done'
BEGIN
    UPDATE tickets SET done_at = NEW.at, done_paused_secs = paused_secs
    WHERE id = NEW.ticket_id AND (done_at IS NULL OR done_at <= NEW.at);
END;

-- The done figures' covering index, with the paused time.
DROP INDEX tickets_done;
CREATE INDEX tickets_done
    ON tickets(done_at, group_chat_id, category, taken_by, taken_by_name, created_at, reopened,
               rated, done_paused_secs)
    WHERE done_at IS NOT NULL;
