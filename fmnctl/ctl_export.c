/*
 * fmnctl export: the whole configuration (users with their destinations,
 * preferences and filters; owners; groups; aliases) as one JSON document,
 * the shape fmnctl import (ctl_import.c) takes (DESIGN.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_engine.h"
#include "fmn_show.h"
#include "fmn_store.h"

/* Export. */

static const char *
col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

int
ctl_export(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *us, *as;
	json_t *doc, *users, *x;
	char *cause = NULL, *tok;
	int ret = CTL_EDATA;

	if (ctl_parse(ctl, argc, argv, NULL, 0) != 0)
		return CTL_EUSAGE;
	ctl_db(ctl);
	us = fmn_store_prepare(ctl->db, "SELECT id FROM users ORDER BY name",
	    &cause);
	as = fmn_store_prepare(ctl->db, "SELECT alias, account FROM aliases "
	    "ORDER BY alias", &cause);
	if (!us || !as) {
		ctl_error(ctl, "%s", cause);
		goto out;
	}
	doc = json_object();
	users = json_array();
	while (sqlite3_step(us) == SQLITE_ROW)
		json_array_append_new(users, fmn_show_user(ctl_shower(ctl),
		    sqlite3_column_int64(us, 0), 0));
	json_object_set_new(doc, "users", users);
	/* Owners and groups, as their own import commands take them. */
	{
		sqlite3_stmt *os = fmn_store_prepare(ctl->db, "SELECT namespace, "
		    "package, owner, is_group FROM owners ORDER BY namespace, "
		    "package, is_group, owner", NULL);
		sqlite3_stmt *gs = fmn_store_prepare(ctl->db, "SELECT grp, "
		    "member FROM group_members ORDER BY grp, member", NULL);
		json_t *owners = json_object(), *groups = json_object(), *ns, *l;

		while (os != NULL && sqlite3_step(os) == SQLITE_ROW) {
			if ((ns = json_object_get(owners, col(os, 0))) == NULL)
				json_object_set_new(owners, col(os, 0),
				    ns = json_object());
			if ((l = json_object_get(ns, col(os, 1))) == NULL)
				json_object_set_new(ns, col(os, 1),
				    l = json_array());
			tok = xasprintf("%s%s", sqlite3_column_int(os, 3) ?
			    "@" : "", col(os, 2));
			json_array_append_new(l, json_string(tok));
			free(tok);
		}
		while (gs != NULL && sqlite3_step(gs) == SQLITE_ROW) {
			if ((l = json_object_get(groups, col(gs, 0))) == NULL)
				json_object_set_new(groups, col(gs, 0),
				    l = json_array());
			json_array_append_new(l, json_string(col(gs, 1)));
		}
		sqlite3_finalize(os);
		sqlite3_finalize(gs);
		json_object_set_new(doc, "owners", owners);
		json_object_set_new(doc, "groups", groups);
	}
	x = json_object();
	while (sqlite3_step(as) == SQLITE_ROW)
		json_object_set_new(x, col(as, 0), json_string(col(as, 1)));
	json_object_set_new(doc, "aliases", x);
	ctl_print_json(doc);
	ret = CTL_OK;
out:
	free(cause);
	sqlite3_finalize(us);
	sqlite3_finalize(as);
	return ret;
}
