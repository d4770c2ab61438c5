-- Scheduled messages: the claims that make each job fire once per scheduled time, the
-- alerts the sweeps have sent, the private chats Butler can write to, and notices waiting
-- for their author's confirmation.

-- One row per (job, scheduled time) that was handled. A job run inserts its row with
-- INSERT OR IGNORE in the transaction that writes its outbox rows: whoever inserts it
-- does the work, once, across restarts, crashes and several instances. `outcome` says
-- whether the time ran or was skipped (missed while down, outside the catch-up window);
-- the latest row of a job is where the scheduler looks back from after a restart.
CREATE TABLE job_runs (
    job           TEXT NOT NULL,               -- morning_greeting, daily_summary
    scheduled_for TEXT NOT NULL,               -- the scheduled instant, UTC RFC 3339
    ran_at        TEXT NOT NULL,               -- when it was handled
    outcome       TEXT NOT NULL CHECK (outcome IN ('ran','skipped')),
    PRIMARY KEY (job, scheduled_for)
);

-- Each SLA alert and rating reminder once per ticket, kind and rating round (0 for the
-- SLA kinds). The sweeps insert with INSERT OR IGNORE and send only when they inserted.
CREATE TABLE ticket_alerts (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    kind      TEXT    NOT NULL CHECK (kind IN
                  ('take','first_update','resolve','rating_reminder','rating_expired')),
    round     INTEGER NOT NULL DEFAULT 0,
    sent_at   TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, kind, round)
);

-- People who have written to Butler privately: Telegram lets a bot message a user only
-- after the user started a private chat with it. Managers not listed here get their
-- escalations in the staff chat instead.
CREATE TABLE private_chats (
    user_id    INTEGER PRIMARY KEY,
    locale     TEXT,                           -- Telegram's language_code, as last seen
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

-- A manager's /notice, held until its author presses Send (or Cancel). The button
-- carries only the id: callback data is limited to 64 bytes.
CREATE TABLE notices (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    text               TEXT    NOT NULL,
    asked_by           INTEGER NOT NULL,
    chat_id            INTEGER NOT NULL,       -- where /notice was sent
    command_message_id INTEGER NOT NULL,       -- the /notice message; the question replies to it
    status             TEXT    NOT NULL DEFAULT 'pending'
                           CHECK (status IN ('pending','sent','cancelled')),
    groups             INTEGER,                -- owner groups it went to
    created_at         TEXT    NOT NULL,
    decided_at         TEXT
);
