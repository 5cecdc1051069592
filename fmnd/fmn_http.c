/*
 * The HTTP server (see fmn_http.h) on libmicrohttpd: its internal
 * polling thread and a pool of [http] threads answer requests; each
 * request borrows a read-only SQLite connection from a pool (one per
 * thread at most) and gives it back. Only GET and HEAD are answered;
 * requests are bounded by libmicrohttpd's per-connection memory (the
 * request line and headers), a number of parameters, a connection
 * limit and timeouts, and every query by a deadline after which SQLite
 * interrupts it, so that no request can hold a thread for long nor
 * delay a stop.
 */
#include "fmn_http.h"
#include "fmn_http_int.h"

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "fmn_log.h"
#include "fmn_store.h"
#include "fmn_utf8.h"

#define HTTP_CONN_MEMORY	(64 * 1024)	/* a request's line and headers */
#define HTTP_CONN_LIMIT		256	/* connections at once */
#define HTTP_CONN_TIMEOUT	30	/* seconds a connection may idle */
#define HTTP_QUERY_MS		3000	/* a request's queries, at most */

struct fmn_http {
	struct MHD_Daemon	*mhd;
	char			*db_path;
	char			*listen;
	unsigned		 port;
	atomic_int		 stopping;	/* read by the request threads */
	pthread_mutex_t		 lock;
	sqlite3			**free_dbs;	/* connections not in use */
	size_t			 nfree, cap;
};

/* One request's deadline, for SQLite's progress handler. */
struct http_deadline {
	struct fmn_http	*h;
	int64_t		 at;
};

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

static sqlite3 *
http_db_take(struct fmn_http *h, char **cause)
{
	sqlite3 *db = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->nfree > 0)
		db = h->free_dbs[--h->nfree];
	pthread_mutex_unlock(&h->lock);
	if (db != NULL)
		return db;
	if ((db = fmn_store_open_readonly(h->db_path, cause)) == NULL)
		return NULL;
	sqlite3_busy_timeout(db, HTTP_QUERY_MS);
	sqlite3_exec(db, "PRAGMA cache_size = -16384", NULL, NULL, NULL);
	return db;
}

static void
http_db_give(struct fmn_http *h, sqlite3 *db)
{
	sqlite3_progress_handler(db, 0, NULL, NULL);
	pthread_mutex_lock(&h->lock);
	if (h->nfree == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 4;
		h->free_dbs = xreallocarray(h->free_dbs, h->cap,
		    sizeof(*h->free_dbs));
	}
	h->free_dbs[h->nfree++] = db;
	pthread_mutex_unlock(&h->lock);
}

/* Nonzero interrupts the query: past its deadline, or the server stops. */
static int
http_progress(void *arg)
{
	struct http_deadline *d = arg;

	return d->h->stopping || fmn_monotonic_ms() > d->at;
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

static void
http_route(struct fmn_http *h, struct MHD_Connection *conn, const char *url,
    struct http_answer *a)
{
	struct http_args *args = xcalloc(1, sizeof(*args));
	struct http_deadline dl;
	sqlite3 *db;
	char *cause = NULL;
	int raw;

	raw = http_path_is(url, "/raw");
	if (!raw && !http_path_is(url, "/id")) {
		http_error(a, MHD_HTTP_NOT_FOUND, NULL, "no such path: %.200s "
		    "(this server has /raw and /id)", url);
		goto out;
	}
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, http_arg,
	    args);
	if (args->n > HTTP_MAX_ARGS) {
		http_error(a, MHD_HTTP_BAD_REQUEST, NULL, "too many "
		    "parameters (at most %d), or one that is not UTF-8 or "
		    "holds a NUL byte", HTTP_MAX_ARGS);
		goto out;
	}
	if ((db = http_db_take(h, &cause)) == NULL) {
		http_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "%s", cause);
		free(cause);
		goto out;
	}
	dl.h = h;
	dl.at = fmn_monotonic_ms() + HTTP_QUERY_MS;
	sqlite3_progress_handler(db, 1000, http_progress, &dl);
	if (raw)
		http_raw(db, args, a, fmn_now());
	else
		http_id(db, args, a);
	http_db_give(h, db);
out:
	free(args);
}

static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	static int first, body;	/* *con_cls: headers seen; a body seen */
	struct fmn_http *h = cls;
	struct http_answer a;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;

	(void)version;
	(void)upload_data;
	/* The first call has only the headers; answer at the next. */
	if (*con_cls == NULL) {
		*con_cls = &first;
		return MHD_YES;
	}
	/* A body is never wanted: skip it, refuse the request at its end. */
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		*con_cls = &body;
		return MHD_YES;
	}
	a.status = MHD_HTTP_OK;
	fmn_buf_init(&a.body);
	if (*con_cls == &body)
		http_error(&a, MHD_HTTP_BAD_REQUEST, NULL, "a request body is "
		    "not accepted");
	else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		http_error(&a, MHD_HTTP_METHOD_NOT_ALLOWED, NULL,
		    "only GET and HEAD are served");
	else
		http_route(h, conn, url, &a);
	len = a.body.len;
	fmn_buf_addc(&a.body, '\n');
	len++;
	resp = MHD_create_response_from_buffer(len, fmn_buf_steal(&a.body),
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	if (a.status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    "GET, HEAD");
	log_debug("http: %s %.200s: %u", method, url, a.status);
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
	if ((ai = http_resolve(cfg->http_listen, cause)) == NULL)
		goto fail;
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, http_handler, h,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
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
	log_info("http: serving /raw and /id on %s (port %u), %d thread(s)",
	    cfg->http_listen, h->port, cfg->http_threads);
	return h;
fail:
	fmn_http_destroy(&h);
	return NULL;
}

unsigned
fmn_http_port(const struct fmn_http *h)
{
	return h->port;
}

void
fmn_http_destroy(struct fmn_http **hp)
{
	struct fmn_http *h = *hp;
	size_t i;

	if (h == NULL)
		return;
	h->stopping = 1;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	for (i = 0; i < h->nfree; i++)
		sqlite3_close(h->free_dbs[i]);
	free(h->free_dbs);
	pthread_mutex_destroy(&h->lock);
	free(h->db_path);
	free(h->listen);
	free(h);
	*hp = NULL;
}
