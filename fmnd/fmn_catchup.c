/*
 * The catch-up thread (see fmn_catchup.h). A run asks BASE/raw for the
 * window [start, now + margin] in ascending order, 100 messages a page,
 * and hands each page to the intake thread, waiting for it to be taken
 * before asking for the next. Pages are walked by time rather than by
 * page number alone: the next request starts at the last message's
 * time (that message and any others of the same time come again, and
 * are dropped as duplicates), and only a page whose messages all have
 * the start's time moves to the next page number. So a long catch-up
 * costs the server what it returns, and messages the server stores
 * meanwhile do not shift the pages under it.
 *
 * A failed request (no answer, not 200, not datagrepper's JSON) is
 * counted and tried again from where it stopped, after a backoff from
 * 1 s doubling to 5 minutes; the bus goes on meanwhile, this thread is
 * the only one that waits.
 */
#include "fmn_catchup.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zmq.h>

#include "fmn_history.h"
#include "fmn_log.h"
#include "fmn_msg.h"
#include "fmn_util.h"
#include "fmn_version.h"

#define CATCHUP_ROWS		FMN_HISTORY_MAX_ROWS	/* per page */
#define CATCHUP_MAX_PAGES	100000	/* per run: 10 million messages */
#define CATCHUP_RETRY_MIN_MS	1000
#define CATCHUP_RETRY_MAX_MS	300000
#define CATCHUP_INTERVAL_MS	5000	/* between runs the bus asked for */
#define CATCHUP_TICK_MS		200	/* the stop flag is looked at this often */
#define CATCHUP_TIMEOUT		60	/* seconds for a request */
#define CATCHUP_CONNECT_TIMEOUT	10

struct fmn_catchup {
	void		*sock;		/* the thread's PAIR */
	char		 endpoint[64];
	char		*base;		/* the URL, without a trailing '/' */
	double		 margin;
	double		 max_age;
	double		 retention;	/* 0: kept forever */
	size_t		 max_body;	/* bytes of one answer */
	double		 initial;	/* missed since, at start; 0: none */
	pthread_t	 thread;
	int		 started;
	atomic_int	 stop;

	/* The thread's own. */
	CURL		*curl;
	double		 asked;		/* query start asked for; 0: none */
	long long	 counters[FMN_C_COUNT];	/* not yet handed over */
	unsigned	 failures;	/* runs in a row */
};

void
fmn_catchup_page_free(struct fmn_catchup_page **pp)
{
	struct fmn_catchup_page *p = *pp;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->v[i].topic);
		free(p->v[i].body);
	}
	free(p->v);
	free(p);
	*pp = NULL;
}

/* Where a query for what was missed since `since` starts. */
static double
catchup_start(const struct fmn_catchup *c, double since)
{
	double floor = fmn_now() - c->max_age;

	since -= c->margin;
	return since > floor ? since : floor;
}

static void
catchup_ask(struct fmn_catchup *c, double since)
{
	double start = catchup_start(c, since);

	if (c->asked == 0 || start < c->asked)
		c->asked = start;
}

/*
 * Read what the intake thread sent, waiting up to ms; returns 1 when an
 * acknowledgement came.
 */
static int
catchup_read(struct fmn_catchup *c, long ms)
{
	struct fmn_catchup_msg m;
	zmq_pollitem_t it = { c->sock, -1, ZMQ_POLLIN, 0 };
	int acked = 0;

	if (zmq_poll(&it, 1, ms) <= 0)
		return 0;
	while (zmq_recv(c->sock, &m, sizeof(m), ZMQ_DONTWAIT) ==
	    (int)sizeof(m)) {
		if (m.type == FMN_CATCHUP_ACK)
			acked = 1;
		else
			catchup_ask(c, m.since);
	}
	return acked;
}

/* Hand a page (and the counters) over and wait until it is taken. */
static int
catchup_hand(struct fmn_catchup *c, struct fmn_catchup_page *p)
{
	memcpy(p->counters, c->counters, sizeof(p->counters));
	memset(c->counters, 0, sizeof(c->counters));
	if (zmq_send(c->sock, &p, sizeof(p), 0) != (int)sizeof(p)) {
		fmn_catchup_page_free(&p);
		return -1;
	}
	while (!c->stop)
		if (catchup_read(c, CATCHUP_TICK_MS))
			return 0;
	return -1;
}

/* Where an answer goes, within the size allowed. */
struct catchup_sink {
	struct fmn_buf	*b;
	size_t		 max;
};

static size_t
catchup_write(char *data, size_t size, size_t n, void *arg)
{
	struct catchup_sink *k = arg;

	if (k->b->len + size * n > k->max)
		return 0;	/* too big: the transfer fails */
	fmn_buf_add(k->b, data, size * n);
	return size * n;
}

static int
catchup_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct fmn_catchup *c = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return c->stop ? 1 : 0;
}

/* GET url into b; 0, or -1 with *cause. */
static int
catchup_get(struct fmn_catchup *c, const char *url, struct fmn_buf *b,
    char **cause)
{
	struct catchup_sink sink = { b, c->max_body };
	struct curl_slist *hdrs;
	long status = 0;
	CURLcode rc;

	fmn_buf_reset(b);
	if (c->curl == NULL && (c->curl = curl_easy_init()) == NULL) {
		fmn_set_cause(cause, "libcurl: cannot start");
		return -1;
	}
	curl_easy_reset(c->curl);
	hdrs = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "fmnd/" FMN_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long)CATCHUP_TIMEOUT);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT,
	    (long)CATCHUP_CONNECT_TIMEOUT);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, catchup_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, catchup_progress);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, (void *)NULL);
	if (rc != CURLE_OK) {
		fmn_set_cause(cause, "%s", rc == CURLE_WRITE_ERROR ?
		    "the answer is too big" : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		fmn_set_cause(cause, "HTTP status %ld", status);
		return -1;
	}
	return 0;
}

/*
 * datagrepper's answer into a page: every envelope with a topic and a
 * msg_id (without one it could not be told from a copy), not older
 * than the retention. *n: how many messages the answer had; *last: the
 * time of its last one (0: none).
 */
static struct fmn_catchup_page *
catchup_parse(struct fmn_catchup *c, const struct fmn_buf *b, size_t *n,
    double *last, char **cause)
{
	struct fmn_catchup_page *p;
	json_t *doc, *msgs, *env, *topic, *id, *ts;
	json_error_t jerr;
	double floor = c->retention > 0 ? fmn_now() - c->retention : 0, t;
	size_t i;
	char *body;

	if ((doc = fmn_msg_load_json(b->data, b->len, &jerr)) == NULL) {
		fmn_set_cause(cause, "the answer is not JSON: %s", jerr.text);
		return NULL;
	}
	msgs = json_object_get(doc, "raw_messages");
	if (!json_is_array(msgs)) {
		json_decref(doc);
		fmn_set_cause(cause, "the answer has no raw_messages");
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->v = xcalloc(json_array_size(msgs) + 1, sizeof(*p->v));
	*n = json_array_size(msgs);
	*last = 0;
	json_array_foreach(msgs, i, env) {
		topic = json_object_get(env, "topic");
		id = json_object_get(env, "msg_id");
		ts = json_object_get(env, "timestamp");
		t = json_is_number(ts) ? json_number_value(ts) : 0;
		if (t > 0)
			*last = t;
		if (!json_is_string(topic) || !json_is_string(id) ||
		    json_string_length(id) == 0 || (t > 0 && t < floor))
			continue;
		if ((body = json_dumps(env, JSON_COMPACT)) == NULL)
			continue;
		p->v[p->n].topic = xstrdup(json_string_value(topic));
		p->v[p->n].body = body;
		p->v[p->n].len = strlen(body);
		p->n++;
	}
	json_decref(doc);
	return p;
}

/*
 * One run from *start (updated as pages are taken, so that a failed
 * run resumes there): 0 when the window is done, -1 on a failure.
 */
static int
catchup_run(struct fmn_catchup *c, double *start)
{
	struct fmn_catchup_page *p;
	struct fmn_buf b;
	double end = fmn_now() + c->margin, last, from = *start;
	long page = 1, pages = 0;
	size_t n = 0, total = 0;
	char *url, *cause = NULL;
	int rc = -1;

	fmn_buf_init(&b);
	while (!c->stop) {
		url = xasprintf("%s/raw?start=%.17g&end=%.17g&order=asc&"
		    "rows_per_page=%d&page=%ld", c->base, *start, end,
		    CATCHUP_ROWS, page);
		c->counters[FMN_C_CATCHUP_REQUESTS]++;
		p = NULL;
		if (catchup_get(c, url, &b, &cause) == 0)
			p = catchup_parse(c, &b, &n, &last, &cause);
		if (p == NULL) {
			c->counters[FMN_C_CATCHUP_ERRORS]++;
			if (c->failures == 0 || (c->failures + 1) % 10 == 0)
				log_warn("catch-up: %s: %s; trying again later "
				    "(attempt %u)", url, cause, c->failures + 1);
			free(cause);
			free(url);
			/* The counters still go. */
			catchup_hand(c, xcalloc(1, sizeof(*p)));
			break;
		}
		free(url);
		total += p->n;
		if (catchup_hand(c, p) != 0)
			break;
		if (n < CATCHUP_ROWS || last > end || ++pages >= CATCHUP_MAX_PAGES) {
			rc = 0;
			break;
		}
		if (last > *start) {
			*start = last;
			page = 1;
		} else
			page++;
	}
	fmn_buf_free(&b);
	if (rc == 0)
		log_info("catch-up: %zu message(s) since %.0f (%.0f s ago) "
		    "taken from %s", total, from, fmn_now() - from, c->base);
	return rc;
}

static void *
catchup_main(void *arg)
{
	struct fmn_catchup *c = arg;
	int64_t next = 0, now;
	long wait;
	double start;

	prctl(PR_SET_NAME, "fmnd-catchup", 0, 0, 0);
	if (c->initial > 0)
		catchup_ask(c, c->initial);
	while (!c->stop) {
		now = fmn_monotonic_ms();
		wait = CATCHUP_TICK_MS;
		if (c->asked > 0 && next - now < wait)
			wait = next > now ? (long)(next - now) : 0;
		catchup_read(c, wait);
		if (c->asked == 0 || fmn_monotonic_ms() < next || c->stop)
			continue;
		start = c->asked;
		c->asked = 0;
		if (catchup_run(c, &start) == 0) {
			c->failures = 0;
			next = fmn_monotonic_ms() + CATCHUP_INTERVAL_MS;
			continue;
		}
		/* Resume where it stopped, with what was asked meanwhile. */
		if (c->asked == 0 || start < c->asked)
			c->asked = start;
		c->failures++;
		next = fmn_monotonic_ms() + (c->failures < 10 ?
		    (CATCHUP_RETRY_MIN_MS << (c->failures - 1)) :
		    CATCHUP_RETRY_MAX_MS);
		if (next - fmn_monotonic_ms() > CATCHUP_RETRY_MAX_MS)
			next = fmn_monotonic_ms() + CATCHUP_RETRY_MAX_MS;
	}
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	return NULL;
}

struct fmn_catchup *
fmn_catchup_new(void *zctx, const struct fmn_config *cfg, double since,
    char **cause)
{
	struct fmn_catchup *c = xcalloc(1, sizeof(*c));
	size_t len;
	int hwm = 0;

	c->base = xstrdup(cfg->catchup_url);
	len = strlen(c->base);
	while (len > 0 && c->base[len - 1] == '/')
		c->base[--len] = '\0';
	c->margin = cfg->catchup_margin;
	c->max_age = (double)cfg->catchup_max_age;
	c->retention = (double)cfg->retention;
	c->max_body = (size_t)cfg->max_message_size * 2 * CATCHUP_ROWS +
	    (1 << 20);
	c->initial = since;
	snprintf(c->endpoint, sizeof(c->endpoint), "inproc://fmn-catchup-%p",
	    (void *)c);
	if ((c->sock = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
	    zmq_bind(c->sock, c->endpoint) != 0) {
		fmn_set_cause(cause, "catch-up: %s", zmq_strerror(errno));
		goto fail;
	}
	if (pthread_create(&c->thread, NULL, catchup_main, c) != 0) {
		fmn_set_cause(cause, "catch-up: cannot start its thread");
		goto fail;
	}
	c->started = 1;
	log_info("catch-up from %s%s", c->base, since > 0 ? "" :
	    " (nothing stored yet: from now on)");
	return c;
fail:
	fmn_catchup_destroy(&c);
	return NULL;
}

const char *
fmn_catchup_endpoint(const struct fmn_catchup *c)
{
	return c->endpoint;
}

void
fmn_catchup_stop(struct fmn_catchup *c)
{
	if (c != NULL)
		c->stop = 1;
}

void
fmn_catchup_destroy(struct fmn_catchup **cp)
{
	struct fmn_catchup *c = *cp;

	if (c == NULL)
		return;
	c->stop = 1;
	if (c->started)
		pthread_join(c->thread, NULL);
	if (c->sock != NULL)
		zmq_close(c->sock);
	free(c->base);
	free(c);
	*cp = NULL;
}
