/*
 * fmnctl verify [--ca FILE] [--crl FILE] [--policy FILE] [--nitpicky]
 * [--no-check-time] [FILE|-]: check the fedmsg signature of envelopes,
 * one per line, as fmnd does with [bus] validate_signatures, and print
 * one JSON line for each: {"msg_id", "valid", "signer", "reason"}. The
 * options default to the configuration's [bus] ca_cert, crl,
 * routing_policy and routing_nitpicky. Exit 0 when every envelope is
 * valid, 1 otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "fmn_config.h"
#include "fmn_msg.h"
#include "fmn_sign.h"

static int
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* A JSON string of text, which the checks made UTF-8; null if empty. */
static json_t *
text_or_null(const char *s)
{
	json_t *j;

	if (s == NULL || *s == '\0')
		return json_null();
	j = json_string(s);
	return j != NULL ? j : json_string("(not UTF-8)");
}

static void
verify_print(const json_t *env, int valid, const char *signer,
    const char *reason)
{
	const json_t *id = json_object_get(env, "msg_id");
	json_t *out = json_object();

	json_object_set_new(out, "msg_id", json_is_string(id) ?
	    json_incref((json_t *)id) : json_null());
	json_object_set_new(out, "valid", json_boolean(valid));
	json_object_set_new(out, "signer", text_or_null(signer));
	json_object_set_new(out, "reason", text_or_null(reason));
	ctl_print_json(out);
}

int
ctl_verify(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--ca", 1, NULL }, { "--crl", 1, NULL },
		{ "--policy", 1, NULL }, { "--nitpicky", 0, NULL },
		{ "--no-check-time", 0, NULL },
	};
	const struct fmn_config *cfg = ctl->cfg;
	struct fmn_sign_opts o;
	struct fmn_sign_result r;
	struct fmn_sign *s;
	json_error_t jerr;
	json_t *env;
	FILE *in;
	char *line = NULL, *cause = NULL, *why;
	size_t cap = 0, len;
	ssize_t n;
	long lineno = 0, lines = 0, bad = 0;
	int npos, ret = CTL_OK;

	if ((npos = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (npos > 1)
		return ctl_usage(ctl, "one input at most");
	memset(&o, 0, sizeof(o));
	o.ca_file = opts[0].value != NULL ? opts[0].value : cfg->ca_cert;
	o.crl_file = opts[1].value != NULL ? opts[1].value : cfg->crl;
	o.policy_file = opts[2].value != NULL ? opts[2].value :
	    cfg->routing_policy;
	o.nitpicky = opts[3].value != NULL || cfg->routing_nitpicky;
	o.no_check_time = opts[4].value != NULL;
	if (o.ca_file == NULL || *o.ca_file == '\0')
		return ctl_usage(ctl, "no CA to check against: give --ca FILE "
		    "or set [bus] ca_cert");
	if ((s = fmn_sign_new(&o, &cause)) == NULL) {
		ret = ctl_error(ctl, "%s", cause);
		free(cause);
		return ret;
	}
	if (fmn_sign_warning(s) != NULL)
		ctl_error(ctl, "warning: %s", fmn_sign_warning(s));
	if ((in = ctl_open_input(ctl, npos ? argv[0] : "-")) == NULL) {
		fmn_sign_destroy(&s);
		return CTL_EDATA;
	}
	while ((n = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (blank(line))
			continue;
		len = (size_t)n;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		lines++;
		if ((env = fmn_msg_load_json(line, len, &jerr)) == NULL) {
			why = xasprintf("invalid JSON at line %ld: %s", lineno,
			    jerr.text);
			verify_print(NULL, 0, NULL, why);
			free(why);
			bad++;
			continue;
		}
		if (fmn_sign_verify(s, env, line, len, &r) != FMN_SIGN_VALID)
			bad++;
		verify_print(env, r.status == FMN_SIGN_VALID, r.signer,
		    r.reason);
		json_decref(env);
	}
	if (ferror(in))
		ret = ctl_error(ctl, "reading input failed");
	if (bad > 0) {
		ctl_error(ctl, "%ld of %ld messages did not verify", bad, lines);
		ret = CTL_EDATA;
	}
	if (in != stdin)
		fclose(in);
	free(line);
	fmn_sign_destroy(&s);
	return ret;
}
