-- Delivery nobody can starve (issue 12): a class per outbox row, chats that wait instead
-- of failing, and an index for "which chats have due messages".

-- 0: the message answers a person (a confirmation, a card, a relay, a refusal …);
-- 1: bulk (the greeting, notices, summaries, monthly reports, sweep alerts). Within
-- Telegram's overall budget, chats with a message of class 0 go first.
ALTER TABLE outbox ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0;

-- 1: the chat is one Butler never gives up on (the staff chat, a manager's private
-- chat): while it is unreachable its messages wait, and go out once it is back.
-- 0: its messages are failed, as for an owner group that removed the bot.
ALTER TABLE unreachable_chats ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;

-- The delivery worker's questions: per chat with unsent rows, the next one and whether
-- any is of class 0; and a chat's next rows, class 0 first, each class in order. Only
-- unsent rows are in this index, so it stays small however long the outbox grows.
CREATE INDEX outbox_due_chats ON outbox(chat_id, bulk, id)
    WHERE sent_at IS NULL AND failed IS NULL;
