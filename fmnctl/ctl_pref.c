/*
 * fmnctl pref commands: per user and context, whether notifications
 * go out, how they are batched into digests, and how they look. The
 * work is filters/fmn_ops_dest.c's (the same through the API); here,
 * the command lines and what is printed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_cmds.h"

/* "on"/"off" (and yes/no, true/false, 1/0) -> 1/0; -1 otherwise. */
static int
parse_bool(const char *s)
{
	if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") ||
	    !strcmp(s, "1"))
		return 1;
	if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") ||
	    !strcmp(s, "0"))
		return 0;
	return -1;
}

/*
 * A batch threshold into args: "none" clears it (null), else a whole
 * number that fmn_ops_check_batch() accepts, checked here too so that
 * the message names the option. Returns 0, or the exit code after
 * printing why.
 */
static int
parse_threshold(struct fmn_ctl *ctl, const char *opt, const char *s,
    enum fmn_ops_batch which, json_t *args)
{
	char *end, *why = NULL;
	long long v;
	int rc;

	if (!strcmp(s, "none") || !strcmp(s, "off")) {
		json_object_set_new(args, fmn_ops_batch_field(which),
		    json_null());
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return ctl_usage(ctl, "%s wants a whole number or \"none\", "
		    "not \"%s\"", opt, s);
	if (fmn_ops_check_batch(which, v, &why) != 0) {
		rc = ctl_error(ctl, "%s %s", opt, why);
		free(why);
		return rc;
	}
	json_object_set_new(args, fmn_ops_batch_field(which), json_integer(v));
	return 0;
}

/* The options of pref set into args; 0, or the exit code. */
static int
pref_args(struct fmn_ctl *ctl, struct ctl_opt *opts, json_t *args)
{
	int rc, b;

	if (opts[0].value && opts[1].value)
		return ctl_usage(ctl, "--enable and --disable together");
	if (opts[0].value || opts[1].value)
		json_object_set_new(args, "enabled",
		    json_boolean(opts[0].value != NULL));
	if (opts[2].value && (rc = parse_threshold(ctl, "--batch-delta",
	    opts[2].value, FMN_OPS_BATCH_DELTA, args)))
		return rc;
	if (opts[3].value && (rc = parse_threshold(ctl, "--batch-count",
	    opts[3].value, FMN_OPS_BATCH_COUNT, args)))
		return rc;
	if (opts[4].value) {
		if ((b = parse_bool(opts[4].value)) < 0)
			return ctl_usage(ctl, "--verbose wants on or off, not "
			    "\"%s\"", opts[4].value);
		json_object_set_new(args, "verbose", json_boolean(b));
	}
	if (opts[5].value) {
		if ((b = parse_bool(opts[5].value)) < 0)
			return ctl_usage(ctl, "--markup wants on or off, not "
			    "\"%s\"", opts[5].value);
		json_object_set_new(args, "markup", json_boolean(b));
	}
	return CTL_OK;
}

int
ctl_pref_set(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--enable", 0, NULL },
		{ "--disable", 0, NULL },
		{ "--batch-delta", 1, NULL },
		{ "--batch-count", 1, NULL },
		{ "--verbose", 1, NULL },
		{ "--markup", 1, NULL },
	};
	json_t *args, *out;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (argc != 2)
		return ctl_usage(ctl, "expected USER and CONTEXT");
	args = json_pack("{s:s, s:s}", "user", argv[0], "context", argv[1]);
	if ((rc = pref_args(ctl, opts, args)) != CTL_OK) {
		json_decref(args);
		return rc;
	}
	if ((rc = ctl_call(ctl, FMN_OP_PREF_SET, args, &out)) != CTL_OK)
		return rc;
	json_decref(out);
	if (!ctl->json)
		printf("updated %s preference of %s\n", argv[1], argv[0]);
	return CTL_OK;
}

/* A threshold as pref list prints it: the number, or "none". */
static void
print_threshold(const json_t *v)
{
	if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else
		printf("none");
}

int
ctl_pref_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *out, *p;
	size_t i;
	int rc;

	if ((rc = ctl_list_for_user(ctl, argc, argv, FMN_OP_PREF_LIST,
	    &out)) != CTL_OK || out == NULL)
		return rc;
	json_array_foreach(out, i, p) {
		printf("%s\t%s\t%s\tdelta ",
		    json_string_value(json_object_get(p, "user")),
		    json_string_value(json_object_get(p, "context")),
		    json_is_true(json_object_get(p, "enabled")) ? "enabled" :
		    "disabled");
		print_threshold(json_object_get(p, "batch_delta"));
		printf("\tcount ");
		print_threshold(json_object_get(p, "batch_count"));
		printf("\t%lld filters\n", (long long)json_integer_value(
		    json_object_get(p, "filters")));
	}
	json_decref(out);
	return CTL_OK;
}
