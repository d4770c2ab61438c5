-- The follow-up loop closed (issue 15): the follow-up card is redrawn with its closing
-- note after "rate again" (so the closer's name is kept beside the note), and a manager
-- may tell the owner the outcome once (who and when).
ALTER TABLE follow_ups ADD COLUMN closed_by_name TEXT;
ALTER TABLE follow_ups ADD COLUMN owner_told_by TEXT;
ALTER TABLE follow_ups ADD COLUMN owner_told_at TEXT;
