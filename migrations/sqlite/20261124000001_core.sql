-- Butler core schema. Never edit an applied migration: add a new one.
-- Times are stored as UTC text in RFC 3339 ("2026-11-24T06:15:00Z") so that they sort
-- and compare as strings and read well in the sqlite3 shell.

-- Owner groups registered by a manager. `active` goes to 0 on /unregister (and later
-- when the bot is removed); tickets keep pointing at the row either way.
CREATE TABLE owner_groups (
    chat_id       INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    locale        TEXT,                       -- NULL: owner's Telegram language, else default
    active        INTEGER NOT NULL DEFAULT 1,
    registered_by INTEGER NOT NULL,
    registered_at TEXT    NOT NULL
);

-- Owners are known by their Telegram user id, across groups.
CREATE TABLE owners (
    user_id    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    unit       TEXT,                          -- "3-1201" (building-room), set with /unit
    locale     TEXT,                          -- Telegram's language_code, as last seen
    watched    INTEGER NOT NULL DEFAULT 0,    -- manager's watch list (重点客户)
    updated_at TEXT    NOT NULL
);

-- One row per report. The status is a cache of the event log for fast listing; every
-- change writes the status and its event in the same transaction.
CREATE TABLE tickets (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    group_chat_id     INTEGER NOT NULL REFERENCES owner_groups(chat_id) ON UPDATE CASCADE,
    -- The owner's message that opened it, in the chat it was written in. When a group
    -- becomes a supergroup, group_chat_id follows it but this stays: the old message
    -- lives in the old chat, and message ids start again in the new one.
    report_chat_id    INTEGER NOT NULL,
    report_message_id INTEGER NOT NULL,
    owner_id          INTEGER NOT NULL REFERENCES owners(user_id),
    unit              TEXT,                    -- the owner's unit when reported
    category          TEXT    NOT NULL,
    text              TEXT    NOT NULL,        -- stored whole, even past Telegram's limits
    status            TEXT    NOT NULL CHECK (status IN ('reported','taken','done','rated','cancelled')),
    priority          INTEGER NOT NULL DEFAULT 0,
    taken_by          INTEGER,
    taken_by_name     TEXT,
    rating_round      INTEGER NOT NULL DEFAULT 0, -- 0: not asked yet; n: the n-th rating question
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    -- One ticket per report message, however often Telegram delivers it.
    UNIQUE (report_chat_id, report_message_id)
);
CREATE INDEX tickets_status ON tickets(status);
CREATE INDEX tickets_owner ON tickets(owner_id, created_at);
CREATE INDEX tickets_taker ON tickets(taken_by, status);

-- The audit trail: who did what, when. Every time and figure is derived from here.
CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    kind       TEXT    NOT NULL,   -- reported, detail, taken, progress, note, category, done, reopened, rated, low_score_comment, cancelled
    actor_id   INTEGER NOT NULL,
    actor_name TEXT    NOT NULL,
    detail     TEXT,
    at         TEXT    NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, at);
CREATE INDEX ticket_events_kind_at ON ticket_events(kind, at);

CREATE TABLE photos (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    file_id    TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('report','progress','completion')),
    added_by   INTEGER NOT NULL,
    -- The message that carried it: the same message handled twice adds nothing twice.
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    -- An album arrives as separate messages sharing this id; items after the captioned
    -- one find their ticket by it.
    media_group_id TEXT,
    at         TEXT    NOT NULL,
    UNIQUE (chat_id, message_id)
);
CREATE INDEX photos_media_group ON photos(media_group_id);
CREATE INDEX photos_ticket ON photos(ticket_id, at);

-- Every score ever given; a re-rating after a follow-up is a new round, both are kept.
CREATE TABLE ratings (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    round     INTEGER NOT NULL,
    owner_id  INTEGER NOT NULL,
    score     INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment   TEXT,
    at        TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, round)
);
CREATE INDEX ratings_at ON ratings(at);

-- A low score (or, later, an unrated ticket) opens a follow-up (回访) for managers.
CREATE TABLE follow_ups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    reason      TEXT    NOT NULL CHECK (reason IN ('low_score','unrated')),
    round       INTEGER NOT NULL,
    opened_at   TEXT    NOT NULL,
    closed_by   INTEGER,
    closed_note TEXT,
    closed_at   TEXT,
    UNIQUE (ticket_id, round, reason)
);

-- Messages Butler sent that a person can answer or that Butler edits later: the staff
-- card, the confirmation under a report, the rating question … Looked up both ways:
-- "which ticket is this reply about?" and "where is ticket 42's card?".
CREATE TABLE bot_messages (
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    kind       TEXT    NOT NULL,  -- card, confirmation, rating, low_score_question, follow_up, relay
    ref_id     INTEGER,           -- the follow-up id for a follow_up card
    at         TEXT    NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX bot_messages_ticket ON bot_messages(ticket_id, kind);

-- The one sending path: a message is written here in the transaction that causes it,
-- and the delivery worker sends it. `payload` is the JSON of `outbox::Outgoing`.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL,     -- delivery order is kept per chat
    payload     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TEXT,                 -- retry_after / backoff
    sent_at     TEXT,
    failed      TEXT,                 -- a permanent error's reason; never retried
    last_error  TEXT
);
CREATE INDEX outbox_pending ON outbox(sent_at, failed, id);
