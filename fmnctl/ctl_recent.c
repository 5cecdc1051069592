/*
 * fmnctl notifications: what fmnd made of the messages for a user,
 * newest first, with the state of each (filters/fmn_ops_match.c: the
 * same through the API).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "ctl_show.h"

int
ctl_notifications(struct fmn_ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "--limit", 1, NULL } };
	json_t *args, *out, *n;
	long long limit;
	char when[64], *end;
	const char *what;
	size_t i;
	int rc;

	if ((argc = ctl_parse(ctl, argc, argv, opts, FMN_NELEM(opts))) < 0)
		return CTL_EUSAGE;
	if (argc > 1)
		return ctl_usage(ctl, "expected at most one USER");
	args = argc == 1 ? json_pack("{s:s}", "user", argv[0]) : json_object();
	if (opts[0].value != NULL) {
		errno = 0;
		limit = strtoll(opts[0].value, &end, 10);
		if (errno != 0 || end == opts[0].value || *end != '\0' ||
		    limit < 1 || limit > 1000) {
			json_decref(args);
			return ctl_usage(ctl, "--limit %s: expected a number "
			    "from 1 to 1000", opts[0].value);
		}
		json_object_set_new(args, "limit", json_integer(limit));
	}
	if ((rc = ctl_call(ctl, FMN_OP_NOTIFICATIONS, args, &out)) != CTL_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(out);
		return CTL_OK;
	}
	json_array_foreach(out, i, n) {
		ctl_show_time(when, sizeof(when),
		    json_number_value(json_object_get(n, "time")));
		what = json_string_value(json_object_get(n, "subtitle"));
		if (what == NULL || *what == '\0')
			what = json_string_value(json_object_get(n, "topic"));
		if (argc == 0)
			printf("%s  ", json_string_value(json_object_get(n,
			    "user")));
		printf("%s  %-9s  %s %s  filter \"%s\"  %s\n", when,
		    json_string_value(json_object_get(n, "state")),
		    json_string_value(json_object_get(n, "context")),
		    json_string_value(json_object_get(n, "destination")),
		    json_string_value(json_object_get(n, "filter")), what);
	}
	json_decref(out);
	return CTL_OK;
}
