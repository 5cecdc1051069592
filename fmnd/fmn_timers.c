/*
 * The loop's timed work: handing due notifications to the backends and
 * recording their outcomes, applying live changes (fmnctl's writes fill
 * the changes table; PRAGMA data_version says when another connection
 * committed), housekeeping (retention, applied changes), and the
 * counters with the daemon's status row and systemd's STATUS= line.
 */
#include "fmn_daemon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "fmn_log.h"
#include "fmn_store.h"
#include "fmn_util.h"
#include "fmn_version.h"

/* Delivery: outcomes, digests, hand-offs, confirmations. */
void
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
void
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
int64_t
daemon_prune_interval(const struct fmn_daemon *d)
{
	long r = d->cfg->retention;

	return r > 0 && r * 500 < DAEMON_PRUNE_MS ? r * 500 : DAEMON_PRUNE_MS;
}

/*
 * Housekeeping: changes already applied, and rows past [store]
 * retention, a bounded number per pass so that intake never waits long.
 */
void
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
 * The backends column of the daemon row: the backends, then one object
 * {"engine": {"filters": N, "indexes": {KIND: N, ..., "always": N}}},
 * how many filters the engine has in each index, for fmnctl status.
 */
static char *
status_backends(struct fmn_daemon *d, const char *backends)
{
	json_t *arr = json_loads(backends, 0, NULL), *idx = json_object();
	struct fmn_engine_stats es;
	char *s;
	int k;

	if (!json_is_array(arr)) {
		json_decref(arr);
		arr = json_array();
	}
	if (d->engine == NULL) {
		json_decref(idx);
		json_decref(arr);
		return xstrdup(backends);
	}
	fmn_engine_stats(d->engine, &es);
	for (k = 0; k < FMN_ENGINE_INDEXES; k++)
		json_object_set_new(idx, fmn_engine_index_name(k),
		    json_integer((json_int_t)es.indexed[k]));
	json_array_append_new(arr, json_pack("{s:{s:I s:o}}", "engine",
	    "filters", (json_int_t)es.filters, "indexes", idx));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s != NULL ? s : xstrdup(backends);
}

/*
 * The daemon row (migration 005) for fmnctl status and queue; inside a
 * transaction. stopped: the time of a clean stop, or 0.
 */
int
daemon_status_write(struct fmn_daemon *d, const char *backends,
    double stopped)
{
	char host[256], *column = status_backends(d, backends);
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
	sqlite3_bind_text(st, 8, column, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(column);
	if (rc != SQLITE_DONE) {
		log_err("daemon status: %s", sqlite3_errmsg(d->db));
		return -1;
	}
	return 0;
}

/* The backends as fmnctl status shows them, as JSON text. */
char *
daemon_backends_json(struct fmn_daemon *d)
{
	json_t *j = fmn_sched_backends(d->sched);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s != NULL ? s : xstrdup("[]");
}

/* One line for systemctl status: what fmnd did so far, how its backends are. */
void
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
void
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
