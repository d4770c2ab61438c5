-- Kinds, urgency and repeat repairs (issue 15, items 1, 2 and 5).
--
--   kind       what the owner asked for: a repair (报修, the default and every ticket
--              before this migration), a complaint (投诉) or a suggestion (建议).
--              Complaints and suggestions go to the managers, never to the staff chat,
--              and share the ticket numbers.
--   urgency    A (safety and basic living: gas, fire, flooding, no water or power,
--              someone stuck in a lift), B (quality of life, the default) or C (cosmetic).
--              Guessed from the report's words at report time; staff may change it.
--   repeat_of  the earlier finished repair of the same unit and category within 30 days
--              (二次返修), when there was one; NULL otherwise.
--
-- The take alert of an A ticket repeats until it is taken: ticket_alerts keeps the first
-- as kind 'take', round 0 (as for every ticket) and the n-th repetition as kind 'take',
-- round n, so each repetition is sent once whatever the restarts.
ALTER TABLE tickets ADD COLUMN kind TEXT NOT NULL DEFAULT 'repair'
    CHECK (kind IN ('repair','complaint','suggestion'));
ALTER TABLE tickets ADD COLUMN urgency TEXT NOT NULL DEFAULT 'B'
    CHECK (urgency IN ('A','B','C'));
ALTER TABLE tickets ADD COLUMN repeat_of INTEGER REFERENCES tickets(id);

-- "The latest finished repair of this unit and category" at report time, and the
-- suggestions of a month for the monthly report.
CREATE INDEX tickets_unit_done ON tickets(group_chat_id, unit, category, done_at)
    WHERE unit IS NOT NULL AND done_at IS NOT NULL;
CREATE INDEX tickets_kind_created ON tickets(kind, created_at);
