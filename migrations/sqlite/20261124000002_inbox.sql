-- The update inbox: every update from getUpdates is written here before its offset is
-- confirmed to Telegram, and marked handled once the handler tree has run. On start,
-- what is not handled is dispatched again: a crash loses no report.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    payload     TEXT    NOT NULL,   -- the Update as Telegram sent it (JSON)
    received_at TEXT    NOT NULL,
    handled_at  TEXT
);
CREATE INDEX inbox_unhandled ON inbox(handled_at, update_id);

-- Effects caused by a message (a relayed progress text, an owner's added detail, a note)
-- remember that message, so the same message handled twice has its effect once.
ALTER TABLE ticket_events ADD COLUMN source_chat INTEGER;
ALTER TABLE ticket_events ADD COLUMN source_message INTEGER;
CREATE UNIQUE INDEX ticket_events_source ON ticket_events(source_chat, source_message, kind)
    WHERE source_message IS NOT NULL;

-- Chats that will not take messages from the bot: a private chat that blocked it (403),
-- a group it was removed from. Nothing is sent there until the chat is heard from again.
CREATE TABLE unreachable_chats (
    chat_id INTEGER PRIMARY KEY,
    reason  TEXT NOT NULL,
    since   TEXT NOT NULL
);
