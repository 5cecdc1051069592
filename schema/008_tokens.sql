-- The HTTP API's bearer tokens (docs/api.md). A token is shown once,
-- when `fmnctl token create` makes it; only the SHA-256 digest of its
-- text is kept, so that a copy of the database does not hand out
-- access. A token reaches its user's data, an admin token everyone's.
-- Removing the user removes their tokens (fmnctl import keeps the
-- users it replaces, and so their tokens).
CREATE TABLE tokens (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	digest		BLOB NOT NULL,		-- SHA-256 of the whole token
	admin		INTEGER NOT NULL DEFAULT 0,
	created		REAL NOT NULL,
	last_used	REAL			-- to the minute; NULL: never
);
CREATE INDEX tokens_user ON tokens(user_id);
