/*
 * Reading fedmsg messages off ZeroMQ SUB sockets.
 *
 * A SUB socket drops silently when its queue is full, so the receive
 * high-water mark is sized for a burst (receive_hwm) and, where the
 * publishers number their messages (the envelope's "i", one counter per
 * publishing process), gaps in that numbering are counted as
 * messages_dropped. That count is advisory: "i" is one counter per
 * publishing process, but the envelope names only the process's Unix
 * user, so processes sharing a user share a key; a counter that goes
 * backwards is taken as a restart or another process, and only a jump
 * in a stream that was in step is counted. It is tracked only when the
 * daemon subscribes to every topic (a prefix subscription makes gaps).
 */
#include "fmn_bus.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmn_hmap.h"
#include "fmn_sign.h"
#include "fmn_utf8.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define BUS_LOG_INTERVAL_MS	60000	/* invalid messages of one kind */
#define BUS_GAP_MAX		1000000	/* bigger jumps are restarts */
#define BUS_GAP_KEYS_MAX	100000	/* publishers tracked before a reset */
#define BUS_HARD_LIMIT		16	/* x max_message_size: ZMQ_MAXMSGSIZE */
#define BUS_RECONNECT_MS	1000	/* disconnected and no retry by then: reconnect */
#define BUS_MONITOR_EVENTS	(ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_DELAYED | \
				 ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED)

enum bus_invalid {
	BUS_INV_FRAMES,
	BUS_INV_SIZE,
	BUS_INV_UTF8,
	BUS_INV_JSON,
	BUS_INV_TOPIC,
	BUS_INV_ENVELOPE,
	BUS_INV_SIGNATURE,
	BUS_INV_COUNT
};

static const struct {
	const char		*name;
	enum fmn_counter	 counter;
} bus_invalid_kinds[BUS_INV_COUNT] = {
	[BUS_INV_FRAMES] = { "frames", FMN_C_INVALID_FRAMES },
	[BUS_INV_SIZE] = { "size", FMN_C_INVALID_SIZE },
	[BUS_INV_UTF8] = { "utf8", FMN_C_INVALID_UTF8 },
	[BUS_INV_JSON] = { "json", FMN_C_INVALID_JSON },
	[BUS_INV_TOPIC] = { "topic", FMN_C_INVALID_TOPIC },
	[BUS_INV_ENVELOPE] = { "envelope", FMN_C_INVALID_ENVELOPE },
	[BUS_INV_SIGNATURE] = { "signature", FMN_C_INVALID_SIGNATURE },
};
/* Logged once a minute: each kind, and each reason a signature fails. */
#define BUS_LOG_SLOTS	(BUS_INV_COUNT + FMN_SIGN_NSTATUS)

struct bus_socket {
	void		*sock;
	char		*endpoint;
	void		*monitor;	/* PAIR reading the socket's events */
	int64_t		 dropped_at;	/* disconnected, no retry seen since; 0: none */
	double		 down_since;	/* wall clock of a disconnection; 0: none */
};

/* A publisher's last "i" (gap tracking), and the time of that message. */
struct bus_gap {
	uintptr_t	 i;
	int		 insync;
	double		 t;
};

struct fmn_bus {
	struct bus_socket	*socks;
	size_t			 n;
	long			 max_size;
	int			 track_gaps;	/* subscribed to everything */
	struct fmn_counters	*counters;
	zmq_msg_t		 extra;		/* frames past the second */
	struct fmn_buf		 topicbuf;	/* NUL-terminated topic */
	struct fmn_buf		 keybuf;	/* gap tracking key */
	struct fmn_hmap		 gaps;		/* key -> struct bus_gap */
	double			 missed_since;	/* see fmn_bus_take_missed; 0: none */
	struct {
		int64_t		 last_ms;
		unsigned long	 suppressed;
	}			 logged[BUS_LOG_SLOTS];
	char			*subs[FMN_CONFIG_MAX_LIST];
	size_t			 n_subs;
	struct fmn_sign		*sign;		/* NULL: signatures not checked */
	struct fmn_sign_result	 signres;
};

/* Is prefix p in the list v of n (NULL-terminated strings)? */
static int
bus_has(char *const *v, size_t n, const char *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], p) == 0)
			return 1;
	return 0;
}

static void
bus_setsub(struct fmn_bus *b, int opt, const char *p)
{
	size_t k;

	for (k = 0; k < b->n; k++)
		if (b->socks[k].sock != NULL)
			zmq_setsockopt(b->socks[k].sock, opt, p, strlen(p));
}

/*
 * Take cfg's subscriptions (none: everything, the empty prefix). The new
 * prefixes are subscribed before the old ones are dropped, and a prefix
 * in both is left alone: a reload never opens a window in which the
 * publishers, which filter on subscriptions, drop what we want.
 */
static void
bus_subscribe(struct fmn_bus *b, const struct fmn_config *cfg)
{
	char *subs[FMN_CONFIG_MAX_LIST];
	char *const every[] = { "" };
	char *const *want = cfg->n_subscriptions > 0 ? cfg->subscriptions :
	    every;
	size_t nwant = cfg->n_subscriptions > 0 ? cfg->n_subscriptions : 1;
	size_t i, n = 0;
	int changed = 0;

	for (i = 0; i < nwant; i++) {
		if (bus_has(subs, n, want[i]))
			continue;	/* ZeroMQ counts a prefix given twice */
		subs[n++] = xstrdup(want[i]);
		if (!bus_has(b->subs, b->n_subs, want[i])) {
			bus_setsub(b, ZMQ_SUBSCRIBE, want[i]);
			changed = 1;
		}
	}
	for (i = 0; i < b->n_subs; i++) {
		if (!bus_has(subs, n, b->subs[i])) {
			bus_setsub(b, ZMQ_UNSUBSCRIBE, b->subs[i]);
			changed = 1;
		}
		free(b->subs[i]);
	}
	memcpy(b->subs, subs, n * sizeof(*subs));
	b->n_subs = n;
	/* An empty prefix among others is still "everything". */
	b->track_gaps = bus_has(b->subs, b->n_subs, "");
	if (changed)
		fmn_hmap_clear(&b->gaps, free);
}

/*
 * The signature checks of cfg, in place of the running ones: 0, or -1
 * and *cause (the running ones stay).
 */
static int
bus_sign_load(struct fmn_bus *b, const struct fmn_config *cfg, char **cause)
{
	struct fmn_sign_opts o = { cfg->ca_cert, cfg->crl, cfg->routing_policy,
	    cfg->routing_nitpicky, 0, 0 };
	struct fmn_sign *s;

	if (!cfg->validate_signatures) {
		if (b->sign != NULL)
			log_warn("bus: signatures are no longer checked "
			    "([bus] validate_signatures = no)");
		fmn_sign_destroy(&b->sign);
		return 0;
	}
	if (cfg->ca_cert == NULL) {
		fmn_set_cause(cause, "[bus] validate_signatures = yes needs "
		    "[bus] ca_cert, the fedmsg CA's certificate");
		return -1;
	}
	if ((s = fmn_sign_new(&o, cause)) == NULL)
		return -1;
	fmn_sign_destroy(&b->sign);
	b->sign = s;
	log_info("bus: signatures are checked: CA %s, CRL %s, routing policy "
	    "%s (%zu topics%s)", cfg->ca_cert, cfg->crl ? cfg->crl : "none",
	    cfg->routing_policy ? cfg->routing_policy : "none",
	    fmn_sign_policy_size(s), cfg->routing_nitpicky ?
	    ", nitpicky: others are refused" : ", others are allowed");
	if (fmn_sign_warning(s) != NULL)
		log_warn("bus: signatures: %s", fmn_sign_warning(s));
	return 0;
}

/* A monitor on socket k, before it connects, so no event is missed. */
static int
bus_monitor(void *zctx, struct fmn_bus *b, size_t k, char **cause)
{
	char name[96];
	int linger = 0;

	snprintf(name, sizeof(name), "inproc://fmn-bus-monitor-%p-%zu",
	    (void *)b, k);
	if (zmq_socket_monitor(b->socks[k].sock, name,
	    BUS_MONITOR_EVENTS) != 0 ||
	    (b->socks[k].monitor = zmq_socket(zctx, ZMQ_PAIR)) == NULL) {
		fmn_set_cause(cause, "bus: monitor: %s", zmq_strerror(errno));
		return -1;
	}
	zmq_setsockopt(b->socks[k].monitor, ZMQ_LINGER, &linger,
	    sizeof(linger));
	if (zmq_connect(b->socks[k].monitor, name) != 0) {
		fmn_set_cause(cause, "bus: monitor: %s", zmq_strerror(errno));
		return -1;
	}
	return 0;
}

struct fmn_bus *
fmn_bus_new(void *zctx, const struct fmn_config *cfg, char *const *endpoints,
    size_t n, struct fmn_counters *counters, char **cause)
{
	struct fmn_bus *b;
	size_t k;
	int hwm = cfg->rcvhwm, linger = 0;
	int64_t maxsize;

	b = xcalloc(1, sizeof(*b));
	b->socks = xcalloc(n ? n : 1, sizeof(*b->socks));
	b->n = n;
	b->max_size = cfg->max_message_size;
	b->counters = counters;
	fmn_buf_init(&b->topicbuf);
	fmn_buf_init(&b->keybuf);
	zmq_msg_init(&b->extra);
	/*
	 * A hard limit well above the configured one: a frame beyond it
	 * makes ZeroMQ drop the connection (and reconnect) instead of
	 * allocating without bound. Between the two, messages are read
	 * and counted as oversized.
	 */
	maxsize = (int64_t)cfg->max_message_size * BUS_HARD_LIMIT;
	for (k = 0; k < n; k++) {
		void *s;

		b->socks[k].endpoint = xstrdup(endpoints[k]);
		if ((s = zmq_socket(zctx, ZMQ_SUB)) == NULL) {
			fmn_set_cause(cause, "bus: socket: %s",
			    zmq_strerror(errno));
			goto fail;
		}
		b->socks[k].sock = s;
		zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxsize, sizeof(maxsize));
		if (bus_monitor(zctx, b, k, cause) != 0)
			goto fail;
		if (zmq_connect(s, endpoints[k]) != 0) {
			fmn_set_cause(cause, "bus: %s: %s", endpoints[k],
			    zmq_strerror(errno));
			goto fail;
		}
	}
	bus_subscribe(b, cfg);
	if (bus_sign_load(b, cfg, cause) != 0)
		goto fail;
	return b;
fail:
	fmn_bus_destroy(&b);
	return NULL;
}

void
fmn_bus_close(struct fmn_bus *b)
{
	size_t k;

	for (k = 0; k < b->n; k++) {
		if (b->socks[k].sock != NULL) {
			zmq_socket_monitor(b->socks[k].sock, NULL, 0);
			zmq_close(b->socks[k].sock);
			b->socks[k].sock = NULL;
		}
		if (b->socks[k].monitor != NULL) {
			zmq_close(b->socks[k].monitor);
			b->socks[k].monitor = NULL;
		}
	}
}

void
fmn_bus_destroy(struct fmn_bus **bp)
{
	struct fmn_bus *b = *bp;
	size_t k;

	if (b == NULL)
		return;
	fmn_bus_close(b);
	for (k = 0; k < b->n; k++)
		free(b->socks[k].endpoint);
	for (k = 0; k < b->n_subs; k++)
		free(b->subs[k]);
	free(b->socks);
	zmq_msg_close(&b->extra);
	fmn_buf_free(&b->topicbuf);
	fmn_buf_free(&b->keybuf);
	fmn_hmap_clear(&b->gaps, free);
	fmn_sign_destroy(&b->sign);
	free(b);
	*bp = NULL;
}

size_t
fmn_bus_count(const struct fmn_bus *b)
{
	return b->n;
}

int
fmn_bus_pollitems(struct fmn_bus *b, zmq_pollitem_t *items, int max,
    int sockets, int monitors)
{
	size_t k;
	int n = 0;

	for (k = 0; sockets && k < b->n && n < max; k++) {
		if (b->socks[k].sock == NULL)
			continue;
		memset(&items[n], 0, sizeof(items[n]));
		items[n].socket = b->socks[k].sock;
		items[n].events = ZMQ_POLLIN;
		n++;
	}
	for (k = 0; monitors && k < b->n && n < max; k++) {
		if (b->socks[k].monitor == NULL)
			continue;
		memset(&items[n], 0, sizeof(items[n]));
		items[n].socket = b->socks[k].monitor;
		items[n].events = ZMQ_POLLIN;
		n++;
	}
	return n;
}

/* Something was missed from t on: remember the earliest such time. */
static void
bus_missed(struct fmn_bus *b, double t)
{
	if (b->missed_since == 0 || t < b->missed_since)
		b->missed_since = t;
}

double
fmn_bus_take_missed(struct fmn_bus *b)
{
	double t = b->missed_since;

	b->missed_since = 0;
	return t;
}

/* Read the monitor's events: a retry or a connection clears a drop. */
static void
bus_monitor_read(struct fmn_bus *b, size_t k)
{
	struct bus_socket *bs = &b->socks[k];
	zmq_msg_t ev, addr;
	uint16_t event;

	zmq_msg_init(&ev);
	zmq_msg_init(&addr);
	while (zmq_msg_recv(&ev, bs->monitor, ZMQ_DONTWAIT) != -1) {
		/* Two frames: event (16 bits) and value, then the address. */
		if (zmq_msg_more(&ev))
			zmq_msg_recv(&addr, bs->monitor, 0);
		if (zmq_msg_size(&ev) < sizeof(event))
			continue;
		memcpy(&event, zmq_msg_data(&ev), sizeof(event));
		if (event == ZMQ_EVENT_DISCONNECTED) {
			bs->dropped_at = fmn_monotonic_ms();
			if (bs->down_since == 0)
				bs->down_since = fmn_now();
		} else
			bs->dropped_at = 0;
		/* Connected again: what was published meanwhile is missed. */
		if (event == ZMQ_EVENT_CONNECTED && bs->down_since != 0) {
			bus_missed(b, bs->down_since);
			log_info("bus: %s: connected again after %.1f s",
			    bs->endpoint, fmn_now() - bs->down_since);
			bs->down_since = 0;
		}
	}
	zmq_msg_close(&ev);
	zmq_msg_close(&addr);
}

void
fmn_bus_service(struct fmn_bus *b)
{
	int64_t now = fmn_monotonic_ms();
	size_t k;

	for (k = 0; k < b->n; k++) {
		struct bus_socket *bs = &b->socks[k];

		if (bs->sock == NULL || bs->monitor == NULL)
			continue;
		bus_monitor_read(b, k);
		if (bs->dropped_at == 0 ||
		    now - bs->dropped_at < BUS_RECONNECT_MS)
			continue;
		/*
		 * Dropped and not retried: ZeroMQ gave up on a protocol
		 * error, such as a frame beyond the hard limit. Connecting
		 * again makes a new session; the subscriptions stay.
		 */
		bs->dropped_at = 0;
		fmn_counters_add(b->counters, FMN_C_BUS_RECONNECTS, 1);
		log_warn("bus: %s: the connection was dropped (a frame over "
		    "%lld bytes, or another protocol error) and not retried; "
		    "connecting again", bs->endpoint,
		    (long long)b->max_size * BUS_HARD_LIMIT);
		zmq_disconnect(bs->sock, bs->endpoint);
		if (zmq_connect(bs->sock, bs->endpoint) != 0)
			log_err("bus: %s: %s", bs->endpoint,
			    zmq_strerror(errno));
	}
}

long
fmn_bus_timeout(const struct fmn_bus *b)
{
	int64_t now = fmn_monotonic_ms(), t = -1, due;
	size_t k;

	for (k = 0; k < b->n; k++) {
		if (b->socks[k].dropped_at == 0)
			continue;
		due = b->socks[k].dropped_at + BUS_RECONNECT_MS - now;
		if (due < 0)
			due = 0;
		if (t < 0 || due < t)
			t = due;
	}
	return (long)t;
}

void
fmn_bus_resubscribe(struct fmn_bus *b, const struct fmn_config *cfg)
{
	int64_t maxsize = (int64_t)cfg->max_message_size * BUS_HARD_LIMIT;
	char *cause = NULL;
	size_t k;

	b->max_size = cfg->max_message_size;
	/* The hard limit follows; ZeroMQ applies it to new connections. */
	for (k = 0; k < b->n; k++)
		if (b->socks[k].sock != NULL)
			zmq_setsockopt(b->socks[k].sock, ZMQ_MAXMSGSIZE,
			    &maxsize, sizeof(maxsize));
	bus_subscribe(b, cfg);
	/* The CA and CRL are read again, changed or not. */
	if (bus_sign_load(b, cfg, &cause) != 0) {
		log_err("reload: [bus] signatures: %s; the CA, CRL and routing "
		    "policy in use stay", cause);
		free(cause);
	}
}

/*
 * Count an invalid message of a kind. 1 when it is to be logged: the
 * first of its slot (the kind, or a signature's reason), then one a
 * minute; else it is only counted.
 */
static int
bus_count_invalid(struct fmn_bus *b, enum bus_invalid kind, size_t slot)
{
	int64_t now = fmn_monotonic_ms();

	fmn_counters_add(b->counters, FMN_C_MESSAGES_INVALID, 1);
	fmn_counters_add(b->counters, bus_invalid_kinds[kind].counter, 1);
	if (b->logged[slot].last_ms != 0 &&
	    now - b->logged[slot].last_ms < BUS_LOG_INTERVAL_MS) {
		b->logged[slot].suppressed++;
		return 0;
	}
	return 1;
}

static void
bus_log_invalid(struct fmn_bus *b, const char *origin, size_t slot,
    const char *name, const char *why)
{
	if (b->logged[slot].last_ms == 0)
		log_warn("bus: %s: invalid message (%s): %s; more of this "
		    "kind are counted and logged at most once a minute",
		    origin, name, why);
	else
		log_warn("bus: %s: %lu more invalid messages (%s) in the last "
		    "minute; this one: %s", origin,
		    b->logged[slot].suppressed + 1, name, why);
	b->logged[slot].last_ms = fmn_monotonic_ms();
	b->logged[slot].suppressed = 0;
}

/* Where raw messages of index k come from, for the log. */
static const char *
bus_source(const struct fmn_bus *b, size_t k)
{
	return k == FMN_BUS_HISTORY ? "catch-up" : b->socks[k].endpoint;
}
static enum fmn_bus_status
bus_invalid(struct fmn_bus *b, size_t k, enum bus_invalid kind,
    const char *fmt, ...) FMN_PRINTF(4, 5);

static enum fmn_bus_status
bus_invalid(struct fmn_bus *b, size_t k, enum bus_invalid kind,
    const char *fmt, ...)
{
	va_list ap;
	char *why;

	if (!bus_count_invalid(b, kind, kind))
		return FMN_BUS_INVALID;
	va_start(ap, fmt);
	why = xvasprintf(fmt, ap);
	va_end(ap);
	bus_log_invalid(b, bus_source(b, k), kind,
	    bus_invalid_kinds[kind].name, why);
	free(why);
	return FMN_BUS_INVALID;
}

int
fmn_bus_verify(struct fmn_bus *b, const char *origin, const struct fmn_msg *m,
    const char *raw, size_t rawlen)
{
	struct fmn_sign_result *r = &b->signres;
	size_t slot;
	char name[64], *why;

	if (b->sign == NULL || fmn_sign_verify(b->sign, m->env, raw, rawlen,
	    r) == FMN_SIGN_VALID)
		return 0;
	slot = BUS_INV_COUNT + r->status;
	if (!bus_count_invalid(b, BUS_INV_SIGNATURE, slot))
		return -1;
	snprintf(name, sizeof(name), "signature: %s",
	    fmn_sign_status_name(r->status));
	why = xasprintf("topic %.200s, msg_id %.100s: %s", m->topic,
	    m->msg_id != NULL ? m->msg_id : "(none)", r->reason);
	bus_log_invalid(b, origin, slot, name, why);
	free(why);
	return -1;
}

/*
 * Count gaps in a publisher's "i" (see the top of this file). A key's
 * stream counts as in step after one +1; only a jump from a stream in
 * step is counted, so interleaved publishers sharing a key (every jump
 * follows a step backwards) are never mistaken for losses.
 */
static void
bus_track_gap(struct fmn_bus *b, size_t k, const struct fmn_msg *m,
    double received)
{
	json_t *ji = json_object_get(m->env, "i");
	json_t *ju = json_object_get(m->env, "username");
	json_int_t i;
	struct bus_gap *g;
	uintptr_t last;
	int insync;
	void **slot;

	if (!json_is_integer(ji) || (i = json_integer_value(ji)) <= 0 ||
	    (uintmax_t)i > UINTPTR_MAX / 4)
		return;
	fmn_buf_reset(&b->keybuf);
	fmn_buf_printf(&b->keybuf, "%zu\x1f%s", k,
	    json_is_string(ju) ? json_string_value(ju) : "");
	if (b->gaps.n >= BUS_GAP_KEYS_MAX)
		fmn_hmap_clear(&b->gaps, free);
	slot = fmn_hmap_put(&b->gaps, b->keybuf.data);
	if ((g = *slot) == NULL)
		g = *slot = xcalloc(1, sizeof(*g));
	last = g->i;
	insync = 0;
	if (last != 0 && (uintptr_t)i == last + 1)
		insync = 1;
	else if (last != 0 && g->insync && (uintptr_t)i > last + 1 &&
	    (uintptr_t)i - last - 1 < BUS_GAP_MAX) {
		fmn_counters_add(b->counters, FMN_C_MESSAGES_DROPPED,
		    (long long)((uintptr_t)i - last - 1));
		/* What was lost came after this publisher's last message. */
		bus_missed(b, g->t);
		log_debug("bus: %s: publisher %s skipped from %lu to %lu",
		    b->socks[k].endpoint, b->keybuf.data,
		    (unsigned long)last, (unsigned long)i);
	}
	g->i = (uintptr_t)i;
	g->insync = insync;
	g->t = m->timestamp != 0 ? m->timestamp : received;
}

size_t
fmn_bus_raw_size(const struct fmn_bus_raw *raw)
{
	return zmq_msg_size((zmq_msg_t *)&raw->topic) +
	    zmq_msg_size((zmq_msg_t *)&raw->body);
}

void
fmn_bus_raw_close(struct fmn_bus_raw *raw)
{
	zmq_msg_close(&raw->topic);
	zmq_msg_close(&raw->body);
}

enum fmn_bus_status
fmn_bus_recv(struct fmn_bus *b, size_t k, struct fmn_bus_raw *raw)
{
	void *s = b->socks[k].sock;

	if (s == NULL)
		return FMN_BUS_EMPTY;
	zmq_msg_init(&raw->topic);
	zmq_msg_init(&raw->body);
	raw->k = k;
	if (zmq_msg_recv(&raw->topic, s, ZMQ_DONTWAIT) == -1) {
		fmn_bus_raw_close(raw);
		if (errno == EAGAIN || errno == EINTR)
			return FMN_BUS_EMPTY;
		log_err("bus: %s: %s", b->socks[k].endpoint,
		    zmq_strerror(errno));
		return FMN_BUS_ERROR;
	}
	fmn_counters_add(b->counters, FMN_C_MESSAGES_RECEIVED, 1);
	raw->received = fmn_now();
	raw->frames = 1;
	if (zmq_msg_more(&raw->topic)) {
		/* The rest of a multipart message is already here. */
		if (zmq_msg_recv(&raw->body, s, 0) == -1) {
			fmn_bus_raw_close(raw);
			return FMN_BUS_ERROR;
		}
		raw->frames++;
		/* Frames past the second only count: the message is invalid. */
		while (zmq_msg_more(raw->frames == 2 ? &raw->body :
		    &b->extra)) {
			if (zmq_msg_recv(&b->extra, s, 0) == -1) {
				fmn_bus_raw_close(raw);
				return FMN_BUS_ERROR;
			}
			raw->frames++;
		}
	}
	return FMN_BUS_MESSAGE;
}

enum fmn_bus_status
fmn_bus_parse(struct fmn_bus *b, struct fmn_bus_raw *raw,
    struct fmn_bus_msg *out)
{
	size_t k = raw->k;
	const char *topic, *body;
	size_t tlen, blen;
	json_t *env, *jt;
	json_error_t jerr;
	char *cause = NULL;
	struct fmn_msg *m;

	if (raw->frames != 2)
		return bus_invalid(b, k, BUS_INV_FRAMES,
		    "%zu frame(s), a fedmsg message has 2 (topic, envelope)",
		    raw->frames);
	topic = zmq_msg_data(&raw->topic);
	tlen = zmq_msg_size(&raw->topic);
	body = zmq_msg_data(&raw->body);
	blen = zmq_msg_size(&raw->body);
	if (tlen + blen > (size_t)b->max_size)
		return bus_invalid(b, k, BUS_INV_SIZE,
		    "%zu bytes, more than max_message_size (%ld)",
		    tlen + blen, b->max_size);
	if (!fmn_utf8_valid(topic, tlen))
		return bus_invalid(b, k, BUS_INV_UTF8,
		    "the topic frame is not UTF-8");
	if (!fmn_utf8_valid(body, blen))
		return bus_invalid(b, k, BUS_INV_UTF8,
		    "the envelope frame is not UTF-8");
	fmn_buf_reset(&b->topicbuf);
	fmn_buf_add(&b->topicbuf, topic, tlen);
	env = fmn_msg_load_json(body, blen, &jerr);
	if (env == NULL)
		return bus_invalid(b, k, BUS_INV_JSON, "topic %.200s: %s "
		    "(line %d, column %d)", b->topicbuf.data, jerr.text,
		    jerr.line, jerr.column);
	jt = json_object_get(env, "topic");
	if (json_is_string(jt) && strcmp(json_string_value(jt),
	    b->topicbuf.data) != 0) {
		enum fmn_bus_status st = bus_invalid(b, k, BUS_INV_TOPIC,
		    "frame topic %.200s, envelope topic %.200s",
		    b->topicbuf.data, json_string_value(jt));

		json_decref(env);
		return st;
	}
	m = fmn_msg_from_json(env, b->topicbuf.data, &cause);
	json_decref(env);
	if (m == NULL) {
		bus_invalid(b, k, BUS_INV_ENVELOPE, "topic %.200s: %s",
		    b->topicbuf.data, cause != NULL ? cause : "invalid");
		free(cause);
		return FMN_BUS_INVALID;
	}
	/* Before anything of it is believed, gaps in "i" included. */
	if (fmn_bus_verify(b, bus_source(b, k), m, body, blen) != 0) {
		fmn_msg_destroy(&m);
		return FMN_BUS_INVALID;
	}
	if (b->track_gaps && k != FMN_BUS_HISTORY)
		bus_track_gap(b, k, m, raw->received);
	out->msg = m;
	out->history = k == FMN_BUS_HISTORY;
	out->raw = body;
	out->rawlen = blen;
	out->summary = NULL;
	out->received = raw->received;
	return FMN_BUS_MESSAGE;
}
