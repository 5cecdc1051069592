/*
 * fmnctl meta [--defs FILE] [FILE|-]: the facts the daemon would derive
 * from each envelope, one JSON line per input line, so that a
 * definitions file can be checked against real messages. A line that is
 * not a valid envelope gives {"error": ..., "line": N} and the rest go on.
 */
#include "ctl.h"
#include "fmn_facts.h"

static json_t *
set_json(const struct fmn_strset *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int
meta_one(void *arg, struct fmn_msg *m, json_t *out)
{
	(void)arg;
	json_object_set_new(out, "msg_id", str_or_null(m->msg_id));
	json_object_set_new(out, "topic", json_string(m->topic));
	json_object_set_new(out, "category", json_string(m->category));
	json_object_set_new(out, "usernames", set_json(&m->facts.usernames));
	json_object_set_new(out, "packages", set_json(&m->facts.packages));
	json_object_set_new(out, "agent", str_or_null(m->facts.agent));
	json_object_set_new(out, "link", str_or_null(m->facts.link));
	json_object_set_new(out, "subtitle", str_or_null(m->facts.subtitle));
	if (m->facts.long_form != NULL)
		json_object_set_new(out, "long_form",
		    json_string(m->facts.long_form));
	return 0;
}

int
ctl_meta(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "--defs", 1, NULL } };
	int npos;

	if ((npos = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (npos > 1)
		return ctl_usage(ctl, "one input at most");
	/* --defs wins over the configured file. */
	return ctl_each_envelope(ctl, npos ? argv[0] : "-",
	    opts[0].value != NULL ? opts[0].value : ctl->definitions, 0,
	    meta_one, NULL);
}
