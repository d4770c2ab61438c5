-- The figures of kinds, urgency and the owner's side (issue 15, item 7).
--
-- Complaints and suggestions have figures of their own and no longer count among the
-- repairs reported, which are now read by kind and time. That index becomes covering,
-- with what the figures of a period's repairs ask of them (the scope, the urgency, the
-- status, the repair repeated), so that a month's figures still read index entries
-- alone, never the wide rows with the owners' text.
DROP INDEX tickets_kind_created;
CREATE INDEX tickets_kind_created
    ON tickets(kind, created_at, group_chat_id, category, taken_by, urgency, status, repeat_of);

-- Urgent (A) tickets first taken in a period: few, which the take index would find only
-- by looking up every ticket taken.
CREATE INDEX tickets_urgent_taken
    ON tickets(first_taken_at, kind, group_chat_id, category, taken_by, created_at)
    WHERE urgency = 'A' AND first_taken_at IS NOT NULL;
