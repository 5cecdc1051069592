-- History: what datagrepper's /raw, fmnctl history and the catch-up of
-- another fmnd look stored messages up by (schema/fmn_history.c).
--
-- t is a message's time as datagrepper orders and filters by it: the
-- publisher's timestamp, or when fmnd read the message if it had none.
-- A virtual column costs nothing to store; its index holds it.
ALTER TABLE messages ADD COLUMN t REAL
	GENERATED ALWAYS AS (coalesce(timestamp, received)) VIRTUAL;
-- The fourth token of the topic (fmn_msg.c), written at intake.
ALTER TABLE messages ADD COLUMN category TEXT;
UPDATE messages SET category = json_extract(summary, '$.category')
	WHERE summary IS NOT NULL AND json_valid(summary);

CREATE INDEX messages_t ON messages(t);
CREATE INDEX messages_topic ON messages(topic, t);
CREATE INDEX messages_category ON messages(category, t);

-- A message's usernames and packages (its facts, after aliases), one
-- row each, written at intake with the message. Keyed by message first
-- so that rows are appended in intake order; the name index finds a
-- name's messages in time order, and counts them, without reading the
-- messages themselves.
CREATE TABLE message_users (
	message_id	INTEGER NOT NULL,
	name		TEXT NOT NULL,
	t		REAL NOT NULL,		-- the message's
	PRIMARY KEY (message_id, name)
) WITHOUT ROWID;
CREATE INDEX message_users_name ON message_users(name, t);
CREATE TABLE message_packages (
	message_id	INTEGER NOT NULL,
	name		TEXT NOT NULL,
	t		REAL NOT NULL,		-- the message's
	PRIMARY KEY (message_id, name)
) WITHOUT ROWID;
CREATE INDEX message_packages_name ON message_packages(name, t);

-- Messages stored before: their facts are in their summary (004).
INSERT OR IGNORE INTO message_users (message_id, name, t)
	SELECT m.id, j.value, m.t FROM messages m, json_each(m.summary, '$.usernames') j
	WHERE m.summary IS NOT NULL AND json_valid(m.summary) AND j.type = 'text';
INSERT OR IGNORE INTO message_packages (message_id, name, t)
	SELECT m.id, j.value, m.t FROM messages m, json_each(m.summary, '$.packages') j
	WHERE m.summary IS NOT NULL AND json_valid(m.summary) AND j.type = 'text';

-- Whatever removes a message (retention) removes its names too.
CREATE TRIGGER messages_names_del AFTER DELETE ON messages BEGIN
	DELETE FROM message_users WHERE message_id = OLD.id;
	DELETE FROM message_packages WHERE message_id = OLD.id;
END;
