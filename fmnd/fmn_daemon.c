/*
 * The daemon's loop: one zmq_poll over the bus sockets and the
 * backends' poll items, with timers for the scheduler, the change poll
 * and the counters.
 *
 * Intake is group-committed: what the bus has ready is drained (up to
 * DAEMON_BATCH_MAX messages or DAEMON_BATCH_MS milliseconds) into one
 * transaction: every message's row, its notifications and the counters
 * commit together, so a message counted as processed always has its
 * notifications on disk, and a crash loses nothing that was committed.
 * Right after a commit that queued notifications, the scheduler hands
 * them to the backends, so latency is one commit plus one pick.
 *
 * Live changes: fmnctl's writes fill the changes table (triggers); the
 * loop polls PRAGMA data_version (cheap, changes only when another
 * connection commits) and recompiles only the users concerned.
 */
#include "fmn_daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <zmq.h>

#include "fmn_batch.h"
#include "fmn_broken.h"
#include "fmn_checkpoint.h"
#include "fmn_bus.h"
#include "fmn_counters.h"
#include "fmn_facts.h"
#include "fmn_hmap.h"
#include "fmn_lock.h"
#include "fmn_match.h"
#include "fmn_queue.h"
#include "fmn_reader.h"
#include "fmn_sched.h"
#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"
#include "fmn_version.h"

#define DAEMON_DEFAULT_ENDPOINT	"tcp://127.0.0.1:9940"
#define DAEMON_BATCH_MAX	2000	/* messages per intake transaction */
#define DAEMON_BATCH_MS		50	/* time per intake transaction */
#define DAEMON_DISPATCH_MAX	2000	/* deliveries handed per pass */
#define DAEMON_DISPATCH_CHUNK	32	/* deliveries handed per commit */
#define DAEMON_TICK_MS		250	/* scheduler: retries, digests */
#define DAEMON_CHANGES_MS	200	/* PRAGMA data_version poll */
#define DAEMON_FLUSH_MS		1000	/* counters persisted */
#define DAEMON_CONFIRM_MS	1000	/* confirmation requests */
#define DAEMON_PRUNE_MS		60000	/* changes rows already read, retention */
#define DAEMON_EXPIRE_ROWS	5000	/* old rows removed per pass and table */
#define DAEMON_STOP_MS		5000	/* SIGTERM to exit, at most */
#define DAEMON_ABANDON_MS	1000	/* of which backends need to give up
					 * what they still do (fini) */
#define DAEMON_FULL_RELOAD	1000	/* users changed at once: recompile all */
#define DAEMON_MAX_POLL		64
#define DAEMON_BURST_MS		250	/* a burst lasts this long after the last full batch */
#define DAEMON_HEARTBEAT_MS	10000	/* the daemon row is rewritten at least this often */
#define DAEMON_BUSY_MS		1000	/* SQLite busy timeout of the loop's connection */
#define DAEMON_RETRY_MIN_MS	100	/* first retry of a failed intake transaction */
#define DAEMON_RETRY_MAX_MS	5000	/* backoff cap */
#define DAEMON_ISOLATE_AFTER	3	/* failures before messages go one by one */

volatile sig_atomic_t fmn_daemon_signal_stop;
volatile sig_atomic_t fmn_daemon_signal_reload;

struct fmn_daemon {
	const struct fmn_daemon_args *args;
	struct fmn_config	*cfg;
	int			 lock_fd;	/* DB.lock, held while we run */
	double			 started;
	sqlite3			*db;
	void			*zctx;
	struct fmn_reader	*reader;	/* the intake thread and its bus */
	struct fmn_checkpointer	*checkpointer;
	int			 reader_done;	/* its last batch is in */
	/*
	 * Batches taken from the intake thread whose transaction failed
	 * (a busy, full or failing database): kept, in order, and tried
	 * again after a backoff; nothing more is taken meanwhile, so the
	 * intake thread and then ZeroMQ hold the rest.
	 */
	struct fmn_reader_batch	**held;
	size_t			 nheld, held_cap;
	int			 intake_failures;	/* in a row */
	int64_t			 intake_retry_at;
	int			 isolate;	/* one savepoint per message */
	int			 deliver_failures;	/* in a row */
	int64_t			 deliver_retry_at;
	int64_t			 burst_until;	/* intake first until then */
	struct fmn_counters	 counters;
	struct fmn_queue	*queue;
	struct fmn_batch	*batch;
	struct fmn_sched	*sched;
	struct fmn_engine	*engine;
	struct fmn_defs		*defs;
	struct fmn_aliases	*aliases;
	struct fmn_recipients	 recips;
	int			*batched;	/* per recipient: held for a digest */
	int			*queued;	/* per recipient: row inserted */
	size_t			 flags_cap;
	unsigned long long	 rule_errors;	/* engine's count already counted */
	long long		 changes_seen;	/* highest changes.seq handled */
	long long		 data_version;
	sqlite3_stmt		*st_data_version;
	sqlite3_stmt		*st_changes;
	sqlite3_stmt		*st_prune;
	sqlite3_stmt		*st_oneshots;
	sqlite3_stmt		*st_max_seq;
	sqlite3_stmt		*st_status;	/* the daemon row */
	char			*backends_seen;	/* as last written there */
	char			*status_sent;	/* the last STATUS= to systemd */
	int64_t			 next_heartbeat;
	struct fmn_hmap		 oneshot_prefs;	/* preferences with an active oneshot filter */
	int			 dispatch;	/* due work: run the scheduler */
	int64_t			 next_tick, next_changes, next_flush;
	int64_t			 next_confirm, next_prune;
};

/* Configuration. */

static int
daemon_apply_overrides(const struct fmn_daemon_args *a, struct fmn_config *c,
    char **cause)
{
	size_t i, k;
	int cleared = 0;

	for (i = 0; i < a->n_overrides; i++) {
		const struct fmn_override *o = &a->overrides[i];

		if (!cleared && strcmp(o->section, "bus") == 0 &&
		    strcmp(o->key, "endpoint") == 0) {
			for (k = 0; k < c->n_endpoints; k++)
				free(c->endpoints[k]);
			c->n_endpoints = 0;
			cleared = 1;
		}
		if (fmn_config_set(c, o->section, o->key, o->value,
		    cause) != 0)
			return -1;
	}
	return 0;
}

int
fmn_daemon_configure(const struct fmn_daemon_args *a, struct fmn_config *c,
    char **cause)
{
	const char *env;

	fmn_config_init(c);
	if (a->config_path != NULL &&
	    fmn_config_load(c, a->config_path, cause) != 0)
		return -1;
	if (daemon_apply_overrides(a, c, cause) != 0)
		return -1;
	if (c->db_path == NULL) {
		env = getenv("FMN_DB");
		c->db_path = xstrdup(env != NULL && *env != '\0' ? env :
		    "./fmn.db");
	}
	if (c->n_endpoints == 0)
		c->endpoints[c->n_endpoints++] = xstrdup(DAEMON_DEFAULT_ENDPOINT);
	return 0;
}

static void
daemon_log_level(const struct fmn_config *c)
{
	static const struct {
		const char		*name;
		enum fmn_log_level	 level;
	} levels[] = {
		{ "error", FMN_LOG_ERR }, { "warning", FMN_LOG_WARN },
		{ "warn", FMN_LOG_WARN }, { "info", FMN_LOG_INFO },
		{ "debug", FMN_LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < FMN_NELEM(levels); i++) {
		if (c->log_level != NULL &&
		    strcmp(c->log_level, levels[i].name) == 0) {
			fmn_log_set_level(levels[i].level);
			return;
		}
	}
	log_warn("[log] level = %s: unknown, using info",
	    c->log_level ? c->log_level : "");
	fmn_log_set_level(FMN_LOG_INFO);
}

/* Backends: the e-mail context from the smtp URL, IRC from the server. */
static int
daemon_backend(struct fmn_daemon *d, const char *context, const char *url,
    char **cause)
{
	const struct fmn_backend_ops *ops;
	const char *target = NULL, *name;

	if (strncmp(url, "mbox:", 5) == 0) {
		name = "mbox";
		target = url + 5;
	} else if (strncmp(url, "capture:", 8) == 0) {
		name = "capture";
		target = url + 8;
	} else if (strcmp(context, "email") == 0) {
		if (strncmp(url, "smtp://", 7) != 0 &&
		    strncmp(url, "smtps://", 8) != 0) {
			fmn_set_cause(cause, "[email] smtp = %s: expected "
			    "smtp://HOST:PORT, smtps://HOST:PORT or mbox:PATH",
			    url);
			return -1;
		}
		name = "smtp";
	} else
		name = "irc";
	if ((ops = fmn_backend_lookup(name)) == NULL) {
		fmn_set_cause(cause, "%s: this build has no %s backend",
		    url, name);
		return -1;
	}
	if (fmn_sched_add_backend(d->sched, ops, context, url, target,
	    cause) != 0)
		return -1;
	log_info("%s notifications go to %s (%s backend)", context, url,
	    name);
	return 0;
}

static int
daemon_load_facts(struct fmn_daemon *d, const struct fmn_config *c,
    struct fmn_defs **defsp, char **cause)
{
	struct fmn_defs *defs;

	if ((defs = fmn_defs_new_builtin(cause)) == NULL)
		return -1;
	if (c->definitions != NULL &&
	    fmn_defs_load_file(defs, c->definitions, cause) != 0) {
		fmn_defs_destroy(&defs);
		return -1;
	}
	(void)d;
	*defsp = defs;
	return 0;
}

static long long
daemon_query_int(sqlite3_stmt *st)
{
	long long v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* Which preferences have a oneshot filter to switch off when it fires. */
static void
daemon_load_oneshots(struct fmn_daemon *d)
{
	int rc;

	fmn_imap_clear(&d->oneshot_prefs, NULL);
	while ((rc = sqlite3_step(d->st_oneshots)) == SQLITE_ROW)
		fmn_imap_put(&d->oneshot_prefs,
		    sqlite3_column_int64(d->st_oneshots, 0), (void *)1);
	sqlite3_reset(d->st_oneshots);
	if (rc != SQLITE_DONE)
		log_err("oneshot filters: %s", sqlite3_errmsg(d->db));
}

/* A copy of the aliases for the intake thread; NULL after logging why. */
static struct fmn_aliases *
daemon_aliases_copy(struct fmn_daemon *d)
{
	struct fmn_aliases *a = fmn_aliases_new();
	char *cause = NULL;

	if (fmn_aliases_load(a, d->db, &cause) != 0) {
		log_err("aliases: %s", cause);
		free(cause);
		fmn_aliases_destroy(&a);
	}
	return a;
}

/* Start the intake thread with definitions and aliases of its own. */
static int
daemon_reader(struct fmn_daemon *d, const struct fmn_config *cfg,
    char **cause)
{
	struct fmn_defs *defs;
	struct fmn_aliases *aliases;

	if (daemon_load_facts(d, cfg, &defs, cause) != 0)
		return -1;
	if ((aliases = daemon_aliases_copy(d)) == NULL) {
		fmn_defs_destroy(&defs);
		fmn_set_cause(cause, "cannot load aliases");
		return -1;
	}
	d->reader = fmn_reader_new(d->zctx, cfg, defs, aliases, cause);
	return d->reader != NULL ? 0 : -1;
}

struct fmn_daemon *
fmn_daemon_new(const struct fmn_daemon_args *a, struct fmn_config *cfg,
    char **cause)
{
	struct fmn_daemon *d = xcalloc(1, sizeof(*d));
	struct fmn_engine_stats es;

	d->lock_fd = -1;
	d->args = a;
	d->cfg = cfg;
	d->started = fmn_now();
	daemon_log_level(cfg);
	/* Before anything is opened: a second daemon changes nothing. */
	if ((d->lock_fd = fmn_lock_take(cfg->db_path, cause)) == -1)
		goto fail;
	if ((d->db = fmn_store_open(cfg->db_path, cause)) == NULL)
		goto fail;
	/*
	 * Another writer holding the database makes a transaction fail
	 * after this long; the loop then keeps its work and tries again
	 * later, instead of waiting, stalled, for the lock.
	 */
	sqlite3_busy_timeout(d->db, DAEMON_BUSY_MS);
	/*
	 * The queue's indexes are written at every message: keep them in
	 * memory (64 MB of page cache), and checkpoint the WAL in a thread
	 * of its own so that intake never waits for it.
	 */
	if (fmn_store_exec(d->db, "PRAGMA cache_size = -65536", cause) != 0 ||
	    (d->checkpointer = fmn_checkpointer_new(d->db, cfg->db_path,
	    cause)) == NULL)
		goto fail;
	if (fmn_counters_init(&d->counters, d->db, cause) != 0 ||
	    (d->queue = fmn_queue_new(d->db, &d->counters, cause)) == NULL)
		goto fail;
	/* At least once: what was being sent when we stopped goes again. */
	if (fmn_queue_requeue_sending(d->queue) < 0) {
		fmn_set_cause(cause, "cannot requeue notifications");
		goto fail;
	}

	/* Changes before this point are in what we load next. */
	if ((d->st_data_version = fmn_store_prepare(d->db,
	    "PRAGMA data_version", cause)) == NULL ||
	    (d->st_changes = fmn_store_prepare(d->db, "SELECT seq, user_id, "
	    "what FROM changes WHERE seq > ? ORDER BY seq", cause)) == NULL ||
	    (d->st_prune = fmn_store_prepare(d->db, "DELETE FROM changes "
	    "WHERE seq <= ?", cause)) == NULL ||
	    (d->st_oneshots = fmn_store_prepare(d->db, "SELECT DISTINCT "
	    "preference_id FROM filters WHERE oneshot = 1 AND active = 1",
	    cause)) == NULL ||
	    (d->st_max_seq = fmn_store_prepare(d->db, "SELECT "
	    "coalesce(max(seq), 0) FROM changes", cause)) == NULL ||
	    (d->st_status = fmn_store_prepare(d->db, "INSERT OR REPLACE INTO "
	    "daemon (id, pid, version, host, config, started, heartbeat, "
	    "stopped, backends) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
	    cause)) == NULL)
		goto fail;
	d->changes_seen = daemon_query_int(d->st_max_seq);
	d->data_version = daemon_query_int(d->st_data_version);

	if (daemon_load_facts(d, cfg, &d->defs, cause) != 0)
		goto fail;
	daemon_load_oneshots(d);
	d->aliases = fmn_aliases_new();
	if (fmn_aliases_load(d->aliases, d->db, cause) != 0)
		goto fail;
	d->engine = fmn_engine_new();
	if (fmn_engine_load(d->engine, d->db, cause) != 0)
		goto fail;
	fmn_engine_stats(d->engine, &es);
	d->rule_errors = es.rule_errors;
	if ((d->batch = fmn_batch_new(d->db, cfg, cause)) == NULL ||
	    fmn_batch_load(d->batch, cause) != 0)
		goto fail;

	if ((d->sched = fmn_sched_new(d->db, cfg, &d->counters,
	    cause)) == NULL)
		goto fail;
	fmn_sched_set_facts(d->sched, d->defs, d->aliases);
	if (cfg->smtp_url != NULL &&
	    daemon_backend(d, "email", cfg->smtp_url, cause) != 0)
		goto fail;
	if (cfg->irc_server != NULL &&
	    daemon_backend(d, "irc", cfg->irc_server, cause) != 0)
		goto fail;

	if ((d->zctx = zmq_ctx_new()) == NULL) {
		fmn_set_cause(cause, "zmq: %s", zmq_strerror(errno));
		goto fail;
	}
	if (daemon_reader(d, cfg, cause) != 0)
		goto fail;
	log_info("%zu user(s), %zu filter(s), %zu distinct rule(s); "
	    "database %s; bus %s%s", es.users, es.filters, es.distinct_rules,
	    cfg->db_path, cfg->endpoints[0],
	    cfg->n_endpoints > 1 ? " and others" : "");
	return d;
fail:
	fmn_daemon_destroy(&d);
	return NULL;
}

void
fmn_daemon_destroy(struct fmn_daemon **dp)
{
	struct fmn_daemon *d = *dp;
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nheld; i++)
		fmn_reader_batch_free(&d->held[i]);
	free(d->held);
	fmn_reader_destroy(&d->reader);
	if (d->zctx != NULL)
		zmq_ctx_term(d->zctx);
	fmn_sched_destroy(&d->sched);
	fmn_batch_destroy(&d->batch);
	fmn_queue_destroy(&d->queue);
	fmn_counters_fini(&d->counters);
	fmn_engine_destroy(&d->engine);
	fmn_aliases_destroy(&d->aliases);
	fmn_defs_destroy(&d->defs);
	fmn_recipients_free(&d->recips);
	free(d->batched);
	free(d->queued);
	sqlite3_finalize(d->st_data_version);
	sqlite3_finalize(d->st_changes);
	sqlite3_finalize(d->st_prune);
	sqlite3_finalize(d->st_oneshots);
	sqlite3_finalize(d->st_max_seq);
	sqlite3_finalize(d->st_status);
	free(d->backends_seen);
	free(d->status_sent);
	fmn_imap_clear(&d->oneshot_prefs, NULL);
	fmn_checkpointer_destroy(&d->checkpointer);
	fmn_store_close(&d->db);
	fmn_lock_release(&d->lock_fd);
	free(d);
	*dp = NULL;
}

/* Intake. */

/*
 * Match one message and queue its notifications, inside the intake
 * transaction; -1 on a database error.
 */
static int
daemon_message(struct fmn_daemon *d, struct fmn_bus_msg *bm,
    struct fmn_hmap *oneshots)
{
	struct fmn_msg *m = bm->msg;
	long long mid;
	size_t i, n;

	/*
	 * The intake thread derived the facts (this is then a no-op); the
	 * summary is made here, as that thread has the longer share.
	 */
	fmn_facts_derive(d->defs, d->aliases, m);
	if (bm->summary == NULL)
		bm->summary = fmn_msg_summary(m);
	mid = fmn_queue_add_message(d->queue, m, bm->raw, bm->rawlen,
	    bm->summary, bm->received);
	if (mid < 0)
		return -1;
	if (mid == 0) {
		fmn_counters_add(&d->counters, FMN_C_MESSAGES_DUPLICATE, 1);
		log_debug("duplicate %s dropped", m->msg_id);
		return 0;
	}
	fmn_recipients_clear(&d->recips);
	if (fmn_engine_match(d->engine, m, &d->recips, NULL) != 0)
		log_warn("matching %s failed; its notifications may be "
		    "incomplete", m->msg_id ? m->msg_id : m->topic);
	if ((n = d->recips.n) > d->flags_cap) {
		d->flags_cap = n * 2;
		d->batched = xreallocarray(d->batched, d->flags_cap,
		    sizeof(*d->batched));
		d->queued = xreallocarray(d->queued, d->flags_cap,
		    sizeof(*d->queued));
	}
	for (i = 0; i < n; i++)
		d->batched[i] = fmn_batch_holds(d->batch,
		    d->recips.v[i].preference_id);
	if (fmn_queue_add_notifications(d->queue, mid, d->recips.v, d->batched,
	    d->queued, n, bm->received) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct fmn_recipient *r = &d->recips.v[i];
		int fired;

		if (!d->queued[i])
			continue;
		fmn_counters_add(&d->counters, FMN_C_NOTIFICATIONS_QUEUED, 1);
		if (d->batched[i]) {
			fmn_counters_add(&d->counters,
			    FMN_C_NOTIFICATIONS_BATCHED, 1);
			fmn_batch_added(d->batch, r->destination_id,
			    r->preference_id, bm->received);
		} else
			d->dispatch = 1;
		if (fmn_imap_get(&d->oneshot_prefs, r->preference_id) == NULL)
			continue;
		if ((fired = fmn_queue_oneshot_fired(d->queue,
		    r->preference_id, r->filter)) < 0)
			return -1;
		if (fired)
			fmn_imap_put(oneshots, r->user_id, (void *)1);
	}
	fmn_counters_add(&d->counters, FMN_C_MESSAGES_PROCESSED, 1);
	return 0;
}

static void
daemon_reload_users(struct fmn_daemon *d, struct fmn_hmap *users)
{
	long long uid;
	size_t i = 0;
	char *cause = NULL;

	if (users->n >= DAEMON_FULL_RELOAD) {
		log_info("%zu users changed: recompiling everyone", users->n);
		if (fmn_engine_load(d->engine, d->db, &cause) != 0 ||
		    fmn_batch_load(d->batch, &cause) != 0) {
			log_err("reload: %s", cause);
			free(cause);
		}
		return;
	}
	while (fmn_imap_next(users, &i, &uid, NULL)) {
		if (fmn_engine_reload_user(d->engine, d->db, uid, &cause) != 0 ||
		    fmn_batch_reload_user(d->batch, uid, &cause) != 0) {
			log_err("reload of user %lld: %s", uid, cause);
			free(cause);
			cause = NULL;
		}
	}
}

/* Milliseconds before trying the database again after failures in a row. */
static int64_t
daemon_backoff(int failures)
{
	int64_t delay = (int64_t)DAEMON_RETRY_MIN_MS << (failures < 7 ?
	    (failures > 0 ? failures - 1 : 0) : 6);

	return delay > DAEMON_RETRY_MAX_MS ? DAEMON_RETRY_MAX_MS : delay;
}

/* Is a failed statement worth trying again as it is (busy, full...)? */
static int
daemon_transient(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
	case SQLITE_READONLY:
		return 1;
	default:
		return 0;
	}
}

/*
 * The end of a transaction that failed: the database has none of it,
 * so what the loop remembers of it is undone too (the counters are
 * restored by fmn_queue_rollback). Outcomes are recorded again in the
 * next transaction; the batcher reads what is batched from the
 * database again.
 */
static void
daemon_rolled_back(struct fmn_daemon *d)
{
	char *cause = NULL;

	fmn_sched_rolled_back(d->sched);
	if (fmn_batch_load(d->batch, &cause) != 0) {
		log_err("batch: %s", cause);
		free(cause);
	}
}

static void
daemon_rollback(struct fmn_daemon *d)
{
	if (!fmn_queue_in_transaction(d->queue))
		return;
	fmn_queue_rollback(d->queue);
	daemon_rolled_back(d);
}

/* Commit; -1 (everything rolled back) on failure. */
static int
daemon_commit(struct fmn_daemon *d)
{
	if (fmn_queue_commit(d->queue) != 0) {
		daemon_rolled_back(d);
		return -1;
	}
	fmn_sched_committed(d->sched);
	return 0;
}

/*
 * Process the messages of batches v[0..n) in the open transaction.
 * Returns 0, or -1 at the first database error. In isolation (after a
 * batch failed for a reason that is not transient), each message gets
 * a savepoint: one that fails on its own is dropped and counted in
 * messages_lost, the others go on.
 */
static int
daemon_process(struct fmn_daemon *d, struct fmn_reader_batch **v, size_t n,
    struct fmn_hmap *oneshots)
{
	struct fmn_reader_batch *b;
	size_t i, k;
	int c, rc;

	for (k = 0; k < n; k++) {
		b = v[k];
		for (c = 0; c < FMN_C_COUNT; c++)
			if (b->counters[c] != 0)
				fmn_counters_add(&d->counters, c, b->counters[c]);
		for (i = 0; i < b->n; i++) {
			if (!d->isolate) {
				if (daemon_message(d, &b->v[i], oneshots) != 0)
					return -1;
				continue;
			}
			if (fmn_store_exec(d->db, "SAVEPOINT m", NULL) != 0)
				return -1;
			if (daemon_message(d, &b->v[i], oneshots) == 0) {
				if (fmn_store_exec(d->db, "RELEASE m",
				    NULL) != 0)
					return -1;
				continue;
			}
			rc = fmn_queue_last_error(d->queue);
			if (daemon_transient(rc) ||
			    fmn_store_exec(d->db, "ROLLBACK TO m; RELEASE m",
			    NULL) != 0)
				return -1;
			fmn_counters_add(&d->counters, FMN_C_MESSAGES_LOST, 1);
			log_err("intake: message %.100s cannot be stored (%s): "
			    "dropped, counted in messages_lost",
			    b->v[i].msg->msg_id != NULL ? b->v[i].msg->msg_id :
			    b->v[i].msg->topic, sqlite3_errstr(rc));
		}
	}
	return 0;
}

static void
daemon_hold(struct fmn_daemon *d, struct fmn_reader_batch *b)
{
	if (d->nheld == d->held_cap) {
		d->held_cap = d->held_cap ? d->held_cap * 2 : 8;
		d->held = xreallocarray(d->held, d->held_cap,
		    sizeof(*d->held));
	}
	d->held[d->nheld++] = b;
}

/*
 * Take what the intake thread has ready into one transaction, after the
 * batches held from a failed one. A batch cut at its size (more was
 * waiting) starts or extends a burst. When the transaction fails, every
 * batch of it is held and tried again after a backoff: a busy or full
 * database delays messages, it does not lose them.
 */
static void
daemon_intake(struct fmn_daemon *d)
{
	struct fmn_reader_batch *b;
	struct fmn_hmap oneshots = { 0 };
	struct fmn_engine_stats es;
	int64_t start = fmn_monotonic_ms(), delay;
	size_t i, n = 0;
	int failed = 0, rc = 0;

	if (d->nheld > 0 && start < d->intake_retry_at)
		return;
	for (i = 0; i < d->nheld; i++)
		n += d->held[i]->n;
	while (n < DAEMON_BATCH_MAX &&
	    fmn_monotonic_ms() - start < DAEMON_BATCH_MS) {
		if ((b = fmn_reader_take(d->reader)) == NULL)
			break;
		daemon_hold(d, b);
		n += b->n;
		if (b->last)
			d->reader_done = 1;
		if (b->full)
			d->burst_until = fmn_monotonic_ms() + DAEMON_BURST_MS;
	}
	if (d->nheld == 0)
		return;

	if (fmn_queue_begin(d->queue) != 0 ||
	    daemon_process(d, d->held, d->nheld, &oneshots) != 0)
		failed = 1;
	fmn_engine_stats(d->engine, &es);
	if (es.rule_errors > d->rule_errors) {
		fmn_counters_add(&d->counters, FMN_C_RULE_ERRORS,
		    (long long)(es.rule_errors - d->rule_errors));
		d->rule_errors = es.rule_errors;
	}
	/* Filters over the regex budget are marked with the batch that
	 * found them. */
	if (!failed)
		fmn_broken_record(d->engine, d->db, &d->counters);
	if (failed) {
		rc = fmn_queue_last_error(d->queue);
		daemon_rollback(d);
	} else if (daemon_commit(d) != 0) {
		failed = 1;
		rc = fmn_queue_last_error(d->queue);
	}
	if (failed) {
		d->intake_failures++;
		delay = daemon_backoff(d->intake_failures);
		d->intake_retry_at = fmn_monotonic_ms() + delay;
		if (!daemon_transient(rc) &&
		    d->intake_failures >= DAEMON_ISOLATE_AFTER)
			d->isolate = 1;
		/* The first failure, then one line every few. */
		if (d->intake_failures == 1 || d->intake_failures % 10 == 0)
			log_err("intake: database: %s; %zu message(s) held and "
			    "tried again in %lld ms (attempt %d)",
			    sqlite3_errstr(rc), n, (long long)delay,
			    d->intake_failures);
		fmn_imap_clear(&oneshots, NULL);
		return;
	}
	if (d->intake_failures > 0)
		log_info("intake: stored after %d failed attempt(s)",
		    d->intake_failures);
	d->intake_failures = 0;
	d->isolate = 0;
	for (i = 0; i < d->nheld; i++)
		fmn_reader_release(d->reader, &d->held[i]);
	d->nheld = 0;
	if (oneshots.n > 0) {
		daemon_reload_users(d, &oneshots);
		daemon_load_oneshots(d);
	}
	fmn_imap_clear(&oneshots, NULL);
}

/* Delivery: outcomes, digests, hand-offs, confirmations. */
static void
daemon_deliver(struct fmn_daemon *d, int tick, int confirm, int burst)
{
	double now = fmn_now();
	int rc, total;

	if (!tick && !confirm && !d->dispatch &&
	    !fmn_sched_has_outcomes(d->sched))
		return;
	/*
	 * In a burst, intake first: the bus drops what is not read, while
	 * queued notifications are safe on disk. Deliveries go on at each
	 * tick, and in full as soon as the burst is over.
	 */
	if (burst && !tick)
		return;
	/* A database that failed is given its time off. */
	if (fmn_monotonic_ms() < d->deliver_retry_at)
		return;
	if (fmn_queue_begin(d->queue) != 0)
		goto fail;
	if (fmn_sched_apply(d->sched, now) != 0)
		goto fail;
	if (tick || fmn_batch_next(d->batch, now) == 0) {
		rc = fmn_batch_release(d->batch, now);
		if (rc < 0)
			goto fail;
		if (rc > 0)
			d->dispatch = 1;
	}
	if (tick || d->dispatch) {
		/*
		 * Commit every few hand-offs: what a crash can deliver twice
		 * is what was handed over since the last commit.
		 */
		total = 0;
		do {
			rc = fmn_sched_dispatch(d->sched, now,
			    DAEMON_DISPATCH_CHUNK);
			if (rc < 0 || fmn_sched_apply(d->sched, now) != 0)
				goto fail;
			total += rc;
			if (rc == DAEMON_DISPATCH_CHUNK &&
			    (daemon_commit(d) != 0 ||
			    fmn_queue_begin(d->queue) != 0))
				goto fail;
		} while (rc == DAEMON_DISPATCH_CHUNK &&
		    total < (burst ? DAEMON_DISPATCH_CHUNK :
		    DAEMON_DISPATCH_MAX));
		/* More may be due than one pass hands over. */
		d->dispatch = rc == DAEMON_DISPATCH_CHUNK;
	}
	if (confirm)
		fmn_sched_confirm(d->sched, now);
	/* Backends that finish inside deliver() already reported. */
	if (fmn_sched_apply(d->sched, now) != 0 || daemon_commit(d) != 0)
		goto fail;
	d->deliver_failures = 0;
	return;
fail:
	daemon_rollback(d);
	d->deliver_failures++;
	d->deliver_retry_at = fmn_monotonic_ms() + daemon_backoff(
	    d->deliver_failures);
	if (d->deliver_failures == 1 || d->deliver_failures % 10 == 0)
		log_warn("delivery: database: %s; tried again in %lld ms "
		    "(attempt %d)", sqlite3_errstr(fmn_queue_last_error(
		    d->queue)), (long long)(d->deliver_retry_at -
		    fmn_monotonic_ms()), d->deliver_failures);
}

/*
 * Live changes. Called before every intake batch, so that a change
 * committed before a message arrived applies to that message, and from
 * a timer, which also catches changes written through the daemon's own
 * connection (a backend confirming a destination): those do not move
 * data_version, so the timer looks at the last changes row instead.
 */
static void
daemon_changes(struct fmn_daemon *d, int timer)
{
	struct fmn_hmap users = { 0 };
	long long v = daemon_query_int(d->st_data_version), seq, uid;
	int aliases = 0, shared = 0, rc;
	char *cause = NULL;
	const char *what;

	if (v == d->data_version &&
	    (!timer || daemon_query_int(d->st_max_seq) <= d->changes_seen))
		return;
	d->data_version = v;
	sqlite3_bind_int64(d->st_changes, 1, d->changes_seen);
	while ((rc = sqlite3_step(d->st_changes)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(d->st_changes, 0);
		what = (const char *)sqlite3_column_text(d->st_changes, 2);
		if (seq > d->changes_seen)
			d->changes_seen = seq;
		if (sqlite3_column_type(d->st_changes, 1) != SQLITE_NULL) {
			uid = sqlite3_column_int64(d->st_changes, 1);
			fmn_imap_put(&users, uid, (void *)1);
		} else if (what != NULL && strcmp(what, "aliases") == 0)
			aliases = 1;
		else
			shared = 1;	/* owners, groups, or anything new */
	}
	sqlite3_reset(d->st_changes);
	if (rc != SQLITE_DONE)
		log_err("changes: %s", sqlite3_errmsg(d->db));
	if (aliases) {
		if (fmn_aliases_load(d->aliases, d->db, &cause) != 0) {
			log_err("reload of aliases: %s", cause);
			free(cause);
			cause = NULL;
		}
		fmn_reader_set_facts(d->reader, NULL, daemon_aliases_copy(d));
	}
	if (shared) {
		if (fmn_engine_reload_shared(d->engine, d->db, &cause) != 0) {
			log_err("reload of owners and groups: %s", cause);
			free(cause);
			cause = NULL;
		}
	}
	if (users.n > 0) {
		daemon_reload_users(d, &users);
		daemon_load_oneshots(d);
		/* A new destination may wait for its confirmation request. */
		d->next_confirm = 0;
		d->dispatch = 1;
	}
	/* Tests and admins wait for this line to know a change is live. */
	log_info("changes up to %lld applied: %zu user(s) recompiled%s%s",
	    d->changes_seen, users.n, aliases ? ", aliases" : "",
	    shared ? ", owners and groups" : "");
	fmn_imap_clear(&users, NULL);
}

/* Milliseconds between housekeeping passes: a short retention is kept often. */
static int64_t
daemon_prune_interval(const struct fmn_daemon *d)
{
	long r = d->cfg->retention;

	return r > 0 && r * 500 < DAEMON_PRUNE_MS ? r * 500 : DAEMON_PRUNE_MS;
}

/*
 * Housekeeping: changes already applied, and rows past [store]
 * retention, a bounded number per pass so that intake never waits long.
 */
static void
daemon_prune(struct fmn_daemon *d)
{
	int n;

	sqlite3_bind_int64(d->st_prune, 1, d->changes_seen);
	if (sqlite3_step(d->st_prune) != SQLITE_DONE)
		log_warn("changes: cannot prune: %s", sqlite3_errmsg(d->db));
	sqlite3_reset(d->st_prune);
	if (d->cfg->retention <= 0 || fmn_queue_begin(d->queue) != 0)
		return;
	n = fmn_queue_expire(d->queue, fmn_now() - (double)d->cfg->retention,
	    DAEMON_EXPIRE_ROWS);
	if (n < 0)
		daemon_rollback(d);
	else if (daemon_commit(d) != 0)
		n = 0;
	else if (n > 0)
		log_info("retention: %d row(s) older than %ld s removed", n,
		    d->cfg->retention);
}

/*
 * The daemon row (migration 005) for fmnctl status and queue; inside a
 * transaction. stopped: the time of a clean stop, or 0.
 */
static int
daemon_status_write(struct fmn_daemon *d, const char *backends,
    double stopped)
{
	char host[256];
	sqlite3_stmt *st = d->st_status;
	int rc;

	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "?");
	host[sizeof(host) - 1] = '\0';
	sqlite3_bind_int64(st, 1, (sqlite3_int64)getpid());
	sqlite3_bind_text(st, 2, FMN_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, host, -1, SQLITE_TRANSIENT);
	if (d->args->config_path != NULL)
		sqlite3_bind_text(st, 4, d->args->config_path, -1,
		    SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_double(st, 5, d->started);
	sqlite3_bind_double(st, 6, fmn_now());
	if (stopped > 0)
		sqlite3_bind_double(st, 7, stopped);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_text(st, 8, backends, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_err("daemon status: %s", sqlite3_errmsg(d->db));
		return -1;
	}
	return 0;
}

/* The backends as fmnctl status shows them, as JSON text. */
static char *
daemon_backends_json(struct fmn_daemon *d)
{
	json_t *j = fmn_sched_backends(d->sched);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s != NULL ? s : xstrdup("[]");
}

/* One line for systemctl status: what fmnd did so far, how its backends are. */
static void
daemon_notify_status(struct fmn_daemon *d, const char *backends)
{
	json_t *j = json_loads(backends, 0, NULL), *b;
	struct fmn_buf s;
	size_t i;

	if (getenv("NOTIFY_SOCKET") == NULL) {
		json_decref(j);
		return;
	}
	fmn_buf_init(&s);
	fmn_buf_printf(&s, "STATUS=%lld messages processed, %lld "
	    "notifications delivered, %lld failed",
	    fmn_counters_total(&d->counters, FMN_C_MESSAGES_PROCESSED),
	    fmn_counters_total(&d->counters, FMN_C_NOTIFICATIONS_DELIVERED),
	    fmn_counters_total(&d->counters, FMN_C_NOTIFICATIONS_FAILED));
	json_array_foreach(j, i, b)
		fmn_buf_printf(&s, "; %s: %s %s",
		    json_string_value(json_object_get(b, "context")),
		    json_string_value(json_object_get(b, "backend")),
		    json_string_value(json_object_get(b, "state")));
	if (d->status_sent == NULL || strcmp(s.data, d->status_sent) != 0) {
		sd_notify(0, s.data);
		free(d->status_sent);
		d->status_sent = fmn_buf_steal(&s);
	}
	fmn_buf_free(&s);
	json_decref(j);
}

/*
 * Counters, and the daemon row when the backends changed or at the
 * heartbeat; one transaction.
 */
static void
daemon_flush(struct fmn_daemon *d)
{
	int64_t now = fmn_monotonic_ms();
	char *backends = daemon_backends_json(d);
	int changed = d->backends_seen == NULL ||
	    strcmp(backends, d->backends_seen) != 0;

	if (!d->counters.dirty && !changed && now < d->next_heartbeat) {
		free(backends);
		return;
	}
	if (fmn_queue_begin(d->queue) != 0) {
		free(backends);
		return;
	}
	if ((changed || now >= d->next_heartbeat) &&
	    daemon_status_write(d, backends, 0) == 0)
		d->next_heartbeat = now + DAEMON_HEARTBEAT_MS;
	if (daemon_commit(d) != 0) {
		/* The counters stay in memory until a commit takes them. */
		log_debug("counters: commit failed: %s",
		    sqlite3_errstr(fmn_queue_last_error(d->queue)));
		free(backends);
		return;
	}
	daemon_notify_status(d, backends);
	free(d->backends_seen);
	d->backends_seen = backends;
}

/* SIGHUP: take what can change live, say what needs a restart. */
static void
daemon_reload(struct fmn_daemon *d)
{
	struct fmn_config n, *c = d->cfg;
	struct fmn_defs *defs = NULL;
	char *cause = NULL, *t;
	size_t i;
	int same;

	if (fmn_daemon_configure(d->args, &n, &cause) != 0) {
		log_err("reload: %s; keeping the running configuration",
		    cause);
		free(cause);
		fmn_config_free(&n);
		return;
	}
	if (daemon_load_facts(d, &n, &defs, &cause) != 0) {
		log_err("reload: definitions: %s; keeping the running "
		    "configuration", cause);
		free(cause);
		fmn_config_free(&n);
		return;
	}
	fmn_sched_set_facts(d->sched, defs, d->aliases);
	fmn_defs_destroy(&d->defs);
	d->defs = defs;
	if (daemon_load_facts(d, &n, &defs, &cause) == 0)
		fmn_reader_set_facts(d->reader, defs, NULL);
	else {
		log_err("reload: definitions: %s", cause);
		free(cause);
		cause = NULL;
	}

#define SWAPSTR(f) do { t = c->f; c->f = n.f; n.f = t; } while (0)
#define RESTART_STR(f, name) do {					\
	if ((c->f == NULL) != (n.f == NULL) ||				\
	    (c->f != NULL && strcmp(c->f, n.f) != 0))			\
		log_warn("reload: %s changed: takes effect after a "	\
		    "restart", name);					\
} while (0)
	RESTART_STR(db_path, "[store] db");
	RESTART_STR(smtp_url, "[email] smtp");
	RESTART_STR(irc_server, "[irc] server");
	RESTART_STR(irc_nick, "[irc] nick");
	same = c->n_endpoints == n.n_endpoints;
	for (i = 0; same && i < c->n_endpoints; i++)
		same = strcmp(c->endpoints[i], n.endpoints[i]) == 0;
	if (!same || c->rcvhwm != n.rcvhwm)
		log_warn("reload: [bus] endpoints or receive_hwm changed: "
		    "take effect after a restart");
	SWAPSTR(log_level);
	SWAPSTR(definitions);
	SWAPSTR(mail_from);
	SWAPSTR(base_url);
	for (i = 0; i < c->n_subscriptions; i++)
		free(c->subscriptions[i]);
	memcpy(c->subscriptions, n.subscriptions, sizeof(c->subscriptions));
	c->n_subscriptions = n.n_subscriptions;
	n.n_subscriptions = 0;
	c->max_message_size = n.max_message_size;
	c->retention = n.retention;
	c->retry_initial = n.retry_initial;
	c->retry_max = n.retry_max;
	c->max_attempts = n.max_attempts;
	c->digest_max_entries = n.digest_max_entries;
	c->digest_max_bytes = n.digest_max_bytes;
	c->confirm_expiry = n.confirm_expiry;
#undef SWAPSTR
#undef RESTART_STR
	fmn_config_free(&n);
	daemon_log_level(c);
	fmn_reader_resubscribe(d->reader, c);
	log_info("configuration reloaded");
}

/* The loop. */

static void
daemon_signal(int sig)
{
	if (sig == SIGHUP)
		fmn_daemon_signal_reload = 1;
	else
		fmn_daemon_signal_stop++;
}

static void
daemon_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/*
	 * A file-size limit (RLIMIT_FSIZE) on the database or the mbox:
	 * the write fails with EFBIG, handled as a full disk is, instead of
	 * killing the daemon.
	 */
	sigaction(SIGXFSZ, &sa, NULL);
}

static long
daemon_timeout(struct fmn_daemon *d, int64_t now)
{
	int64_t t = d->next_tick;
	long bt;

	/* Work waits for the database only while it is failing. */
	if (d->dispatch || fmn_sched_has_outcomes(d->sched)) {
		if (now >= d->deliver_retry_at)
			return 0;
		t = d->deliver_retry_at;
	}
	if (d->nheld > 0 && d->intake_retry_at < t)
		t = d->intake_retry_at;
	if (d->next_changes < t)
		t = d->next_changes;
	if (d->next_flush < t)
		t = d->next_flush;
	if (d->next_confirm < t)
		t = d->next_confirm;
	t = t > now ? t - now : 0;
	bt = fmn_sched_timeout(d->sched);
	if (bt >= 0 && bt < t)
		t = bt;
	return (long)t;
}

/*
 * SIGTERM: intake stops; what was read is stored; in-flight deliveries
 * get what is left of DAEMON_STOP_MS but the time the backends need to
 * give up the rest, so that fmnd is gone within DAEMON_STOP_MS.
 */
static void
daemon_stop(struct fmn_daemon *d)
{
	zmq_pollitem_t items[DAEMON_MAX_POLL];
	int64_t deadline = fmn_monotonic_ms() + DAEMON_STOP_MS, now;
	size_t i, lost = 0;
	int n;
	long t;

	log_info("stopping: intake closed, %zu delivery(ies) in flight",
	    fmn_sched_inflight(d->sched));
	/*
	 * What the intake thread already read is matched and queued, held
	 * batches included, as long as the database lets us.
	 */
	fmn_reader_stop(d->reader);
	while ((!d->reader_done || d->nheld > 0) &&
	    (now = fmn_monotonic_ms()) < deadline &&
	    fmn_daemon_signal_stop < 2) {
		zmq_pollitem_t it;

		t = 100;
		if (d->nheld > 0)
			t = d->intake_retry_at > now ?
			    (long)(d->intake_retry_at - now) : 0;
		fmn_reader_pollitem(d->reader, &it);
		if (d->reader_done || d->nheld > 0)
			zmq_poll(NULL, 0, t > 100 ? 100 : t);
		else if (zmq_poll(&it, 1, t) <= 0)
			continue;
		daemon_intake(d);
	}
	while (fmn_sched_inflight(d->sched) > 0 &&
	    fmn_monotonic_ms() < deadline - DAEMON_ABANDON_MS &&
	    fmn_daemon_signal_stop < 2) {
		n = fmn_sched_pollitems(d->sched, items, DAEMON_MAX_POLL);
		t = fmn_sched_timeout(d->sched);
		if (t < 0 || t > 100)
			t = 100;
		if (n > 0 || t > 0)
			zmq_poll(items, n, t);
		fmn_sched_process(d->sched, items);
		if (fmn_sched_has_outcomes(d->sched) &&
		    fmn_queue_begin(d->queue) == 0) {
			if (fmn_sched_apply(d->sched, fmn_now()) != 0)
				daemon_rollback(d);
			else
				daemon_commit(d);
		}
	}
	if (fmn_sched_inflight(d->sched) > 0)
		log_warn("stopping: %zu delivery(ies) unfinished go back to "
		    "the queue", fmn_sched_inflight(d->sched));
	/* Read off the bus and never stored: say so, and count it. */
	for (i = 0; i < d->nheld; i++)
		lost += d->held[i]->n;
	if (lost > 0)
		fmn_counters_add(&d->counters, FMN_C_MESSAGES_LOST,
		    (long long)lost);
	if (fmn_queue_begin(d->queue) == 0) {
		fmn_queue_requeue_sending(d->queue);
		daemon_commit(d);
	}
	if (lost > 0)
		log_err("stopping: %zu message(s) read from the bus could not be "
		    "stored (database: %s) and are lost%s", lost,
		    sqlite3_errstr(fmn_queue_last_error(d->queue)),
		    d->counters.dirty ? "; messages_lost could not be written "
		    "either" : "");
}

int
fmn_daemon_run(struct fmn_daemon *d)
{
	zmq_pollitem_t items[DAEMON_MAX_POLL];
	int64_t now;
	int nbus, n, i, readable, tick, confirm, burst;

	daemon_signals();
	now = fmn_monotonic_ms();
	d->next_tick = d->next_changes = d->next_flush = now;
	d->next_confirm = now;
	d->next_prune = now + daemon_prune_interval(d);
	d->dispatch = 1;
	daemon_flush(d);	/* the daemon row says we run */
	fmn_log_line(FMN_LOG_INFO, "fmnd: ready");
	sd_notify(0, "READY=1");

	while (!fmn_daemon_signal_stop) {
		if (fmn_daemon_signal_reload) {
			fmn_daemon_signal_reload = 0;
			sd_notify(0, "RELOADING=1");
			daemon_reload(d);
			sd_notify(0, "READY=1");
		}
		now = fmn_monotonic_ms();
		/* While batches are held, the intake thread waits. */
		nbus = 0;
		if (d->nheld == 0)
			fmn_reader_pollitem(d->reader, &items[nbus++]);
		n = nbus + fmn_sched_pollitems(d->sched, items + nbus,
		    DAEMON_MAX_POLL - nbus);
		if (zmq_poll(items, n, daemon_timeout(d, now)) == -1 &&
		    errno != EINTR) {
			log_err("poll: %s", zmq_strerror(errno));
			break;
		}
		readable = 0;
		for (i = 0; i < nbus; i++)
			if (items[i].revents & ZMQ_POLLIN)
				readable = 1;
		if (readable || (d->nheld > 0 &&
		    fmn_monotonic_ms() >= d->intake_retry_at)) {
			daemon_changes(d, 0);
			daemon_intake(d);
		}
		fmn_sched_process(d->sched, items + nbus);

		now = fmn_monotonic_ms();
		if ((tick = now >= d->next_tick))
			d->next_tick = now + DAEMON_TICK_MS;
		if ((confirm = now >= d->next_confirm))
			d->next_confirm = now + DAEMON_CONFIRM_MS;
		/* In a burst, intake first: deliveries catch up after. */
		burst = now < d->burst_until;
		daemon_deliver(d, tick, confirm, burst);
		if (now >= d->next_changes) {
			d->next_changes = now + DAEMON_CHANGES_MS;
			daemon_changes(d, 1);
		}
		if (now >= d->next_flush) {
			d->next_flush = now + DAEMON_FLUSH_MS;
			daemon_flush(d);
		}
		if (now >= d->next_prune) {
			d->next_prune = now + daemon_prune_interval(d);
			daemon_prune(d);
		}
	}
	sd_notify(0, "STOPPING=1");
	daemon_stop(d);
	if (fmn_queue_begin(d->queue) == 0) {
		char *backends = daemon_backends_json(d);

		daemon_status_write(d, backends, fmn_now());
		if (fmn_queue_commit(d->queue) != 0)
			log_err("daemon status: commit failed");
		free(backends);
	}
	log_info("stopped");
	return 0;
}
