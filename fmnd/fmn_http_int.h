/*
 * The inside of the HTTP server, shared by fmn_http.c (the server:
 * listening, threads, connections, requests and responses) and
 * fmn_http_raw.c (datagrepper's endpoints: parameters, queries, JSON
 * answers). Only those two files include this.
 */
#ifndef FMN_HTTP_INT_H
#define FMN_HTTP_INT_H

#include <stddef.h>
#include <sqlite3.h>

#include "fmn_util.h"

#define HTTP_MAX_ARGS	256	/* query parameters in one request */

/* A request's query parameters, decoded, in order (borrowed). */
struct http_args {
	struct {
		const char	*key;
		const char	*value;
	}		 v[HTTP_MAX_ARGS];
	size_t		 n;
};

/* What a request gets back: a status and a JSON body. */
struct http_answer {
	unsigned	 status;
	struct fmn_buf	 body;
};

/* A JSON error: {"error": why, "parameter": param (when not NULL)}. */
void http_error(struct http_answer *a, unsigned status, const char *param,
    const char *fmt, ...) FMN_PRINTF(4, 5);

/* GET /raw and GET /id, over the request's connection; now: wall clock. */
void http_raw(sqlite3 *db, const struct http_args *args,
    struct http_answer *a, double now);
void http_id(sqlite3 *db, const struct http_args *args,
    struct http_answer *a);

/* A time as datagrepper takes it: seconds, or an ISO 8601 date and time. */
int http_parse_time(const char *s, double *t);

#endif
