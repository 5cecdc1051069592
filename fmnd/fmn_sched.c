/*
 * Delivery scheduling. A unit of delivery is one queued notification or
 * one released digest (all queued rows sharing a digest id). Units are
 * picked per context in next_try order, skipping destinations marked
 * failing; a context without a backend is not picked at all, so its
 * notifications wait (fmnctl queue says so).
 *
 * The facts a person reads (subtitle, link, long form, usernames,
 * packages) are not stored with the notification: they are derived
 * again from messages.envelope when the delivery is built, which keeps
 * intake writes small and uses the definitions in force at delivery.
 *
 * Backends report outcomes through a callback that may run inside
 * deliver(); outcomes are queued and recorded by fmn_sched_apply() in
 * the daemon's next transaction, after the rows were marked 'sending'.
 */
#include "fmn_sched.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_hmap.h"
#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define SCHED_MAX_BACKENDS	4
#define SCHED_MAX_INFLIGHT	1024	/* per backend */
#define SCHED_PICK		64	/* units per pick query */
#define SCHED_ENTRY_OVERHEAD	256	/* bytes a digest entry costs beyond its text */
#define SCHED_MSG_CACHE		512	/* parsed messages kept between deliveries */

struct sched_backend {
	struct fmn_backend	 b;
	char			*context;
	char			*target;
	char			*url;		/* as configured */
	size_t			 inflight;
	double			 last_ok;	/* wall clock of the last success */
	double			 last_fail;	/* of the last failure */
	char			*last_error;
	int			 pollfirst;	/* its items in the poll array */
	int			 npoll;
};

struct inflight {
	enum fmn_delivery_kind	 kind;
	struct sched_backend	*sb;
	long long		 destination_id;
	long long		 digest;	/* 0: none */
	long long		*ids;		/* notification ids */
	size_t			 n;
	int			 attempts;	/* before this one */
	char			*user;
	char			*address;
	char			*msg_id;	/* a single notification's, or NULL */
};

struct outcome {
	long long		 delivery_id;
	enum fmn_result		 result;
	char			*error;
};

struct confirm_retry {
	int			 attempts;
	double			 next;
};

/* One notification loaded for a delivery. */
struct row {
	long long		 id;
	long long		 destination_id;
	long long		 digest;
	int			 attempts;
	char			*filter;
	struct fmn_msg		*msg;		/* in the message cache, or */
	int			 owned;		/* ours when the cache was full */
};

struct fmn_sched {
	sqlite3			*db;
	const struct fmn_config	*cfg;
	struct fmn_counters	*counters;
	const struct fmn_defs	*defs;
	const struct fmn_aliases *aliases;
	struct sched_backend	 backends[SCHED_MAX_BACKENDS];
	size_t			 nbackends;
	long long		 next_id;
	struct fmn_hmap		 inflight;	/* delivery id -> inflight */
	size_t			 ninflight;
	struct fmn_hmap		 confirming;	/* destination id -> delivery id */
	struct fmn_hmap		 confirm_retry;	/* destination id -> confirm_retry */
	/*
	 * messages.id -> parsed message with its facts: a message usually
	 * notifies several people, one after the other in the queue.
	 */
	struct fmn_hmap		 msgcache;
	/*
	 * Outcomes reported by the backends, in order. The first napplied
	 * were written in the open transaction: they are forgotten when it
	 * commits, and written again after a rollback, so that an outcome
	 * is never lost with a transaction that failed.
	 */
	struct outcome		*outcomes;
	size_t			 noutcomes;
	size_t			 napplied;
	size_t			 outcomes_cap;
	/*
	 * Notification id -> delivery id, for every row handed to a backend
	 * and not yet settled: a rolled-back hand-off leaves the row
	 * 'queued' in the database while the backend has it, and it must
	 * not be picked (and sent) again.
	 */
	struct fmn_hmap		 busy;
	/* Scratch reused by every delivery. */
	struct row		*rows;
	size_t			 rows_cap;
	struct fmn_notice	*notices;
	size_t			 notices_cap;
	sqlite3_stmt		*pick;
	sqlite3_stmt		*load_one;
	sqlite3_stmt		*load_digest;
	sqlite3_stmt		*set_sending;
	sqlite3_stmt		*set_delivered;
	sqlite3_stmt		*set_retry;
	sqlite3_stmt		*set_failed;
	sqlite3_stmt		*split;
	sqlite3_stmt		*dest_failing;
	sqlite3_stmt		*confirm_pick;
	sqlite3_stmt		*confirm_sent;
};

#define SCHED_LOAD_COLUMNS \
	"SELECT n.id, n.destination_id, coalesce(n.digest, 0), n.attempts, " \
	"n.filter, u.name, d.address, p.verbose, p.markup, m.envelope, " \
	"n.message_id, m.summary FROM notifications n " \
	"JOIN destinations d ON d.id = n.destination_id " \
	"JOIN users u ON u.id = n.user_id " \
	"JOIN preferences p ON p.id = n.preference_id " \
	"JOIN messages m ON m.id = n.message_id "

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

static void
sched_cache_clear(struct fmn_sched *s)
{
	fmn_imap_clear(&s->msgcache, sched_msg_free);
}

static void
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

const char *
fmn_sched_backend_name(const struct fmn_sched *s, const char *context)
{
	size_t i;

	for (i = 0; i < s->nbackends; i++)
		if (strcmp(s->backends[i].context, context) == 0)
			return s->backends[i].b.ops->name;
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

static int
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

static void
sched_rows_clear(struct fmn_sched *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s->rows[i].filter);
		if (s->rows[i].owned)
			fmn_msg_destroy(&s->rows[i].msg);
		s->rows[i].msg = NULL;
	}
}

static const char *
column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? (const char *)t : "";
}

/*
 * Load a unit's rows with st (bound by the caller), and the person
 * details of the first into the delivery. Returns the number of rows.
 */
static size_t
sched_load(struct fmn_sched *s, sqlite3_stmt *st, struct fmn_delivery *d,
    char **user, char **address)
{
	size_t n = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *env;
		struct row *r;
		long long mid;
		json_t *j;
		char *cause = NULL;

		if (n == s->rows_cap) {
			s->rows_cap = s->rows_cap ? s->rows_cap * 2 : 64;
			s->rows = xreallocarray(s->rows, s->rows_cap,
			    sizeof(*s->rows));
		}
		r = &s->rows[n++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->destination_id = sqlite3_column_int64(st, 1);
		r->digest = sqlite3_column_int64(st, 2);
		r->attempts = sqlite3_column_int(st, 3);
		r->filter = xstrdup(column_text(st, 4));
		if (n == 1) {
			*user = xstrdup(column_text(st, 5));
			*address = xstrdup(column_text(st, 6));
			d->verbose = sqlite3_column_int(st, 7);
			d->markup = sqlite3_column_int(st, 8);
		}
		mid = sqlite3_column_int64(st, 10);
		if ((r->msg = fmn_imap_get(&s->msgcache, mid)) != NULL)
			continue;
		/* The summary stored at intake; else the envelope, again. */
		if (sqlite3_column_type(st, 11) == SQLITE_TEXT)
			r->msg = fmn_msg_from_summary(
			    (const char *)sqlite3_column_text(st, 11),
			    (size_t)sqlite3_column_bytes(st, 11));
		if (r->msg == NULL) {
			env = (const char *)sqlite3_column_text(st, 9);
			j = env != NULL ? json_loadb(env,
			    (size_t)sqlite3_column_bytes(st, 9), 0, NULL) : NULL;
			if (j != NULL)
				r->msg = fmn_msg_from_json(j, NULL, &cause);
			json_decref(j);
		}
		if (r->msg == NULL) {
			/* Stored envelopes were valid; say so and go on. */
			log_warn("scheduler: notification %lld: stored message "
			    "unreadable: %s", r->id, cause ? cause : "bad JSON");
			free(cause);
			continue;
		}
		if (s->defs != NULL)
			fmn_facts_derive(s->defs, s->aliases, r->msg);
		/* Rows of this unit point into the cache: clear it first. */
		if (s->msgcache.n >= SCHED_MSG_CACHE && n == 1)
			sched_cache_clear(s);
		if (s->msgcache.n < 2 * SCHED_MSG_CACHE)
			fmn_imap_put(&s->msgcache, mid, r->msg);
		else
			r->owned = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		log_err("scheduler: database: %s", sqlite3_errmsg(s->db));
	return n;
}

static size_t
notice_size(const struct fmn_notice *n)
{
	return SCHED_ENTRY_OVERHEAD + strlen(n->topic) +
	    (n->subtitle ? strlen(n->subtitle) : 0) +
	    (n->link ? strlen(n->link) : 0) +
	    (n->long_form ? strlen(n->long_form) : 0);
}

static void
notice_fill(struct fmn_notice *nt, const struct row *r)
{
	const struct fmn_msg *m = r->msg;

	memset(nt, 0, sizeof(*nt));
	nt->notification_id = r->id;
	nt->filter = r->filter;
	if (m == NULL) {
		nt->topic = "";
		nt->category = "";
		nt->subtitle = "(the message could not be read)";
		return;
	}
	nt->msg_id = m->msg_id;
	nt->topic = m->topic;
	nt->category = m->category;
	nt->timestamp = m->timestamp;
	nt->subtitle = m->facts.subtitle != NULL && *m->facts.subtitle != '\0' ?
	    m->facts.subtitle : m->topic;
	nt->link = m->facts.link;
	nt->long_form = m->facts.long_form;
	nt->usernames = &m->facts.usernames;
	nt->packages = &m->facts.packages;
}

/*
 * Build and hand over one unit (a notification, or a digest when digest
 * is not 0). Returns 1 when handed over, 0 when there was nothing to
 * send, -1 when the backend cannot take it now, -2 on a database error.
 */
static int
sched_unit(struct fmn_sched *s, struct sched_backend *sb, long long id,
    long long digest)
{
	struct fmn_delivery d;
	struct inflight *f;
	char *user = NULL, *address = NULL;
	size_t n, i, take, bytes = 0;
	int rc = 1;

	memset(&d, 0, sizeof(d));
	if (digest != 0) {
		sqlite3_bind_int64(s->load_digest, 1, digest);
		sqlite3_bind_int(s->load_digest, 2,
		    s->cfg->digest_max_entries + 1);
		n = sched_load(s, s->load_digest, &d, &user, &address);
	} else {
		sqlite3_bind_int64(s->load_one, 1, id);
		n = sched_load(s, s->load_one, &d, &user, &address);
	}
	if (n == 0) {
		free(user);
		free(address);
		return 0;
	}
	if (n > s->notices_cap) {
		s->notices_cap = n;
		s->notices = xreallocarray(s->notices, n, sizeof(*s->notices));
	}
	/* Entries within the limits; the rest becomes the next digest. */
	for (take = 0; take < n; take++) {
		size_t sz;

		if (take == (size_t)s->cfg->digest_max_entries)
			break;
		notice_fill(&s->notices[take], &s->rows[take]);
		sz = notice_size(&s->notices[take]);
		if (take > 0 && bytes + sz > (size_t)s->cfg->digest_max_bytes)
			break;
		if (take == 0 && sz > (size_t)s->cfg->digest_max_bytes)
			s->notices[take].long_form = NULL;
		bytes += sz;
	}
	if (take < n && digest != 0) {
		sqlite3_bind_int64(s->split, 1, s->rows[take].id);
		sqlite3_bind_int64(s->split, 2, digest);
		if (sched_step(s, s->split) != 0) {
			rc = -2;
			goto out;
		}
		log_debug("scheduler: digest %lld over its limits: split at "
		    "%lld", digest, s->rows[take].id);
	}

	f = xcalloc(1, sizeof(*f));
	f->kind = take > 1 ? FMN_DELIVERY_DIGEST : FMN_DELIVERY_SINGLE;
	f->sb = sb;
	f->destination_id = s->rows[0].destination_id;
	f->digest = digest;
	f->ids = xreallocarray(NULL, take, sizeof(*f->ids));
	for (i = 0; i < take; i++)
		f->ids[i] = s->rows[i].id;
	f->n = take;
	f->attempts = s->rows[0].attempts;
	f->user = user;
	f->address = address;
	user = address = NULL;
	if (take == 1 && s->notices[0].msg_id != NULL)
		f->msg_id = xstrdup(s->notices[0].msg_id);

	d.id = s->next_id++;
	d.kind = f->kind;
	d.context = sb->context;
	d.user = f->user;
	d.destination_id = f->destination_id;
	d.address = f->address;
	d.notices = s->notices;
	d.n_notices = take;
	fmn_imap_put(&s->inflight, d.id, f);
	s->ninflight++;
	sb->inflight++;
	if (sb->b.ops->deliver(&sb->b, &d) != 0) {
		fmn_imap_del(&s->inflight, d.id);
		s->ninflight--;
		sb->inflight--;
		inflight_free(f);
		rc = -1;
		goto out;
	}
	for (i = 0; i < take; i++)
		fmn_imap_put(&s->busy, s->rows[i].id, (void *)(intptr_t)d.id);
	for (i = 0; i < take; i++) {
		sqlite3_bind_int64(s->set_sending, 1, s->rows[i].id);
		if (sched_step(s, s->set_sending) != 0) {
			rc = -2;
			goto out;
		}
	}
out:
	sched_rows_clear(s, n);
	free(user);
	free(address);
	return rc;
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
		c[n].context = xstrdup(column_text(s->confirm_pick, 1));
		c[n].address = xstrdup(column_text(s->confirm_pick, 2));
		c[n].secret = xstrdup(column_text(s->confirm_pick, 3));
		c[n].expires = sqlite3_column_double(s->confirm_pick, 4);
		c[n].user = xstrdup(column_text(s->confirm_pick, 5));
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

/* Remember how the backend fared, for fmnctl status. */
static void
sched_note(struct sched_backend *sb, enum fmn_result result,
    const char *error, double now)
{
	if (result == FMN_RESULT_DELIVERED) {
		sb->last_ok = now;
		return;
	}
	if (result != FMN_RESULT_TEMPFAIL && result != FMN_RESULT_PERMFAIL)
		return;
	sb->last_fail = now;
	free(sb->last_error);
	sb->last_error = xstrdup(error != NULL ? error : "failed");
}

/*
 * "alice email alice@example.org, 1 notification (message ID)": who a
 * delivery is for and what it holds, as every delivery's log line says.
 */
static void
sched_what(const struct inflight *f, struct fmn_buf *b)
{
	fmn_buf_reset(b);
	fmn_buf_printf(b, "%s %s %s, ", f->user, f->sb->context, f->address);
	if (f->kind == FMN_DELIVERY_DIGEST)
		fmn_buf_printf(b, "digest %lld of %zu notifications",
		    f->digest, f->n);
	else if (f->msg_id != NULL)
		fmn_buf_printf(b, "1 notification (message %.100s)",
		    f->msg_id);
	else
		fmn_buf_printf(b, "1 notification (notification %lld)",
		    f->n > 0 ? f->ids[0] : 0);
}

static int
sched_mark(struct fmn_sched *s, const struct inflight *f,
    enum fmn_result result, const char *error, double now)
{
	sqlite3_stmt *st;
	struct fmn_buf what;
	double next = 0;
	int attempts = f->attempts + 1;
	size_t i;

	fmn_buf_init(&what);
	sched_what(f, &what);
	sched_note(f->sb, result, error, now);
	switch (result) {
	case FMN_RESULT_DELIVERED:
		st = s->set_delivered;
		fmn_counters_add(s->counters, FMN_C_NOTIFICATIONS_DELIVERED,
		    (long long)f->n);
		fmn_counters_add(s->counters, FMN_C_DELIVERIES, 1);
		if (f->kind == FMN_DELIVERY_DIGEST)
			fmn_counters_add(s->counters, FMN_C_DIGESTS, 1);
		log_info("delivered: %s", what.data);
		break;
	case FMN_RESULT_TEMPFAIL:
		if (s->cfg->max_attempts > 0 &&
		    attempts >= s->cfg->max_attempts) {
			st = s->set_failed;
			fmn_counters_add(s->counters,
			    FMN_C_NOTIFICATIONS_FAILED, (long long)f->n);
			log_warn("given up after %d attempts: %s: %s",
			    attempts, what.data,
			    error ? error : "temporary failure");
			break;
		}
		st = s->set_retry;
		next = now + fmn_sched_backoff(s->cfg, attempts);
		fmn_counters_add(s->counters, FMN_C_NOTIFICATIONS_RETRIED,
		    (long long)f->n);
		log_warn("failed temporarily, retry in %.0f s: %s: %s",
		    next - now, what.data, error ? error : "temporary failure");
		break;
	case FMN_RESULT_EXPIRED:
		st = s->set_failed;
		fmn_counters_add(s->counters, FMN_C_NOTIFICATIONS_FAILED,
		    (long long)f->n);
		log_warn("dropped: %s: %s", what.data,
		    error ? error : "expired");
		break;
	case FMN_RESULT_REJECTED:
		/* This mail's fault (its content), not the destination's. */
		st = s->set_failed;
		fmn_counters_add(s->counters, FMN_C_NOTIFICATIONS_FAILED,
		    (long long)f->n);
		log_warn("refused: %s: %s", what.data,
		    error ? error : "refused");
		break;
	case FMN_RESULT_PERMFAIL:
	default:
		st = s->set_failed;
		fmn_counters_add(s->counters, FMN_C_NOTIFICATIONS_FAILED,
		    (long long)f->n);
		sqlite3_bind_int64(s->dest_failing, 1, f->destination_id);
		sqlite3_bind_text(s->dest_failing, 2,
		    error ? error : "refused", -1, SQLITE_STATIC);
		if (sched_step(s, s->dest_failing) != 0) {
			fmn_buf_free(&what);
			return -1;
		}
		log_err("refused: %s: %s; destination %lld marked failing, "
		    "no more deliveries to it until an admin clears it "
		    "(fmnctl dest reset)", what.data,
		    error ? error : "permanent failure", f->destination_id);
		break;
	}
	fmn_buf_free(&what);
	for (i = 0; i < f->n; i++) {
		sqlite3_bind_int64(st, 1, f->ids[i]);
		if (st == s->set_delivered)
			sqlite3_bind_double(st, 2, now);
		else if (st == s->set_retry) {
			sqlite3_bind_double(st, 2, next);
			if (error != NULL)
				sqlite3_bind_text(st, 3, error, -1,
				    SQLITE_STATIC);
			else
				sqlite3_bind_null(st, 3);
		} else
			sqlite3_bind_text(st, 2, error ? error : "failed", -1,
			    SQLITE_STATIC);
		if (sched_step(s, st) != 0)
			return -1;
	}
	return 0;
}

static int
sched_mark_confirm(struct fmn_sched *s, const struct inflight *f,
    enum fmn_result result, const char *error, double now)
{
	struct confirm_retry *r;

	fmn_imap_del(&s->confirming, f->destination_id);
	sched_note(f->sb, result, error, now);
	switch (result) {
	case FMN_RESULT_DELIVERED:
		free(fmn_imap_del(&s->confirm_retry, f->destination_id));
		fmn_counters_add(s->counters, FMN_C_CONFIRMATIONS_SENT, 1);
		log_info("confirmation request sent: %s %s %s", f->user,
		    f->sb->context, f->address);
		sqlite3_bind_int64(s->confirm_sent, 1, f->destination_id);
		return sched_step(s, s->confirm_sent);
	case FMN_RESULT_TEMPFAIL:
		r = fmn_imap_get(&s->confirm_retry, f->destination_id);
		if (r == NULL) {
			r = xcalloc(1, sizeof(*r));
			fmn_imap_put(&s->confirm_retry, f->destination_id, r);
		}
		r->attempts++;
		r->next = now + fmn_sched_backoff(s->cfg, r->attempts);
		log_warn("confirmation to %s (%s, user %s) failed "
		    "temporarily, retry in %.0f s: %s", f->address,
		    f->sb->context, f->user, r->next - now,
		    error ? error : "temporary failure");
		return 0;
	case FMN_RESULT_EXPIRED:
	case FMN_RESULT_REJECTED:
		/* The secret expired, or the server refused this mail:
		 * nothing wrong with the address, nothing sent again;
		 * confirm_sent keeps it from being picked. */
		free(fmn_imap_del(&s->confirm_retry, f->destination_id));
		log_info("confirmation to %s (%s, user %s) not sent: %s",
		    f->address, f->sb->context, f->user,
		    error ? error : "expired");
		sqlite3_bind_int64(s->confirm_sent, 1, f->destination_id);
		return sched_step(s, s->confirm_sent);
	case FMN_RESULT_PERMFAIL:
	default:
		free(fmn_imap_del(&s->confirm_retry, f->destination_id));
		sqlite3_bind_int64(s->dest_failing, 1, f->destination_id);
		sqlite3_bind_text(s->dest_failing, 2,
		    error ? error : "refused", -1, SQLITE_STATIC);
		log_err("destination %lld (%s %s of user %s) refused the "
		    "confirmation request: %s; marked failing",
		    f->destination_id, f->sb->context, f->address, f->user,
		    error ? error : "permanent failure");
		return sched_step(s, s->dest_failing);
	}
}

int
fmn_sched_apply(struct fmn_sched *s, double now)
{
	struct outcome *o;
	struct inflight *f;

	for (; s->napplied < s->noutcomes; s->napplied++) {
		o = &s->outcomes[s->napplied];
		if ((f = fmn_imap_get(&s->inflight, o->delivery_id)) == NULL) {
			log_warn("scheduler: outcome for unknown delivery %lld",
			    o->delivery_id);
			continue;
		}
		if ((f->kind == FMN_DELIVERY_CONFIRM ?
		    sched_mark_confirm(s, f, o->result, o->error, now) :
		    sched_mark(s, f, o->result, o->error, now)) != 0)
			return -1;
	}
	return 0;
}

void
fmn_sched_committed(struct fmn_sched *s)
{
	struct outcome *o;
	struct inflight *f;
	size_t i, k;

	for (i = 0; i < s->napplied; i++) {
		o = &s->outcomes[i];
		if ((f = fmn_imap_del(&s->inflight, o->delivery_id)) != NULL) {
			s->ninflight--;
			f->sb->inflight--;
			for (k = 0; f->kind != FMN_DELIVERY_CONFIRM && k < f->n;
			    k++)
				fmn_imap_del(&s->busy, f->ids[k]);
			inflight_free(f);
		}
		free(o->error);
	}
	memmove(s->outcomes, s->outcomes + s->napplied,
	    (s->noutcomes - s->napplied) * sizeof(*s->outcomes));
	s->noutcomes -= s->napplied;
	s->napplied = 0;
}

void
fmn_sched_rolled_back(struct fmn_sched *s)
{
	s->napplied = 0;
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
