-- An update whose handler failed for good: why (NULL while it is to be handled, and
-- after it was handled). Such an update is also marked handled (`handled_at`): it is
-- not dispatched again on start, and retention prunes it like the others.
ALTER TABLE inbox ADD COLUMN failed TEXT;
