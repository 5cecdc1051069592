/*
 * fmnctl pref commands: per user and context, whether notifications
 * go out, how they are batched into digests, and how they look.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "fmn_store.h"

/* "on"/"off" (and yes/no, true/false, 1/0) -> 1/0; -1 otherwise. */
static int
parse_bool(const char *s)
{
	if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") ||
	    !strcmp(s, "1"))
		return 1;
	if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") ||
	    !strcmp(s, "0"))
		return 0;
	return -1;
}

/* The most each batch threshold may be: a year of seconds, a million. */
static const struct {
	const char	*field;
	long long	 max;
	const char	*unit;
} pref_batch[] = {
	[CTL_BATCH_DELTA] = { "batch_delta", 366LL * 86400, " seconds" },
	[CTL_BATCH_COUNT] = { "batch_count", 1000000, "" },
};

int
ctl_pref_check_batch(enum ctl_batch which, long long v, char **cause)
{
	if (v < 0) {
		fmn_set_cause(cause, "must not be negative (%lld)", v);
		return -1;
	}
	if (v > pref_batch[which].max) {
		fmn_set_cause(cause, "must be at most %lld%s (%lld)",
		    pref_batch[which].max, pref_batch[which].unit, v);
		return -1;
	}
	return 0;
}

const char *
ctl_pref_batch_field(enum ctl_batch which)
{
	return pref_batch[which].field;
}

/*
 * A batch threshold: "none" clears it (-1), else a whole number that
 * ctl_pref_check_batch() accepts. Returns 0, or the exit code after
 * printing why.
 */
static int
parse_threshold(struct fmn_ctl *ctl, const char *opt, const char *s,
    enum ctl_batch which, long long *out)
{
	char *end, *why = NULL;
	long long v;
	int rc;

	if (!strcmp(s, "none") || !strcmp(s, "off")) {
		*out = -1;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return ctl_usage(ctl, "%s wants a whole number or \"none\", "
		    "not \"%s\"", opt, s);
	if (ctl_pref_check_batch(which, v, &why) != 0) {
		rc = ctl_error(ctl, "%s %s", opt, why);
		free(why);
		return rc;
	}
	*out = v;
	return 0;
}

int
ctl_pref_set(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--enable", 0, NULL },
		{ "--disable", 0, NULL },
		{ "--batch-delta", 1, NULL },
		{ "--batch-count", 1, NULL },
		{ "--verbose", 1, NULL },
		{ "--markup", 1, NULL },
	};
	long long uid, pid, delta = -2, count = -2;
	int verbose = -1, markup = -1, rc;
	sqlite3_stmt *st;

	if ((argc = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (argc != 2)
		return ctl_usage(ctl, "expected USER and CONTEXT");
	if (opts[0].value && opts[1].value)
		return ctl_usage(ctl, "--enable and --disable together");
	if (opts[2].value &&
	    (rc = parse_threshold(ctl, "--batch-delta", opts[2].value,
	    CTL_BATCH_DELTA, &delta)))
		return rc;
	if (opts[3].value &&
	    (rc = parse_threshold(ctl, "--batch-count", opts[3].value,
	    CTL_BATCH_COUNT, &count)))
		return rc;
	if (opts[4].value && (verbose = parse_bool(opts[4].value)) < 0)
		return ctl_usage(ctl, "--verbose wants on or off, not \"%s\"",
		    opts[4].value);
	if (opts[5].value && (markup = parse_bool(opts[5].value)) < 0)
		return ctl_usage(ctl, "--markup wants on or off, not \"%s\"",
		    opts[5].value);
	if ((uid = ctl_user_id(ctl, argv[0])) < 0 ||
	    ctl_check_context(ctl, argv[1]) != 0)
		return CTL_EDATA;
	if (fmn_store_exec(ctl->db, "BEGIN IMMEDIATE", NULL) != 0)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if ((pid = ctl_pref_id(ctl, uid, argv[0], argv[1], 1)) < 0) {
		sqlite3_exec(ctl->db, "ROLLBACK", NULL, NULL, NULL);
		return CTL_EDATA;
	}
	/* ?N = -2 keeps a value, -1 clears a threshold. */
	st = fmn_store_prepare(ctl->db, "UPDATE preferences SET "
	    "enabled = CASE ?1 WHEN -1 THEN enabled ELSE ?1 END, "
	    "batch_delta = CASE ?2 WHEN -2 THEN batch_delta WHEN -1 THEN NULL "
	    "ELSE ?2 END, "
	    "batch_count = CASE ?3 WHEN -2 THEN batch_count WHEN -1 THEN NULL "
	    "ELSE ?3 END, "
	    "verbose = CASE ?4 WHEN -1 THEN verbose ELSE ?4 END, "
	    "markup = CASE ?5 WHEN -1 THEN markup ELSE ?5 END WHERE id = ?6",
	    NULL);
	sqlite3_bind_int(st, 1, opts[0].value ? 1 : opts[1].value ? 0 : -1);
	sqlite3_bind_int64(st, 2, delta);
	sqlite3_bind_int64(st, 3, count);
	sqlite3_bind_int(st, 4, verbose);
	sqlite3_bind_int(st, 5, markup);
	sqlite3_bind_int64(st, 6, pid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		sqlite3_exec(ctl->db, "ROLLBACK", NULL, NULL, NULL);
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	}
	if (fmn_store_exec(ctl->db, "COMMIT", NULL) != 0)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if (!ctl->json)
		printf("updated %s preference of %s\n", argv[1], argv[0]);
	return CTL_OK;
}

int
ctl_pref_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();
	long long uid = -1;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc > 1)
		return ctl_usage(ctl, "expected at most one USER");
	if (argc == 1 && (uid = ctl_user_id(ctl, argv[0])) < 0)
		return CTL_EDATA;
	st = fmn_store_prepare(ctl_db(ctl), "SELECT u.name, p.context, "
	    "p.enabled, p.batch_delta, p.batch_count, p.verbose, p.markup, "
	    "(SELECT count(*) FROM filters f WHERE f.preference_id = p.id) "
	    "FROM preferences p JOIN users u ON u.id = p.user_id "
	    "WHERE ?1 < 0 OR u.id = ?1 ORDER BY u.name, p.context", NULL);
	sqlite3_bind_int64(st, 1, uid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *p = json_pack("{s:s, s:s, s:b, s:b, s:b, s:I}",
		    "user", (const char *)sqlite3_column_text(st, 0),
		    "context", (const char *)sqlite3_column_text(st, 1),
		    "enabled", sqlite3_column_int(st, 2),
		    "verbose", sqlite3_column_int(st, 5),
		    "markup", sqlite3_column_int(st, 6),
		    "filters", sqlite3_column_int64(st, 7));

		json_object_set_new(p, "batch_delta",
		    sqlite3_column_type(st, 3) == SQLITE_NULL ? json_null() :
		    json_integer(sqlite3_column_int64(st, 3)));
		json_object_set_new(p, "batch_count",
		    sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() :
		    json_integer(sqlite3_column_int64(st, 4)));
		if (!ctl->json) {
			printf("%s\t%s\t%s\tdelta %s\tcount %s\t%lld filters\n",
			    (const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1),
			    sqlite3_column_int(st, 2) ? "enabled" : "disabled",
			    sqlite3_column_type(st, 3) == SQLITE_NULL ? "none" :
			    (const char *)sqlite3_column_text(st, 3),
			    sqlite3_column_type(st, 4) == SQLITE_NULL ? "none" :
			    (const char *)sqlite3_column_text(st, 4),
			    sqlite3_column_int64(st, 7));
			json_decref(p);
		} else
			json_array_append_new(arr, p);
	}
	sqlite3_finalize(st);
	if (ctl->json)
		ctl_print_json(arr);
	else
		json_decref(arr);
	return CTL_OK;
}
