/*
 * The facts engine: find the definition that applies to a message's
 * topic and evaluate it once into m->facts. Names pass through the
 * alias table. A topic no definition knows still gets a subtitle (the
 * topic without its first three tokens) and
 * empty facts; a body that lacks what a definition expects simply
 * yields fewer facts.
 *
 * Facts are what a person reads and what every notification of the
 * message carries, so they are bounded whatever a publisher sends: a
 * subtitle is one line of text, not a megabyte. A text that renders
 * empty (or to white space) is no text: a blank subtitle becomes the
 * topic's, a blank agent is absent.
 */
#include <stdlib.h>
#include <string.h>

#include "fmn_defs.h"
#include "fmn_utf8.h"
#include "fmn_log.h"

#define FACTS_SUBTITLE_MAX	1024	/* bytes */
#define FACTS_LINK_MAX		2048
#define FACTS_AGENT_MAX		256
#define FACTS_LONG_FORM_MAX	32768
#define FACTS_NAME_MAX		255	/* a user name or package longer is no name */
#define FACTS_SET_MAX		256	/* names kept in a set */

/* Cut *s to at most max bytes, at a character, ending with an ellipsis. */
static void
facts_cut(char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) <= max)
		return;
	n = fmn_utf8_cut(s, n, max - 3);
	memcpy(s + n, "\xe2\x80\xa6", 4);	/* U+2026 and the NUL */
}

/* Drop names too long to be names, and keep at most FACTS_SET_MAX. */
static void
facts_cap_set(struct fmn_strset *set)
{
	size_t i, j;

	for (i = 0, j = 0; i < set->n; i++) {
		if (j < FACTS_SET_MAX && strlen(set->v[i]) <= FACTS_NAME_MAX)
			set->v[j++] = set->v[i];
		else
			free(set->v[i]);
	}
	set->n = j;
}

/* NULL for a text with nothing but white space; the text otherwise. */
static char *
facts_nonblank(char *s)
{
	const char *p;

	if (s == NULL)
		return NULL;
	for (p = s; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	if (*p != '\0')
		return s;
	free(s);
	return NULL;
}

/* The topic without its first three tokens ("bodhi.update.comment"). */
static char *
topic_title(const char *topic)
{
	const char *p = topic;
	int i;

	for (i = 0; i < 3; i++) {
		const char *dot = strchr(p, '.');

		if (dot == NULL || dot[1] == '\0')
			return xstrdup(topic);
		p = dot + 1;
	}
	return xstrdup(p);
}

/* Usernames, packages and agent: what matching reads. */
static void
derive_match(const struct fmn_def *def, struct fmn_eval *ev,
    const struct fmn_aliases *a, struct fmn_facts *f)
{
	if (def != NULL) {
		fmn_items_eval(def->usernames, ev, &f->usernames, 1);
		fmn_items_eval(def->packages, ev, &f->packages, 0);
		f->agent = facts_nonblank(fmn_cases_eval(def->agent, ev));
		if (f->agent != NULL) {
			const char *acct = fmn_aliases_lookup(a, f->agent);

			if (acct != NULL) {
				free(f->agent);
				f->agent = xstrdup(acct);
			}
		}
	}
	facts_cut(f->agent, FACTS_AGENT_MAX);
	fmn_strset_finish(&f->usernames);
	fmn_strset_finish(&f->packages);
	facts_cap_set(&f->usernames);
	facts_cap_set(&f->packages);
}

/* The rest, which only people read: link, subtitle, long form. */
static void
derive_text(const struct fmn_def *def, struct fmn_eval *ev, const char *topic,
    struct fmn_facts *f)
{
	if (def != NULL) {
		f->link = fmn_cases_eval(def->link, ev);
		f->subtitle = facts_nonblank(fmn_cases_eval(def->subtitle,
		    ev));
		f->long_form = fmn_cases_eval(def->long_form, ev);
	}
	if (f->subtitle == NULL)
		f->subtitle = topic_title(topic);
	facts_cut(f->subtitle, FACTS_SUBTITLE_MAX);
	facts_cut(f->link, FACTS_LINK_MAX);
	facts_cut(f->long_form, FACTS_LONG_FORM_MAX);
}

static int
derive(const struct fmn_defs *d, const struct fmn_aliases *a,
    struct fmn_msg *m, int all)
{
	const struct fmn_def *def = NULL;
	struct fmn_eval ev;

	if (m->has_facts || (m->has_match_facts && !all))
		return 0;
	ev.env = m->env;
	ev.aliases = a;
	ev.errors = 0;
	if (d != NULL)
		def = fmn_defs_lookup(d, m->topic, &ev);
	if (!m->has_match_facts)
		derive_match(def, &ev, a, &m->facts);
	m->has_match_facts = 1;
	if (all) {
		derive_text(def, &ev, m->topic, &m->facts);
		m->has_facts = 1;
	}
	if (ev.errors > 0)
		log_debug("facts: %s: %d regex errors on %s", def->where,
		    ev.errors, m->topic);
	return 0;
}

int
fmn_facts_derive(const struct fmn_defs *d, const struct fmn_aliases *a,
    struct fmn_msg *m)
{
	return derive(d, a, m, 1);
}

int
fmn_facts_derive_match(const struct fmn_defs *d, const struct fmn_aliases *a,
    struct fmn_msg *m)
{
	return derive(d, a, m, 0);
}
