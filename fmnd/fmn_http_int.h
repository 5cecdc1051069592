/*
 * The inside of the HTTP server, shared by fmn_http.c (the server:
 * listening, threads, connections, requests and responses, the pools
 * of SQLite connections), fmn_http_raw.c (datagrepper's endpoints:
 * parameters, queries, JSON answers), fmn_http_api.c (the token API
 * under /api/v1/) and fmn_http_page.c (the pages people open: the
 * confirmation links, the front page). Only those files include this.
 */
#ifndef FMN_HTTP_INT_H
#define FMN_HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sqlite3.h>

#include "fmn_util.h"

struct MHD_Connection;
struct MHD_Daemon;
struct fmn_limit;

#define HTTP_MAX_ARGS		256	/* query parameters in one request */
#define HTTP_MAX_HEADERS	6	/* extra headers of an answer */
#define HTTP_BODY_MAX		(64 * 1024)	/* a request's body, at most */
#define HTTP_QUERY_MS		3000	/* a request's queries, at most */
#define HTTP_AUTH_FAILURES	10	/* failed attempts an address may make */
#define HTTP_AUTH_WINDOW	60	/* seconds: within, then blocked for */
#define HTTP_AUTH_ADDRESSES	1024	/* addresses whose failures are kept */

/* SQLite connections not in use, of one kind. */
struct http_pool {
	sqlite3		**free;
	size_t		  n, cap;
};

struct fmn_http {
	struct MHD_Daemon	*mhd;
	char			*db_path;
	char			*listen;
	char			*definitions;	/* [facts] definitions, or NULL */
	char			*base_url;	/* [http] base_url, or NULL */
	int			 allow_insecure; /* tokens over plain HTTP from afar */
	int			 confirm_expiry;
	unsigned		 port;
	atomic_int		 stopping;	/* read by the request threads */
	pthread_mutex_t		 lock;		/* the pools */
	struct http_pool	 readers;	/* read-only: /raw, /id, pages */
	struct http_pool	 writers;	/* read-write: the API, confirming */
	struct fmn_limit	*failures;	/* failed attempts per address */
};

/* One request as it arrives (libmicrohttpd's *con_cls). */
struct http_req {
	char		*target;	/* path and query as sent, undecoded */
	struct fmn_buf	 body;		/* at most HTTP_BODY_MAX bytes */
	int		 started;	/* its headers were seen */
	int		 too_big;	/* the body went over HTTP_BODY_MAX */
};

/* A request's query parameters, decoded, in order (borrowed). */
struct http_args {
	struct {
		const char	*key;
		const char	*value;
	}		 v[HTTP_MAX_ARGS];
	size_t		 n;
};

/* What a request gets back: a status, a body and its type, headers. */
struct http_answer {
	unsigned	 status;
	struct fmn_buf	 body;
	const char	*type;		/* NULL: application/json */
	struct {
		const char	*name;
		char		*value;
	}		 hdr[HTTP_MAX_HEADERS];
	size_t		 nhdr;
};

/* A JSON error: {"error": why, "parameter": param (when not NULL)}. */
void http_error(struct http_answer *a, unsigned status, const char *param,
    const char *fmt, ...) FMN_PRINTF(4, 5);
/* Add a header to the answer (at most HTTP_MAX_HEADERS). */
void http_header(struct http_answer *a, const char *name, const char *fmt,
    ...) FMN_PRINTF(3, 4);

/*
 * A connection of the pool (rw: read-write) with the request's deadline
 * set, or NULL and *cause; give it back when done. A stop of the server
 * or the deadline interrupts its queries.
 */
struct http_deadline {
	struct fmn_http	*h;
	int64_t		 at;
};
sqlite3 *http_db_take(struct fmn_http *h, int rw, struct http_deadline *dl,
    char **cause);
void http_db_give(struct fmn_http *h, int rw, sqlite3 *db);

/*
 * Who asks, for the failure limiter: the peer's address (an IPv6 one
 * to its /64), or, when the peer is this host (a reverse proxy), the
 * last address of X-Forwarded-For. *loopback says whether the peer
 * itself is this host.
 */
void http_client(struct MHD_Connection *conn, char *key, size_t len,
    int *loopback);
/* 429 when key made too many failed attempts lately; 1 then. */
int http_blocked(struct fmn_http *h, const char *key, struct http_answer *a);

/* GET /raw and GET /id, over the request's connection; now: wall clock. */
void http_raw(sqlite3 *db, const struct http_args *args,
    struct http_answer *a, double now);
void http_id(sqlite3 *db, const struct http_args *args,
    struct http_answer *a);

/* /api/v1/...: the token API (fmn_http_api.c). */
void http_api(struct fmn_http *h, struct MHD_Connection *conn,
    struct http_req *req, const char *method, struct http_answer *a);
/* /confirm/SECRET and / (fmn_http_page.c): HTML for people. */
void http_confirm(struct fmn_http *h, struct MHD_Connection *conn,
    const char *secret, const char *method, struct http_answer *a);
void http_home(struct fmn_http *h, struct http_answer *a);

/* A time as datagrepper takes it: seconds, or an ISO 8601 date and time. */
int http_parse_time(const char *s, double *t);

#endif
