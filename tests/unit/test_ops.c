/*
 * The operations' table as the API's URLs: what a client makes of an
 * operation and its arguments, the server reads back as the same
 * operation with the same arguments, whatever the names hold (slashes,
 * spaces, UTF-8, percent signs); the refusals of a target (404, 405 and
 * its Allow, 400); and the checking of arguments before anything runs.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fmn_ops.h"
#include "fmn_store.h"
#include "fmn_test.h"
#include "fmn_util.h"

/*
 * The target of op for args (taken), routed back: the op and args must
 * be the same.
 */
static void
round_trip(enum fmn_op op, json_t *args)
{
	const struct fmn_ops_desc *d = fmn_ops_desc(op);
	json_t *sent = json_deep_copy(args), *body = NULL, *got = NULL;
	const char *allow;
	char *target, *cause = NULL;
	enum fmn_op back;
	int rc;

	target = fmn_ops_target(op, sent, &cause);
	CHECK(target != NULL);
	if (target == NULL)
		goto out;
	CHECK(target[0] == '/');
	/* What is left of args goes in the body for POST and PATCH. */
	if (strcmp(d->method, "POST") == 0 || strcmp(d->method, "PATCH") == 0)
		body = json_incref(sent);
	else
		CHECK_INT(json_object_size(sent), 0);
	rc = fmn_ops_route(d->method, target, body, &back, &got, &allow,
	    &cause);
	CHECK_INT(rc, 0);
	if (rc == 0) {
		CHECK_INT(back, op);
		/* The query gives text: compare as the operation reads it. */
		if (!json_equal(got, args)) {
			char *a = json_dumps(args, JSON_SORT_KEYS);
			char *g = json_dumps(got, JSON_SORT_KEYS);

			fprintf(stderr, "%s: sent %s, got %s (%s)\n", d->command,
			    a, g, target);
			free(a);
			free(g);
			fmn_test_failures++;
		}
	}
out:
	free(cause);
	free(target);
	json_decref(body);
	json_decref(sent);
	json_decref(got);
	json_decref(args);
}

TEST(targets_route_back_to_the_same_operation_and_arguments)
{
	static const char *const names[] = {
		"alice", "a/b", "a b", "\xc3\xa9t\xc3\xa9", "100%", "x?y&z=1",
		"..", "+plus", "#hash",
	};
	size_t i;

	for (i = 0; i < FMN_NELEM(names); i++) {
		const char *n = names[i];

		round_trip(FMN_OP_USER_SHOW, json_pack("{s:s}", "user", n));
		round_trip(FMN_OP_DEST_RM, json_pack("{s:s, s:s, s:s}", "user",
		    n, "context", "email", "address", n));
		round_trip(FMN_OP_FILTER_SHOW, json_pack("{s:s, s:s, s:s}",
		    "user", n, "context", "irc", "name", n));
		round_trip(FMN_OP_FILTER_LIST, json_pack("{s:s, s:s}", "user", n,
		    "context", n));
		round_trip(FMN_OP_FILTER_ADD, json_pack("{s:s, s:s, s:s, s:[s],"
		    " s:b}", "user", n, "context", "email", "name", n, "rules",
		    n, "active", 0));
		round_trip(FMN_OP_PREF_SET, json_pack("{s:s, s:s, s:n, s:b}",
		    "user", n, "context", "email", "batch_delta", "enabled", 1));
		round_trip(FMN_OP_MATCH, json_pack("{s:s, s:s}", "user", n,
		    "id", n));
	}
	/* Without a user: the paths of every user's rows. */
	round_trip(FMN_OP_DEST_LIST, json_object());
	round_trip(FMN_OP_NOTIFICATIONS, json_object());
	round_trip(FMN_OP_RULES, json_object());
	round_trip(FMN_OP_DEST_CONFIRM, json_pack("{s:s}", "secret", "ab"));
}

TEST(targets_that_are_refused)
{
	static const struct {
		const char	*method, *target;
		int		 status;
		const char	*allow;
	} v[] = {
		{ "GET", "/nothing", 404, NULL },
		{ "GET", "/users", 404, NULL },
		{ "GET", "/users//filters", 404, NULL },
		{ "GET", "/users/a/filters/email/b/c", 404, NULL },
		{ "PUT", "/users/a/filters", 405, "GET, POST" },
		{ "POST", "/users/a/filters/email/f", 405, "GET, PATCH, DELETE" },
		{ "DELETE", "/rules", 405, "GET" },
		{ "GET", "/users/a%ff", 400, NULL },
		{ "GET", "/users/a%00b", 400, NULL },
		{ "GET", "/users/a%zz", 400, NULL },
		{ "GET", "/users/a%2", 400, NULL },
		{ "GET", "/users/a/filters?context=a&context=b", 400, NULL },
		{ "GET", "/users/a/filters?user=b", 400, NULL },
		{ "GET", "/users/a/filters?=x", 400, NULL },
		{ "GET", "rules", 400, NULL },
	};
	enum fmn_op op;
	json_t *args, *body;
	const char *allow;
	char *cause;
	size_t i;

	for (i = 0; i < FMN_NELEM(v); i++) {
		cause = NULL;
		CHECK_INT(fmn_ops_route(v[i].method, v[i].target, NULL, &op,
		    &args, &allow, &cause), v[i].status);
		CHECK(args == NULL);
		CHECK(cause != NULL);
		if (v[i].allow != NULL)
			CHECK_STR(allow, v[i].allow);
		free(cause);
	}
	/* A body that gives what the path gives already. */
	body = json_pack("{s:s}", "user", "b");
	cause = NULL;
	CHECK_INT(fmn_ops_route("POST", "/users/a/filters", body, &op, &args,
	    &allow, &cause), 400);
	CHECK(args == NULL);
	json_decref(body);
	free(cause);
}

static char *
tmp_db(void)
{
	char tmpl[] = "/tmp/fmn-ops-XXXXXX";
	int fd = mkstemp(tmpl);

	if (fd >= 0)
		close(fd);
	unlink(tmpl);
	return xstrdup(tmpl);
}

TEST(arguments_are_checked_before_anything_runs)
{
	struct fmn_ops_ctx ctx;
	struct fmn_ops_result res;
	char *path = tmp_db(), *cause = NULL;
	json_t *args;

	memset(&ctx, 0, sizeof(ctx));
	ctx.db = fmn_store_open(path, &cause);
	CHECK(ctx.db != NULL);
	if (ctx.db == NULL)
		return;
	ctx.now = 1000;
	ctx.confirm_expiry = 60;
	sqlite3_exec(ctx.db, "INSERT INTO users (name, created) VALUES "
	    "('alice', 0)", NULL, NULL, NULL);
	/* Unknown, missing and mistyped arguments. */
	args = json_pack("{s:s, s:s}", "user", "alice", "colour", "red");
	fmn_ops_run(&ctx, FMN_OP_USER_SHOW, args, &res);
	CHECK_INT(res.status, FMN_OPS_INVALID);
	CHECK(res.error != NULL && strstr(res.error, "colour") != NULL);
	fmn_ops_result_clear(&res);
	json_decref(args);
	fmn_ops_run(&ctx, FMN_OP_USER_SHOW, NULL, &res);
	CHECK_INT(res.status, FMN_OPS_INVALID);
	fmn_ops_result_clear(&res);
	args = json_pack("{s:s, s:s, s:s, s:i}", "user", "alice", "context",
	    "email", "name", "f", "rules", 3);
	fmn_ops_run(&ctx, FMN_OP_FILTER_ADD, args, &res);
	CHECK_INT(res.status, FMN_OPS_INVALID);
	fmn_ops_result_clear(&res);
	json_decref(args);
	/* The query's words and numbers are taken for what they say. */
	args = json_pack("{s:s, s:s, s:s, s:[s], s:s}", "user", "alice",
	    "context", "email", "name", "f", "rules", "topic:*", "active",
	    "no");
	fmn_ops_run(&ctx, FMN_OP_FILTER_ADD, args, &res);
	CHECK_INT(res.status, FMN_OPS_OK);
	CHECK(json_is_false(json_object_get(res.out, "active")));
	fmn_ops_result_clear(&res);
	json_decref(args);
	args = json_pack("{s:s, s:s}", "user", "alice", "limit", "abc");
	fmn_ops_run(&ctx, FMN_OP_NOTIFICATIONS, args, &res);
	CHECK_INT(res.status, FMN_OPS_INVALID);
	fmn_ops_result_clear(&res);
	json_decref(args);
	/* A user's token adds no confirmed destination, sees no secret. */
	args = json_pack("{s:s, s:s, s:s, s:b}", "user", "alice", "context",
	    "email", "address", "a@example.org", "confirmed", 1);
	fmn_ops_run(&ctx, FMN_OP_DEST_ADD, args, &res);
	CHECK_INT(res.status, FMN_OPS_DENIED);
	fmn_ops_result_clear(&res);
	json_object_del(args, "confirmed");
	fmn_ops_run(&ctx, FMN_OP_DEST_ADD, args, &res);
	CHECK_INT(res.status, FMN_OPS_OK);
	CHECK(json_object_get(res.out, "secret") == NULL);
	CHECK(json_real_value(json_object_get(res.out, "expires")) == 1060);
	fmn_ops_result_clear(&res);
	fmn_ops_run(&ctx, FMN_OP_DEST_ADD, args, &res);
	CHECK_INT(res.status, FMN_OPS_CONFLICT);
	CHECK_INT(fmn_ops_http_status(res.status), 409);
	fmn_ops_result_clear(&res);
	json_decref(args);
	CHECK(sqlite3_get_autocommit(ctx.db));
	fmn_store_close(&ctx.db);
	unlink(path);
	free(path);
	free(cause);
}
