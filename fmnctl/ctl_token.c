/*
 * fmnctl token commands: the bearer tokens of fmnd's API, made, listed
 * and removed on the server's database (schema/fmn_tokens.c). A token
 * is printed once, when made; the database keeps only its digest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "ctl_show.h"
#include "fmn_store.h"
#include "fmn_tokens.h"

int
ctl_token_create(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "--admin", 0, NULL } };
	long long uid, id;
	char *token, *cause = NULL;
	int admin;

	if ((argc = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (argc != 1)
		return ctl_usage(ctl, "expected one USER");
	admin = opts[0].value != NULL;
	if ((uid = ctl_user_id(ctl, argv[0])) < 0)
		return CTL_EDATA;
	if ((token = fmn_tokens_create(ctl->db, uid, admin, fmn_now(), &id,
	    &cause)) == NULL) {
		ctl_error(ctl, "%s", cause);
		free(cause);
		return CTL_EDATA;
	}
	if (ctl->json)
		ctl_print_json(json_pack("{s:I, s:s, s:b, s:s}", "id",
		    (json_int_t)id, "user", argv[0], "admin", admin,
		    "token", token));
	else
		printf("%s\n(token %lld for %s%s: it is shown only now; keep it "
		    "as a password)\n", token, id, argv[0],
		    admin ? ", admin: it reaches every user's data" : "");
	memset(token, 0, strlen(token));
	free(token);
	return CTL_OK;
}

int
ctl_token_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	json_t *arr, *t;
	long long uid = 0;
	char made[64], used[64];
	size_t i;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc > 1)
		return ctl_usage(ctl, "expected at most one USER");
	if (argc == 1 && (uid = ctl_user_id(ctl, argv[0])) < 0)
		return CTL_EDATA;
	st = fmn_store_prepare(ctl_db(ctl), "SELECT t.id, u.name, t.admin, "
	    "t.created, t.last_used FROM tokens t JOIN users u ON "
	    "u.id = t.user_id WHERE ?1 = 0 OR t.user_id = ?1 ORDER BY t.id",
	    NULL);
	if (st == NULL)
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	sqlite3_bind_int64(st, 1, uid);
	arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		t = json_pack("{s:I, s:s, s:b, s:f}",
		    "id", (json_int_t)sqlite3_column_int64(st, 0),
		    "user", (const char *)sqlite3_column_text(st, 1),
		    "admin", sqlite3_column_int(st, 2),
		    "created", sqlite3_column_double(st, 3));
		json_object_set_new(t, "last_used",
		    sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() :
		    json_real(sqlite3_column_double(st, 4)));
		json_array_append_new(arr, t);
	}
	sqlite3_finalize(st);
	if (ctl->json) {
		ctl_print_json(arr);
		return CTL_OK;
	}
	json_array_foreach(arr, i, t) {
		json_t *lu = json_object_get(t, "last_used");

		ctl_show_time(made, sizeof(made),
		    json_real_value(json_object_get(t, "created")));
		if (json_is_real(lu))
			ctl_show_time(used, sizeof(used), json_real_value(lu));
		else
			snprintf(used, sizeof(used), "never");
		printf("%lld\t%s\t%s\tmade %s\tlast used %s\n",
		    (long long)json_integer_value(json_object_get(t, "id")),
		    json_string_value(json_object_get(t, "user")),
		    json_is_true(json_object_get(t, "admin")) ? "admin" : "user",
		    made, used);
	}
	json_decref(arr);
	return CTL_OK;
}

int
ctl_token_rm(struct fmn_ctl *ctl, int argc, char **argv)
{
	long long id;
	char *end, *cause = NULL;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 1)
		return ctl_usage(ctl, "expected one ID (fmnctl token list)");
	errno = 0;
	id = strtoll(argv[0], &end, 10);
	if (errno != 0 || end == argv[0] || *end != '\0' || id < 1)
		return ctl_usage(ctl, "ID is a token's number (fmnctl token "
		    "list), not \"%s\"", argv[0]);
	if ((rc = fmn_tokens_remove(ctl_db(ctl), id, &cause)) < 0) {
		ctl_error(ctl, "%s", cause);
		free(cause);
		return CTL_EDATA;
	}
	if (rc == 0)
		return ctl_error(ctl, "no token %lld", id);
	if (!ctl->json)
		printf("removed token %lld\n", id);
	return CTL_OK;
}
