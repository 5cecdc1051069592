/*
 * fmnctl history: the stored messages, asked as datagrepper's /raw asks
 * (schema/fmn_history.c); and fmnctl match --history: which of them a
 * user's filters would have notified, and through which filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "ctl_history.h"
#include "fmn_facts.h"
#include "fmn_history.h"
#include "fmn_match.h"
#include "fmn_msg.h"

#define HISTORY_LIMIT		20	/* messages shown by default */
#define MATCH_SINCE		86400	/* match --history looks this far back */

/* The query's time range from --since; -1 after a usage error. */
static int
history_since(struct fmn_ctl *ctl, const char *since,
    struct fmn_history_query *q)
{
	double d;

	if (since == NULL)
		return 0;
	if ((d = fmn_history_duration(since)) < 0)
		return ctl_usage(ctl, "--since %s: expected a duration such as "
		    "3600, 90m, 12h, 2d or 1w", since), -1;
	q->has_start = 1;
	q->start = fmn_now() - d;
	return 0;
}

static void
history_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%.0f", t);
}

/* The subtitle of a stored summary, or NULL (the caller frees it). */
static char *
history_subtitle(const char *summary)
{
	json_t *o, *s;
	char *v = NULL;

	if (summary == NULL ||
	    (o = json_loads(summary, 0, NULL)) == NULL)
		return NULL;
	if (json_is_string(s = json_object_get(o, "subtitle")))
		v = xstrdup(json_string_value(s));
	json_decref(o);
	return v;
}

struct history_print {
	struct fmn_ctl	*ctl;
	long		 n;
};

static int
history_print(void *arg, const struct fmn_history_row *r)
{
	struct history_print *p = arg;
	char when[32], *sub;

	p->n++;
	if (p->ctl->json) {
		/* The envelope as stored: fmnctl match - reads it back. */
		fwrite(r->envelope, 1, r->envelope_len, stdout);
		putchar('\n');
		return 0;
	}
	history_time(r->t, when, sizeof(when));
	sub = history_subtitle(r->summary);
	printf("%s  %s  %s%s%s\n", when, r->topic,
	    r->msg_id != NULL ? r->msg_id : "(no msg_id)",
	    sub != NULL ? "  " : "", sub != NULL ? sub : "");
	free(sub);
	return 0;
}

int
ctl_history(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--since", 1, NULL }, { "--topic", 1, NULL },
		{ "--category", 1, NULL }, { "--user", 1, NULL },
		{ "--package", 1, NULL }, { "--limit", 1, NULL },
	};
	static const enum fmn_history_kind kinds[] = {
		FMN_HISTORY_TOPIC, FMN_HISTORY_CATEGORY, FMN_HISTORY_USER,
		FMN_HISTORY_PACKAGE,
	};
	struct fmn_history_query q;
	struct history_print p = { ctl, 0 };
	long long total = 0;
	char *cause = NULL, *end;
	size_t i;

	int npos;

	if ((npos = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (npos > 0)
		return ctl_usage(ctl, "no arguments, only options");
	fmn_history_init(&q);
	q.rows = HISTORY_LIMIT;
	if (history_since(ctl, opts[0].value, &q) != 0)
		return CTL_EUSAGE;
	for (i = 0; i < FMN_NELEM(kinds); i++)
		if (opts[i + 1].value != NULL)
			fmn_history_add(&q, 0, kinds[i], opts[i + 1].value);
	if (opts[5].value != NULL) {
		q.rows = strtol(opts[5].value, &end, 10);
		if (*opts[5].value == '\0' || *end != '\0' || q.rows < 1 ||
		    q.rows > 1000000)
			return ctl_usage(ctl, "--limit %s: expected a number "
			    "from 1 to 1000000", opts[5].value);
	}
	if (fmn_history_run(ctl_db(ctl), &q, &total, history_print, &p,
	    &cause) != 0) {
		ctl_error(ctl, "%s", cause);
		free(cause);
		return CTL_EDATA;
	}
	if (!ctl->json && total > p.n)
		printf("(%ld of %lld; --limit shows more)\n", p.n, total);
	return CTL_OK;
}

struct match_history {
	struct fmn_ctl		*ctl;
	struct fmn_engine	*engine;
	struct fmn_defs		*defs;
	struct fmn_aliases	*aliases;
	struct fmn_recipients	 rcpt;
	long			 seen, notified, invalid;
};

static int
match_history_row(void *arg, const struct fmn_history_row *r)
{
	struct match_history *mh = arg;
	struct fmn_msg *m;
	json_t *out;
	char when[32];
	size_t i;

	mh->seen++;
	if ((m = fmn_msg_parse(NULL, r->envelope, r->envelope_len,
	    NULL)) == NULL) {
		mh->invalid++;
		return 0;
	}
	fmn_facts_derive(mh->defs, mh->aliases, m);
	fmn_recipients_clear(&mh->rcpt);
	fmn_engine_match(mh->engine, m, &mh->rcpt, NULL);
	fmn_msg_destroy(&m);
	if (mh->rcpt.n == 0)
		return 0;
	mh->notified++;
	if (!mh->ctl->json) {
		history_time(r->t, when, sizeof(when));
		for (i = 0; i < mh->rcpt.n; i++)
			printf("%s  %s  %s  %s %s, filter \"%s\"\n", when,
			    r->topic, r->msg_id != NULL ? r->msg_id : "-",
			    mh->rcpt.v[i].context, mh->rcpt.v[i].address,
			    mh->rcpt.v[i].filter);
		return 0;
	}
	out = json_object();
	json_object_set_new(out, "msg_id", r->msg_id != NULL ?
	    json_string(r->msg_id) : json_null());
	json_object_set_new(out, "topic", json_string(r->topic));
	json_object_set_new(out, "time", json_real(r->t));
	json_object_set_new(out, "recipients",
	    fmn_ops_recipients_json(&mh->rcpt));
	ctl_print_json(out);
	return 0;
}

int
ctl_match_history(struct fmn_ctl *ctl, const char *user, const char *since)
{
	struct match_history mh;
	struct fmn_history_query q;
	sqlite3 *db = ctl_db(ctl);
	long long uid;
	char *cause = NULL;
	int ret = CTL_OK;

	memset(&mh, 0, sizeof(mh));
	mh.ctl = ctl;
	fmn_history_init(&q);
	q.rows = 0;		/* all of them, oldest first */
	q.asc = 1;
	q.has_start = 1;
	q.start = fmn_now() - MATCH_SINCE;
	if (history_since(ctl, since, &q) != 0)
		return CTL_EUSAGE;
	if ((uid = ctl_user_id(ctl, user)) < 0)
		return CTL_EDATA;
	/* This user's filters only, with the shared data they refer to. */
	mh.engine = fmn_engine_new();
	mh.aliases = fmn_aliases_new();
	if ((mh.defs = fmn_defs_new(ctl->definitions, &cause)) == NULL ||
	    fmn_aliases_load(mh.aliases, db, &cause) != 0 ||
	    fmn_engine_reload_shared(mh.engine, db, &cause) != 0 ||
	    fmn_engine_reload_user(mh.engine, db, uid, &cause) != 0 ||
	    fmn_history_run(db, &q, NULL, match_history_row, &mh,
	    &cause) != 0) {
		ret = ctl_error(ctl, "%s", cause);
		free(cause);
	} else if (!ctl->json)
		printf("(%ld of %ld stored message(s) would have notified %s)\n",
		    mh.notified, mh.seen, user);
	if (mh.invalid > 0)
		ctl_error(ctl, "%ld stored envelope(s) could not be read again",
		    mh.invalid);
	fmn_recipients_free(&mh.rcpt);
	fmn_engine_destroy(&mh.engine);
	fmn_aliases_destroy(&mh.aliases);
	fmn_defs_destroy(&mh.defs);
	return ret;
}
