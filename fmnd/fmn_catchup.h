/*
 * Catch-up ([catchup] url): what the bus did not bring, asked of a
 * datagrepper (Fedora's, or another fmnd's [http]) page by page, in a
 * thread of its own, since its HTTP requests block. Its envelopes go to
 * the intake thread over an inproc PAIR, which queues them with the
 * bus's raw messages: they are parsed, checked and given their facts
 * there, then stored, deduplicated by msg_id, matched and delivered by
 * the loop like any other message. The intake thread asks for a
 * catch-up when the bus shows a gap or a connection made again; the
 * daemon asks at start for the time it was away.
 *
 * The PAIR carries, from the catch-up thread, pointers to pages
 * (struct fmn_catchup_page, now the intake thread's), and back, struct
 * fmn_catchup_msg: a request, or the acknowledgement of a page, which
 * the thread waits for before it asks for the next: one page at a time
 * is in the pipe, and the intake thread takes it only under its byte
 * budget.
 */
#ifndef FMN_CATCHUP_H
#define FMN_CATCHUP_H

#include <stddef.h>

#include "fmn_config.h"
#include "fmn_counters.h"

/* Envelopes fetched, each as one JSON text with its topic. */
struct fmn_catchup_page {
	struct {
		char	*topic;
		char	*body;
		size_t	 len;
	}		*v;
	size_t		 n;
	long long	 counters[FMN_C_COUNT];	/* deltas: requests, errors */
};
void fmn_catchup_page_free(struct fmn_catchup_page **pp);

/* From the intake thread to the catch-up thread. */
struct fmn_catchup_msg {
	enum { FMN_CATCHUP_ASK, FMN_CATCHUP_ACK } type;
	double		 since;	/* ASK: missed from then on (wall clock) */
};

struct fmn_catchup;

/*
 * Start the thread for cfg->catchup_url; since: the time from which
 * messages were missed (the last the database has, or the daemon's last
 * heartbeat), 0 for none yet.
 */
struct fmn_catchup *fmn_catchup_new(void *zctx, const struct fmn_config *cfg,
    double since, char **cause);
/* The inproc endpoint the intake thread connects its PAIR to. */
const char *fmn_catchup_endpoint(const struct fmn_catchup *c);
/* Stop at once: a request under way is abandoned. */
void fmn_catchup_stop(struct fmn_catchup *c);
/* Stop, join the thread, free everything. */
void fmn_catchup_destroy(struct fmn_catchup **cp);

#endif
