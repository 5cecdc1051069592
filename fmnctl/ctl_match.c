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
};

static void
match_one(void *arg, struct fmn_msg *m, json_t *out)
{
	struct match_state *st = arg;
	json_t *explain = st->explain ? json_array() : NULL;

	fmn_recipients_clear(&st->rcpt);
	fmn_engine_match(st->engine, m, &st->rcpt, explain);
	json_object_set_new(out, "msg_id",
	    m->msg_id ? json_string(m->msg_id) : json_null());
	json_object_set_new(out, "recipients", fmn_ops_recipients_json(&st->rcpt));
	if (explain != NULL)
		json_object_set_new(out, "explain", explain);
}

int
ctl_match(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--explain", 0, NULL }, { "--history", 0, NULL },
		{ "--user", 1, NULL }, { "--since", 1, NULL },
		{ "--id", 1, NULL },
	};
	struct match_state st = { NULL, { 0 }, 0 };
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
	if (fmn_engine_load(st.engine, ctl_db(ctl), &cause) != 0) {
		ret = ctl_error(ctl, "%s", cause);
		free(cause);
	} else
		/* The configured definitions too, as fmnd loads them. */
		ret = ctl_each_envelope(ctl, npos ? argv[0] : "-",
		    ctl->definitions, match_one, &st);
	fmn_recipients_free(&st.rcpt);
	fmn_engine_destroy(&st.engine);
	return ret;
}
