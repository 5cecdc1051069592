/*
 * fmnctl owners / groups: package ownership and group membership, which
 * owned: and group: rules consult. An import replaces what its document
 * lists (whole namespaces, whole groups), is validated before anything is
 * written, runs in one transaction and tells a running daemon to reload.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_engine.h"
#include "fmn_store.h"

/* Account, group and package names: non-empty, no spaces or controls. */
static int
name_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

int
ctl_owners_check(json_t *owners, char **cause)
{
	const char *ns, *pkg;
	json_t *pkgs, *list, *o;
	size_t i;

	if (!json_is_object(owners)) {
		fmn_set_cause(cause, "owners: expected an object of namespaces");
		return -1;
	}
	json_object_foreach(owners, ns, pkgs) {
		if (!name_ok(ns)) {
			fmn_set_cause(cause, "owners: bad namespace \"%s\"", ns);
			return -1;
		}
		if (!json_is_object(pkgs)) {
			fmn_set_cause(cause, "owners: namespace \"%s\": expected "
			    "an object of packages", ns);
			return -1;
		}
		json_object_foreach(pkgs, pkg, list) {
			if (!name_ok(pkg)) {
				fmn_set_cause(cause, "owners: %s: bad package "
				    "name \"%s\"", ns, pkg);
				return -1;
			}
			if (!json_is_array(list)) {
				fmn_set_cause(cause, "owners: %s/%s: expected a "
				    "list of owners", ns, pkg);
				return -1;
			}
			json_array_foreach(list, i, o) {
				const char *s = json_string_value(o);

				if (!name_ok(s) || (s[0] == '@' && s[1] == '\0')) {
					fmn_set_cause(cause, "owners: %s/%s: "
					    "owner %zu is not a name", ns, pkg,
					    i + 1);
					return -1;
				}
			}
		}
	}
	return 0;
}

int
ctl_owners_store(sqlite3 *db, json_t *owners, char **cause)
{
	sqlite3_stmt *del = NULL, *ins = NULL;
	const char *ns, *pkg;
	json_t *pkgs, *list, *o;
	size_t i;
	int ret = -1;

	del = fmn_store_prepare(db, "DELETE FROM owners WHERE namespace = ?",
	    cause);
	ins = fmn_store_prepare(db, "INSERT OR IGNORE INTO owners (namespace, "
	    "package, owner, is_group) VALUES (?, ?, ?, ?)", cause);
	if (del == NULL || ins == NULL)
		goto out;
	json_object_foreach(owners, ns, pkgs) {
		sqlite3_reset(del);
		sqlite3_bind_text(del, 1, ns, -1, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto dberr;
		json_object_foreach(pkgs, pkg, list) {
			json_array_foreach(list, i, o) {
				const char *s = json_string_value(o);
				int grp = s[0] == '@';

				sqlite3_reset(ins);
				sqlite3_bind_text(ins, 1, ns, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 2, pkg, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 3, s + grp, -1,
				    SQLITE_STATIC);
				sqlite3_bind_int(ins, 4, grp);
				if (sqlite3_step(ins) != SQLITE_DONE)
					goto dberr;
			}
		}
	}
	if (fmn_store_exec(db, "INSERT INTO changes (user_id, what) "
	    "VALUES (NULL, 'owners')", cause) != 0)
		goto out;
	ret = 0;
	goto out;
dberr:
	fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return ret;
}

int
ctl_groups_check(json_t *groups, char **cause)
{
	const char *g;
	json_t *list, *o;
	size_t i;

	if (!json_is_object(groups)) {
		fmn_set_cause(cause, "groups: expected an object of groups");
		return -1;
	}
	json_object_foreach(groups, g, list) {
		if (!name_ok(g) || g[0] == '@') {
			fmn_set_cause(cause, "groups: bad group name \"%s\"", g);
			return -1;
		}
		if (!json_is_array(list)) {
			fmn_set_cause(cause, "groups: %s: expected a list of "
			    "members", g);
			return -1;
		}
		json_array_foreach(list, i, o) {
			if (!name_ok(json_string_value(o))) {
				fmn_set_cause(cause, "groups: %s: member %zu is "
				    "not a name", g, i + 1);
				return -1;
			}
		}
	}
	return 0;
}

int
ctl_groups_store(sqlite3 *db, json_t *groups, char **cause)
{
	sqlite3_stmt *del = NULL, *ins = NULL;
	const char *g;
	json_t *list, *o;
	size_t i;
	int ret = -1;

	del = fmn_store_prepare(db, "DELETE FROM group_members WHERE grp = ?",
	    cause);
	ins = fmn_store_prepare(db, "INSERT OR IGNORE INTO group_members "
	    "(grp, member) VALUES (?, ?)", cause);
	if (del == NULL || ins == NULL)
		goto out;
	json_object_foreach(groups, g, list) {
		sqlite3_reset(del);
		sqlite3_bind_text(del, 1, g, -1, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto dberr;
		json_array_foreach(list, i, o) {
			sqlite3_reset(ins);
			sqlite3_bind_text(ins, 1, g, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 2, json_string_value(o), -1,
			    SQLITE_STATIC);
			if (sqlite3_step(ins) != SQLITE_DONE)
				goto dberr;
		}
	}
	if (fmn_store_exec(db, "INSERT INTO changes (user_id, what) "
	    "VALUES (NULL, 'groups')", cause) != 0)
		goto out;
	ret = 0;
	goto out;
dberr:
	fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return ret;
}

/* Load FILE, check it, store it in one transaction. */
static int
import_doc(struct fmn_ctl *ctl, int argc, char **argv,
    int (*check)(json_t *, char **), int (*store)(sqlite3 *, json_t *, char **),
    const char *what)
{
	json_t *doc;
	char *cause = NULL;
	int npos, ret;

	if ((npos = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (npos != 1)
		return ctl_usage(ctl, "expected FILE");
	if ((doc = ctl_load_json(ctl, argv[0])) == NULL)
		return CTL_EDATA;
	if (check(doc, &cause) != 0) {
		ret = ctl_error(ctl, "%s: %s", argv[0], cause);
		goto out;
	}
	ctl_db(ctl);
	if (fmn_store_exec(ctl->db, "BEGIN IMMEDIATE", &cause) != 0) {
		ret = ctl_error(ctl, "%s", cause);
		goto out;
	}
	if (store(ctl->db, doc, &cause) != 0 ||
	    fmn_store_exec(ctl->db, "COMMIT", &cause) != 0) {
		fmn_store_exec(ctl->db, "ROLLBACK", NULL);
		ret = ctl_error(ctl, "%s", cause);
		goto out;
	}
	if (!ctl->json)
		printf("imported %zu %s\n", json_object_size(doc), what);
	ret = CTL_OK;
out:
	free(cause);
	json_decref(doc);
	return ret;
}

int
ctl_owners_import(struct fmn_ctl *ctl, int argc, char **argv)
{
	return import_doc(ctl, argc, argv, ctl_owners_check, ctl_owners_store,
	    "namespace(s)");
}

int
ctl_groups_import(struct fmn_ctl *ctl, int argc, char **argv)
{
	return import_doc(ctl, argc, argv, ctl_groups_check, ctl_groups_store,
	    "group(s)");
}

int
ctl_owners_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	json_t *doc = json_object(), *ns, *list;
	const char *pkg;
	char *name;
	int npos;

	if ((npos = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (npos > 1)
		return ctl_usage(ctl, "one PACKAGE at most");
	st = fmn_store_prepare(ctl_db(ctl), "SELECT namespace, package, owner, "
	    "is_group FROM owners WHERE ?1 IS NULL OR package = ?1 "
	    "ORDER BY namespace, package, is_group, owner", NULL);
	if (st == NULL)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if (npos == 1)
		sqlite3_bind_text(st, 1, argv[0], -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);

		pkg = (const char *)sqlite3_column_text(st, 1);
		if ((ns = json_object_get(doc, n)) == NULL)
			json_object_set_new(doc, n, ns = json_object());
		if ((list = json_object_get(ns, pkg)) == NULL)
			json_object_set_new(ns, pkg, list = json_array());
		name = xasprintf("%s%s", sqlite3_column_int(st, 3) ? "@" : "",
		    (const char *)sqlite3_column_text(st, 2));
		json_array_append_new(list, json_string(name));
		free(name);
	}
	sqlite3_finalize(st);
	if (ctl->json) {
		ctl_print_json(doc);
		return CTL_OK;
	}
	{
		const char *n;
		json_t *o;
		size_t i;

		json_object_foreach(doc, n, ns) {
			json_object_foreach(ns, pkg, list) {
				printf("%s/%s:", n, pkg);
				json_array_foreach(list, i, o)
					printf(" %s", json_string_value(o));
				putchar('\n');
			}
		}
	}
	json_decref(doc);
	return CTL_OK;
}

int
ctl_groups_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	json_t *doc = json_object(), *list, *o;
	const char *g;
	size_t i;

	if (ctl_parse(ctl, argc, argv, NULL, 0) != 0)
		return CTL_EUSAGE;
	st = fmn_store_prepare(ctl_db(ctl), "SELECT grp, member FROM "
	    "group_members ORDER BY grp, member", NULL);
	if (st == NULL)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		g = (const char *)sqlite3_column_text(st, 0);
		if ((list = json_object_get(doc, g)) == NULL)
			json_object_set_new(doc, g, list = json_array());
		json_array_append_new(list, json_string(
		    (const char *)sqlite3_column_text(st, 1)));
	}
	sqlite3_finalize(st);
	if (ctl->json) {
		ctl_print_json(doc);
		return CTL_OK;
	}
	json_object_foreach(doc, g, list) {
		printf("%s:", g);
		json_array_foreach(list, i, o)
			printf(" %s", json_string_value(o));
		putchar('\n');
	}
	json_decref(doc);
	return CTL_OK;
}
