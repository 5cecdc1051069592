/*
 * The scheduler (see fmn_sched.h and fmn_sched_int.h): its state, the
 * backends it drives, picking due units in next_try order, confirmation
 * requests, and the backends' poll items and timers.
 */
#include "fmn_sched_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_log.h"
#include "fmn_store.h"
#include "fmn_util.h"

struct fmn_sched *
fmn_sched_new(sqlite3 *db, const struct fmn_config *cfg,
    struct fmn_counters *counters, char **cause)
{
	struct fmn_sched *s = xcalloc(1, sizeof(*s));

	s->db = db;
	s->cfg = cfg;
	s->counters = counters;
	s->next_id = 1;
#define PREP(field, sql) \
	if ((s->field = fmn_store_prepare(db, sql, cause)) == NULL) \
		goto fail
	PREP(pick, "SELECT n.id, coalesce(n.digest, 0) FROM notifications n "
	    "JOIN destinations d ON d.id = n.destination_id "
	    "WHERE n.state = 'queued' AND n.context = ?1 AND "
	    "n.next_try <= ?2 AND d.failing = 0 "
	    "ORDER BY n.next_try, n.id LIMIT ?3");
	PREP(load_one, SCHED_LOAD_COLUMNS
	    "WHERE n.id = ? AND n.state = 'queued'");
	PREP(load_digest, SCHED_LOAD_COLUMNS
	    "WHERE n.digest = ? AND n.state = 'queued' ORDER BY n.id LIMIT ?");
	PREP(set_sending, "UPDATE notifications SET state = 'sending' "
	    "WHERE id = ?");
	PREP(set_delivered, "UPDATE notifications SET state = 'delivered', "
	    "delivered = ?2, attempts = attempts + 1, last_error = NULL "
	    "WHERE id = ?1");
	PREP(set_retry, "UPDATE notifications SET state = 'queued', "
	    "next_try = ?2, attempts = attempts + 1, last_error = ?3 "
	    "WHERE id = ?1");
	PREP(set_failed, "UPDATE notifications SET state = 'failed', "
	    "attempts = attempts + 1, last_error = ?2 WHERE id = ?1");
	PREP(split, "UPDATE notifications SET digest = ?1 WHERE digest = ?2 "
	    "AND state = 'queued' AND id >= ?1");
	PREP(dest_failing, "UPDATE destinations SET failing = 1, "
	    "last_error = ?2 WHERE id = ?1");
	PREP(confirm_pick, "SELECT d.id, d.context, d.address, d.secret, "
	    "coalesce(d.expires, 0), u.name FROM destinations d "
	    "JOIN users u ON u.id = d.user_id WHERE d.confirmed = 0 AND "
	    "d.secret IS NOT NULL AND d.confirm_sent = 0 AND d.failing = 0 "
	    "AND (d.expires IS NULL OR d.expires > ?1)");
	PREP(confirm_sent, "UPDATE destinations SET confirm_sent = 1 "
	    "WHERE id = ?");
#undef PREP
	return s;
fail:
	fmn_sched_destroy(&s);
	return NULL;
}

static void
sched_msg_free(void *p)
{
	struct fmn_msg *m = p;

	fmn_msg_destroy(&m);
}

void
sched_cache_clear(struct fmn_sched *s)
{
	fmn_imap_clear(&s->msgcache, sched_msg_free);
}

void
inflight_free(void *p)
{
	struct inflight *f = p;

	free(f->ids);
	free(f->user);
	free(f->address);
	free(f->msg_id);
	free(f);
}

void
fmn_sched_destroy(struct fmn_sched **sp)
{
	struct fmn_sched *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nbackends; i++) {
		struct sched_backend *sb = &s->backends[i];

		if (sb->b.ops->fini != NULL)
			sb->b.ops->fini(&sb->b);
		free(sb->context);
		free(sb->target);
		free(sb->url);
		free(sb->last_error);
	}
	fmn_imap_clear(&s->inflight, inflight_free);
	fmn_imap_clear(&s->busy, NULL);
	fmn_imap_clear(&s->confirming, NULL);
	fmn_imap_clear(&s->confirm_retry, free);
	sched_cache_clear(s);
	for (i = 0; i < s->noutcomes; i++)
		free(s->outcomes[i].error);
	free(s->outcomes);
	free(s->rows);
	free(s->notices);
	sqlite3_finalize(s->pick);
	sqlite3_finalize(s->load_one);
	sqlite3_finalize(s->load_digest);
	sqlite3_finalize(s->set_sending);
	sqlite3_finalize(s->set_delivered);
	sqlite3_finalize(s->set_retry);
	sqlite3_finalize(s->set_failed);
	sqlite3_finalize(s->split);
	sqlite3_finalize(s->dest_failing);
	sqlite3_finalize(s->confirm_pick);
	sqlite3_finalize(s->confirm_sent);
	free(s);
	*sp = NULL;
}

void
fmn_sched_set_facts(struct fmn_sched *s, const struct fmn_defs *defs,
    const struct fmn_aliases *aliases)
{
	sched_cache_clear(s);
	s->defs = defs;
	s->aliases = aliases;
}

/* The backends' outcome callback: queue it for fmn_sched_apply(). */
static void
sched_done(void *arg, long long delivery_id, enum fmn_result result,
    const char *error)
{
	struct fmn_sched *s = arg;
	struct outcome *o;

	if (s->noutcomes == s->outcomes_cap) {
		s->outcomes_cap = s->outcomes_cap ? s->outcomes_cap * 2 : 64;
		s->outcomes = xreallocarray(s->outcomes, s->outcomes_cap,
		    sizeof(*s->outcomes));
	}
	o = &s->outcomes[s->noutcomes++];
	o->delivery_id = delivery_id;
	o->result = result;
	o->error = error != NULL ? xstrdup(error) : NULL;
}

int
fmn_sched_add_backend(struct fmn_sched *s, const struct fmn_backend_ops *ops,
    const char *context, const char *url, const char *target, char **cause)
{
	struct sched_backend *sb;

	if (s->nbackends == SCHED_MAX_BACKENDS) {
		fmn_set_cause(cause, "too many backends");
		return -1;
	}
	sb = &s->backends[s->nbackends];
	memset(sb, 0, sizeof(*sb));
	sb->context = xstrdup(context);
	sb->target = target != NULL ? xstrdup(target) : NULL;
	sb->url = xstrdup(url);
	sb->b.ops = ops;
	sb->b.cfg = s->cfg;
	sb->b.db = s->db;
	sb->b.done = sched_done;
	sb->b.done_arg = s;
	sb->b.context = sb->context;
	sb->b.target = sb->target;
	if (ops->init != NULL && ops->init(&sb->b, cause) != 0) {
		free(sb->context);
		free(sb->target);
		free(sb->url);
		return -1;
	}
	s->nbackends++;
	return 0;
}

static struct sched_backend *
sched_backend(struct fmn_sched *s, const char *context)
{
	size_t i;

	for (i = 0; i < s->nbackends; i++)
		if (strcmp(s->backends[i].context, context) == 0)
			return &s->backends[i];
	return NULL;
}

/* A URL as it may be shown: without "user:password@". */
static void
sched_url_public(struct fmn_buf *b, const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at;

	if (scheme == NULL) {
		fmn_buf_adds(b, url);
		return;
	}
	host = scheme + 3;
	at = strchr(host, '@');
	if (at != NULL && at < host + strcspn(host, "/?#")) {
		fmn_buf_add(b, url, (size_t)(host - url));
		fmn_buf_adds(b, at + 1);
	} else
		fmn_buf_adds(b, url);
}

json_t *
fmn_sched_backends(const struct fmn_sched *s)
{
	json_t *out = json_array();
	struct fmn_buf url;
	size_t i;

	fmn_buf_init(&url);
	for (i = 0; i < s->nbackends; i++) {
		const struct sched_backend *sb = &s->backends[i];
		enum fmn_backend_status st;
		char detail[256];

		detail[0] = '\0';
		if (sb->b.ops->status != NULL)
			st = sb->b.ops->status((struct fmn_backend *)&sb->b,
			    detail, sizeof(detail));
		else if (sb->last_fail > sb->last_ok) {
			st = FMN_BACKEND_FAILING;
			snprintf(detail, sizeof(detail), "%s", sb->last_error);
		} else if (sb->last_ok > 0) {
			st = FMN_BACKEND_CONNECTED;
			snprintf(detail, sizeof(detail), "last delivery "
			    "worked");
		} else {
			st = FMN_BACKEND_IDLE;
			snprintf(detail, sizeof(detail), "no delivery tried "
			    "yet");
		}
		fmn_buf_reset(&url);
		sched_url_public(&url, sb->url != NULL ? sb->url : "");
		json_array_append_new(out, json_pack("{s:s s:s s:s s:s s:s "
		    "s:I s:o* s:o*}",
		    "context", sb->context, "backend", sb->b.ops->name,
		    "url", url.data,
		    "state", st == FMN_BACKEND_CONNECTED ? "connected" :
		    st == FMN_BACKEND_FAILING ? "failing" :
		    st == FMN_BACKEND_IDLE ? "idle" : "waiting",
		    "detail", detail, "inflight", (json_int_t)sb->inflight,
		    "last_ok", sb->last_ok > 0 ? json_real(sb->last_ok) : NULL,
		    "last_failure", sb->last_fail > 0 ?
		    json_real(sb->last_fail) : NULL));
	}
	fmn_buf_free(&url);
	return out;
}

double
fmn_sched_backoff(const struct fmn_config *cfg, int attempts)
{
	double d = cfg->retry_initial;

	if (attempts < 1)
		attempts = 1;
	if (attempts > 1)
		d = ldexp(d, attempts - 1 > 40 ? 40 : attempts - 1);
	if (d > cfg->retry_max)
		d = cfg->retry_max;
	return d;
}

int
sched_step(struct fmn_sched *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_err("scheduler: database: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int
fmn_sched_dispatch(struct fmn_sched *s, double now, int max)
{
	size_t i, k;
	int handed = 0, rc;

	for (i = 0; i < s->nbackends; i++) {
		struct sched_backend *sb = &s->backends[i];
		long long ids[SCHED_PICK], digests[SCHED_PICK];
		size_t n, skipped;
		int stop = 0;

		while (!stop && handed < max) {
			if (sb->inflight >= SCHED_MAX_INFLIGHT)
				break;
			sqlite3_bind_text(s->pick, 1, sb->context, -1,
			    SQLITE_STATIC);
			sqlite3_bind_double(s->pick, 2, now);
			sqlite3_bind_int(s->pick, 3, SCHED_PICK);
			n = 0;
			while ((rc = sqlite3_step(s->pick)) == SQLITE_ROW) {
				ids[n] = sqlite3_column_int64(s->pick, 0);
				digests[n] = sqlite3_column_int64(s->pick, 1);
				n++;
			}
			sqlite3_reset(s->pick);
			if (rc != SQLITE_DONE) {
				log_err("scheduler: database: %s",
				    sqlite3_errmsg(s->db));
				return -1;
			}
			if (n == 0)
				break;
			skipped = 0;
			for (k = 0; k < n && handed < max; k++) {
				if (fmn_imap_get(&s->busy, ids[k]) != NULL) {
					skipped++;
					continue;
				}
				rc = sched_unit(s, sb, ids[k], digests[k]);
				if (rc == -2)
					return -1;
				if (rc == -1 ||
				    sb->inflight >= SCHED_MAX_INFLIGHT) {
					stop = 1;
					break;
				}
				handed += rc;
			}
			/* Only rows a backend still has: nothing more to do. */
			if (n < SCHED_PICK || skipped == n)
				break;
		}
	}
	return handed;
}

int
fmn_sched_confirm(struct fmn_sched *s, double now)
{
	struct {
		long long	 id;
		char		*context, *address, *secret, *user;
		double		 expires;
	} *c = NULL;
	size_t n = 0, i;
	int rc, sent = 0;

	sqlite3_bind_double(s->confirm_pick, 1, now);
	while ((rc = sqlite3_step(s->confirm_pick)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(s->confirm_pick, 0);
		struct confirm_retry *r = fmn_imap_get(&s->confirm_retry, id);

		if (fmn_imap_get(&s->confirming, id) != NULL ||
		    (r != NULL && r->next > now))
			continue;
		c = xreallocarray(c, n + 1, sizeof(*c));
		c[n].id = id;
		c[n].context = xstrdup(sched_column_text(s->confirm_pick, 1));
		c[n].address = xstrdup(sched_column_text(s->confirm_pick, 2));
		c[n].secret = xstrdup(sched_column_text(s->confirm_pick, 3));
		c[n].expires = sqlite3_column_double(s->confirm_pick, 4);
		c[n].user = xstrdup(sched_column_text(s->confirm_pick, 5));
		n++;
	}
	sqlite3_reset(s->confirm_pick);
	if (rc != SQLITE_DONE)
		log_err("scheduler: database: %s", sqlite3_errmsg(s->db));
	for (i = 0; i < n; i++) {
		struct sched_backend *sb = sched_backend(s, c[i].context);
		struct fmn_delivery d;
		struct inflight *f;

		if (sb == NULL || sb->inflight >= SCHED_MAX_INFLIGHT)
			goto next;
		f = xcalloc(1, sizeof(*f));
		f->kind = FMN_DELIVERY_CONFIRM;
		f->sb = sb;
		f->destination_id = c[i].id;
		f->user = xstrdup(c[i].user);
		f->address = xstrdup(c[i].address);
		memset(&d, 0, sizeof(d));
		d.id = s->next_id++;
		d.kind = FMN_DELIVERY_CONFIRM;
		d.context = sb->context;
		d.user = f->user;
		d.destination_id = c[i].id;
		d.address = f->address;
		d.verbose = 1;
		d.secret = c[i].secret;
		d.expires = c[i].expires;
		fmn_imap_put(&s->inflight, d.id, f);
		fmn_imap_put(&s->confirming, c[i].id, (void *)(intptr_t)d.id);
		s->ninflight++;
		sb->inflight++;
		if (sb->b.ops->deliver(&sb->b, &d) != 0) {
			fmn_imap_del(&s->inflight, d.id);
			fmn_imap_del(&s->confirming, c[i].id);
			s->ninflight--;
			sb->inflight--;
			inflight_free(f);
		} else
			sent++;
next:
		free(c[i].context);
		free(c[i].address);
		free(c[i].secret);
		free(c[i].user);
	}
	free(c);
	return sent;
}

int
fmn_sched_has_outcomes(const struct fmn_sched *s)
{
	return s->napplied < s->noutcomes;
}

size_t
fmn_sched_inflight(const struct fmn_sched *s)
{
	return s->ninflight;
}

int
fmn_sched_pollitems(struct fmn_sched *s, zmq_pollitem_t *items, int max)
{
	size_t i;
	int n = 0;

	for (i = 0; i < s->nbackends; i++) {
		struct sched_backend *sb = &s->backends[i];

		sb->pollfirst = n;
		sb->npoll = 0;
		if (sb->b.ops->pollitems != NULL && n < max)
			sb->npoll = sb->b.ops->pollitems(&sb->b, items + n,
			    max - n);
		n += sb->npoll;
	}
	return n;
}

void
fmn_sched_process(struct fmn_sched *s, zmq_pollitem_t *items)
{
	size_t i;

	for (i = 0; i < s->nbackends; i++) {
		struct sched_backend *sb = &s->backends[i];

		if (sb->b.ops->process != NULL)
			sb->b.ops->process(&sb->b, items + sb->pollfirst,
			    sb->npoll);
	}
}

long
fmn_sched_timeout(struct fmn_sched *s)
{
	long t, best = -1;
	size_t i;

	for (i = 0; i < s->nbackends; i++) {
		struct sched_backend *sb = &s->backends[i];

		if (sb->b.ops->timeout == NULL)
			continue;
		t = sb->b.ops->timeout(&sb->b);
		if (t >= 0 && (best < 0 || t < best))
			best = t;
	}
	return best;
}
