-- The figures of kinds, urgency and the owner's side (issue 15, item 7).
--
-- Complaints and suggestions have their own figures and no longer count among the
-- repairs reported: the kind joins the covering index the period's reports are read
-- from, so that the repairs' figures still read the index entries alone.
DROP INDEX tickets_created;
CREATE INDEX tickets_created ON tickets(created_at, group_chat_id, category, taken_by, kind);

-- Urgent (A) repairs of a period: reported (and still waiting), and first taken. Few
-- tickets are urgent; these keep a month's figures from looking up every repair.
CREATE INDEX tickets_urgent_created
    ON tickets(created_at, group_chat_id, category, taken_by, status)
    WHERE kind = 'repair' AND urgency = 'A';
CREATE INDEX tickets_urgent_taken
    ON tickets(first_taken_at, group_chat_id, category, taken_by, created_at)
    WHERE kind = 'repair' AND urgency = 'A' AND first_taken_at IS NOT NULL;

-- Repeat repairs (二次返修) reported in a period.
CREATE INDEX tickets_repeats
    ON tickets(created_at, group_chat_id, category, taken_by, kind)
    WHERE repeat_of IS NOT NULL;
