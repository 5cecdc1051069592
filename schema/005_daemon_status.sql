-- What the daemon says about itself, for fmnctl status and queue: one
-- row, written by fmnd when it starts, when its backends change state,
-- at least every 10 seconds while it runs, and when it stops. Whether
-- a daemon runs now is told by its lock on DB.lock, not by this row:
-- a daemon that was killed leaves the row as it last wrote it.
CREATE TABLE daemon (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	pid		INTEGER NOT NULL,
	version		TEXT NOT NULL,
	host		TEXT NOT NULL,
	config		TEXT,			-- the file it read, NULL: none
	started		REAL NOT NULL,
	heartbeat	REAL NOT NULL,		-- its last write of this row
	stopped		REAL,			-- a clean stop; NULL while it runs
	-- JSON array: one object per backend (context, backend, url,
	-- state: connected | failing | waiting, detail, inflight,
	-- last_ok, last_failure)
	backends	TEXT NOT NULL DEFAULT '[]'
);
