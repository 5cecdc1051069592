/*
 * The HTTP server (see fmn_http.h) on libmicrohttpd: its internal
 * polling thread and a pool of [http] threads answer requests; each
 * request borrows a SQLite connection from a pool (one per thread at
 * most) and gives it back: a read-only one for the history and the
 * pages, a read-write one for the API and confirmations, whose writes
 * are short transactions beside the daemon's. Requests are bounded by
 * libmicrohttpd's per-connection memory (the request line and
 * headers), a body of HTTP_BODY_MAX bytes, a number of parameters, a
 * connection limit and timeouts, and every query by a deadline after
 * which SQLite interrupts it, so that no request can hold a thread for
 * long nor delay a stop; failed attempts at a token or a secret are
 * limited per client address.
 */
#include "fmn_http.h"
#include "fmn_http_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "fmn_limit.h"
#include "fmn_log.h"
#include "fmn_store.h"
#include "fmn_utf8.h"

#define HTTP_CONN_MEMORY	(64 * 1024)	/* a request's line and headers */
#define HTTP_CONN_LIMIT		256	/* connections at once */
#define HTTP_CONN_TIMEOUT	30	/* seconds a connection may idle */

void
http_error(struct http_answer *a, unsigned status, const char *param,
    const char *fmt, ...)
{
	json_t *o = json_object();
	va_list ap;
	char *why, *s;

	va_start(ap, fmt);
	why = xvasprintf(fmt, ap);
	va_end(ap);
	/* A path or name that is not UTF-8 (or cut inside a character)
	 * is left out rather than make the answer invalid. */
	if (json_object_set_new(o, "error", json_string(why)) != 0)
		json_object_set_new(o, "error", json_string("invalid request"));
	if (param != NULL)
		json_object_set_new(o, "parameter", json_string(param));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	a->status = status;
	fmn_buf_reset(&a->body);
	/* Only a key or value that is not UTF-8 can fail the dump. */
	fmn_buf_adds(&a->body, s != NULL ? s :
	    "{\"error\": \"invalid request\"}");
	free(s);
	free(why);
}

void
http_header(struct http_answer *a, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (a->nhdr >= HTTP_MAX_HEADERS)
		return;
	va_start(ap, fmt);
	a->hdr[a->nhdr].name = name;
	a->hdr[a->nhdr].value = xvasprintf(fmt, ap);
	a->nhdr++;
	va_end(ap);
}

/* Nonzero interrupts the query: past its deadline, or the server stops. */
static int
http_progress(void *arg)
{
	struct http_deadline *d = arg;

	return d->h->stopping || fmn_monotonic_ms() > d->at;
}

sqlite3 *
http_db_take(struct fmn_http *h, int rw, struct http_deadline *dl,
    char **cause)
{
	struct http_pool *p = rw ? &h->writers : &h->readers;
	sqlite3 *db = NULL;

	pthread_mutex_lock(&h->lock);
	if (p->n > 0)
		db = p->free[--p->n];
	pthread_mutex_unlock(&h->lock);
	if (db == NULL) {
		db = rw ? fmn_store_open_writer(h->db_path, HTTP_QUERY_MS,
		    cause) : fmn_store_open_readonly(h->db_path, cause);
		if (db == NULL)
			return NULL;
		sqlite3_busy_timeout(db, HTTP_QUERY_MS);
		sqlite3_exec(db, "PRAGMA cache_size = -16384", NULL, NULL, NULL);
	}
	dl->h = h;
	dl->at = fmn_monotonic_ms() + HTTP_QUERY_MS;
	sqlite3_progress_handler(db, 1000, http_progress, dl);
	return db;
}

void
http_db_give(struct fmn_http *h, int rw, sqlite3 *db)
{
	struct http_pool *p = rw ? &h->writers : &h->readers;

	sqlite3_progress_handler(db, 0, NULL, NULL);
	/* A connection goes back with no transaction open. */
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_lock(&h->lock);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4;
		p->free = xreallocarray(p->free, p->cap, sizeof(*p->free));
	}
	p->free[p->n++] = db;
	pthread_mutex_unlock(&h->lock);
}

static void
http_pool_close(struct http_pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		sqlite3_close(p->free[i]);
	free(p->free);
	memset(p, 0, sizeof(*p));
}

/* An IPv4 address, and whether it is this host's (127/8). */
static int
http_v4(const struct in_addr *a, char *key, size_t len)
{
	inet_ntop(AF_INET, a, key, (socklen_t)len);
	return (ntohl(a->s_addr) >> 24) == 127;
}

/* An address as text; an IPv6 one to its /64, which one host may hold. */
static int
http_addr_key(int family, const void *addr, char *key, size_t len)
{
	struct in6_addr a6;
	struct in_addr a4;

	snprintf(key, len, "?");
	if (family == AF_INET) {
		memcpy(&a4, addr, sizeof(a4));
		return http_v4(&a4, key, len);
	}
	if (family != AF_INET6)
		return 0;
	memcpy(&a6, addr, sizeof(a6));
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, a6.s6_addr + 12, sizeof(a4));
		return http_v4(&a4, key, len);
	}
	if (IN6_IS_ADDR_LOOPBACK(&a6)) {
		inet_ntop(AF_INET6, &a6, key, (socklen_t)len);
		return 1;
	}
	memset(a6.s6_addr + 8, 0, 8);
	inet_ntop(AF_INET6, &a6, key, (socklen_t)len);
	return 0;
}

void
http_client(struct MHD_Connection *conn, char *key, size_t len,
    int *loopback)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa = NULL;
	const char *xff, *last;
	unsigned char addr[sizeof(struct in6_addr)];
	char text[64];
	size_t n;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL)
		sa = ci->client_addr;
	*loopback = 0;
	snprintf(key, len, "?");
	if (sa != NULL && sa->sa_family == AF_INET)
		*loopback = http_addr_key(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, key, len);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		*loopback = http_addr_key(AF_INET6, &((const struct
		    sockaddr_in6 *)(const void *)sa)->sin6_addr, key, len);
	if (!*loopback || (xff = MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, "X-Forwarded-For")) == NULL)
		return;
	/* A proxy here appends the address it saw: the last one is its. */
	last = strrchr(xff, ',');
	last = last != NULL ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	n = strcspn(last, " \t");
	if (n == 0 || n >= sizeof(text))
		return;
	memcpy(text, last, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1)
		http_addr_key(AF_INET, addr, key, len);
	else if (inet_pton(AF_INET6, text, addr) == 1)
		http_addr_key(AF_INET6, addr, key, len);
}

int
http_blocked(struct fmn_http *h, const char *key, struct http_answer *a)
{
	double retry = 0;

	if (!fmn_limit_blocked(h->failures, key, fmn_now(), &retry))
		return 0;
	http_error(a, MHD_HTTP_TOO_MANY_REQUESTS, NULL, "too many failed "
	    "attempts from this address; try again in %.0f s", retry + 0.5);
	http_header(a, MHD_HTTP_HEADER_RETRY_AFTER, "%.0f", retry + 0.5);
	return 1;
}

static enum MHD_Result
http_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct http_args *args = cls;

	(void)kind;
	/* A NUL inside a name or value (%00) would cut it short. */
	if (key == NULL || strlen(key) != key_size ||
	    !fmn_utf8_valid(key, key_size) ||
	    (value != NULL && (strlen(value) != value_size ||
	    !fmn_utf8_valid(value, value_size))) ||
	    args->n >= HTTP_MAX_ARGS) {
		args->n = HTTP_MAX_ARGS + 1;
		return MHD_NO;
	}
	args->v[args->n].key = key;
	args->v[args->n].value = value != NULL ? value : "";
	args->n++;
	return MHD_YES;
}

/* "/raw" and "/raw/" alike, as datagrepper (strict_slashes=False). */
static int
http_path_is(const char *url, const char *path)
{
	size_t n = strlen(path);

	return strncmp(url, path, n) == 0 &&
	    (url[n] == '\0' || (url[n] == '/' && url[n + 1] == '\0'));
}

/* GET /raw and GET /id, on a read-only connection. */
static void
http_history(struct fmn_http *h, struct MHD_Connection *conn, int raw,
    struct http_answer *a)
{
	struct http_args *args = xcalloc(1, sizeof(*args));
	struct http_deadline dl;
	sqlite3 *db;
	char *cause = NULL;

	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, http_arg,
	    args);
	if (args->n > HTTP_MAX_ARGS) {
		http_error(a, MHD_HTTP_BAD_REQUEST, NULL, "too many "
		    "parameters (at most %d), or one that is not UTF-8 or "
		    "holds a NUL byte", HTTP_MAX_ARGS);
		goto out;
	}
	if ((db = http_db_take(h, 0, &dl, &cause)) == NULL) {
		http_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "%s", cause);
		free(cause);
		goto out;
	}
	if (raw)
		http_raw(db, args, a, fmn_now());
	else
		http_id(db, args, a);
	http_db_give(h, 0, db);
out:
	free(args);
}

/* Which part of the server a request is for. */
static void
http_route(struct fmn_http *h, struct MHD_Connection *conn, const char *url,
    const char *method, struct http_req *req, struct http_answer *a)
{
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	if (strncmp(url, "/api/v1/", 8) == 0 || strcmp(url, "/api/v1") == 0)
		http_api(h, conn, req, method, a);
	else if (strncmp(url, "/confirm/", 9) == 0 && url[9] != '\0' &&
	    strchr(url + 9, '/') == NULL)
		http_confirm(h, conn, url + 9, method, a);
	else if (!http_path_is(url, "/raw") && !http_path_is(url, "/id") &&
	    strcmp(url, "/") != 0)
		http_error(a, MHD_HTTP_NOT_FOUND, NULL, "no such path: %.200s "
		    "(this server has /raw, /id, /confirm/SECRET and "
		    "/api/v1/)", url);
	else if (!get) {
		http_error(a, MHD_HTTP_METHOD_NOT_ALLOWED, NULL,
		    "only GET and HEAD are served here");
		http_header(a, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	} else if (req->body.len > 0 || req->too_big)
		http_error(a, MHD_HTTP_BAD_REQUEST, NULL, "a request body is "
		    "not accepted");
	else if (strcmp(url, "/") == 0)
		http_home(h, a);
	else
		http_history(h, conn, http_path_is(url, "/raw"), a);
}

/* Where a request starts: its target as sent, before any decoding. */
static void *
http_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *req = xcalloc(1, sizeof(*req));

	(void)cls;
	(void)conn;
	req->target = xstrdup(uri != NULL ? uri : "");
	fmn_buf_init(&req->body);
	return req;
}

static void
http_done(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req == NULL)
		return;
	free(req->target);
	fmn_buf_free(&req->body);
	free(req);
	*con_cls = NULL;
}

static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct fmn_http *h = cls;
	struct http_req *req = *con_cls;
	struct http_answer a;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len, i;

	(void)version;
	if (req == NULL)	/* http_uri comes first; should it not... */
		*con_cls = req = http_uri(NULL, url, conn);
	/* The first call has only the headers; answer at the last. */
	if (!req->started) {
		req->started = 1;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (req->body.len + *upload_data_size > HTTP_BODY_MAX)
			req->too_big = 1;
		else
			fmn_buf_add(&req->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	memset(&a, 0, sizeof(a));
	a.status = MHD_HTTP_OK;
	fmn_buf_init(&a.body);
	http_route(h, conn, url, method, req, &a);
	len = a.body.len;
	fmn_buf_addc(&a.body, '\n');
	len++;
	resp = MHD_create_response_from_buffer(len, fmn_buf_steal(&a.body),
	    MHD_RESPMEM_MUST_FREE);
	if (resp != NULL) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    a.type != NULL ? a.type : "application/json");
		for (i = 0; i < a.nhdr; i++)
			MHD_add_response_header(resp, a.hdr[i].name,
			    a.hdr[i].value);
	}
	for (i = 0; i < a.nhdr; i++)
		free(a.hdr[i].value);
	if (resp == NULL)
		return MHD_NO;
	/* A confirmation's secret is a credential: not in the log. */
	log_debug("http: %s %.*s: %u", method, strncmp(url, "/confirm/", 9) ==
	    0 ? 9 : 200, url, a.status);
	ret = MHD_queue_response(conn, a.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char *s = xvasprintf(fmt, ap);
	size_t n = strlen(s);

	(void)cls;
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	log_warn("http: %s", s);
	free(s);
}

/* The address of ADDR:PORT ([ADDR]:PORT, :PORT for every address). */
static struct addrinfo *
http_resolve(const char *listen, char **cause)
{
	struct addrinfo hints, *res = NULL;
	const char *colon = strrchr(listen, ':');
	char *host;
	int rc;

	host = xstrndup(listen, (size_t)(colon - listen));
	if (host[0] == '[' && strlen(host) >= 2) {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(*host != '\0' ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0)
		fmn_set_cause(cause, "[http] listen = %s: %s", listen,
		    gai_strerror(rc));
	free(host);
	return rc == 0 ? res : NULL;
}

struct fmn_http *
fmn_http_new(const struct fmn_config *cfg, char **cause)
{
	struct fmn_http *h = xcalloc(1, sizeof(*h));
	struct addrinfo *ai;
	const union MHD_DaemonInfo *info;
	unsigned flags;

	pthread_mutex_init(&h->lock, NULL);
	h->db_path = xstrdup(cfg->db_path);
	h->listen = xstrdup(cfg->http_listen);
	h->definitions = cfg->definitions ? xstrdup(cfg->definitions) : NULL;
	h->base_url = cfg->http_base_url ? xstrdup(cfg->http_base_url) : NULL;
	h->allow_insecure = cfg->http_allow_insecure != NULL &&
	    strcmp(cfg->http_allow_insecure, "yes") == 0;
	h->confirm_expiry = cfg->confirm_expiry;
	h->failures = fmn_limit_new(HTTP_AUTH_ADDRESSES, HTTP_AUTH_FAILURES,
	    HTTP_AUTH_WINDOW);
	if ((ai = http_resolve(cfg->http_listen, cause)) == NULL)
		goto fail;
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, http_handler, h,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
	    MHD_OPTION_URI_LOG_CALLBACK, http_uri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, http_done, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (h->mhd == NULL) {
		fmn_set_cause(cause, "[http] listen = %s: cannot listen "
		    "there (in use, or not an address of this host)",
		    cfg->http_listen);
		goto fail;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : 0;
	log_info("http: serving /raw, /id, /confirm and /api/v1 on %s "
	    "(port %u), %d thread(s)", cfg->http_listen, h->port,
	    cfg->http_threads);
	return h;
fail:
	fmn_http_destroy(&h);
	return NULL;
}

void
fmn_http_destroy(struct fmn_http **hp)
{
	struct fmn_http *h = *hp;

	if (h == NULL)
		return;
	h->stopping = 1;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	http_pool_close(&h->readers);
	http_pool_close(&h->writers);
	fmn_limit_destroy(&h->failures);
	pthread_mutex_destroy(&h->lock);
	free(h->db_path);
	free(h->listen);
	free(h->definitions);
	free(h->base_url);
	free(h);
	*hp = NULL;
}
