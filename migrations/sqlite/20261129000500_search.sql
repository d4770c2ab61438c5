-- /find: full-text search over tickets (the report's text, the unit, the category code).
-- An external-content FTS5 table: the words live in `tickets`, the index here, kept in
-- step by the triggers below; this migration indexes the tickets already there.
--
-- The trigram tokenizer indexes every three characters, so a search finds a part of a
-- word too, in any script: Chinese is written without spaces, and "漏水了" or "3-1201"
-- are found inside longer text. Words shorter than three characters (most Chinese words
-- are two) cannot use the index; the store matches those with LIKE on the candidates.
CREATE VIRTUAL TABLE tickets_fts USING fts5(
    text,
    unit,
    category,
    content = 'tickets',
    content_rowid = 'id',
    tokenize = 'trigram case_sensitive 0'
);

INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild');

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, text, unit, category)
    VALUES (new.id, new.text, new.unit, new.category);
END;

CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, text, unit, category)
    VALUES ('delete', old.id, old.text, old.unit, old.category);
END;

-- An owner's correction, a new category, an owner forgotten (their words replaced).
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF text, unit, category ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, text, unit, category)
    VALUES ('delete', old.id, old.text, old.unit, old.category);
    INSERT INTO tickets_fts (rowid, text, unit, category)
    VALUES (new.id, new.text, new.unit, new.category);
END;
