-- The daemon's delivery bookkeeping on top of 001: digests, and the
-- indexes the batcher and the scheduler look rows up by.

-- The digest a notification was released in: the id of the digest's
-- first notification. NULL: the notification goes out on its own.
-- A digest keeps its members across retries.
ALTER TABLE notifications ADD COLUMN digest INTEGER;
CREATE INDEX notifications_digest ON notifications(digest)
	WHERE digest IS NOT NULL;
-- Batched (and waiting) notifications per destination.
CREATE INDEX notifications_dest ON notifications(destination_id, state);
-- The scheduler's pick: due notifications of one context.
CREATE INDEX notifications_ctx_due ON notifications(state, context, next_try);
-- notifications_ctx_due serves every lookup notifications_due did
-- (state first); one index fewer to write per notification.
DROP INDEX notifications_due;
