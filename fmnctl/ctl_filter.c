/*
 * fmnctl filter commands and `fmnctl rules`: a preference's ordered list
 * of named filters, each a chain of rules checked whole before writing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "ctl_show.h"
#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_utf8.h"

static int
check_filter_name(struct fmn_ctl *ctl, const char *name)
{
	const unsigned char *p;

	if (*name == '\0')
		return ctl_error(ctl, "a filter name must not be empty"), -1;
	if (strlen(name) > 255)
		return ctl_error(ctl, "filter name is longer than 255 bytes"), -1;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return ctl_error(ctl, "filter name contains a control "
			    "character"), -1;
	if (!fmn_utf8_valid(name, strlen(name)))
		return ctl_error(ctl, "filter name is not valid UTF-8"), -1;
	return 0;
}

/* The filter's id, or -1 after printing why. */
static long long
filter_id(struct fmn_ctl *ctl, const char *user, const char *context,
    const char *name, long long *pref_out)
{
	sqlite3_stmt *st;
	long long uid, pid, id = -1;

	if ((uid = ctl_user_id(ctl, user)) < 0 ||
	    (pid = ctl_pref_id(ctl, uid, user, context, 0)) < 0)
		return -1;
	st = fmn_store_prepare(ctl->db, "SELECT id FROM filters WHERE "
	    "preference_id = ? AND name = ?", NULL);
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (id < 0)
		ctl_error(ctl, "user \"%s\" has no %s filter named \"%s\"", user,
		    context, name);
	if (pref_out != NULL)
		*pref_out = pid;
	return id;
}

static int
rollback(struct fmn_ctl *ctl, int rc)
{
	if (rc != CTL_OK && rc != CTL_EUSAGE)
		sqlite3_exec(ctl->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int
ctl_filter_add(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--inactive", 0, NULL },
		{ "--oneshot", 0, NULL },
	};
	struct fmn_rule_spec *specs;
	sqlite3_stmt *st = NULL;
	long long uid, pid, fid;
	int i, nrules, rc = CTL_OK;
	char *cause = NULL;

	if ((argc = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (argc < 4)
		return ctl_usage(ctl, "expected USER, CONTEXT, NAME and at "
		    "least one RULE");
	nrules = argc - 3;
	specs = xcalloc((size_t)nrules, sizeof(*specs));
	for (i = 0; i < nrules; i++) {
		if (fmn_rule_parse(argv[3 + i], &specs[i], &cause) != 0) {
			rc = ctl_error(ctl, "%s", cause);
			free(cause);
			goto out;
		}
	}
	if ((uid = ctl_user_id(ctl, argv[0])) < 0 ||
	    ctl_check_context(ctl, argv[1]) != 0 ||
	    check_filter_name(ctl, argv[2]) != 0) {
		rc = CTL_EDATA;
		goto out;
	}
	if (fmn_store_exec(ctl->db, "BEGIN IMMEDIATE", NULL) != 0) {
		rc = ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
		goto out;
	}
	if ((pid = ctl_pref_id(ctl, uid, argv[0], argv[1], 1)) < 0) {
		rc = rollback(ctl, CTL_EDATA);
		goto out;
	}
	st = fmn_store_prepare(ctl->db, "INSERT INTO filters (preference_id, "
	    "name, position, active, oneshot) VALUES (?1, ?2, (SELECT "
	    "coalesce(max(position), 0) + 1 FROM filters WHERE "
	    "preference_id = ?1), ?3, ?4)", NULL);
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, argv[2], -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, opts[0].value == NULL);
	sqlite3_bind_int(st, 4, opts[1].value != NULL);
	i = sqlite3_step(st);
	sqlite3_finalize(st);
	if (i == SQLITE_CONSTRAINT_UNIQUE) {
		rc = rollback(ctl, ctl_error(ctl, "user \"%s\" already has a %s "
		    "filter named \"%s\"", argv[0], argv[1], argv[2]));
		goto out;
	}
	if (i != SQLITE_DONE) {
		rc = rollback(ctl, ctl_error(ctl, "database: %s",
		    sqlite3_errmsg(ctl->db)));
		goto out;
	}
	fid = sqlite3_last_insert_rowid(ctl->db);
	st = fmn_store_prepare(ctl->db, "INSERT INTO rules (filter_id, "
	    "position, kind, argument, negated) VALUES (?, ?, ?, ?, ?)", NULL);
	for (i = 0; i < nrules; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, fid);
		sqlite3_bind_int(st, 2, i + 1);
		sqlite3_bind_text(st, 3, fmn_rule_kind_name(specs[i].kind), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 4, specs[i].argument, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, specs[i].negated);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = rollback(ctl, ctl_error(ctl, "database: %s",
			    sqlite3_errmsg(ctl->db)));
			sqlite3_finalize(st);
			goto out;
		}
	}
	sqlite3_finalize(st);
	if (fmn_store_exec(ctl->db, "COMMIT", NULL) != 0) {
		rc = rollback(ctl, ctl_error(ctl, "database: %s",
		    sqlite3_errmsg(ctl->db)));
		goto out;
	}
	if (!ctl->json)
		printf("added %s filter \"%s\" for %s with %d rule%s\n", argv[1],
		    argv[2], argv[0], nrules, nrules == 1 ? "" : "s");
out:
	for (i = 0; i < nrules; i++)
		fmn_rule_spec_clear(&specs[i]);
	free(specs);
	return rc;
}

int
ctl_filter_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();
	long long uid;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc < 1 || argc > 2)
		return ctl_usage(ctl, "expected USER and an optional CONTEXT");
	if ((uid = ctl_user_id(ctl, argv[0])) < 0 ||
	    (argc == 2 && ctl_check_context(ctl, argv[1]) != 0))
		return CTL_EDATA;
	st = fmn_store_prepare(ctl->db, "SELECT p.context, f.name, f.position, "
	    "f.active, f.id, f.broken, f.broken_since FROM filters f JOIN "
	    "preferences p ON p.id = f.preference_id WHERE p.user_id = ?1 AND "
	    "(?2 IS NULL OR p.context = ?2) ORDER BY p.context, f.position",
	    NULL);
	sqlite3_bind_int64(st, 1, uid);
	if (argc == 2)
		sqlite3_bind_text(st, 2, argv[1], -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *f = json_pack("{s:s, s:s, s:I, s:b, s:o, s:o}",
		    "context", (const char *)sqlite3_column_text(st, 0),
		    "name", (const char *)sqlite3_column_text(st, 1),
		    "position", sqlite3_column_int64(st, 2),
		    "active", sqlite3_column_int(st, 3),
		    "broken", ctl_show_broken(st, 5),
		    "rules", ctl_show_rules(ctl_shower(ctl),
		    sqlite3_column_int64(st, 4)));

		if (!ctl->json) {
			const char *why = (const char *)sqlite3_column_text(st, 5);
			size_t i;
			json_t *r;

			printf("%s\t%lld\t%s%s%s%s%s\t", json_string_value(
			    json_object_get(f, "context")),
			    (long long)sqlite3_column_int64(st, 2),
			    json_string_value(json_object_get(f, "name")),
			    sqlite3_column_int(st, 3) ? "" : " (inactive)",
			    why != NULL ? " (broken: " : "",
			    why != NULL ? why : "", why != NULL ? ")" : "");
			json_array_foreach(json_object_get(f, "rules"), i, r)
				printf("%s%s", i ? " " : "",
				    json_string_value(r));
			printf("\n");
			json_decref(f);
		} else
			json_array_append_new(arr, f);
	}
	sqlite3_finalize(st);
	if (ctl->json)
		ctl_print_json(arr);
	else
		json_decref(arr);
	return CTL_OK;
}

int
ctl_filter_show(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	long long fid;
	json_t *f = NULL, *r, *b;
	size_t i;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 3)
		return ctl_usage(ctl, "expected USER, CONTEXT and NAME");
	if ((fid = filter_id(ctl, argv[0], argv[1], argv[2], NULL)) < 0)
		return CTL_EDATA;
	st = fmn_store_prepare(ctl->db, "SELECT name, position, active, oneshot, "
	    "broken, broken_since FROM filters WHERE id = ?", NULL);
	sqlite3_bind_int64(st, 1, fid);
	if (sqlite3_step(st) == SQLITE_ROW)
		f = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:o, s:o}",
		    "user", argv[0], "context", argv[1],
		    "name", (const char *)sqlite3_column_text(st, 0),
		    "position", sqlite3_column_int64(st, 1),
		    "active", sqlite3_column_int(st, 2),
		    "oneshot", sqlite3_column_int(st, 3),
		    "broken", ctl_show_broken(st, 4),
		    "rules", ctl_show_rules(ctl_shower(ctl), fid));
	sqlite3_finalize(st);
	if (f == NULL)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if (ctl->json) {
		ctl_print_json(f);
		return CTL_OK;
	}
	printf("%s filter \"%s\" of %s, position %lld, %s%s\nrules (all must "
	    "hold):\n", argv[1], argv[2], argv[0],
	    (long long)json_integer_value(json_object_get(f, "position")),
	    json_is_true(json_object_get(f, "active")) ? "active" : "inactive",
	    json_is_true(json_object_get(f, "oneshot")) ? ", one-shot" : "");
	json_array_foreach(json_object_get(f, "rules"), i, r)
		printf("  %s\n", json_string_value(r));
	if (json_is_object(b = json_object_get(f, "broken"))) {
		char when[64];

		ctl_show_time(when, sizeof(when),
		    json_real_value(json_object_get(b, "since")));
		printf("broken since %s, not evaluated: %s\n(fmnctl filter "
		    "enable clears the mark)\n", when,
		    json_string_value(json_object_get(b, "reason")));
	}
	json_decref(f);
	return CTL_OK;
}

static int
filter_update(struct fmn_ctl *ctl, int argc, char **argv, const char *sql,
    const char *done)
{
	sqlite3_stmt *st;
	long long fid;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 3)
		return ctl_usage(ctl, "expected USER, CONTEXT and NAME");
	if ((fid = filter_id(ctl, argv[0], argv[1], argv[2], NULL)) < 0)
		return CTL_EDATA;
	st = fmn_store_prepare(ctl->db, sql, NULL);
	sqlite3_bind_int64(st, 1, fid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if (!ctl->json)
		printf("%s %s filter \"%s\" of %s\n", done, argv[1], argv[2],
		    argv[0]);
	return CTL_OK;
}

int
ctl_filter_rm(struct fmn_ctl *ctl, int argc, char **argv)
{
	return filter_update(ctl, argc, argv,
	    "DELETE FROM filters WHERE id = ?", "removed");
}

/* Enabling is also how a person says a broken filter may be tried again. */
int
ctl_filter_enable(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	long long fid;
	int rc, broken = 0;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 3)
		return ctl_usage(ctl, "expected USER, CONTEXT and NAME");
	if (fmn_store_exec(ctl_db(ctl), "BEGIN IMMEDIATE", NULL) != 0)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if ((fid = filter_id(ctl, argv[0], argv[1], argv[2], NULL)) < 0)
		return rollback(ctl, CTL_EDATA);
	st = fmn_store_prepare(ctl->db, "SELECT broken IS NOT NULL FROM "
	    "filters WHERE id = ?", NULL);
	sqlite3_bind_int64(st, 1, fid);
	if (sqlite3_step(st) == SQLITE_ROW)
		broken = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = fmn_store_prepare(ctl->db, "UPDATE filters SET active = 1, "
	    "broken = NULL, broken_since = NULL WHERE id = ?", NULL);
	sqlite3_bind_int64(st, 1, fid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || fmn_store_exec(ctl->db, "COMMIT", NULL) != 0)
		return rollback(ctl, ctl_error(ctl, "database: %s",
		    sqlite3_errmsg(ctl->db)));
	if (!ctl->json)
		printf("enabled %s filter \"%s\" of %s%s\n", argv[1], argv[2],
		    argv[0], broken ? "; its broken mark is cleared" : "");
	return CTL_OK;
}

int
ctl_filter_disable(struct fmn_ctl *ctl, int argc, char **argv)
{
	return filter_update(ctl, argc, argv,
	    "UPDATE filters SET active = 0 WHERE id = ?", "disabled");
}

int
ctl_filter_move(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st, *upd;
	long long fid, pid, pos, n = 0, i = 0;
	char *end;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 4)
		return ctl_usage(ctl, "expected USER, CONTEXT, NAME and POSITION");
	errno = 0;
	pos = strtoll(argv[3], &end, 10);
	if (errno != 0 || end == argv[3] || *end != '\0')
		return ctl_usage(ctl, "POSITION must be a whole number, not "
		    "\"%s\"", argv[3]);
	if (pos < 1)
		return ctl_error(ctl, "POSITION starts at 1 (got %lld)", pos);
	if (fmn_store_exec(ctl_db(ctl), "BEGIN IMMEDIATE", NULL) != 0)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if ((fid = filter_id(ctl, argv[0], argv[1], argv[2], &pid)) < 0)
		return rollback(ctl, CTL_EDATA);
	st = fmn_store_prepare(ctl->db, "SELECT count(*) FROM filters WHERE "
	    "preference_id = ?", NULL);
	sqlite3_bind_int64(st, 1, pid);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (pos > n)
		return rollback(ctl, ctl_error(ctl, "POSITION %lld is past the "
		    "last filter (%lld)", pos, n));
	/* Renumber 1..n with the moved filter at pos. */
	st = fmn_store_prepare(ctl->db, "SELECT id FROM filters WHERE "
	    "preference_id = ? AND id != ? ORDER BY position", NULL);
	upd = fmn_store_prepare(ctl->db, "UPDATE filters SET position = ? "
	    "WHERE id = ?", NULL);
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, fid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (++i == pos)
			i++;
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, i);
		sqlite3_bind_int64(upd, 2, sqlite3_column_int64(st, 0));
		sqlite3_step(upd);
	}
	sqlite3_reset(upd);
	sqlite3_bind_int64(upd, 1, pos);
	sqlite3_bind_int64(upd, 2, fid);
	sqlite3_step(upd);
	sqlite3_finalize(st);
	sqlite3_finalize(upd);
	if (fmn_store_exec(ctl->db, "COMMIT", NULL) != 0)
		return rollback(ctl, ctl_error(ctl, "database: %s",
		    sqlite3_errmsg(ctl->db)));
	if (!ctl->json)
		printf("moved %s filter \"%s\" of %s to position %lld\n",
		    argv[1], argv[2], argv[0], pos);
	return CTL_OK;
}

int
ctl_rules(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *arr = json_array();
	int k;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "takes no arguments");
	if (!ctl->json)
		printf("A rule is one token, [!]KIND:ARGUMENT; ! negates it. "
		    "A filter's rules must\nall hold; a user's filters are "
		    "tried in order and the first that matches\nfires.\n\n");
	for (k = 0; k < FMN_RULE__COUNT; k++) {
		if (ctl->json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}",
			    "kind", fmn_rule_kind_name(k),
			    "syntax", fmn_rule_kind_syntax(k),
			    "doc", fmn_rule_kind_doc(k)));
		else
			printf("%s\n    %s\n\n", fmn_rule_kind_syntax(k),
			    fmn_rule_kind_doc(k));
	}
	if (ctl->json)
		ctl_print_json(arr);
	else
		json_decref(arr);
	return CTL_OK;
}
