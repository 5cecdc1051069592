/*
 * The bus: one ZeroMQ SUB socket per configured endpoint, subscribed to
 * the configured topic prefixes, reading 2-frame fedmsg messages (topic,
 * JSON envelope). Everything read is validated here; an invalid message
 * is classified, counted, logged once per kind (then rate-limited) and
 * dropped, never fatal.
 */
#ifndef FMN_BUS_H
#define FMN_BUS_H

#include <stddef.h>
#include <zmq.h>

#include "fmn_config.h"
#include "fmn_counters.h"
#include "fmn_msg.h"

struct fmn_bus;

/*
 * Connect to endpoints (n of them) with the subscriptions, high-water
 * mark and size limit of cfg. Counters are bumped as messages are read.
 */
struct fmn_bus *fmn_bus_new(void *zctx, const struct fmn_config *cfg,
    char *const *endpoints, size_t n, struct fmn_counters *counters,
    char **cause);
void fmn_bus_destroy(struct fmn_bus **bp);

/* Fill poll items (ZMQ_POLLIN) for every socket; returns how many. */
int fmn_bus_pollitems(struct fmn_bus *b, zmq_pollitem_t *items, int max);
size_t fmn_bus_count(const struct fmn_bus *b);

/* A valid message, as read; owned by the bus until the next read. */
struct fmn_bus_msg {
	struct fmn_msg	*msg;		/* the caller destroys it */
	const char	*raw;		/* the envelope as received */
	size_t		 rawlen;
	char		*summary;	/* fmn_msg_summary, or NULL: not made yet */
	double		 received;	/* wall-clock time of the read */
};

enum fmn_bus_status {
	FMN_BUS_EMPTY,		/* nothing waiting on that socket */
	FMN_BUS_MESSAGE,	/* *out is a valid message */
	FMN_BUS_INVALID,	/* one invalid message read, counted, dropped */
	FMN_BUS_ERROR,		/* the socket failed (logged) */
};

/* Read one message from socket k without waiting. */
enum fmn_bus_status fmn_bus_read(struct fmn_bus *b, size_t k,
    struct fmn_bus_msg *out);

/* Replace the subscriptions with those of cfg (SIGHUP). */
void fmn_bus_resubscribe(struct fmn_bus *b, const struct fmn_config *cfg);

/* Stop reading: close the sockets (intake stops at shutdown). */
void fmn_bus_close(struct fmn_bus *b);

#endif
