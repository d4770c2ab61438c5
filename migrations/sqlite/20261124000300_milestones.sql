-- Each ticket's milestones, kept on the ticket itself so that a month's figures read one
-- narrow index range instead of walking the event log and looking every ticket up.
--
-- The event log and the ratings stay the record; triggers keep these columns in step
-- with every row added there, whichever code path adds it, and the backfill below
-- derives them for tickets that already exist.
--   first_taken_at  the first `taken` event
--   done_at         the latest `done` event (a reopened ticket keeps it until done again)
--   reopened        1 once there has been a `reopened` event
--   rated           1 once there is a rating (any round)
ALTER TABLE tickets ADD COLUMN first_taken_at TEXT;
ALTER TABLE tickets ADD COLUMN done_at TEXT;
ALTER TABLE tickets ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN rated INTEGER NOT NULL DEFAULT 0;

UPDATE tickets SET
    first_taken_at = (SELECT MIN(e.at) FROM ticket_events e
                      WHERE e.ticket_id = tickets.id AND e.kind = 'taken'),
    done_at        = (SELECT MAX(e.at) FROM ticket_events e
                      WHERE e.ticket_id = tickets.id AND e.kind = 'done'),
    reopened       = EXISTS (SELECT 1 FROM ticket_events e
                             WHERE e.ticket_id = tickets.id AND e.kind = 'reopened'),
    rated          = EXISTS (SELECT 1 FROM ratings r WHERE r.ticket_id = tickets.id);

CREATE TRIGGER ticket_first_taken AFTER INSERT ON ticket_events WHEN NEW.kind = 'taken'
BEGIN
    UPDATE tickets SET first_taken_at = NEW.at
    WHERE id = NEW.ticket_id AND (first_taken_at IS NULL OR first_taken_at > NEW.at);
END;

CREATE TRIGGER ticket_done AFTER INSERT ON ticket_events WHEN NEW.kind = 'done'
BEGIN
    UPDATE tickets SET done_at = NEW.at
    WHERE id = NEW.ticket_id AND (done_at IS NULL OR done_at < NEW.at);
END;

CREATE TRIGGER ticket_reopened AFTER INSERT ON ticket_events WHEN NEW.kind = 'reopened'
BEGIN
    UPDATE tickets SET reopened = 1 WHERE id = NEW.ticket_id AND reopened = 0;
END;

CREATE TRIGGER ticket_rated AFTER INSERT ON ratings
BEGIN
    UPDATE tickets SET rated = 1 WHERE id = NEW.ticket_id AND rated = 0;
END;

-- Covering indexes: each figure reads its period's range and nothing else. The scope
-- (group, category, taker) and what the figure needs sit in the index entry, so the
-- wide ticket rows (the owner's text) are never read.
DROP INDEX tickets_created;
CREATE INDEX tickets_created ON tickets(created_at, group_chat_id, category, taken_by);
CREATE INDEX tickets_first_taken
    ON tickets(first_taken_at, group_chat_id, category, taken_by, taken_by_name, created_at)
    WHERE first_taken_at IS NOT NULL;
CREATE INDEX tickets_done
    ON tickets(done_at, group_chat_id, category, taken_by, taken_by_name, created_at, reopened, rated)
    WHERE done_at IS NOT NULL;
DROP INDEX ratings_at;
CREATE INDEX ratings_at ON ratings(at, ticket_id, round, score);

-- Each staff member's name as of their latest take, for the staff tables of the
-- figures (a ticket keeps the name its taker had then).
CREATE TABLE staff_names (
    user_id INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    at      TEXT    NOT NULL
);
INSERT INTO staff_names (user_id, name, at)
    SELECT actor_id, actor_name, MAX(at) FROM ticket_events WHERE kind = 'taken'
    GROUP BY actor_id;

CREATE TRIGGER staff_name AFTER INSERT ON ticket_events WHEN NEW.kind = 'taken'
BEGIN
    INSERT INTO staff_names (user_id, name, at) VALUES (NEW.actor_id, NEW.actor_name, NEW.at)
    ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, at = excluded.at
    WHERE excluded.at >= staff_names.at;
END;
