-- Routing to trade chats and pausing a ticket (issue 14).
--
-- staff_chat_id  the staff chat the ticket's card lives in, set at report time from the
--                settings' [[routes]] and moved by a category change. NULL: the main
--                staff chat (`staff_chat_id` in the settings, whatever it is now), which
--                is also what every ticket from before routing means.
-- paused_at      set while the ticket is paused (/pause), NULL otherwise; the SLA clocks
--                stand still meanwhile.
-- pause_reason   why, as the one who paused said it (shown on the card).
-- paused_secs    the paused time of the pauses that have ended, in seconds; the events
--                `paused` / `resumed` stay the record, this is their running sum so that
--                the SLA sweep and the figures need not walk the event log.
ALTER TABLE tickets ADD COLUMN staff_chat_id INTEGER;
ALTER TABLE tickets ADD COLUMN paused_at TEXT;
ALTER TABLE tickets ADD COLUMN pause_reason TEXT;
ALTER TABLE tickets ADD COLUMN paused_secs INTEGER NOT NULL DEFAULT 0;

CREATE INDEX tickets_staff_chat ON tickets(staff_chat_id, status);
