-- The web console (issue 16): sign-in links, sessions, and the board's indexes.
--
--   console_links     a one-time sign-in link `/console` sent privately: the SHA-256 of
--                     its token (the token itself is only in the message), whose it is,
--                     until when it is valid (10 minutes) and when it was used (once).
--   console_sessions  a signed-in browser: the SHA-256 of its cookie, the person, the
--                     CSRF token every POST carries, and until when it is valid.
CREATE TABLE console_links (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    used_at    TEXT
);
CREATE INDEX console_links_expires ON console_links(expires_at);

CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    csrf       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions(expires_at);

-- The board lists tickets newest first (by id, which grows with the report time) a page
-- at a time from a cursor. Each filter it offers has an index whose entries are ordered
-- by id within one value (SQLite ends every index with the rowid), so a filtered page
-- reads its 50 rows and stops; `tickets_status` already serves the status filter.
CREATE INDEX tickets_board_category ON tickets(category);
CREATE INDEX tickets_board_group ON tickets(group_chat_id);
CREATE INDEX tickets_board_holder ON tickets(taken_by);
CREATE INDEX tickets_board_kind ON tickets(kind);
CREATE INDEX tickets_board_urgency ON tickets(urgency);
