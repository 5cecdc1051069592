/*
 * The facts engine: find the definition that applies to a message's
 * topic and evaluate it once into m->facts. Names pass through the
 * alias table. A topic no definition knows still gets a subtitle (the
 * topic without its first three tokens) and
 * empty facts; a body that lacks what a definition expects simply
 * yields fewer facts.
 */
#include <stdlib.h>
#include <string.h>

#include "fmn_defs.h"

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

int
fmn_facts_derive(const struct fmn_defs *d, const struct fmn_aliases *a,
    struct fmn_msg *m)
{
	const struct fmn_def *def = NULL;
	struct fmn_facts *f = &m->facts;
	struct fmn_eval ev;

	if (m->has_facts)
		return 0;
	if (d != NULL)
		def = fmn_defs_lookup(d, m->topic);
	if (def != NULL) {
		ev.env = m->env;
		ev.aliases = a;
		ev.errors = 0;
		fmn_items_eval(def->usernames, &ev, &f->usernames, 1);
		fmn_items_eval(def->packages, &ev, &f->packages, 0);
		f->agent = fmn_cases_eval(def->agent, &ev);
		if (f->agent != NULL) {
			const char *acct = fmn_aliases_lookup(a, f->agent);

			if (acct != NULL) {
				free(f->agent);
				f->agent = xstrdup(acct);
			} else if (f->agent[0] == '\0') {
				free(f->agent);
				f->agent = NULL;
			}
		}
		f->link = fmn_cases_eval(def->link, &ev);
		f->subtitle = fmn_cases_eval(def->subtitle, &ev);
		f->long_form = fmn_cases_eval(def->long_form, &ev);
		if (ev.errors > 0)
			log_debug("facts: %s: %d regex errors on %s",
			    def->where, ev.errors, m->topic);
	}
	if (f->subtitle == NULL)
		f->subtitle = topic_title(m->topic);
	fmn_strset_finish(&f->usernames);
	fmn_strset_finish(&f->packages);
	m->has_facts = 1;
	return 0;
}
