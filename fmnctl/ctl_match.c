/*
 * fmnctl match: read envelopes, one per line, and print whom each would
 * notify (the notifications fmnd would create), with --explain which
 * filter fired or which rule stopped each filter. With --id, the one
 * stored message of that msg_id (filters/fmn_ops_match.c: the same
 * through the API).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_history.h"
#include "fmn_facts.h"
#include "fmn_match.h"
#include "fmn_msg.h"

struct match_state {
	struct fmn_engine	*engine;
	struct fmn_recipients	 rcpt;
	int			 explain;
	struct fmn_buf		 line;
};

/*
 * Without --explain, the line is written as it comes, the keys in the
 * order ctl_print_json sorts them: the same text, at a fraction of the
 * cost of building and sorting JSON objects for every message.
 */
static void
match_line(struct match_state *st, const struct fmn_msg *m)
{
	struct fmn_buf *b = &st->line;
	const struct fmn_recipient *r;
	size_t i;

	fmn_buf_reset(b);
	fmn_buf_adds(b, "{\"msg_id\":");
	if (m->msg_id != NULL)
		ctl_json_str(b, m->msg_id);
	else
		fmn_buf_adds(b, "null");
	fmn_buf_adds(b, ",\"recipients\":[");
	for (i = 0; i < st->rcpt.n; i++) {
		r = &st->rcpt.v[i];
		fmn_buf_adds(b, i ? ",{\"context\":" : "{\"context\":");
		ctl_json_str(b, r->context);
		fmn_buf_adds(b, ",\"destination\":");
		ctl_json_str(b, r->address);
		fmn_buf_adds(b, ",\"filter\":");
		ctl_json_str(b, r->filter);
		fmn_buf_adds(b, ",\"user\":");
		ctl_json_str(b, r->user);
		fmn_buf_addc(b, '}');
	}
	fmn_buf_adds(b, "]}\n");
	fwrite(b->data, 1, b->len, stdout);
}

static int
match_one(void *arg, struct fmn_msg *m, json_t *out)
{
	struct match_state *st = arg;
	json_t *explain = st->explain ? json_array() : NULL;

	fmn_recipients_clear(&st->rcpt);
	fmn_engine_match(st->engine, m, &st->rcpt, explain);
	if (explain == NULL) {
		match_line(st, m);
		return 1;
	}
	json_object_set_new(out, "msg_id",
	    m->msg_id ? json_string(m->msg_id) : json_null());
	json_object_set_new(out, "recipients",
	    fmn_ops_recipients_json(&st->rcpt));
	json_object_set_new(out, "explain", explain);
	return 0;
}

int
ctl_match(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--explain", 0, NULL }, { "--history", 0, NULL },
		{ "--user", 1, NULL }, { "--since", 1, NULL },
		{ "--id", 1, NULL },
	};
	struct match_state st = { NULL, { 0 }, 0, { 0 } };
	char *cause = NULL;
	json_t *args, *out;
	int npos, ret;

	if ((npos = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (opts[4].value != NULL) {
		if (npos > 0 || opts[1].value != NULL || opts[3].value != NULL)
			return ctl_usage(ctl, "--id takes --user and --explain, "
			    "no input, no --history or --since");
		args = json_pack("{s:s, s:b}", "id", opts[4].value,
		    "explain", opts[0].value != NULL);
		if (opts[2].value != NULL)
			json_object_set_new(args, "user",
			    json_string(opts[2].value));
		if ((ret = ctl_call(ctl, FMN_OP_MATCH, args, &out)) != CTL_OK)
			return ret;
		ctl_print_json(out);
		return CTL_OK;
	}
	if (ctl->server != NULL)
		return ctl_usage(ctl, "only --id works with --server: the other "
		    "forms read the server's database");
	if (opts[1].value != NULL) {
		if (npos > 0 || opts[0].value != NULL || opts[2].value == NULL)
			return ctl_usage(ctl, "--history takes --user USER and "
			    "--since, no input and no --explain");
		return ctl_match_history(ctl, opts[2].value, opts[3].value);
	}
	if (opts[2].value != NULL || opts[3].value != NULL)
		return ctl_usage(ctl, "--user and --since go with --history "
		    "(--user with --id too)");
	if (npos > 1)
		return ctl_usage(ctl, "one input at most");
	st.explain = opts[0].value != NULL;
	st.engine = fmn_engine_new();
	/* Which index found each filter, beside which rule decided. */
	fmn_engine_explain_index(st.engine, st.explain);
	if (fmn_engine_load(st.engine, ctl_db(ctl), &cause) != 0) {
		ret = ctl_error(ctl, "%s", cause);
		free(cause);
	} else
		/* The configured definitions too, as fmnd loads them. */
		ret = ctl_each_envelope(ctl, npos ? argv[0] : "-",
		    ctl->definitions, 1, match_one, &st);
	fmn_recipients_free(&st.rcpt);
	fmn_buf_free(&st.line);
	fmn_engine_destroy(&st.engine);
	return ret;
}
