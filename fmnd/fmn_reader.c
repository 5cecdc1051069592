/*
 * The intake thread (see fmn_reader.h). Two inproc PAIR sockets join
 * it to the loop: the loop sends commands (new facts, subscriptions,
 * stop) and the thread sends batches, each message a pointer that hands
 * over ownership. A batch goes as soon as the bus has nothing more
 * ready, so a quiet bus adds no latency, or at READER_BATCH messages in
 * a burst.
 */
#include "fmn_reader.h"

#include <errno.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_util.h"

#define READER_BATCH	256	/* messages per hand-over in a burst */
#define READER_AHEAD	8	/* batches the thread may have handed and the
				 * loop not yet taken: beyond, it waits, and the
				 * bus's high-water mark holds the rest as bytes */

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
	struct fmn_counters	 counters;
	struct fmn_defs		*defs;
	struct fmn_aliases	*aliases;
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
	if (reader_send(r->thread_end, &b, sizeof(b)) != 0) {
		fmn_reader_batch_free(&b);
		return -1;
	}
	return 0;
}

/* Read what the bus has ready into *bp; returns 1 if more may wait. */
static int
reader_read(struct fmn_reader *r, struct fmn_reader_batch **bp)
{
	struct fmn_bus_msg bm;
	size_t k, nsock = fmn_bus_count(r->bus), empty;
	struct fmn_reader_batch *b;

	do {
		empty = 0;
		for (k = 0; k < nsock; k++) {
			switch (fmn_bus_read(r->bus, k, &bm)) {
			case FMN_BUS_EMPTY:
			case FMN_BUS_ERROR:
				empty++;
				break;
			case FMN_BUS_INVALID:
				break;
			case FMN_BUS_MESSAGE:
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
				break;
			}
		}
	} while (empty < nsock && (*bp == NULL || (*bp)->n < READER_BATCH));
	if (*bp != NULL && (*bp)->n >= READER_BATCH)
		(*bp)->full = 1;
	return empty < nsock;
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
	case READER_FREE:
		fmn_reader_batch_free((struct fmn_reader_batch **)&c->a);
		break;
	case READER_STOP:
		break;
	}
}

static void *
reader_main(void *arg)
{
	struct fmn_reader *r = arg;
	struct fmn_reader_batch *b = NULL;
	zmq_pollitem_t items[FMN_CONFIG_MAX_LIST + 1];
	struct reader_msg c;
	int n, more = 0, stop = 0;

	prctl(PR_SET_NAME, "fmnd-intake", 0, 0, 0);
	while (!stop) {
		items[0].socket = r->thread_end;
		items[0].fd = -1;
		items[0].events = ZMQ_POLLIN;
		n = 1 + fmn_bus_pollitems(r->bus, items + 1,
		    FMN_CONFIG_MAX_LIST);
		if (zmq_poll(items, n, more ? 0 : -1) == -1) {
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
		more = reader_read(r, &b);
		if (b != NULL || r->counters.dirty) {
			if (reader_flush(r, &b, 0) != 0)
				break;
		}
	}
	fmn_bus_close(r->bus);
	reader_flush(r, &b, 1);
	return NULL;
}

struct fmn_reader *
fmn_reader_new(void *zctx, const struct fmn_config *cfg,
    struct fmn_defs *defs, struct fmn_aliases *aliases, char **cause)
{
	struct fmn_reader *r = xcalloc(1, sizeof(*r));
	char name[64];
	int hwm = 0, ahead = READER_AHEAD / 2;

	r->zctx = zctx;
	r->defs = defs;
	r->aliases = aliases;
	if ((r->bus = fmn_bus_new(zctx, cfg, cfg->endpoints, cfg->n_endpoints,
	    &r->counters, cause)) == NULL)
		goto fail;
	snprintf(name, sizeof(name), "inproc://fmn-reader-%p", (void *)r);
	r->loop_end = zmq_socket(zctx, ZMQ_PAIR);
	r->thread_end = zmq_socket(zctx, ZMQ_PAIR);
	/*
	 * Commands are never refused; batches are bounded (a PAIR blocks,
	 * it does not drop, when full), so parsed messages cannot pile up
	 * in memory faster than the loop takes them.
	 */
	zmq_setsockopt(r->loop_end, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(r->thread_end, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(r->thread_end, ZMQ_SNDHWM, &ahead, sizeof(ahead));
	zmq_setsockopt(r->loop_end, ZMQ_RCVHWM, &ahead, sizeof(ahead));
	if (r->loop_end == NULL || r->thread_end == NULL ||
	    zmq_bind(r->loop_end, name) != 0 ||
	    zmq_connect(r->thread_end, name) != 0) {
		fmn_set_cause(cause, "intake thread: %s", zmq_strerror(errno));
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
	if (r->loop_end != NULL)
		zmq_close(r->loop_end);
	if (r->thread_end != NULL)
		zmq_close(r->thread_end);
	fmn_bus_destroy(&r->bus);
	fmn_defs_destroy(&r->defs);
	fmn_aliases_destroy(&r->aliases);
	free(r);
	*rp = NULL;
}
