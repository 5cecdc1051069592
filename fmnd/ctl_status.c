/*
 * fmnctl status and fmnctl queue: the daemon's persistent counters and
 * failing destinations, and the notifications that wait, per context
 * (with the backend this configuration gives it) and user. They read
 * the database only, so they work whether the daemon runs or not.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_daemon.h"
#include "fmn_config.h"
#include "fmn_counters.h"
#include "fmn_store.h"

static const char *const status_contexts[] = { "email", "irc" };

/* The backend a context gets with this configuration, or NULL. */
static const char *
status_backend(const struct fmn_config *cfg, const char *context)
{
	const char *url;

	if (cfg == NULL)
		return NULL;
	url = strcmp(context, "email") == 0 ? cfg->smtp_url : cfg->irc_server;
	if (url == NULL || *url == '\0')
		return NULL;
	if (strncmp(url, "mbox:", 5) == 0)
		return "mbox";
	if (strncmp(url, "capture:", 8) == 0)
		return "capture";
	return strcmp(context, "email") == 0 ? "smtp" : "irc";
}

int
ctl_status(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *counters, *failing, *out;
	sqlite3_stmt *st;
	const char *key;
	json_t *v;
	int k, rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "no arguments expected");
	ctl_db(ctl);

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

	if (ctl->json) {
		out = counters;
		json_object_set_new(out, "failing_destinations", failing);
		ctl_print_json(out);
		return CTL_OK;
	}
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
	json_decref(counters);
	json_decref(failing);
	return CTL_OK;
dberr:
	json_decref(counters);
	return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
}

int
ctl_queue(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *rows, *contexts, *totals, *r;
	sqlite3_stmt *st;
	double now = fmn_now();
	size_t i;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "no arguments expected");
	ctl_db(ctl);

	contexts = json_object();
	for (i = 0; i < FMN_NELEM(status_contexts); i++) {
		const char *b = status_backend(ctl->cfg, status_contexts[i]);

		json_object_set_new(contexts, status_contexts[i],
		    json_pack("{s:s?}", "backend", b));
	}
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
		const char *backend = status_backend(ctl->cfg, context);
		long long count = sqlite3_column_int64(st, 3);
		const char *why = NULL;

		if (sqlite3_column_int(st, 6) != 0)
			why = "destination failing";
		else if (backend == NULL)
			why = "no backend configured for this context";
		json_array_append_new(rows, json_pack("{s:s s:s? s:s s:s s:I "
		    "s:I s:f s:f s:s?}",
		    "context", context, "backend", backend,
		    "user", (const char *)sqlite3_column_text(st, 1),
		    "state", state, "count", (json_int_t)count,
		    "deliveries", (json_int_t)sqlite3_column_int64(st, 7),
		    "next_try", sqlite3_column_double(st, 4),
		    "oldest", sqlite3_column_double(st, 5),
		    "waiting_because", why));
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
	for (i = 0; i < FMN_NELEM(status_contexts); i++) {
		json_t *b = json_object_get(json_object_get(contexts,
		    status_contexts[i]), "backend");

		printf("%-6s %s\n", status_contexts[i], json_is_string(b) ?
		    json_string_value(b) : "no backend configured: "
		    "notifications wait");
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
