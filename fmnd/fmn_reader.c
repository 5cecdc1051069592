/*
 * The intake thread (see fmn_reader.h). Two inproc PAIR sockets join
 * it to the loop: the loop sends commands (new facts, subscriptions,
 * stop, batches it is done with) and the thread sends batches, each
 * message a pointer that hands over ownership. A batch goes as soon as
 * the bus has nothing more ready, so a quiet bus adds no latency, or at
 * READER_BATCH messages in a burst.
 *
 * Between the bus and the batches, messages wait as they came off the
 * sockets (raw frames, the cheapest form) in a queue the thread drains
 * the sockets into before it parses anything: a burst is taken off
 * ZeroMQ at the speed of a copy, and ZeroMQ's own queue (receive_hwm)
 * can stay small. Everything held for messages, raw or handed to the
 * loop and not yet given back, counts against [bus] max_pending_bytes;
 * at the budget the thread stops reading, and ZeroMQ pushes back on the
 * publishers. Memory is returned to the system after a burst.
 */
#include "fmn_reader.h"

#include <errno.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_catchup.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define READER_BATCH	256	/* messages per hand-over in a burst */
#define READER_AHEAD	8	/* batches handed to the loop and not yet
				 * given back: beyond, the thread parses no
				 * more and raw messages wait */
#define READER_PARSED_COST 2	/* a parsed message holds about this many
				 * times its raw size (copy + tree) */
#define READER_TRIM_BYTES (16 << 20)	/* a peak above this is given back */

enum reader_cmd {
	READER_FACTS,		/* defs, aliases (either may be NULL) */
	READER_SUBSCRIBE,	/* a copy of the whole configuration */
	READER_FREE,		/* a batch the loop is done with */
	READER_STOP,
};

struct reader_msg {
	enum reader_cmd	 cmd;
	void		*a;
	void		*b;
};

/* Raw messages in the order they came, a growable ring. */
struct reader_fifo {
	struct fmn_bus_raw	*v;
	size_t			 cap;
	size_t			 head;	/* the oldest */
	size_t			 n;
	size_t			 bytes;
};

struct fmn_reader {
	void			*zctx;
	void			*loop_end;	/* the loop's PAIR */
	void			*thread_end;	/* the thread's PAIR */
	pthread_t		 thread;
	int			 started;
	int			 stopped;	/* stop sent */
	int			 done;		/* the last batch was taken */
	/* Owned by the thread once it runs. */
	struct fmn_bus		*bus;
	void			*history;	/* PAIR to the catch-up, or NULL */
	struct fmn_counters	 counters;
	struct fmn_defs		*defs;
	struct fmn_aliases	*aliases;
	struct reader_fifo	 fifo;
	size_t			 budget;	/* max_pending_bytes */
	size_t			 handed;	/* batches the loop has */
	size_t			 handed_bytes;	/* what they hold */
	size_t			 peak;		/* bytes held at most since a trim */
};

void
fmn_reader_batch_free(struct fmn_reader_batch **bp)
{
	struct fmn_reader_batch *b = *bp;
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		fmn_msg_destroy(&b->v[i].msg);
		free((char *)b->v[i].raw);
		free(b->v[i].summary);
	}
	free(b->v);
	free(b);
	*bp = NULL;
}

static void
reader_config_free(struct fmn_config *c)
{
	fmn_config_free(c);
	free(c);
}

/* Send a pointer-sized message; the PAIR is inproc, so it cannot fail
 * but for a closed context. */
static int
reader_send(void *sock, const void *p, size_t len)
{
	while (zmq_send(sock, p, len, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

static void
fifo_push(struct reader_fifo *f, struct fmn_bus_raw *raw)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256, i;
		struct fmn_bus_raw *v = xreallocarray(NULL, cap, sizeof(*v));

		for (i = 0; i < f->n; i++)
			v[i] = f->v[(f->head + i) % f->cap];
		free(f->v);
		f->v = v;
		f->cap = cap;
		f->head = 0;
	}
	f->v[(f->head + f->n) % f->cap] = *raw;
	f->n++;
	f->bytes += fmn_bus_raw_size(raw);
}

/* The oldest raw message, now the caller's; 0 when none. */
static int
fifo_pop(struct reader_fifo *f, struct fmn_bus_raw *raw)
{
	if (f->n == 0)
		return 0;
	*raw = f->v[f->head];
	f->head = (f->head + 1) % f->cap;
	f->n--;
	f->bytes -= fmn_bus_raw_size(raw);
	return 1;
}

static void
fifo_free(struct reader_fifo *f)
{
	struct fmn_bus_raw raw;

	while (fifo_pop(f, &raw))
		fmn_bus_raw_close(&raw);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* Bytes held for messages: raw, and handed to the loop. */
static size_t
reader_held(const struct fmn_reader *r)
{
	return r->fifo.bytes + r->handed_bytes;
}

static int
reader_flush(struct fmn_reader *r, struct fmn_reader_batch **bp, int last)
{
	struct fmn_reader_batch *b = *bp;
	int k;

	if (b == NULL)
		b = xcalloc(1, sizeof(*b));
	for (k = 0; k < FMN_C_COUNT; k++) {
		b->counters[k] = r->counters.delta[k];
		r->counters.delta[k] = 0;
	}
	r->counters.dirty = 0;
	b->last = last;
	*bp = NULL;
	r->handed++;
	r->handed_bytes += b->bytes;
	if (reader_send(r->thread_end, &b, sizeof(b)) != 0) {
		fmn_reader_batch_free(&b);
		return -1;
	}
	return 0;
}

/*
 * Take what the sockets have ready into the raw queue, in turn, as long
 * as the budget allows; returns 1 when the budget stopped it.
 */
static int
reader_drain(struct fmn_reader *r)
{
	size_t k, nsock = fmn_bus_count(r->bus), empty;
	struct fmn_bus_raw raw;

	do {
		empty = 0;
		for (k = 0; k < nsock; k++) {
			if (reader_held(r) >= r->budget)
				return 1;
			if (fmn_bus_recv(r->bus, k, &raw) == FMN_BUS_MESSAGE)
				fifo_push(&r->fifo, &raw);
			else
				empty++;
		}
	} while (empty < nsock);
	if (reader_held(r) > r->peak)
		r->peak = reader_held(r);
	return 0;
}

/*
 * Parse raw messages into a batch, at most READER_BATCH of them and,
 * unless told to take all, only as far as the budget allows (but at
 * least one message, so that a message larger than the budget passes).
 */
static void
reader_parse(struct fmn_reader *r, struct fmn_reader_batch **bp, int all)
{
	struct fmn_reader_batch *b;
	struct fmn_bus_raw raw;
	struct fmn_bus_msg bm;
	size_t cost;

	while (r->fifo.n > 0 && (*bp == NULL || (*bp)->n < READER_BATCH)) {
		cost = fmn_bus_raw_size(&r->fifo.v[r->fifo.head]) *
		    READER_PARSED_COST;
		if (!all && *bp != NULL && (*bp)->n > 0 &&
		    reader_held(r) + (*bp)->bytes + cost > r->budget)
			break;
		fifo_pop(&r->fifo, &raw);
		if (fmn_bus_parse(r->bus, &raw, &bm) == FMN_BUS_MESSAGE) {
			fmn_facts_derive(r->defs, r->aliases, bm.msg);
			if ((b = *bp) == NULL)
				b = *bp = xcalloc(1, sizeof(*b));
			if (b->n == b->cap) {
				b->cap = b->cap ? b->cap * 2 : 16;
				b->v = xreallocarray(b->v, b->cap,
				    sizeof(*b->v));
			}
			bm.raw = xstrndup(bm.raw, bm.rawlen);
			b->v[b->n++] = bm;
			b->bytes += cost;
		}
		fmn_bus_raw_close(&raw);
	}
	if (*bp != NULL && (*bp)->n >= READER_BATCH)
		(*bp)->full = 1;
}

/* After a burst, give the memory back to the system. */
static void
reader_trim(struct fmn_reader *r)
{
	if (r->fifo.n > 0 || r->handed > 0 || r->peak < READER_TRIM_BYTES)
		return;
	r->peak = 0;
	free(r->fifo.v);
	memset(&r->fifo, 0, sizeof(r->fifo));
	malloc_trim(0);
}

static void
reader_command(struct fmn_reader *r, const struct reader_msg *c)
{
	switch (c->cmd) {
	case READER_FACTS:
		if (c->a != NULL) {
			fmn_defs_destroy(&r->defs);
			r->defs = c->a;
		}
		if (c->b != NULL) {
			fmn_aliases_destroy(&r->aliases);
			r->aliases = c->b;
		}
		break;
	case READER_SUBSCRIBE:
		fmn_bus_resubscribe(r->bus, c->a);
		reader_config_free(c->a);
		break;
	case READER_FREE: {
		struct fmn_reader_batch *b = c->a;

		r->handed--;
		r->handed_bytes -= b->bytes;
		fmn_reader_batch_free(&b);
		break;
	}
	case READER_STOP:
		break;
	}
}

static void
reader_free_frame(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/*
 * Take the catch-up's pages into the raw queue, under the budget, and
 * say so: it asks for the next page only then. Its envelopes are
 * parsed, checked and counted from there exactly as the bus's are.
 */
static void
reader_history(struct fmn_reader *r)
{
	struct fmn_catchup_msg ack = { FMN_CATCHUP_ACK, 0 };
	struct fmn_catchup_page *p;
	struct fmn_bus_raw raw;
	size_t i;
	int k;

	while (reader_held(r) < r->budget &&
	    zmq_recv(r->history, &p, sizeof(p), ZMQ_DONTWAIT) ==
	    (int)sizeof(p)) {
		for (i = 0; i < p->n; i++) {
			memset(&raw, 0, sizeof(raw));
			raw.k = FMN_BUS_HISTORY;
			raw.frames = 2;
			raw.received = fmn_now();
			zmq_msg_init_data(&raw.topic, p->v[i].topic,
			    strlen(p->v[i].topic), reader_free_frame, NULL);
			zmq_msg_init_data(&raw.body, p->v[i].body, p->v[i].len,
			    reader_free_frame, NULL);
			p->v[i].topic = p->v[i].body = NULL;
			fifo_push(&r->fifo, &raw);
		}
		p->n = 0;
		for (k = 0; k < FMN_C_COUNT; k++)
			if (p->counters[k] != 0)
				fmn_counters_add(&r->counters, k,
				    p->counters[k]);
		fmn_catchup_page_free(&p);
		reader_send(r->history, &ack, sizeof(ack));
	}
}

/* The bus saw a gap or a connection made again: ask for what was missed. */
static void
reader_missed(struct fmn_reader *r)
{
	struct fmn_catchup_msg ask = { FMN_CATCHUP_ASK, 0 };

	if (r->history == NULL ||
	    (ask.since = fmn_bus_take_missed(r->bus)) == 0)
		return;
	reader_send(r->history, &ask, sizeof(ask));
}

static void *
reader_main(void *arg)
{
	struct fmn_reader *r = arg;
	struct fmn_reader_batch *b = NULL;
	zmq_pollitem_t items[2 * FMN_CONFIG_MAX_LIST + 2];
	struct reader_msg c;
	int n, full = 0, stop = 0;
	long t;

	prctl(PR_SET_NAME, "fmnd-intake", 0, 0, 0);
	while (!stop) {
		items[0].socket = r->thread_end;
		items[0].fd = -1;
		items[0].events = ZMQ_POLLIN;
		/* The monitors always; the sockets only under the budget. */
		n = 1 + fmn_bus_pollitems(r->bus, items + 1,
		    2 * FMN_CONFIG_MAX_LIST, !full, 1);
		if (r->history != NULL && !full) {
			items[n].socket = r->history;
			items[n].fd = -1;
			items[n].events = ZMQ_POLLIN;
			n++;
		}
		t = fmn_bus_timeout(r->bus);
		if (r->fifo.n > 0 && r->handed < READER_AHEAD)
			t = 0;
		if (zmq_poll(items, n, t) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ETERM)
				log_err("intake thread: poll: %s",
				    zmq_strerror(errno));
			break;
		}
		while (zmq_recv(r->thread_end, &c, sizeof(c),
		    ZMQ_DONTWAIT) == (int)sizeof(c)) {
			reader_command(r, &c);
			if (c.cmd == READER_STOP)
				stop = 1;
		}
		if (stop)
			break;
		fmn_bus_service(r->bus);
		full = reader_drain(r);
		if (r->history != NULL && !full)
			reader_history(r);
		/* Parse while the loop can take more, draining in between. */
		while (r->fifo.n > 0 && r->handed < READER_AHEAD) {
			reader_parse(r, &b, 0);
			if (b == NULL)
				continue;	/* only invalid messages */
			if (reader_flush(r, &b, 0) != 0)
				goto out;
			full = reader_drain(r);
		}
		reader_missed(r);
		/* Counts alone go too, while the loop takes batches. */
		if (r->counters.dirty && r->handed < READER_AHEAD &&
		    reader_flush(r, &b, 0) != 0)
			break;
		reader_trim(r);
	}
out:
	fmn_bus_close(r->bus);
	/* What was read goes to the loop; the budget no longer matters. */
	while (r->fifo.n > 0) {
		reader_parse(r, &b, 1);
		if (b != NULL && r->fifo.n > 0 && reader_flush(r, &b, 0) != 0)
			break;
	}
	reader_flush(r, &b, 1);
	return NULL;
}

struct fmn_reader *
fmn_reader_new(void *zctx, const struct fmn_config *cfg,
    struct fmn_defs *defs, struct fmn_aliases *aliases,
    const char *history, char **cause)
{
	struct fmn_reader *r = xcalloc(1, sizeof(*r));
	char name[64];
	int hwm = 0;

	r->zctx = zctx;
	r->defs = defs;
	r->aliases = aliases;
	r->budget = (size_t)cfg->max_pending_bytes;
	if ((r->bus = fmn_bus_new(zctx, cfg, cfg->endpoints, cfg->n_endpoints,
	    &r->counters, cause)) == NULL)
		goto fail;
	snprintf(name, sizeof(name), "inproc://fmn-reader-%p", (void *)r);
	r->loop_end = zmq_socket(zctx, ZMQ_PAIR);
	r->thread_end = zmq_socket(zctx, ZMQ_PAIR);
	/*
	 * Neither side ever waits on the other: the thread bounds what it
	 * hands over itself (READER_AHEAD batches, the byte budget).
	 */
	zmq_setsockopt(r->loop_end, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(r->thread_end, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(r->thread_end, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(r->loop_end, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	if (r->loop_end == NULL || r->thread_end == NULL ||
	    zmq_bind(r->loop_end, name) != 0 ||
	    zmq_connect(r->thread_end, name) != 0) {
		fmn_set_cause(cause, "intake thread: %s", zmq_strerror(errno));
		goto fail;
	}
	if (history != NULL && ((r->history = zmq_socket(zctx,
	    ZMQ_PAIR)) == NULL || zmq_setsockopt(r->history, ZMQ_SNDHWM, &hwm,
	    sizeof(hwm)) != 0 || zmq_connect(r->history, history) != 0)) {
		fmn_set_cause(cause, "intake thread: catch-up: %s",
		    zmq_strerror(errno));
		goto fail;
	}
	if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
		fmn_set_cause(cause, "intake thread: cannot start");
		goto fail;
	}
	r->started = 1;
	return r;
fail:
	fmn_reader_destroy(&r);
	return NULL;
}

void
fmn_reader_pollitem(struct fmn_reader *r, zmq_pollitem_t *item)
{
	item->socket = r->loop_end;
	item->fd = -1;
	item->events = ZMQ_POLLIN;
	item->revents = 0;
}

struct fmn_reader_batch *
fmn_reader_take(struct fmn_reader *r)
{
	struct fmn_reader_batch *b;

	if (r->done || zmq_recv(r->loop_end, &b, sizeof(b), ZMQ_DONTWAIT) !=
	    (int)sizeof(b))
		return NULL;
	if (b->last)
		r->done = 1;
	return b;
}

static void
reader_command_send(struct fmn_reader *r, enum reader_cmd cmd, void *a,
    void *b)
{
	struct reader_msg c = { cmd, a, b };

	if (reader_send(r->loop_end, &c, sizeof(c)) != 0)
		log_err("intake thread: cannot send a command: %s",
		    zmq_strerror(errno));
}

void
fmn_reader_set_facts(struct fmn_reader *r, struct fmn_defs *defs,
    struct fmn_aliases *aliases)
{
	if (r->stopped) {
		fmn_defs_destroy(&defs);
		fmn_aliases_destroy(&aliases);
		return;
	}
	reader_command_send(r, READER_FACTS, defs, aliases);
}

void
fmn_reader_resubscribe(struct fmn_reader *r, const struct fmn_config *cfg)
{
	struct fmn_config *c;

	if (r->stopped)
		return;
	/* All of it: the bus takes what it needs, and nothing is zero. */
	c = xmalloc(sizeof(*c));
	fmn_config_copy(c, cfg);
	reader_command_send(r, READER_SUBSCRIBE, c, NULL);
}

void
fmn_reader_release(struct fmn_reader *r, struct fmn_reader_batch **bp)
{
	if (*bp == NULL)
		return;
	if (r->stopped)
		fmn_reader_batch_free(bp);
	else {
		reader_command_send(r, READER_FREE, *bp, NULL);
		*bp = NULL;
	}
}

void
fmn_reader_stop(struct fmn_reader *r)
{
	if (!r->started || r->stopped)
		return;
	r->stopped = 1;
	reader_command_send(r, READER_STOP, NULL, NULL);
}

void
fmn_reader_destroy(struct fmn_reader **rp)
{
	struct fmn_reader *r = *rp;
	struct fmn_reader_batch *b;
	struct reader_msg c;

	if (r == NULL)
		return;
	if (r->started) {
		fmn_reader_stop(r);
		/* Take batches until the last, so a full pipe cannot keep
		 * the thread from finishing. */
		while (!r->done) {
			int last;

			if (zmq_recv(r->loop_end, &b, sizeof(b), 0) !=
			    (int)sizeof(b)) {
				if (errno == EINTR)
					continue;
				break;
			}
			last = b->last;
			fmn_reader_batch_free(&b);
			if (last)
				break;
		}
		pthread_join(r->thread, NULL);
		/* Commands the thread never read. */
		while (zmq_recv(r->thread_end, &c, sizeof(c), ZMQ_DONTWAIT) ==
		    (int)sizeof(c)) {
			if (c.cmd == READER_FACTS) {
				fmn_defs_destroy((struct fmn_defs **)&c.a);
				fmn_aliases_destroy(
				    (struct fmn_aliases **)&c.b);
			} else if (c.cmd == READER_SUBSCRIBE)
				reader_config_free(c.a);
			else if (c.cmd == READER_FREE)
				fmn_reader_batch_free(
				    (struct fmn_reader_batch **)&c.a);
		}
	}
	if (r->history != NULL) {
		struct fmn_catchup_page *p;

		/* Pages the thread never took. */
		while (zmq_recv(r->history, &p, sizeof(p), ZMQ_DONTWAIT) ==
		    (int)sizeof(p))
			fmn_catchup_page_free(&p);
		zmq_close(r->history);
	}
	if (r->loop_end != NULL)
		zmq_close(r->loop_end);
	if (r->thread_end != NULL)
		zmq_close(r->thread_end);
	fmn_bus_destroy(&r->bus);
	fifo_free(&r->fifo);
	fmn_defs_destroy(&r->defs);
	fmn_aliases_destroy(&r->aliases);
	free(r);
	*rp = NULL;
}
