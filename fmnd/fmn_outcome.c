/*
 * Outcomes: what the backends report, recorded in the database (delivered,
 * retried with backoff, failed, the destination marked failing), logged
 * one line each, and forgotten only once a commit has them.
 */
#include "fmn_sched_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_log.h"
#include "fmn_store.h"
#include "fmn_util.h"

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
	/* Before any outcome the array is NULL: memmove may not see it. */
	if (s->noutcomes > s->napplied)
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
