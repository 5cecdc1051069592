-- The notification queue, rebuilt for intake speed. Two changes to
-- what 001 and 002 made:
--  * the state CHECK is a chain of ORs: an IN list of five builds a
--    temporary b-tree on every insert and every state change;
--  * indexes cover only the rows they are looked up by (pending ones),
--    so a delivered notification costs nothing to keep, and an insert
--    touches no index keyed at random across all history.
CREATE TABLE notifications_new (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	preference_id	INTEGER NOT NULL REFERENCES preferences(id) ON DELETE CASCADE,
	destination_id	INTEGER NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
	message_id	INTEGER NOT NULL REFERENCES messages(id),
	context		TEXT NOT NULL,
	filter		TEXT NOT NULL,
	state		TEXT NOT NULL DEFAULT 'queued'
			CHECK (state = 'batched' OR state = 'queued' OR
			    state = 'sending' OR state = 'delivered' OR
			    state = 'failed'),
	created		REAL NOT NULL,
	attempts	INTEGER NOT NULL DEFAULT 0,
	next_try	REAL NOT NULL,
	delivered	REAL,
	last_error	TEXT,
	digest		INTEGER		-- see 002_daemon.sql
);
INSERT INTO notifications_new (id, user_id, preference_id, destination_id,
	message_id, context, filter, state, created, attempts, next_try,
	delivered, last_error, digest)
	SELECT id, user_id, preference_id, destination_id, message_id,
	context, filter, state, created, attempts, next_try, delivered,
	last_error, digest FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;

CREATE INDEX notifications_digest ON notifications(digest)
	WHERE digest IS NOT NULL;
-- The batcher: what a destination holds for its next digest.
CREATE INDEX notifications_batched ON notifications(destination_id)
	WHERE state = 'batched';
-- The scheduler's pick: due notifications of one context.
CREATE INDEX notifications_queued ON notifications(context, next_try)
	WHERE state = 'queued';
-- Hand-offs a stop or a crash interrupted, put back at start.
CREATE INDEX notifications_sending ON notifications(id)
	WHERE state = 'sending';
