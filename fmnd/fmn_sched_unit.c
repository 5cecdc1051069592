/*
 * One unit of delivery, built: its notifications' rows (and their
 * messages' facts, from the summary stored at intake, else the envelope
 * again), the notices a person reads, cut to the digest limits (the
 * rest becomes the next digest), handed to the backend.
 */
#include "fmn_sched_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_log.h"
#include "fmn_store.h"
#include "fmn_util.h"

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

const char *
sched_column_text(sqlite3_stmt *st, int col)
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
		r->filter = xstrdup(sched_column_text(st, 4));
		if (n == 1) {
			*user = xstrdup(sched_column_text(st, 5));
			*address = xstrdup(sched_column_text(st, 6));
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
int
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
