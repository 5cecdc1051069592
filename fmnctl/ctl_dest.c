/*
 * fmnctl dest commands: where a user's notifications go, and the
 * confirmation of a new address or nick with a secret that expires.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "fmn_config.h"
#include "fmn_store.h"
#include "fmn_valid.h"
#include "fmn_log.h"

static int
check_address(struct fmn_ctl *ctl, const char *context, const char *address)
{
	char *why = NULL;

	if (strcmp(context, "email") == 0 && !fmn_valid_email(address, &why)) {
		ctl_error(ctl, "\"%s\" is not an e-mail address fmn can "
		    "deliver to: %s", address, why);
		free(why);
		return -1;
	}
	if (strcmp(context, "irc") == 0 && !fmn_valid_nick(address))
		return ctl_error(ctl, "\"%s\" is not an IRC nick (1 to 30 "
		    "letters, digits or []\\`_^{|}-, no spaces or control "
		    "characters, not starting with a digit or -)", address), -1;
	return 0;
}

static char *
new_secret(void)
{
	unsigned char raw[16];
	char *hex = xmalloc(sizeof(raw) * 2 + 1);
	size_t i, got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0 && errno != EINTR) {
			log_err("getrandom: %s", strerror(errno));
			abort();
		}
		if (n > 0)
			got += (size_t)n;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return hex;
}

int
ctl_dest_add(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--confirmed", 0, NULL },
		{ "--expires", 1, NULL },
	};
	sqlite3_stmt *st;
	long long uid;
	long expiry = ctl->cfg->confirm_expiry;
	char *secret = NULL, *end;
	int rc, confirmed;

	if ((argc = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (argc != 3)
		return ctl_usage(ctl, "expected USER, CONTEXT and ADDRESS");
	confirmed = opts[0].value != NULL;
	if (opts[1].value != NULL) {
		errno = 0;
		expiry = strtol(opts[1].value, &end, 10);
		if (errno != 0 || end == opts[1].value || *end != '\0' ||
		    expiry <= 0)
			return ctl_usage(ctl, "--expires wants a positive "
			    "number of seconds, not \"%s\"", opts[1].value);
	}
	if ((uid = ctl_user_id(ctl, argv[0])) < 0 ||
	    ctl_check_context(ctl, argv[1]) != 0 ||
	    check_address(ctl, argv[1], argv[2]) != 0)
		return CTL_EDATA;
	st = fmn_store_prepare(ctl->db, "INSERT INTO destinations (user_id, "
	    "context, address, confirmed, secret, expires, created) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)", NULL);
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, argv[1], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, argv[2], -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, confirmed);
	if (!confirmed) {
		secret = new_secret();
		sqlite3_bind_text(st, 5, secret, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 6, fmn_now() + (double)expiry);
	}
	sqlite3_bind_double(st, 7, fmn_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		free(secret);
		return ctl_error(ctl, "user \"%s\" already has %s destination "
		    "\"%s\"", argv[0], argv[1], argv[2]);
	}
	if (rc != SQLITE_DONE) {
		free(secret);
		return ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	}
	if (ctl->json)
		ctl_print_json(json_pack("{s:s, s:s, s:s, s:b, s:s?}",
		    "user", argv[0], "context", argv[1], "address", argv[2],
		    "confirmed", confirmed, "secret", secret));
	else if (confirmed)
		printf("added %s destination %s for %s\n", argv[1], argv[2],
		    argv[0]);
	else
		printf("added %s destination %s for %s, pending: fmnd sends it "
		    "a confirmation; or run\n  fmnctl dest confirm %s\n",
		    argv[1], argv[2], argv[0], secret);
	free(secret);
	return CTL_OK;
}

int
ctl_dest_confirm(struct fmn_ctl *ctl, int argc, char **argv)
{
	sqlite3_stmt *st;
	long long id = -1;
	double expires = 0;
	char *user = NULL, *address = NULL;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 1)
		return ctl_usage(ctl, "expected one SECRET");
	st = fmn_store_prepare(ctl_db(ctl), "SELECT d.id, d.expires, u.name, "
	    "d.address FROM destinations d JOIN users u ON u.id = d.user_id "
	    "WHERE d.secret = ? AND d.confirmed = 0", NULL);
	sqlite3_bind_text(st, 1, argv[0], -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		expires = sqlite3_column_double(st, 1);
		user = xstrdup((const char *)sqlite3_column_text(st, 2));
		address = xstrdup((const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	if (id < 0)
		return ctl_error(ctl, "no pending destination has that secret");
	if (expires < fmn_now()) {
		free(user);
		free(address);
		return ctl_error(ctl, "that secret has expired; remove the "
		    "destination and add it again");
	}
	st = fmn_store_prepare(ctl->db, "UPDATE destinations SET confirmed = 1, "
	    "secret = NULL, expires = NULL WHERE id = ?", NULL);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		rc = ctl_error(ctl, "database: %s", sqlite3_errmsg(ctl->db));
	else {
		rc = CTL_OK;
		if (!ctl->json)
			printf("confirmed %s for %s\n", address, user);
	}
	free(user);
	free(address);
	return rc;
}

int
ctl_dest_list(struct fmn_ctl *ctl, int argc, char **argv)
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
	st = fmn_store_prepare(ctl_db(ctl), "SELECT u.name, d.context, "
	    "d.address, d.confirmed, d.failing, d.last_error FROM destinations d "
	    "JOIN users u ON u.id = d.user_id WHERE ?1 < 0 OR u.id = ?1 "
	    "ORDER BY u.name, d.context, d.address", NULL);
	sqlite3_bind_int64(st, 1, uid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *user = (const char *)sqlite3_column_text(st, 0);
		const char *context = (const char *)sqlite3_column_text(st, 1);
		const char *address = (const char *)sqlite3_column_text(st, 2);
		const char *err = (const char *)sqlite3_column_text(st, 5);
		int confirmed = sqlite3_column_int(st, 3);
		int failing = sqlite3_column_int(st, 4);

		if (ctl->json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, "
			    "s:b, s:b, s:s?}", "user", user, "context", context,
			    "address", address, "confirmed", confirmed,
			    "failing", failing, "last_error", err));
		else
			printf("%s\t%s\t%s\t%s%s%s\n", user, context, address,
			    confirmed ? "confirmed" : "pending",
			    failing ? "\tfailing: " : "",
			    failing && err ? err : "");
	}
	sqlite3_finalize(st);
	if (ctl->json)
		ctl_print_json(arr);
	else
		json_decref(arr);
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
ctl_dest_rm(struct fmn_ctl *ctl, int argc, char **argv)
{
	return dest_change(ctl, argc, argv, "DELETE FROM destinations WHERE "
	    "user_id = ? AND context = ? AND address = ?", "", "removed");
}

int
ctl_dest_reset(struct fmn_ctl *ctl, int argc, char **argv)
{
	return dest_change(ctl, argc, argv, "UPDATE destinations SET "
	    "failing = 0, last_error = NULL WHERE user_id = ? AND "
	    "context = ? AND address = ? AND failing != 0", "failing ",
	    "is no longer marked failing");
}
