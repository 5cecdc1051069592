/*
 * The daemon: its configuration, starting it (the lock, the database,
 * the engine, the backends, the intake thread), its one loop (one
 * zmq_poll over the intake thread's socket and the backends' poll
 * items, with timers), reloading on SIGHUP, and stopping on SIGTERM.
 * What the loop does is in fmn_intake.c (messages into the database)
 * and fmn_timers.c (deliveries, live changes, housekeeping, status).
 */
#include "fmn_daemon_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <zmq.h>

#include "fmn_broken.h"
#include "fmn_bus.h"
#include "fmn_lock.h"
#include "fmn_log.h"
#include "fmn_store.h"
#include "fmn_util.h"
#include "fmn_version.h"

volatile sig_atomic_t fmn_daemon_signal_stop;
volatile sig_atomic_t fmn_daemon_signal_reload;

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

int
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

long long
daemon_query_int(sqlite3_stmt *st)
{
	long long v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* Which preferences have a oneshot filter to switch off when it fires. */
void
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
struct fmn_aliases *
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

/*
 * Since when this database may have missed messages: the time of the
 * last message stored, or the daemon's last heartbeat or clean stop,
 * whichever is later (it listened until then); 0 when it never ran.
 */
static double
daemon_missed_since(struct fmn_daemon *d)
{
	sqlite3_stmt *st;
	double t = 0;

	st = fmn_store_prepare(d->db, "SELECT max(coalesce((SELECT t FROM "
	    "messages ORDER BY id DESC LIMIT 1), 0), coalesce((SELECT "
	    "coalesce(stopped, heartbeat) FROM daemon WHERE id = 1), 0))",
	    NULL);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		t = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return t;
}

/*
 * Start the intake thread with definitions and aliases of its own, and
 * the catch-up that feeds it when [catchup] url is set.
 */
static int
daemon_reader(struct fmn_daemon *d, const struct fmn_config *cfg,
    char **cause)
{
	struct fmn_defs *defs;
	struct fmn_aliases *aliases;
	const char *history = NULL;

	if (daemon_load_facts(d, cfg, &defs, cause) != 0)
		return -1;
	if ((aliases = daemon_aliases_copy(d)) == NULL) {
		fmn_defs_destroy(&defs);
		fmn_set_cause(cause, "cannot load aliases");
		return -1;
	}
	if (cfg->catchup_url != NULL) {
		d->catchup = fmn_catchup_new(d->zctx, cfg,
		    daemon_missed_since(d), cause);
		if (d->catchup == NULL) {
			fmn_defs_destroy(&defs);
			fmn_aliases_destroy(&aliases);
			return -1;
		}
		history = fmn_catchup_endpoint(d->catchup);
	}
	d->reader = fmn_reader_new(d->zctx, cfg, defs, aliases, history,
	    cause);
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
	if (cfg->http_listen != NULL &&
	    (d->http = fmn_http_new(cfg, cause)) == NULL)
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
	fmn_http_destroy(&d->http);
	for (i = 0; i < d->nheld; i++)
		fmn_reader_batch_free(&d->held[i]);
	free(d->held);
	fmn_catchup_destroy(&d->catchup);
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

/* SIGHUP: take what can change live, say what needs a restart. */
void
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
	RESTART_STR(http_listen, "[http] listen");
	RESTART_STR(http_base_url, "[http] base_url");
	RESTART_STR(http_allow_insecure, "[http] allow_insecure");
	RESTART_STR(catchup_url, "[catchup] url");
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
	/* The intake thread reads the CA, CRL and policy again. */
	SWAPSTR(ca_cert);
	SWAPSTR(crl);
	SWAPSTR(routing_policy);
	c->validate_signatures = n.validate_signatures;
	c->routing_nitpicky = n.routing_nitpicky;
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
	fmn_catchup_stop(d->catchup);
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
