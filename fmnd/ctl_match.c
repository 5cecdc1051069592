/*
 * fmnctl match: read envelopes, one per line, and print whom each would
 * notify (the notifications fmnd would create), with --explain which
 * filter fired or which rule stopped each filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fmn_facts.h"
#include "fmn_match.h"
#include "fmn_msg.h"

static json_t *
recipients_json(const struct fmn_recipients *r)
{
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < r->n; i++) {
		o = json_object();
		json_object_set_new(o, "user", json_string(r->v[i].user));
		json_object_set_new(o, "context", json_string(r->v[i].context));
		json_object_set_new(o, "destination",
		    json_string(r->v[i].address));
		json_object_set_new(o, "filter", json_string(r->v[i].filter));
		json_array_append_new(arr, o);
	}
	return arr;
}

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

int
ctl_match(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "--explain", 0, NULL } };
	struct fmn_recipients rcpt = { 0 };
	struct fmn_engine *engine = NULL;
	struct fmn_aliases *aliases = NULL;
	struct fmn_defs *defs = NULL;
	struct fmn_msg *m;
	json_t *out, *explain;
	FILE *in;
	char *line = NULL, *cause = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int npos, ret = CTL_OK;

	if ((npos = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (npos > 1)
		return ctl_usage(ctl, "one input at most");
	ctl_db(ctl);
	/* The configured definitions too, as fmnd loads them. */
	if ((defs = fmn_defs_new(ctl->definitions, &cause)) == NULL) {
		ret = ctl_error(ctl, "definitions: %s", cause);
		goto out;
	}
	aliases = fmn_aliases_new();
	if (fmn_aliases_load(aliases, ctl->db, &cause) != 0) {
		ret = ctl_error(ctl, "%s", cause);
		goto out;
	}
	engine = fmn_engine_new();
	if (fmn_engine_load(engine, ctl->db, &cause) != 0) {
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
		explain = opts[0].value != NULL ? json_array() : NULL;
		fmn_recipients_clear(&rcpt);
		fmn_engine_match(engine, m, &rcpt, explain);
		json_object_set_new(out, "msg_id",
		    m->msg_id ? json_string(m->msg_id) : json_null());
		json_object_set_new(out, "recipients", recipients_json(&rcpt));
		if (explain != NULL)
			json_object_set_new(out, "explain", explain);
		ctl_print_json(out);
		fmn_msg_destroy(&m);
	}
	if (in != stdin)
		fclose(in);
out:
	free(line);
	free(cause);
	fmn_recipients_free(&rcpt);
	fmn_engine_destroy(&engine);
	fmn_aliases_destroy(&aliases);
	fmn_defs_destroy(&defs);
	return ret;
}
