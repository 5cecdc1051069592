/*
 * fmnctl init, user and alias commands.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "ctl_show.h"
#include "fmn_store.h"

/* A user or account name: printable, no spaces, at most 255 bytes. */
int
ctl_check_name(struct fmn_ctl *ctl, const char *what, const char *name)
{
	char *cause = NULL;

	if (fmn_ops_check_name(what, name, &cause) == 0)
		return 0;
	ctl_error(ctl, "%s", cause);
	free(cause);
	return -1;
}

int
ctl_init(struct fmn_ctl *ctl, int argc, char **argv)
{
	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "takes no arguments");
	ctl_db(ctl);
	printf("database %s is at schema version %d\n", ctl->db_path,
	    fmn_store_version(ctl->db));
	return CTL_OK;
}

int
ctl_user_add(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 1)
		return ctl_usage(ctl, "expected one USER");
	if (ctl_check_name(ctl, "user name", argv[0]) != 0)
		return CTL_EDATA;
	st = fmn_store_prepare(ctl_db(ctl), "INSERT INTO users (name, created) "
	    "VALUES (?, ?)", NULL);
	sqlite3_bind_text(st, 1, argv[0], -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, fmn_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return ctl_error(ctl, "user \"%s\" already exists", argv[0]);
	if (rc != SQLITE_DONE)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if (!ctl->json)
		printf("added user %s\n", argv[0]);
	return CTL_OK;
}

int
ctl_user_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "takes no arguments");
	st = fmn_store_prepare(ctl_db(ctl), "SELECT name, "
	    "(SELECT count(*) FROM destinations d WHERE d.user_id = u.id), "
	    "(SELECT count(*) FROM filters f JOIN preferences p ON "
	    "p.id = f.preference_id WHERE p.user_id = u.id) "
	    "FROM users u ORDER BY name", NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (ctl->json)
			json_array_append_new(arr, json_pack("{s:s, s:I, s:I}",
			    "name", name,
			    "destinations", sqlite3_column_int64(st, 1),
			    "filters", sqlite3_column_int64(st, 2)));
		else
			printf("%s\t%lld destinations\t%lld filters\n", name,
			    sqlite3_column_int64(st, 1),
			    sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
	if (ctl->json)
		ctl_print_json(arr);
	else
		json_decref(arr);
	return CTL_OK;
}

int
ctl_user_show(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *u;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 1)
		return ctl_usage(ctl, "expected one USER");
	if ((rc = ctl_call(ctl, FMN_OP_USER_SHOW, json_pack("{s:s}", "user",
	    argv[0]), &u)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(u);
	else {
		ctl_show_user_text(u);
		json_decref(u);
	}
	return CTL_OK;
}

int
ctl_user_rm(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	long long uid;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 1)
		return ctl_usage(ctl, "expected one USER");
	if ((uid = ctl_user_id(ctl, argv[0])) < 0)
		return CTL_EDATA;
	st = fmn_store_prepare(ctl->db, "DELETE FROM users WHERE id = ?", NULL);
	sqlite3_bind_int64(st, 1, uid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if (!ctl->json)
		printf("removed user %s\n", argv[0]);
	return CTL_OK;
}

int
ctl_alias_add(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 2)
		return ctl_usage(ctl, "expected ALIAS and ACCOUNT");
	if (ctl_check_name(ctl, "alias", argv[0]) != 0 ||
	    ctl_check_name(ctl, "account", argv[1]) != 0)
		return CTL_EDATA;
	if (strcmp(argv[0], argv[1]) == 0)
		return ctl_error(ctl, "alias \"%s\" would map to itself",
		    argv[0]);
	st = fmn_store_prepare(ctl_db(ctl), "INSERT INTO aliases (alias, "
	    "account) VALUES (?1, ?2) ON CONFLICT(alias) DO UPDATE SET "
	    "account = ?2", NULL);
	sqlite3_bind_text(st, 1, argv[0], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, argv[1], -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	if (!ctl->json)
		printf("alias %s -> %s\n", argv[0], argv[1]);
	return CTL_OK;
}

int
ctl_alias_rm(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 1)
		return ctl_usage(ctl, "expected one ALIAS");
	st = fmn_store_prepare(ctl_db(ctl), "DELETE FROM aliases WHERE "
	    "alias = ?", NULL);
	sqlite3_bind_text(st, 1, argv[0], -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (sqlite3_changes(ctl->db) == 0)
		return ctl_error(ctl, "no alias \"%s\"", argv[0]);
	if (!ctl->json)
		printf("removed alias %s\n", argv[0]);
	return CTL_OK;
}

int
ctl_alias_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	json_t *obj = json_object();

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "takes no arguments");
	st = fmn_store_prepare(ctl_db(ctl), "SELECT alias, account FROM "
	    "aliases ORDER BY alias", NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *acc = (const char *)sqlite3_column_text(st, 1);

		if (ctl->json)
			json_object_set_new(obj, a, json_string(acc));
		else
			printf("%s\t%s\n", a, acc);
	}
	sqlite3_finalize(st);
	if (ctl->json)
		ctl_print_json(obj);
	else
		json_decref(obj);
	return CTL_OK;
}
