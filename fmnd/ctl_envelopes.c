/*
 * The input side of `fmnctl meta` and `fmnctl match`: envelopes, one
 * per line, parsed and given their facts exactly as fmnd would (the
 * shipped definitions plus the deployment's, the aliases of the
 * database). A line that is not a valid envelope prints
 * {"error": ..., "line": N} and the rest go on.
 */
#include <stdlib.h>

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

int
ctl_each_envelope(struct fmn_ctl *ctl, const char *path,
    const char *defs_path, ctl_envelope_fn fn, void *arg)
{
	struct fmn_aliases *aliases = NULL;
	struct fmn_defs *defs;
	struct fmn_msg *m;
	json_t *out;
	FILE *in = NULL;
	char *line = NULL, *cause = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int ret = CTL_OK;

	if ((defs = fmn_defs_new(defs_path, &cause)) == NULL) {
		ret = ctl_error(ctl, "definitions: %s", cause);
		goto out;
	}
	aliases = fmn_aliases_new();
	if (fmn_aliases_load(aliases, ctl_db(ctl), &cause) != 0) {
		ret = ctl_error(ctl, "%s", cause);
		goto out;
	}
	if ((in = ctl_open_input(ctl, path)) == NULL) {
		ret = CTL_EDATA;
		goto out;
	}
	while ((len = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (blank(line))
			continue;
		out = json_object();
		if ((m = fmn_msg_parse(NULL, line, (size_t)len, &cause)) == NULL) {
			json_object_set_new(out, "error",
			    json_string(cause ? cause : "invalid envelope"));
			json_object_set_new(out, "line", json_integer(lineno));
			free(cause);
			cause = NULL;
		} else {
			fmn_facts_derive(defs, aliases, m);
			fn(arg, m, out);
			fmn_msg_destroy(&m);
		}
		ctl_print_json(out);
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
