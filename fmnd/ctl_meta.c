/*
 * fmnctl meta [--defs FILE] [FILE|-]: the facts the daemon would derive
 * from each envelope, one JSON line per input line, so that a
 * definitions file can be checked against real messages. A line that is
 * not a valid envelope gives {"error": ..., "line": N} and the rest go on.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fmn_facts.h"

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

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

int
ctl_meta(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "--defs", 1, NULL } };
	struct fmn_aliases *aliases = NULL;
	struct fmn_defs *defs = NULL;
	struct fmn_msg *m;
	const char *extra;
	json_t *out;
	FILE *in = NULL;
	char *line = NULL, *cause = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int npos, ret = CTL_OK;

	if ((npos = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (npos > 1)
		return ctl_usage(ctl, "one input at most");
	/* --defs wins over the configured file. */
	extra = opts[0].value != NULL ? opts[0].value : ctl->definitions;
	if ((defs = fmn_defs_new(extra, &cause)) == NULL) {
		ret = ctl_error(ctl, "definitions: %s", cause);
		goto out;
	}
	ctl_db(ctl);
	aliases = fmn_aliases_new();
	if (fmn_aliases_load(aliases, ctl->db, &cause) != 0) {
		ret = ctl_error(ctl, "%s", cause);
		goto out;
	}
	if ((in = ctl_open_input(ctl, npos ? argv[0] : "-")) == NULL) {
		ret = CTL_EDATA;
		goto out;
	}
	while ((len = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (blank(line))
			continue;
		out = json_object();
		m = fmn_msg_parse(NULL, line, (size_t)len, &cause);
		if (m == NULL) {
			json_object_set_new(out, "error",
			    json_string(cause ? cause : "invalid envelope"));
			json_object_set_new(out, "line", json_integer(lineno));
			free(cause);
			cause = NULL;
			ctl_print_json(out);
			continue;
		}
		fmn_facts_derive(defs, aliases, m);
		json_object_set_new(out, "msg_id", str_or_null(m->msg_id));
		json_object_set_new(out, "topic", json_string(m->topic));
		json_object_set_new(out, "category", json_string(m->category));
		json_object_set_new(out, "usernames",
		    set_json(&m->facts.usernames));
		json_object_set_new(out, "packages",
		    set_json(&m->facts.packages));
		json_object_set_new(out, "agent", str_or_null(m->facts.agent));
		json_object_set_new(out, "link", str_or_null(m->facts.link));
		json_object_set_new(out, "subtitle",
		    str_or_null(m->facts.subtitle));
		if (m->facts.long_form != NULL)
			json_object_set_new(out, "long_form",
			    json_string(m->facts.long_form));
		ctl_print_json(out);
		fmn_msg_destroy(&m);
	}
	if (ferror(in))
		ret = ctl_error(ctl, "reading input failed");
out:
	if (in != NULL && in != stdin)
		fclose(in);
	free(line);
	free(cause);
	fmn_aliases_destroy(&aliases);
	fmn_defs_destroy(&defs);
	return ret;
}
