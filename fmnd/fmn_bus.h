/*
 * The bus: one ZeroMQ SUB socket per configured endpoint, subscribed to
 * the configured topic prefixes, reading 2-frame fedmsg messages (topic,
 * JSON envelope). Everything read is validated here, its signature
 * too when [bus] validate_signatures is on; an invalid message
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

/*
 * Fill poll items (ZMQ_POLLIN) for every socket (with sockets set) and
 * their monitors (with monitors set); returns how many.
 */
int fmn_bus_pollitems(struct fmn_bus *b, zmq_pollitem_t *items, int max,
    int sockets, int monitors);
size_t fmn_bus_count(const struct fmn_bus *b);

/*
 * The socket index of messages that did not come off the bus but from
 * the history of a datagrepper (the catch-up, fmn_catchup.h): parsed
 * and checked the same way, never counted in the bus's gaps.
 */
#define FMN_BUS_HISTORY	((size_t)-1)

/*
 * A message as it came off a socket, not yet looked at: its frames are
 * the caller's until fmn_bus_raw_close (or fmn_bus_parse).
 */
struct fmn_bus_raw {
	size_t		 k;		/* the socket it came from, or FMN_BUS_HISTORY */
	zmq_msg_t	 topic;
	zmq_msg_t	 body;
	size_t		 frames;	/* how many the message had */
	double		 received;	/* wall-clock time of the read */
};
/* Bytes a raw message holds (its first two frames). */
size_t fmn_bus_raw_size(const struct fmn_bus_raw *raw);
void fmn_bus_raw_close(struct fmn_bus_raw *raw);

/* A valid message, parsed. */
struct fmn_bus_msg {
	struct fmn_msg	*msg;		/* the caller destroys it */
	const char	*raw;		/* the envelope as received */
	size_t		 rawlen;
	char		*summary;	/* fmn_msg_summary, or NULL: not made yet */
	double		 received;	/* wall-clock time of the read */
	int		 history;	/* from the catch-up, not the bus */
};

enum fmn_bus_status {
	FMN_BUS_EMPTY,		/* nothing waiting on that socket */
	FMN_BUS_MESSAGE,	/* a message was read (or is valid) */
	FMN_BUS_INVALID,	/* one invalid message, counted, dropped */
	FMN_BUS_ERROR,		/* the socket failed (logged) */
};

/*
 * Take one message off socket k without waiting (counted in
 * messages_received): FMN_BUS_MESSAGE with *raw filled, FMN_BUS_EMPTY,
 * or FMN_BUS_ERROR.
 */
enum fmn_bus_status fmn_bus_recv(struct fmn_bus *b, size_t k,
    struct fmn_bus_raw *raw);
/*
 * Validate and parse a raw message: FMN_BUS_MESSAGE with *out filled
 * (out->raw points into raw->body: copy it before fmn_bus_raw_close),
 * or FMN_BUS_INVALID (counted, logged, dropped). raw stays the
 * caller's either way.
 */
enum fmn_bus_status fmn_bus_parse(struct fmn_bus *b, struct fmn_bus_raw *raw,
    struct fmn_bus_msg *out);

/*
 * With [bus] validate_signatures, check the signature of a message m
 * parsed from raw (fmn_sign.h): 0 when it passes or nothing is checked;
 * -1 when it is refused, counted as messages_invalid_signature (and
 * messages_invalid) and logged with origin (an endpoint, or where else
 * the message came from), once a minute per reason. fmn_bus_parse does
 * it for what comes off the sockets; messages that reach the intake
 * another way go through it too.
 */
int fmn_bus_verify(struct fmn_bus *b, const char *origin,
    const struct fmn_msg *m, const char *raw, size_t rawlen);

/*
 * Watch the connections: ZeroMQ drops one that sends a frame beyond
 * the hard limit (ZMQ_MAXMSGSIZE) and, being a protocol error, does not
 * reconnect it. fmnd notices (the socket monitor says disconnected,
 * then nothing), reconnects, counts it in bus_reconnects and logs it.
 * Call after every poll; fmn_bus_timeout says when it is next needed
 * (milliseconds, -1: not).
 */
void fmn_bus_service(struct fmn_bus *b);
long fmn_bus_timeout(const struct fmn_bus *b);

/*
 * Since when messages may have been missed (wall clock; 0: nothing
 * seen), and forget it: a gap in a publisher's "i" (from its last
 * message before the gap) or a connection made again (from when it
 * dropped). The catch-up asks a datagrepper for that time on.
 */
double fmn_bus_take_missed(struct fmn_bus *b);

/*
 * Replace the subscriptions with those of cfg, and read the signature
 * checks' CA, CRL and policy again (SIGHUP).
 */
void fmn_bus_resubscribe(struct fmn_bus *b, const struct fmn_config *cfg);

/* Stop reading: close the sockets (intake stops at shutdown). */
void fmn_bus_close(struct fmn_bus *b);

#endif
