/*
 * fmnd's HTTP server ([http] listen): datagrepper's read API over the
 * messages fmnd has stored, GET /raw (a page of messages) and GET /id
 * (one message), so that people, scripts and another fmnd's catch-up
 * can ask it what went over the bus; the token API under /api/v1/
 * through which people edit their own notifications (fmnctl --server);
 * and the confirmation links of new destinations. It runs on
 * libmicrohttpd's own threads, each request on a SQLite connection of
 * a small pool (read-only, or read-write for short transactions of the
 * API): the loop's connection, intake and delivery never wait for it.
 */
#ifndef FMN_HTTP_H
#define FMN_HTTP_H

#include "fmn_config.h"

struct fmn_http;

/*
 * Listen on cfg->http_listen and serve the database cfg->db_path
 * (already opened and migrated by the daemon). NULL and *cause when
 * the address cannot be used.
 */
struct fmn_http *fmn_http_new(const struct fmn_config *cfg, char **cause);
/*
 * Stop: requests still running are cut short (their queries
 * interrupted), the threads joined, the connections closed.
 */
void fmn_http_destroy(struct fmn_http **hp);

#endif
