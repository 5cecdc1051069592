/*
 * fmnctl status and fmnctl queue: whether a daemon runs on this
 * database (its lock) and what it says of itself (the daemon row it
 * keeps: pid, version, uptime, backends and their state), its
 * persistent counters, failing destinations and broken filters, and the
 * notifications that wait, per context and user. They read the database
 * only, so they work whether the daemon runs or not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_daemon.h"
#include "ctl_show.h"
#include "fmn_config.h"
#include "fmn_counters.h"
#include "fmn_lock.h"
#include "fmn_store.h"

static const char *const status_contexts[] = { "email", "irc" };

/* "3d 4h", "2h 5m", "4m 10s", "12s" */
static void
status_duration(char *buf, size_t len, double secs)
{
	long long s = secs > 0 ? (long long)secs : 0;

	if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%llds", s);
}

/*
 * The row's backends column holds the backends, then an object
 * {"engine": {...}}: how many filters the engine has in each index.
 * Into out as "backends" (the backends only) and "engine" (or null);
 * takes backends.
 */
static void
status_split_engine(json_t *out, json_t *backends)
{
	json_t *list = json_array(), *engine = NULL, *b;
	size_t i;

	json_array_foreach(backends, i, b) {
		if (json_object_get(b, "engine") != NULL)
			engine = json_object_get(b, "engine");
		else
			json_array_append(list, b);
	}
	json_object_set_new(out, "backends", list);
	json_object_set(out, "engine", engine != NULL ? engine : json_null());
	json_decref(backends);
}

/*
 * The daemon as {running, pid, version, host, config, started, uptime,
 * heartbeat, stopped, backends, engine}: running from its lock, the
 * rest from the row it keeps (NULL members when it never ran here).
 * NULL after printing a database error.
 */
static json_t *
status_daemon(struct fmn_ctl *ctl)
{
	sqlite3_stmt *st;
	json_t *out, *backends = NULL;
	char *cause = NULL;
	pid_t pid;
	int held, rc;
	double now = fmn_now();

	if ((held = fmn_lock_holder(ctl->db_path, &pid, &cause)) < 0) {
		ctl_error(ctl, "cannot tell whether fmnd runs: %s", cause);
		free(cause);
		held = 0;
	}
	out = json_pack("{s:b}", "running", held);
	st = fmn_store_prepare(ctl_db(ctl), "SELECT pid, version, host, "
	    "config, started, heartbeat, stopped, backends FROM daemon "
	    "WHERE id = 1", NULL);
	if (st == NULL) {
		json_decref(out);
		ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
		return NULL;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long rpid = sqlite3_column_int64(st, 0);
		double started = sqlite3_column_double(st, 4);
		const char *b = (const char *)sqlite3_column_text(st, 7);

		json_object_set_new(out, "pid", json_integer(held && pid > 0 ?
		    (json_int_t)pid : (json_int_t)rpid));
		json_object_set_new(out, "version", json_string(
		    (const char *)sqlite3_column_text(st, 1)));
		json_object_set_new(out, "host", json_string(
		    (const char *)sqlite3_column_text(st, 2)));
		json_object_set_new(out, "config",
		    sqlite3_column_type(st, 3) == SQLITE_NULL ? json_null() :
		    json_string((const char *)sqlite3_column_text(st, 3)));
		json_object_set_new(out, "started", json_real(started));
		json_object_set_new(out, "uptime", held ?
		    json_real(now - started) : json_null());
		json_object_set_new(out, "heartbeat",
		    json_real(sqlite3_column_double(st, 5)));
		json_object_set_new(out, "stopped",
		    sqlite3_column_type(st, 6) == SQLITE_NULL ? json_null() :
		    json_real(sqlite3_column_double(st, 6)));
		if (b != NULL)
			backends = json_loads(b, 0, NULL);
	} else {
		json_object_set_new(out, "pid", held && pid > 0 ?
		    json_integer(pid) : json_null());
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(out);
		json_decref(backends);
		ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
		return NULL;
	}
	status_split_engine(out, backends);
	return out;
}

/* The daemon's backend entry for a context, or NULL. */
static json_t *
status_backend(json_t *daemon, const char *context)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(daemon, "backends"), i, b)
		if (json_is_string(json_object_get(b, "context")) &&
		    strcmp(json_string_value(json_object_get(b, "context")),
		    context) == 0)
			return b;
	return NULL;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * The engine's filters per index, as the daemon last wrote them: found
 * through an index by the messages that can fire them, or on the always
 * list, evaluated for every message.
 */
static void
status_print_engine(json_t *engine, int running)
{
	json_t *idx = json_object_get(engine, "indexes"), *v;
	const char *key;
	int n = 0;

	if (!json_is_object(idx))
		return;
	printf("  engine: %lld filters%s; by index:",
	    (long long)json_integer_value(json_object_get(engine, "filters")),
	    running ? "" : " when it last ran");
	json_object_foreach(idx, key, v) {
		/* Empty indexes are left out; the always list never. */
		if (json_integer_value(v) == 0 && strcmp(key, "always") != 0)
			continue;
		printf("%s %s %lld", n++ ? "," : "", key,
		    (long long)json_integer_value(v));
	}
	printf("\n");
}

/* What status prints about the daemon, before the counters. */
static void
status_print_daemon(json_t *dm)
{
	json_t *b;
	char when[64], dur[64];
	size_t i;
	int running = json_is_true(json_object_get(dm, "running"));
	json_t *pid = json_object_get(dm, "pid");
	double now = fmn_now(), beat;

	if (running) {
		if (jstr(dm, "version") == NULL) {
			printf("fmnd: running, pid %lld (it has not written "
			    "its status yet)\n",
			    (long long)json_integer_value(pid));
			return;
		}
		status_duration(dur, sizeof(dur), json_real_value(
		    json_object_get(dm, "uptime")));
		printf("fmnd: running, pid %lld, version %s, up %s, on %s",
		    (long long)json_integer_value(pid), jstr(dm, "version"),
		    dur, jstr(dm, "host"));
		printf(", config %s\n", jstr(dm, "config") ?
		    jstr(dm, "config") : "none (defaults)");
		beat = now - json_real_value(json_object_get(dm, "heartbeat"));
		if (beat > 30) {
			status_duration(dur, sizeof(dur), beat);
			printf("  its status is %s old: the loop may be "
			    "stuck\n", dur);
		}
	} else if (jstr(dm, "version") == NULL) {
		printf("fmnd: not running (it never ran on this database)\n");
		return;
	} else {
		json_t *stopped = json_object_get(dm, "stopped");

		ctl_show_time(when, sizeof(when), json_is_real(stopped) ?
		    json_real_value(stopped) : json_real_value(
		    json_object_get(dm, "heartbeat")));
		printf("fmnd: not running; it last ran as pid %lld, version "
		    "%s, and %s %s\n", (long long)json_integer_value(pid),
		    jstr(dm, "version"), json_is_real(stopped) ?
		    "stopped at" : "did not stop cleanly: last seen", when);
	}
	json_array_foreach(json_object_get(dm, "backends"), i, b)
		printf("  %-6s %-8s %-9s %s (%s)\n", jstr(b, "context"),
		    jstr(b, "backend"), jstr(b, "state"),
		    jstr(b, "detail") ? jstr(b, "detail") : "",
		    jstr(b, "url") ? jstr(b, "url") : "");
	if (json_array_size(json_object_get(dm, "backends")) == 0)
		printf("  no backends\n");
	status_print_engine(json_object_get(dm, "engine"), running);
}

/*
 * Filters fmnd marked broken, as [{user, context, filter, reason,
 * since}]; NULL after a database error.
 */
static json_t *
status_broken(struct fmn_ctl *ctl)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();
	int rc;

	st = fmn_store_prepare(ctl->db, "SELECT u.name, p.context, f.name, "
	    "f.broken, f.broken_since FROM filters f JOIN preferences p ON "
	    "p.id = f.preference_id JOIN users u ON u.id = p.user_id WHERE "
	    "f.broken IS NOT NULL ORDER BY u.name, p.context, f.position",
	    NULL);
	if (st == NULL) {
		json_decref(arr);
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s s:s s:s s:s s:f}",
		    "user", (const char *)sqlite3_column_text(st, 0),
		    "context", (const char *)sqlite3_column_text(st, 1),
		    "filter", (const char *)sqlite3_column_text(st, 2),
		    "reason", (const char *)sqlite3_column_text(st, 3),
		    "since", sqlite3_column_double(st, 4)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static void
status_print_broken(json_t *broken)
{
	json_t *v;
	size_t i;
	char when[64];

	if (json_array_size(broken) == 0) {
		printf("\nno broken filters\n");
		return;
	}
	printf("\nbroken filters (not evaluated until `fmnctl filter enable`):\n");
	json_array_foreach(broken, i, v) {
		ctl_show_time(when, sizeof(when),
		    json_real_value(json_object_get(v, "since")));
		printf("  %s %s \"%s\", since %s: %s\n", jstr(v, "user"),
		    jstr(v, "context"), jstr(v, "filter"), when,
		    jstr(v, "reason"));
	}
}

int
ctl_status(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *counters, *failing, *broken, *out, *daemon;
	sqlite3_stmt *st;
	const char *key;
	json_t *v;
	int k, rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "no arguments expected");
	ctl_db(ctl);
	if ((daemon = status_daemon(ctl)) == NULL)
		return CTL_EDATA;

	/* Every counter the daemon keeps, 0 until it first moves. */
	counters = json_object();
	for (k = 0; k < FMN_C_COUNT; k++)
		json_object_set_new(counters, fmn_counters_name(k),
		    json_integer(0));
	st = fmn_store_prepare(ctl->db, "SELECT name, value FROM counters "
	    "ORDER BY name", NULL);
	if (st == NULL)
		goto dberr;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_set_new(counters,
		    (const char *)sqlite3_column_text(st, 0),
		    json_integer(sqlite3_column_int64(st, 1)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto dberr;

	failing = json_array();
	st = fmn_store_prepare(ctl->db, "SELECT u.name, d.context, d.address, "
	    "d.last_error, (SELECT count(*) FROM notifications n WHERE "
	    "n.destination_id = d.id AND n.state IN ('queued', 'batched')) "
	    "FROM destinations d JOIN users u ON u.id = d.user_id "
	    "WHERE d.failing != 0 ORDER BY u.name, d.context, d.address",
	    NULL);
	if (st == NULL) {
		json_decref(failing);
		goto dberr;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(failing, json_pack("{s:s s:s s:s s:s? "
		    "s:I}",
		    "user", (const char *)sqlite3_column_text(st, 0),
		    "context", (const char *)sqlite3_column_text(st, 1),
		    "address", (const char *)sqlite3_column_text(st, 2),
		    "last_error", (const char *)sqlite3_column_text(st, 3),
		    "waiting", (json_int_t)sqlite3_column_int64(st, 4)));
	sqlite3_finalize(st);
	if ((broken = status_broken(ctl)) == NULL) {
		json_decref(failing);
		goto dberr;
	}

	if (ctl->json) {
		out = counters;
		json_object_set_new(out, "failing_destinations", failing);
		json_object_set_new(out, "broken_filters", broken);
		json_object_set_new(out, "daemon", daemon);
		ctl_print_json(out);
		return CTL_OK;
	}
	status_print_daemon(daemon);
	json_decref(daemon);
	printf("\n");
	json_object_foreach(counters, key, v)
		printf("%-28s %lld\n", key, (long long)json_integer_value(v));
	if (json_array_size(failing) == 0)
		printf("\nno failing destinations\n");
	else {
		size_t i;

		printf("\nfailing destinations (no delivery until cleared):\n");
		json_array_foreach(failing, i, v)
			printf("  %s %s %s: %s (%lld waiting)\n",
			    json_string_value(json_object_get(v, "user")),
			    json_string_value(json_object_get(v, "context")),
			    json_string_value(json_object_get(v, "address")),
			    json_is_string(json_object_get(v, "last_error")) ?
			    json_string_value(json_object_get(v,
			    "last_error")) : "no error recorded",
			    (long long)json_integer_value(json_object_get(v,
			    "waiting")));
	}
	status_print_broken(broken);
	json_decref(counters);
	json_decref(failing);
	json_decref(broken);
	return CTL_OK;
dberr:
	json_decref(counters);
	json_decref(daemon);
	return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
}

int
ctl_queue(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *rows, *contexts, *totals, *r, *daemon;
	sqlite3_stmt *st;
	double now = fmn_now();
	size_t i;
	int rc, running;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "no arguments expected");
	ctl_db(ctl);
	if ((daemon = status_daemon(ctl)) == NULL)
		return CTL_EDATA;
	running = json_is_true(json_object_get(daemon, "running"));

	/* The running daemon's backends (or those it last ran with). */
	contexts = json_object();
	for (i = 0; i < FMN_NELEM(status_contexts); i++) {
		json_t *b = status_backend(daemon, status_contexts[i]);

		json_object_set_new(contexts, status_contexts[i],
		    json_pack("{s:s? s:s? s:s?}", "backend", jstr(b, "backend"),
		    "state", jstr(b, "state"), "detail", jstr(b, "detail")));
	}
	json_decref(daemon);
	totals = json_pack("{s:i s:i s:i}", "batched", 0, "queued", 0,
	    "sending", 0);
	rows = json_array();
	st = fmn_store_prepare(ctl->db, "SELECT n.context, u.name, n.state, "
	    "count(*), min(n.next_try), min(n.created), max(d.failing), "
	    "count(DISTINCT coalesce(n.digest, -n.id)) "
	    "FROM notifications n JOIN users u ON u.id = n.user_id "
	    "JOIN destinations d ON d.id = n.destination_id "
	    "WHERE n.state IN ('batched', 'queued', 'sending') "
	    "GROUP BY n.context, u.name, n.state "
	    "ORDER BY n.context, u.name, n.state", NULL);
	if (st == NULL)
		goto dberr;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *context = (const char *)sqlite3_column_text(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 2);
		json_t *c = json_object_get(contexts, context);
		const char *backend = jstr(c, "backend");
		const char *bstate = jstr(c, "state");
		long long count = sqlite3_column_int64(st, 3);
		char *why = NULL;

		if (sqlite3_column_int(st, 6) != 0)
			why = xstrdup("destination failing");
		else if (!running)
			why = xstrdup("fmnd is not running");
		else if (backend == NULL)
			why = xstrdup("fmnd has no backend for this context");
		else if (strcmp(state, "queued") == 0 && bstate != NULL &&
		    (strcmp(bstate, "failing") == 0 ||
		    strcmp(bstate, "waiting") == 0))
			why = xasprintf("the %s backend is %s: %s", backend,
			    bstate, jstr(c, "detail") ? jstr(c, "detail") : "");
		json_array_append_new(rows, json_pack("{s:s s:s? s:s s:s s:I "
		    "s:I s:f s:f s:s?}",
		    "context", context, "backend", backend,
		    "user", (const char *)sqlite3_column_text(st, 1),
		    "state", state, "count", (json_int_t)count,
		    "deliveries", (json_int_t)sqlite3_column_int64(st, 7),
		    "next_try", sqlite3_column_double(st, 4),
		    "oldest", sqlite3_column_double(st, 5),
		    "waiting_because", why));
		free(why);
		json_object_set_new(totals, state, json_integer(
		    json_integer_value(json_object_get(totals, state)) + count));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto dberr;

	if (ctl->json) {
		ctl_print_json(json_pack("{s:o s:o s:o}", "contexts", contexts,
		    "totals", totals, "waiting", rows));
		return CTL_OK;
	}
	if (!running)
		printf("fmnd is not running on this database: nothing is "
		    "delivered\n\n");
	for (i = 0; i < FMN_NELEM(status_contexts); i++) {
		json_t *c = json_object_get(contexts, status_contexts[i]);

		if (jstr(c, "backend") == NULL)
			printf("%-6s no backend: notifications wait\n",
			    status_contexts[i]);
		else
			printf("%-6s %s, %s%s (%s)\n", status_contexts[i],
			    jstr(c, "backend"), running ? "" : "when fmnd last "
			    "ran: ", jstr(c, "state"), jstr(c, "detail"));
	}
	printf("\nbatched %lld, queued %lld, sending %lld\n",
	    (long long)json_integer_value(json_object_get(totals, "batched")),
	    (long long)json_integer_value(json_object_get(totals, "queued")),
	    (long long)json_integer_value(json_object_get(totals, "sending")));
	if (json_array_size(rows) > 0)
		printf("\n%-7s %-8s %-16s %-8s %7s  %s\n", "CONTEXT", "BACKEND",
		    "USER", "STATE", "COUNT", "NEXT");
	json_array_foreach(rows, i, r) {
		const char *state = json_string_value(json_object_get(r,
		    "state"));
		json_t *why = json_object_get(r, "waiting_because");
		json_t *b = json_object_get(r, "backend");
		double next = json_real_value(json_object_get(r, "next_try"));
		char when[64];

		if (json_is_string(why))
			snprintf(when, sizeof(when), "waits: %s",
			    json_string_value(why));
		else if (strcmp(state, "batched") == 0)
			snprintf(when, sizeof(when), "held for a digest since "
			    "%.0f s", now - json_real_value(json_object_get(r,
			    "oldest")));
		else if (strcmp(state, "sending") == 0)
			snprintf(when, sizeof(when), "handed to the backend");
		else if (next <= now)
			snprintf(when, sizeof(when), "due now");
		else
			snprintf(when, sizeof(when), "retry in %.0f s",
			    next - now);
		printf("%-7s %-8s %-16s %-8s %7lld  %s\n",
		    json_string_value(json_object_get(r, "context")),
		    json_is_string(b) ? json_string_value(b) : "-",
		    json_string_value(json_object_get(r, "user")), state,
		    (long long)json_integer_value(json_object_get(r, "count")),
		    when);
	}
	json_decref(contexts);
	json_decref(totals);
	json_decref(rows);
	return CTL_OK;
dberr:
	json_decref(contexts);
	json_decref(totals);
	json_decref(rows);
	return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
}
