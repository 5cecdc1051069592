/*
 * The intake thread. It owns the bus: it reads, validates and parses
 * every message and derives its facts, then hands batches of ready
 * messages to the daemon's loop over an inproc socket. Parsing is most
 * of a message's cost before matching, so this keeps the loop's core
 * for matching, the database and delivery, and a burst uses both.
 */
#ifndef FMN_READER_H
#define FMN_READER_H

#include <stddef.h>
#include <zmq.h>

#include "fmn_bus.h"
#include "fmn_config.h"
#include "fmn_counters.h"
#include "fmn_facts.h"

/* Messages read, in order, with what the bus counted while reading them. */
struct fmn_reader_batch {
	struct fmn_bus_msg	*v;	/* raw points to a copy the batch owns */
	size_t			 n;
	size_t			 cap;
	long long		 counters[FMN_C_COUNT];	/* deltas */
	size_t			 bytes;	/* counted against max_pending_bytes */
	int			 last;	/* the thread has stopped: nothing follows */
	int			 full;	/* cut at the batch size: more was waiting */
};
void fmn_reader_batch_free(struct fmn_reader_batch **bp);

struct fmn_reader;

/*
 * Connect the bus (as fmn_bus_new) and start the thread, which takes
 * defs and aliases: they are its own from now on (the loop keeps other
 * copies for delivery). history: the catch-up's endpoint
 * (fmn_catchup_endpoint), whose envelopes the thread takes with the
 * bus's and to which it reports what the bus missed; NULL for none.
 */
struct fmn_reader *fmn_reader_new(void *zctx, const struct fmn_config *cfg,
    struct fmn_defs *defs, struct fmn_aliases *aliases,
    const char *history, char **cause);
/* The loop polls this item (ZMQ_POLLIN: a batch is waiting). */
void fmn_reader_pollitem(struct fmn_reader *r, zmq_pollitem_t *item);
/* The next batch, without waiting; NULL when none is there. */
struct fmn_reader_batch *fmn_reader_take(struct fmn_reader *r);
/*
 * Give a batch back: the thread frees it, as it allocated it, which
 * spares the loop the cost and the allocator a cross-thread free.
 */
void fmn_reader_release(struct fmn_reader *r, struct fmn_reader_batch **bp);
/* Hand the thread new definitions and/or aliases (NULL: keep its own). */
void fmn_reader_set_facts(struct fmn_reader *r, struct fmn_defs *defs,
    struct fmn_aliases *aliases);
/* Apply cfg's live bus settings (subscriptions, max_message_size). */
void fmn_reader_resubscribe(struct fmn_reader *r, const struct fmn_config *cfg);
/*
 * Stop reading. What was read before goes on arriving through
 * fmn_reader_take, ending with a batch whose last flag is set.
 */
void fmn_reader_stop(struct fmn_reader *r);
/* Stop if needed, join the thread, free everything it still holds. */
void fmn_reader_destroy(struct fmn_reader **rp);

#endif
