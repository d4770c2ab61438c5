-- The console's board on PostgreSQL: a page is the newest tickets of one filter, read
-- from an index whose entries are ordered by id within one value, so that it reads its
-- rows and stops. SQLite ends every index with the rowid (see its console migration);
-- PostgreSQL's end with the row's place in the table, so each filter's index names the
-- id. Without it, a value whose tickets are all old (a group gone quiet, a category no
-- longer used) was read by walking the whole table back from the newest ticket
-- (300 ms on 300,000 tickets; 0.1 ms with the id). `tickets_status` serves the status
-- filter, and `status = ?` as before.
DROP INDEX tickets_board_category;
CREATE INDEX tickets_board_category ON tickets(category, id);
DROP INDEX tickets_board_group;
CREATE INDEX tickets_board_group ON tickets(group_chat_id, id);
DROP INDEX tickets_board_holder;
CREATE INDEX tickets_board_holder ON tickets(taken_by, id);
DROP INDEX tickets_board_kind;
CREATE INDEX tickets_board_kind ON tickets(kind, id);
DROP INDEX tickets_board_urgency;
CREATE INDEX tickets_board_urgency ON tickets(urgency, id);
DROP INDEX tickets_status;
CREATE INDEX tickets_status ON tickets(status, id);
