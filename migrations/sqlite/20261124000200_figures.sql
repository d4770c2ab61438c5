-- Satisfaction figures and files sent through the outbox.

-- The figures read tickets by report time, events by ticket and kind ("the first
-- `taken` of ticket 42", "was ticket 42 ever reopened?"), and follow-ups by the time
-- they were opened or closed. Without these, a month's figures would scan every row
-- ever written. (Events by kind and time, and ratings by time, have indexes already.)
CREATE INDEX tickets_created ON tickets(created_at);
CREATE INDEX ticket_events_ticket_kind ON ticket_events(ticket_id, kind, at);
CREATE INDEX follow_ups_opened ON follow_ups(opened_at);
CREATE INDEX follow_ups_closed ON follow_ups(closed_at);

-- Bytes of a document or picture Butler makes itself (an XLSX export, a PNG chart),
-- referred to by id from an outbox payload and uploaded at delivery. Kept apart from
-- the payload so that the outbox rows stay small JSON; pruned once no unsent row needs
-- them and they are a week old.
CREATE TABLE outbox_files (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    bytes      BLOB    NOT NULL,
    created_at TEXT    NOT NULL
);
