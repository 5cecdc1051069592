/*
 * The scheduler: picks due notifications from the queue, groups
 * released digests, builds deliveries (re-deriving each message's facts
 * from its stored envelope), hands them to the backend of their context
 * and records the outcomes: delivered, retried with exponential backoff,
 * or failed for good with the destination marked failing. It also sends
 * the confirmation requests of new destinations.
 */
#ifndef FMN_SCHED_H
#define FMN_SCHED_H

#include <jansson.h>
#include <sqlite3.h>
#include <zmq.h>

#include "fmn_backend.h"
#include "fmn_config.h"
#include "fmn_counters.h"
#include "fmn_facts.h"

struct fmn_sched;

struct fmn_sched *fmn_sched_new(sqlite3 *db, const struct fmn_config *cfg,
    struct fmn_counters *counters, char **cause);
/* Stops every backend (call after draining). */
void fmn_sched_destroy(struct fmn_sched **sp);

/* The definitions and aliases used to re-derive facts (borrowed). */
void fmn_sched_set_facts(struct fmn_sched *s, const struct fmn_defs *defs,
    const struct fmn_aliases *aliases);

/*
 * Start a backend for a context; url is as configured, target what
 * follows "scheme:" in it (a file for mbox and capture), or NULL.
 */
int fmn_sched_add_backend(struct fmn_sched *s, const struct fmn_backend_ops *ops,
    const char *context, const char *url, const char *target, char **cause);

/*
 * Hand due notifications to the backends, at most max deliveries; call
 * inside a transaction. Returns how many were handed over, -1 on a
 * database error.
 */
int fmn_sched_dispatch(struct fmn_sched *s, double now, int max);
/* Send pending confirmation requests; inside a transaction. */
int fmn_sched_confirm(struct fmn_sched *s, double now);
/* Record the outcomes the backends reported; inside a transaction. */
int fmn_sched_apply(struct fmn_sched *s, double now);
/*
 * The transaction that recorded them committed: forget them. Or it
 * rolled back: record them again in the next one.
 */
void fmn_sched_committed(struct fmn_sched *s);
void fmn_sched_rolled_back(struct fmn_sched *s);
/* Are outcomes waiting to be recorded? */
int fmn_sched_has_outcomes(const struct fmn_sched *s);
/* Deliveries handed over and not yet done. */
size_t fmn_sched_inflight(const struct fmn_sched *s);

/* The backends' poll items, their processing and their timers. */
int fmn_sched_pollitems(struct fmn_sched *s, zmq_pollitem_t *items, int max);
void fmn_sched_process(struct fmn_sched *s, zmq_pollitem_t *items);
long fmn_sched_timeout(struct fmn_sched *s);

/*
 * Each backend and how it fares, for fmnctl status: an array of
 * {context, backend, url (no credentials), state ("connected",
 * "failing", "waiting", "idle"), detail, inflight, last_ok, last_failure}.
 */
json_t *fmn_sched_backends(const struct fmn_sched *s);

/* Seconds of backoff after a delivery's attempts-th failure. */
double fmn_sched_backoff(const struct fmn_config *cfg, int attempts);

#endif
