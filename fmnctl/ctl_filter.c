/*
 * fmnctl filter commands and `fmnctl rules`: a preference's ordered list
 * of named filters, each a chain of rules checked whole before writing.
 * The work is filters/fmn_ops_filter.c's (the same through the API);
 * here, the command lines and what is printed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "ctl_show.h"

/* {"user", "context", "name"} of the first three arguments. */
static json_t *
filter_args(char **argv)
{
	return json_pack("{s:s, s:s, s:s}", "user", argv[0], "context",
	    argv[1], "name", argv[2]);
}

int
ctl_filter_add(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "--inactive", 0, NULL },
		{ "--oneshot", 0, NULL },
	};
	json_t *args, *rules, *out;
	int i, rc;

	if ((argc = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (argc < 4)
		return ctl_usage(ctl, "expected USER, CONTEXT, NAME and at "
		    "least one RULE");
	rules = json_array();
	for (i = 3; i < argc; i++)
		json_array_append_new(rules, json_string(argv[i]));
	args = filter_args(argv);
	json_object_set_new(args, "rules", rules);
	json_object_set_new(args, "active", json_boolean(opts[0].value == NULL));
	json_object_set_new(args, "oneshot", json_boolean(opts[1].value != NULL));
	if ((rc = ctl_call(ctl, FMN_OP_FILTER_ADD, args, &out)) != CTL_OK)
		return rc;
	json_decref(out);
	if (!ctl->json)
		printf("added %s filter \"%s\" for %s with %d rule%s\n", argv[1],
		    argv[2], argv[0], argc - 3, argc - 3 == 1 ? "" : "s");
	return CTL_OK;
}

int
ctl_filter_list(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *args, *out, *f, *r;
	size_t i, k;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc < 1 || argc > 2)
		return ctl_usage(ctl, "expected USER and an optional CONTEXT");
	args = json_pack("{s:s}", "user", argv[0]);
	if (argc == 2)
		json_object_set_new(args, "context", json_string(argv[1]));
	if ((rc = ctl_call(ctl, FMN_OP_FILTER_LIST, args, &out)) != CTL_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(out);
		return CTL_OK;
	}
	json_array_foreach(out, i, f) {
		const char *why = json_string_value(json_object_get(
		    json_object_get(f, "broken"), "reason"));

		printf("%s\t%lld\t%s%s%s%s%s\t",
		    json_string_value(json_object_get(f, "context")),
		    (long long)json_integer_value(json_object_get(f,
		    "position")),
		    json_string_value(json_object_get(f, "name")),
		    json_is_true(json_object_get(f, "active")) ? "" :
		    " (inactive)", why != NULL ? " (broken: " : "",
		    why != NULL ? why : "", why != NULL ? ")" : "");
		json_array_foreach(json_object_get(f, "rules"), k, r)
			printf("%s%s", k ? " " : "", json_string_value(r));
		printf("\n");
	}
	json_decref(out);
	return CTL_OK;
}

int
ctl_filter_show(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *f, *r, *b;
	size_t i;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 3)
		return ctl_usage(ctl, "expected USER, CONTEXT and NAME");
	if ((rc = ctl_call(ctl, FMN_OP_FILTER_SHOW, filter_args(argv),
	    &f)) != CTL_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(f);
		return CTL_OK;
	}
	printf("%s filter \"%s\" of %s, position %lld, %s%s\nrules (all must "
	    "hold):\n", argv[1], argv[2], argv[0],
	    (long long)json_integer_value(json_object_get(f, "position")),
	    json_is_true(json_object_get(f, "active")) ? "active" : "inactive",
	    json_is_true(json_object_get(f, "oneshot")) ? ", one-shot" : "");
	json_array_foreach(json_object_get(f, "rules"), i, r)
		printf("  %s\n", json_string_value(r));
	if (json_is_object(b = json_object_get(f, "broken"))) {
		char when[64];

		ctl_show_time(when, sizeof(when),
		    json_number_value(json_object_get(b, "since")));
		printf("broken since %s, not evaluated: %s\n(fmnctl filter "
		    "enable clears the mark)\n", when,
		    json_string_value(json_object_get(b, "reason")));
	}
	json_decref(f);
	return CTL_OK;
}

/* Run op on USER CONTEXT NAME with extra arguments; prints "done ...". */
static int
filter_change(struct fmn_ctl *ctl, int argc, char **argv, enum fmn_op op,
    json_t *extra, const char *done)
{
	json_t *args, *out;
	int rc, cleared;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0) {
		json_decref(extra);
		return CTL_EUSAGE;
	}
	if (argc != 3) {
		json_decref(extra);
		return ctl_usage(ctl, "expected USER, CONTEXT and NAME");
	}
	args = filter_args(argv);
	if (extra != NULL)
		json_object_update(args, extra);
	json_decref(extra);
	if ((rc = ctl_call(ctl, op, args, &out)) != CTL_OK)
		return rc;
	cleared = json_is_true(json_object_get(out, "broken_cleared"));
	json_decref(out);
	if (!ctl->json)
		printf("%s %s filter \"%s\" of %s%s\n", done, argv[1], argv[2],
		    argv[0], cleared ? "; its broken mark is cleared" : "");
	return CTL_OK;
}

int
ctl_filter_rm(struct fmn_ctl *ctl, int argc, char **argv)
{
	return filter_change(ctl, argc, argv, FMN_OP_FILTER_RM, NULL,
	    "removed");
}

int
ctl_filter_enable(struct fmn_ctl *ctl, int argc, char **argv)
{
	return filter_change(ctl, argc, argv, FMN_OP_FILTER_SET,
	    json_pack("{s:b}", "active", 1), "enabled");
}

int
ctl_filter_disable(struct fmn_ctl *ctl, int argc, char **argv)
{
	return filter_change(ctl, argc, argv, FMN_OP_FILTER_SET,
	    json_pack("{s:b}", "active", 0), "disabled");
}

int
ctl_filter_move(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *args, *out;
	long long pos;
	char *end;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 4)
		return ctl_usage(ctl, "expected USER, CONTEXT, NAME and POSITION");
	errno = 0;
	pos = strtoll(argv[3], &end, 10);
	if (errno != 0 || end == argv[3] || *end != '\0')
		return ctl_usage(ctl, "POSITION must be a whole number, not "
		    "\"%s\"", argv[3]);
	if (pos < 1)
		return ctl_error(ctl, "POSITION starts at 1 (got %lld)", pos);
	args = filter_args(argv);
	json_object_set_new(args, "position", json_integer(pos));
	if ((rc = ctl_call(ctl, FMN_OP_FILTER_SET, args, &out)) != CTL_OK)
		return rc;
	json_decref(out);
	if (!ctl->json)
		printf("moved %s filter \"%s\" of %s to position %lld\n",
		    argv[1], argv[2], argv[0], pos);
	return CTL_OK;
}

int
ctl_rules(struct fmn_ctl *ctl, int argc, char **argv)
{
	json_t *out, *k;
	size_t i;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc != 0)
		return ctl_usage(ctl, "takes no arguments");
	if ((rc = ctl_call(ctl, FMN_OP_RULES, json_object(), &out)) != CTL_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(out);
		return CTL_OK;
	}
	printf("A rule is one token, [!]KIND:ARGUMENT; ! negates it. A filter's "
	    "rules must\nall hold; a user's filters are tried in order and the "
	    "first that matches\nfires.\n\n");
	json_array_foreach(out, i, k)
		printf("%s\n    %s\n\n",
		    json_string_value(json_object_get(k, "syntax")),
		    json_string_value(json_object_get(k, "doc")));
	json_decref(out);
	return CTL_OK;
}
