-- The staff roster: everyone Butler has seen in a staff chat, with the trades a manager
-- gave them (issue 14). Membership itself is still Telegram's to say (getChatMember):
-- this is who Butler knows by name and username, for /staff, /assign and the Assign
-- button. Whether a person has started the bot is `private_chats` (schedules migration).

CREATE TABLE staff (
    user_id      INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,             -- as last seen
    username     TEXT,                         -- without '@', lowercase, as last seen
    trades       TEXT    NOT NULL DEFAULT '',  -- category codes, space separated
    last_seen_at TEXT    NOT NULL
);
CREATE INDEX staff_username ON staff(username);

-- The staff chats each person was seen in (several staff chats are keyed by chat id).
CREATE TABLE staff_chats (
    user_id      INTEGER NOT NULL REFERENCES staff(user_id),
    chat_id      INTEGER NOT NULL,
    last_seen_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, chat_id)
);

-- The dispatch figures count `taken` events by their detail (NULL: taken by the person
-- themself; 'assigned', 'transferred') and `returned` events by their actor.
CREATE INDEX ticket_events_actor ON ticket_events(kind, actor_id, at);
