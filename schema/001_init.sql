-- The whole data model: people, where they want notifications, what
-- they want (filters of rules), the ownership data rules refer to, and
-- the daemon's durable state (messages seen, notification queue, counters).

CREATE TABLE users (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	created		REAL NOT NULL
);

-- A name seen on the bus (an e-mail address, another nick) -> an account.
CREATE TABLE aliases (
	alias		TEXT PRIMARY KEY,
	account		TEXT NOT NULL
);

CREATE TABLE destinations (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	context		TEXT NOT NULL CHECK (context IN ('email', 'irc')),
	address		TEXT NOT NULL,
	confirmed	INTEGER NOT NULL DEFAULT 0,
	secret		TEXT UNIQUE,		-- while pending
	expires		REAL,			-- while pending
	created		REAL NOT NULL,
	confirm_sent	INTEGER NOT NULL DEFAULT 0,	-- confirmation message handed to a backend
	failing		INTEGER NOT NULL DEFAULT 0,	-- permanent delivery failure seen
	last_error	TEXT,
	UNIQUE (user_id, context, address)
);

CREATE TABLE preferences (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	context		TEXT NOT NULL CHECK (context IN ('email', 'irc')),
	enabled		INTEGER NOT NULL DEFAULT 1,
	batch_delta	INTEGER CHECK (batch_delta IS NULL OR batch_delta >= 0),
	batch_count	INTEGER CHECK (batch_count IS NULL OR batch_count >= 0),
	verbose		INTEGER NOT NULL DEFAULT 1,
	markup		INTEGER NOT NULL DEFAULT 0,
	UNIQUE (user_id, context)
);

CREATE TABLE filters (
	id		INTEGER PRIMARY KEY,
	preference_id	INTEGER NOT NULL REFERENCES preferences(id) ON DELETE CASCADE,
	name		TEXT NOT NULL,
	position	INTEGER NOT NULL,
	active		INTEGER NOT NULL DEFAULT 1,
	oneshot		INTEGER NOT NULL DEFAULT 0,	-- deactivated after it first fires
	UNIQUE (preference_id, name)
);

CREATE TABLE rules (
	id		INTEGER PRIMARY KEY,
	filter_id	INTEGER NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
	position	INTEGER NOT NULL,
	kind		TEXT NOT NULL,
	argument	TEXT NOT NULL,
	negated		INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rules_filter ON rules(filter_id, position);

-- Package ownership: namespace (rpms, modules, ...) -> package -> owner.
CREATE TABLE owners (
	namespace	TEXT NOT NULL,
	package		TEXT NOT NULL,
	owner		TEXT NOT NULL,		-- account, or group name when is_group
	is_group	INTEGER NOT NULL DEFAULT 0,
	role		TEXT NOT NULL DEFAULT 'owner',
	PRIMARY KEY (namespace, package, owner, is_group)
);
CREATE INDEX owners_owner ON owners(owner, is_group);

CREATE TABLE group_members (
	grp		TEXT NOT NULL,
	member		TEXT NOT NULL,
	PRIMARY KEY (grp, member)
);

-- Every message the daemon has processed; msg_id dedupes across restarts.
CREATE TABLE messages (
	id		INTEGER PRIMARY KEY,
	msg_id		TEXT UNIQUE,
	topic		TEXT NOT NULL,
	timestamp	REAL,
	received	REAL NOT NULL,
	envelope	TEXT NOT NULL
);

-- The durable queue. state: batched (held for a digest), queued (due at
-- next_try), sending (handed to a backend), delivered, failed.
CREATE TABLE notifications (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	preference_id	INTEGER NOT NULL REFERENCES preferences(id) ON DELETE CASCADE,
	destination_id	INTEGER NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
	message_id	INTEGER NOT NULL REFERENCES messages(id),
	context		TEXT NOT NULL,
	filter		TEXT NOT NULL,
	state		TEXT NOT NULL DEFAULT 'queued'
			CHECK (state IN ('batched', 'queued', 'sending', 'delivered', 'failed')),
	created		REAL NOT NULL,
	attempts	INTEGER NOT NULL DEFAULT 0,
	next_try	REAL NOT NULL,
	delivered	REAL,
	last_error	TEXT
);
CREATE INDEX notifications_due ON notifications(state, next_try);
CREATE INDEX notifications_pref ON notifications(preference_id, state);

-- Daemon counters, cumulative since the database was created.
CREATE TABLE counters (
	name		TEXT PRIMARY KEY,
	value		INTEGER NOT NULL DEFAULT 0
);

-- What changed in the configuration, so a running daemon recompiles only
-- the users concerned. user_id NULL: shared data (aliases, owners, groups).
CREATE TABLE changes (
	seq		INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id		INTEGER,
	what		TEXT NOT NULL
);

CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN
	INSERT INTO changes (user_id, what) VALUES (NEW.id, 'user'); END;
CREATE TRIGGER users_del AFTER DELETE ON users BEGIN
	INSERT INTO changes (user_id, what) VALUES (OLD.id, 'user'); END;
CREATE TRIGGER dest_ins AFTER INSERT ON destinations BEGIN
	INSERT INTO changes (user_id, what) VALUES (NEW.user_id, 'destination'); END;
CREATE TRIGGER dest_upd AFTER UPDATE ON destinations BEGIN
	INSERT INTO changes (user_id, what) VALUES (NEW.user_id, 'destination'); END;
CREATE TRIGGER dest_del AFTER DELETE ON destinations BEGIN
	INSERT INTO changes (user_id, what) VALUES (OLD.user_id, 'destination'); END;
CREATE TRIGGER pref_ins AFTER INSERT ON preferences BEGIN
	INSERT INTO changes (user_id, what) VALUES (NEW.user_id, 'preference'); END;
CREATE TRIGGER pref_upd AFTER UPDATE ON preferences BEGIN
	INSERT INTO changes (user_id, what) VALUES (NEW.user_id, 'preference'); END;
CREATE TRIGGER pref_del AFTER DELETE ON preferences BEGIN
	INSERT INTO changes (user_id, what) VALUES (OLD.user_id, 'preference'); END;
CREATE TRIGGER filter_ins AFTER INSERT ON filters BEGIN
	INSERT INTO changes (user_id, what)
	SELECT user_id, 'filter' FROM preferences WHERE id = NEW.preference_id; END;
CREATE TRIGGER filter_upd AFTER UPDATE ON filters BEGIN
	INSERT INTO changes (user_id, what)
	SELECT user_id, 'filter' FROM preferences WHERE id = NEW.preference_id; END;
CREATE TRIGGER filter_del AFTER DELETE ON filters BEGIN
	INSERT INTO changes (user_id, what)
	SELECT user_id, 'filter' FROM preferences WHERE id = OLD.preference_id; END;
CREATE TRIGGER rule_ins AFTER INSERT ON rules BEGIN
	INSERT INTO changes (user_id, what)
	SELECT p.user_id, 'rule' FROM filters f JOIN preferences p ON p.id = f.preference_id
	WHERE f.id = NEW.filter_id; END;
CREATE TRIGGER rule_del AFTER DELETE ON rules BEGIN
	INSERT INTO changes (user_id, what)
	SELECT p.user_id, 'rule' FROM filters f JOIN preferences p ON p.id = f.preference_id
	WHERE f.id = OLD.filter_id; END;
CREATE TRIGGER alias_ins AFTER INSERT ON aliases BEGIN
	INSERT INTO changes (user_id, what) VALUES (NULL, 'aliases'); END;
CREATE TRIGGER alias_upd AFTER UPDATE ON aliases BEGIN
	INSERT INTO changes (user_id, what) VALUES (NULL, 'aliases'); END;
CREATE TRIGGER alias_del AFTER DELETE ON aliases BEGIN
	INSERT INTO changes (user_id, what) VALUES (NULL, 'aliases'); END;
