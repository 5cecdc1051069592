/*
 * The pages people open in a browser: the confirmation link a new
 * destination receives (BASE_URL/confirm/SECRET) and the front page
 * that tells a stranger how to get started. Plain HTML, everything
 * from the database escaped, no script, nothing fetched from
 * elsewhere; a policy header forbids anything more and the framing of
 * the page.
 *
 * GET shows the confirmation with a button and changes nothing (mail
 * scanners and link previews follow links); POST confirms, with the
 * secret of the path. The secret is the credential, and it works once:
 * a form that posts it from another site gains nothing, so there is no
 * CSRF token, and no API token is asked, even where the API wants TLS.
 * An unknown secret counts as a failed attempt of the address.
 */
#include "fmn_http_int.h"

#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "fmn_limit.h"
#include "fmn_ops.h"
#include "fmn_store.h"

#define PAGE_SECRET_MAX	128	/* bytes: longer is no secret of ours */

static void
html_text(struct fmn_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fmn_buf_adds(b, "&amp;");
			break;
		case '<':
			fmn_buf_adds(b, "&lt;");
			break;
		case '>':
			fmn_buf_adds(b, "&gt;");
			break;
		case '"':
			fmn_buf_adds(b, "&quot;");
			break;
		case '\'':
			fmn_buf_adds(b, "&#39;");
			break;
		default:
			fmn_buf_addc(b, *s);
		}
	}
}

/* Start a page: its status, headers, and HTML up to the body's text. */
static void
page_start(struct http_answer *a, unsigned status, const char *title)
{
	a->status = status;
	a->type = "text/html; charset=utf-8";
	http_header(a, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	http_header(a, "Cache-Control", "no-store");
	http_header(a, "Referrer-Policy", "no-referrer");
	http_header(a, "X-Content-Type-Options", "nosniff");
	fmn_buf_reset(&a->body);
	fmn_buf_adds(&a->body, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;"
	    "padding:0 1em;line-height:1.4}code,pre{background:#eee}</style>"
	    "<title>");
	html_text(&a->body, title);
	fmn_buf_adds(&a->body, "</title></head>\n<body>\n<h1>");
	html_text(&a->body, title);
	fmn_buf_adds(&a->body, "</h1>\n");
}

static void
page_end(struct http_answer *a)
{
	fmn_buf_adds(&a->body, "</body></html>");
}

/* A page of one paragraph of text. */
static void
page_say(struct http_answer *a, unsigned status, const char *title,
    const char *text)
{
	page_start(a, status, title);
	fmn_buf_adds(&a->body, "<p>");
	html_text(&a->body, text);
	fmn_buf_adds(&a->body, "</p>\n");
	page_end(a);
}

static void
page_unknown(struct fmn_http *h, const char *key, struct http_answer *a)
{
	fmn_limit_fail(h->failures, key, fmn_now());
	page_say(a, MHD_HTTP_NOT_FOUND, "This link is not valid",
	    "No destination waits for this confirmation: it was confirmed "
	    "already, removed, or the link was cut or mistyped. Nothing was "
	    "changed.");
}

/* GET: what would be confirmed, and the button; nothing changes. */
static void
confirm_show(struct fmn_http *h, const char *key, const char *secret,
    struct http_answer *a)
{
	struct http_deadline dl;
	sqlite3_stmt *st;
	sqlite3 *db;
	char *cause = NULL;
	int found = 0;

	if ((db = http_db_take(h, 0, &dl, &cause)) == NULL) {
		free(cause);
		page_say(a, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again later",
		    "The service cannot read its database right now.");
		return;
	}
	st = fmn_store_prepare(db, "SELECT u.name, d.context, d.address, "
	    "d.expires < ? FROM destinations d JOIN users u ON "
	    "u.id = d.user_id WHERE d.secret = ? AND d.confirmed = 0", NULL);
	if (st != NULL) {
		sqlite3_bind_double(st, 1, fmn_now());
		sqlite3_bind_text(st, 2, secret, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			found = 1;
			if (sqlite3_column_int(st, 3))
				page_say(a, MHD_HTTP_GONE, "This link has "
				    "expired", "Ask for the destination again "
				    "(remove it and add it): a new link is "
				    "sent.");
			else {
				page_start(a, MHD_HTTP_OK, "Confirm "
				    "notifications");
				fmn_buf_adds(&a->body, "<p>Send the notifications "
				    "of the account <b>");
				html_text(&a->body,
				    (const char *)sqlite3_column_text(st, 0));
				fmn_buf_adds(&a->body, "</b> to <b>");
				html_text(&a->body,
				    (const char *)sqlite3_column_text(st, 2));
				fmn_buf_adds(&a->body, "</b> (");
				html_text(&a->body,
				    (const char *)sqlite3_column_text(st, 1));
				fmn_buf_adds(&a->body, ")?</p>\n<form method=\""
				    "post\"><button type=\"submit\">Confirm"
				    "</button></form>\n<p>If you did not ask "
				    "for this, close this page: nothing "
				    "changes until the button is pressed.</p>"
				    "\n");
				page_end(a);
			}
		}
		sqlite3_finalize(st);
	}
	if (st == NULL)
		page_say(a, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again later",
		    "The service cannot read its database right now.");
	http_db_give(h, 0, db);
	if (st != NULL && !found)
		page_unknown(h, key, a);
}

/* POST: the confirmation itself, by the operation dest confirm runs. */
static void
confirm_do(struct fmn_http *h, const char *key, const char *secret,
    struct http_answer *a)
{
	struct fmn_ops_ctx ctx;
	struct fmn_ops_result res;
	struct http_deadline dl;
	char *cause = NULL;
	sqlite3 *db;
	json_t *args;

	if ((db = http_db_take(h, 1, &dl, &cause)) == NULL) {
		free(cause);
		page_say(a, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again later",
		    "The service cannot write its database right now.");
		return;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.db = db;
	ctx.now = fmn_now();
	args = json_pack("{s:s}", "secret", secret);
	fmn_ops_run(&ctx, FMN_OP_DEST_CONFIRM, args, &res);
	json_decref(args);
	http_db_give(h, 1, db);
	switch (res.status) {
	case FMN_OPS_OK:
		page_start(a, MHD_HTTP_OK, "Confirmed");
		fmn_buf_adds(&a->body, "<p><b>");
		html_text(&a->body, json_string_value(json_object_get(res.out,
		    "address")));
		fmn_buf_adds(&a->body, "</b> now receives the notifications of "
		    "the account <b>");
		html_text(&a->body, json_string_value(json_object_get(res.out,
		    "user")));
		fmn_buf_adds(&a->body, "</b>.</p>\n");
		page_end(a);
		break;
	case FMN_OPS_NOT_FOUND:
		page_unknown(h, key, a);
		break;
	case FMN_OPS_INVALID:
		page_say(a, MHD_HTTP_GONE, "This link has expired", res.error);
		break;
	default:
		page_say(a, fmn_ops_http_status(res.status), "Try again later",
		    res.error);
	}
	fmn_ops_result_clear(&res);
}

void
http_confirm(struct fmn_http *h, struct MHD_Connection *conn,
    const char *secret, const char *method, struct http_answer *a)
{
	double retry = 0;
	char key[64];
	int loopback;

	http_client(conn, key, sizeof(key), &loopback);
	if (fmn_limit_blocked(h->failures, key, fmn_now(), &retry)) {
		page_say(a, MHD_HTTP_TOO_MANY_REQUESTS, "Too many attempts",
		    "This address tried too many links that were not valid; "
		    "try again in a minute.");
		http_header(a, MHD_HTTP_HEADER_RETRY_AFTER, "%.0f", retry + 0.5);
		return;
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
		if (strlen(secret) > PAGE_SECRET_MAX)
			page_unknown(h, key, a);
		else
			confirm_do(h, key, secret, a);
	} else if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0) {
		if (strlen(secret) > PAGE_SECRET_MAX)
			page_unknown(h, key, a);
		else
			confirm_show(h, key, secret, a);
	} else {
		page_say(a, MHD_HTTP_METHOD_NOT_ALLOWED, "Not here",
		    "This link is opened (GET) and confirmed (POST).");
		http_header(a, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
	}
}

void
http_home(struct fmn_http *h, struct http_answer *a)
{
	const char *base = h->base_url != NULL ? h->base_url :
	    "https://THIS-SERVER";

	page_start(a, MHD_HTTP_OK, "fmn");
	fmn_buf_adds(&a->body, "<p>This is fmn, a notification service: "
	    "it sends the events of the message bus that people ask for to "
	    "their e-mail or IRC nick. Each person's rules, destinations and "
	    "preferences are edited with <code>fmnctl</code>, from their own "
	    "machine:</p>\n<ol>\n<li>Ask an admin of this service for a token "
	    "(they make it on the server with <code>fmnctl token create "
	    "YOURNAME</code>).</li>\n<li>Put it, with this server's address, "
	    "in <code>~/.config/fmn/client.conf</code> (and <code>chmod 600"
	    "</code> it):<pre>server = ");
	html_text(&a->body, base);
	fmn_buf_adds(&a->body, "\ntoken = fmn_...</pre></li>\n<li>Then, for "
	    "instance:<pre>fmnctl user show YOURNAME\n"
	    "fmnctl dest add YOURNAME email you@example.org\n"
	    "fmnctl filter add YOURNAME email \"my packages\" owned:YOURNAME\n"
	    "fmnctl rules\nfmnctl notifications</pre></li>\n</ol>\n"
	    "<p>A new address or nick receives a link or a code to confirm "
	    "before anything else is sent to it. The API behind this is "
	    "under <code>/api/v1/</code>; datagrepper's <code>/raw</code> "
	    "serves the messages the service has seen.</p>\n");
	page_end(a);
}
