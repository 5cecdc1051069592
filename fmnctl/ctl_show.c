/*
 * A user's configuration as a person reads it (ctl_show.h).
 */
#include "ctl_show.h"

#include <stdio.h>
#include <time.h>

void
ctl_show_time(char *buf, size_t len, double t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%.0f", t);
}

static const char *
onoff(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key)) ? "on" : "off";
}

void
ctl_show_user_text(const json_t *u)
{
	size_t i, j, k;
	json_t *d, *p, *f, *r;

	printf("user %s\n", json_string_value(json_object_get(u, "name")));
	printf("destinations:\n");
	if (json_array_size(json_object_get(u, "destinations")) == 0)
		printf("  (none)\n");
	json_array_foreach(json_object_get(u, "destinations"), i, d) {
		const char *st = json_is_true(json_object_get(d, "confirmed")) ?
		    "confirmed" : "pending";

		printf("  %-5s %s (%s%s%s)\n",
		    json_string_value(json_object_get(d, "context")),
		    json_string_value(json_object_get(d, "address")), st,
		    json_is_true(json_object_get(d, "failing")) ?
		    ", failing: " : "",
		    json_is_true(json_object_get(d, "failing")) ?
		    json_string_value(json_object_get(d, "last_error")) : "");
	}
	json_array_foreach(json_object_get(u, "preferences"), i, p) {
		json_t *bd = json_object_get(p, "batch_delta");
		json_t *bc = json_object_get(p, "batch_count");

		printf("preference %s: %s, verbose %s, markup %s",
		    json_string_value(json_object_get(p, "context")),
		    json_is_true(json_object_get(p, "enabled")) ? "enabled" :
		    "disabled", onoff(p, "verbose"), onoff(p, "markup"));
		if (json_is_integer(bd))
			printf(", digest every %llds",
			    (long long)json_integer_value(bd));
		if (json_is_integer(bc))
			printf(", digest of %lld", (long long)json_integer_value(bc));
		printf("\n");
		json_array_foreach(json_object_get(p, "filters"), j, f) {
			json_t *b = json_object_get(f, "broken");

			printf("  %zu. \"%s\"%s%s%s%s\n", j + 1,
			    json_string_value(json_object_get(f, "name")),
			    json_is_true(json_object_get(f, "active")) ? "" :
			    " (inactive)", b != NULL ? " (broken: " : "",
			    b != NULL ? json_string_value(json_object_get(b,
			    "reason")) : "", b != NULL ? ")" : "");
			json_array_foreach(json_object_get(f, "rules"), k, r)
				printf("       %s\n", json_string_value(r));
		}
	}
}
