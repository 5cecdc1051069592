/*
 * The token API under /api/v1/ (docs/api.md): a request is checked,
 * in this order, against the failure limiter of its address, for a
 * token (401 without), for TLS (a token from a peer that is not this
 * host, such as a reverse proxy, is refused unless [http]
 * allow_insecure), for the token's validity (401, counted as a failed
 * attempt), for a path and method of the operations' table (404, 405),
 * and for whose data it reaches (403): a user's token reaches that
 * user's, an admin token everyone's. Only then does the operation of
 * filters/fmn_ops.h run, on a read-write connection of the pool, in a
 * short transaction of its own; a refusal changes nothing.
 */
#include "fmn_http_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "fmn_limit.h"
#include "fmn_log.h"
#include "fmn_ops.h"
#include "fmn_tokens.h"

#define API_PREFIX	"/api/v1"

static void
api_unauthorized(struct http_answer *a, const char *why)
{
	http_error(a, MHD_HTTP_UNAUTHORIZED, NULL, "%s", why);
	http_header(a, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	    "Bearer realm=\"fmn\"");
}

/* The body of a request, as the operation's arguments; -1 after *a. */
static int
api_body(const char *method, struct http_req *req, json_t **body,
    struct http_answer *a)
{
	json_error_t err;

	*body = NULL;
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_PATCH) != 0) {
		if (req->body.len == 0 && !req->too_big)
			return 0;
		http_error(a, MHD_HTTP_BAD_REQUEST, NULL, "a body is not "
		    "accepted with %.10s", method);
		return -1;
	}
	if (req->too_big) {
		http_error(a, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "the body is "
		    "over %d bytes", HTTP_BODY_MAX);
		return -1;
	}
	if (req->body.len == 0)
		return 0;
	*body = json_loadb(req->body.data, req->body.len,
	    JSON_REJECT_DUPLICATES, &err);
	if (*body == NULL || !json_is_object(*body)) {
		http_error(a, MHD_HTTP_BAD_REQUEST, NULL, "the body must be a "
		    "JSON object%s%s", *body == NULL ? ": " : "",
		    *body == NULL ? err.text : "");
		json_decref(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

/* Does op take a "user"? */
static int
api_takes_user(enum fmn_op op)
{
	const struct fmn_ops_desc *d = fmn_ops_desc(op);
	size_t i;

	for (i = 0; i < FMN_OPS_MAX_PARAMS && d->params[i].name != NULL; i++)
		if (strcmp(d->params[i].name, "user") == 0)
			return 1;
	return 0;
}

/*
 * Whose data the request reaches: a user's token only its user's, and
 * a list or match without a user is that user's. 0, or -1 after *a.
 */
static int
api_authorize(const struct fmn_token_info *who, enum fmn_op op, json_t *args,
    struct http_answer *a)
{
	json_t *u = json_object_get(args, "user");

	if (u != NULL && !json_is_string(u)) {
		http_error(a, MHD_HTTP_BAD_REQUEST, "user", "user: expected "
		    "a string");
		return -1;
	}
	if (who->admin)
		return 0;
	if (u != NULL && strcmp(json_string_value(u), who->user) != 0) {
		http_error(a, MHD_HTTP_FORBIDDEN, NULL, "this token is %s's: it "
		    "does not reach the data of %.200s", who->user,
		    json_string_value(u));
		return -1;
	}
	if (u == NULL && api_takes_user(op))
		json_object_set_new(args, "user", json_string(who->user));
	return 0;
}

/* Run the operation and write its answer. */
static void
api_run(struct fmn_http *h, sqlite3 *db, const struct fmn_token_info *who,
    enum fmn_op op, json_t *args, struct http_answer *a)
{
	struct fmn_ops_ctx ctx;
	struct fmn_ops_result res;
	char *text;

	memset(&ctx, 0, sizeof(ctx));
	ctx.db = db;
	ctx.definitions = h->definitions;
	ctx.confirm_expiry = h->confirm_expiry;
	ctx.admin = who->admin;
	ctx.now = fmn_now();
	fmn_ops_run(&ctx, op, args, &res);
	if (res.status != FMN_OPS_OK)
		http_error(a, fmn_ops_http_status(res.status), NULL, "%s",
		    res.error);
	else if ((text = json_dumps(res.out, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY)) == NULL)
		http_error(a, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "the answer "
		    "cannot be written as JSON");
	else {
		a->status = MHD_HTTP_OK;
		fmn_buf_reset(&a->body);
		fmn_buf_adds(&a->body, text);
		free(text);
	}
	if (a->status == MHD_HTTP_SERVICE_UNAVAILABLE)
		http_header(a, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	fmn_ops_result_clear(&res);
}

void
http_api(struct fmn_http *h, struct MHD_Connection *conn,
    struct http_req *req, const char *method, struct http_answer *a)
{
	struct fmn_token_info who = { 0, 0, NULL, 0 };
	struct http_deadline dl;
	const char *auth, *allow, *target;
	json_t *body = NULL, *args = NULL;
	char key[64], *cause = NULL;
	sqlite3 *db = NULL;
	enum fmn_op op;
	int loopback, rc;

	http_client(conn, key, sizeof(key), &loopback);
	if (http_blocked(h, key, a))
		return;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth == NULL) {
		api_unauthorized(a, "this API needs a token: Authorization: "
		    "Bearer TOKEN (an admin makes one on the server with fmnctl "
		    "token create USER)");
		return;
	}
	/* Refused before it is even looked at: it crossed a network bare. */
	if (!loopback && !h->allow_insecure) {
		http_error(a, MHD_HTTP_FORBIDDEN, NULL, "tokens are taken over "
		    "HTTPS only: reach this server through its reverse proxy "
		    "(docs/api.md), or set [http] allow_insecure = yes");
		return;
	}
	if (strncasecmp(auth, "Bearer ", 7) != 0) {
		fmn_limit_fail(h->failures, key, fmn_now());
		api_unauthorized(a, "expected Authorization: Bearer TOKEN");
		return;
	}
	for (auth += 7; *auth == ' '; auth++)
		;
	if ((db = http_db_take(h, 1, &dl, &cause)) == NULL) {
		http_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "%s", cause);
		free(cause);
		return;
	}
	if ((rc = fmn_tokens_check(db, auth, &who, &cause)) <= 0) {
		if (rc < 0) {
			http_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "%s",
			    cause);
			free(cause);
		} else {
			if (fmn_limit_fail(h->failures, key, fmn_now()))
				log_warn("http: api: %s made %d failed attempts "
				    "in %d s; refused for %d s", key,
				    HTTP_AUTH_FAILURES, HTTP_AUTH_WINDOW,
				    HTTP_AUTH_WINDOW);
			log_debug("http: api: an invalid token from %s", key);
			api_unauthorized(a, "the token is not valid (unknown, "
			    "removed or mistyped)");
		}
		goto out;
	}
	fmn_tokens_touch(db, who.id, fmn_now());
	if (api_body(method, req, &body, a) != 0)
		goto out;
	target = req->target;
	if (strncmp(target, API_PREFIX, strlen(API_PREFIX)) != 0) {
		http_error(a, MHD_HTTP_NOT_FOUND, NULL, "no such path");
		goto out;
	}
	target += strlen(API_PREFIX);
	rc = fmn_ops_route(method, *target != '\0' ? target : "/", body, &op,
	    &args, &allow, &cause);
	if (rc != 0) {
		http_error(a, (unsigned)rc, NULL, "%s", cause);
		if (allow != NULL)
			http_header(a, MHD_HTTP_HEADER_ALLOW, "%s", allow);
		free(cause);
		goto out;
	}
	if (api_authorize(&who, op, args, a) == 0)
		api_run(h, db, &who, op, args, a);
	/* What changed, and who changed it; reads at debug only. */
	fmn_log(strcmp(method, MHD_HTTP_METHOD_GET) == 0 ? FMN_LOG_DEBUG :
	    FMN_LOG_INFO, "http: api: %s %s by %s (token %lld): %u", method,
	    fmn_ops_desc(op)->command, who.user, who.id, a->status);
out:
	json_decref(body);
	json_decref(args);
	fmn_token_info_clear(&who);
	http_db_give(h, 1, db);
}
