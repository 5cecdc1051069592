/*
 * fmnctl dest commands: where a user's notifications go, and the
 * confirmation of a new address or nick with a secret that expires.
 * The work is filters/fmn_ops_dest.c's (the same through the API);
 * here, the command lines and what is printed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "fmn_store.h"

int
ctl_dest_add(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--confirmed", 0, NULL },
		{ "--expires", 1, NULL },
	};
	json_t *args, *out, *secret;
	long expiry;
	char *end;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (argc != 3)
		return ctl_usage(ctl, "expected USER, CONTEXT and ADDRESS");
	args = json_pack("{s:s, s:s, s:s, s:b}", "user", argv[0], "context",
	    argv[1], "address", argv[2], "confirmed", opts[0].value != NULL);
	if (opts[1].value != NULL) {
		errno = 0;
		expiry = strtol(opts[1].value, &end, 10);
		if (errno != 0 || end == opts[1].value || *end != '\0' ||
		    expiry <= 0) {
			json_decref(args);
			return ctl_usage(ctl, "--expires wants a positive "
			    "number of seconds, not \"%s\"", opts[1].value);
		}
		json_object_set_new(args, "expires", json_integer(expiry));
	}
	if ((rc = ctl_call(ctl, FMN_OP_DEST_ADD, args, &out)) != CTL_OK)
		return rc;
	secret = json_object_get(out, "secret");
	if (ctl->json) {
		/* What was added; when it expires is in dest list. */
		json_object_del(out, "expires");
		ctl_print_json(out);
		return CTL_OK;
	}
	if (json_is_true(json_object_get(out, "confirmed")))
		printf("added %s destination %s for %s\n", argv[1], argv[2],
		    argv[0]);
	else if (secret != NULL)
		printf("added %s destination %s for %s, pending: fmnd sends it "
		    "a confirmation; or run\n  fmnctl dest confirm %s\n",
		    argv[1], argv[2], argv[0], json_string_value(secret));
	else
		printf("added %s destination %s for %s, pending: fmnd sends it "
		    "a confirmation\n", argv[1], argv[2], argv[0]);
	json_decref(out);
	return CTL_OK;
}

int
ctl_dest_confirm(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *out;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 1)
		return ctl_usage(ctl, "expected one SECRET");
	if ((rc = ctl_call(ctl, FMN_OP_DEST_CONFIRM, json_pack("{s:s}",
	    "secret", argv[0]), &out)) != CTL_OK)
		return rc;
	if (!ctl->json)
		printf("confirmed %s for %s\n",
		    json_string_value(json_object_get(out, "address")),
		    json_string_value(json_object_get(out, "user")));
	json_decref(out);
	return CTL_OK;
}

int
ctl_dest_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *out, *d;
	size_t i;
	int rc;

	if ((rc = ctl_list_for_user(ctl, argc, argv, FMN_OP_DEST_LIST,
	    &out)) != CTL_OK || out == NULL)
		return rc;
	json_array_foreach(out, i, d) {
		const char *err = json_string_value(json_object_get(d,
		    "last_error"));
		int failing = json_is_true(json_object_get(d, "failing"));

		printf("%s\t%s\t%s\t%s%s%s\n",
		    json_string_value(json_object_get(d, "user")),
		    json_string_value(json_object_get(d, "context")),
		    json_string_value(json_object_get(d, "address")),
		    json_is_true(json_object_get(d, "confirmed")) ?
		    "confirmed" : "pending", failing ? "\tfailing: " : "",
		    failing && err ? err : "");
	}
	json_decref(out);
	return CTL_OK;
}

int
ctl_dest_rm(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *out;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 3)
		return ctl_usage(ctl, "expected USER, CONTEXT and ADDRESS");
	if ((rc = ctl_call(ctl, FMN_OP_DEST_RM, json_pack("{s:s, s:s, s:s}",
	    "user", argv[0], "context", argv[1], "address", argv[2]),
	    &out)) != CTL_OK)
		return rc;
	json_decref(out);
	if (!ctl->json)
		printf("%s destination %s of %s removed\n", argv[1], argv[2],
		    argv[0]);
	return CTL_OK;
}

/*
 * Run sql (bound to the user's id, CONTEXT and ADDRESS) on one of a
 * user's destinations; "none" names what was not found when nothing
 * changed, "done" what happened when something did.
 */
static int
dest_change(struct fmn_ctl *ctl, int argc, char **argv, const char *sql,
    const char *none, const char *done)
{
	sqlite3_stmt *st;
	long long uid;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 3)
		return ctl_usage(ctl, "expected USER, CONTEXT and ADDRESS");
	if ((uid = ctl_user_id(ctl, argv[0])) < 0 ||
	    ctl_check_context(ctl, argv[1]) != 0)
		return CTL_EDATA;
	st = fmn_store_prepare(ctl->db, sql, NULL);
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, argv[1], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, argv[2], -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (sqlite3_changes(ctl->db) == 0)
		return ctl_error(ctl, "user \"%s\" has no %s%s destination "
		    "\"%s\"", argv[0], none, argv[1], argv[2]);
	if (!ctl->json)
		printf("%s destination %s of %s %s\n", argv[1], argv[2],
		    argv[0], done);
	return CTL_OK;
}

int
ctl_dest_reset(struct fmn_ctl *ctl, int argc, char **argv)
{
	return dest_change(ctl, argc, argv, "UPDATE destinations SET "
	    "failing = 0, last_error = NULL WHERE user_id = ? AND "
	    "context = ? AND address = ? AND failing != 0", "failing ",
	    "is no longer marked failing");
}
