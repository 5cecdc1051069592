/*
 * Name sets of facts against a corpus's lists (see set_fixture.h).
 */
#include <string.h>

#include "fmn_util.h"
#include "set_fixture.h"

int
set_equal(const struct fmn_strset *got, json_t *expected)
{
	struct fmn_strset e = { NULL, 0, 0 };
	size_t i;
	int eq;

	for (i = 0; i < json_array_size(expected); i++)
		if (json_is_string(json_array_get(expected, i)))
			fmn_strset_add(&e, json_string_value(
			    json_array_get(expected, i)));
	fmn_strset_finish(&e);
	eq = e.n == got->n;
	for (i = 0; eq && i < e.n; i++)
		eq = strcmp(e.v[i], got->v[i]) == 0;
	fmn_strset_clear(&e);
	return eq;
}

char *
set_text(const struct fmn_strset *s)
{
	struct fmn_buf b;
	size_t i;

	fmn_buf_init(&b);
	fmn_buf_adds(&b, "[");
	for (i = 0; i < s->n; i++)
		fmn_buf_printf(&b, "%s%s", i ? ", " : "", s->v[i]);
	fmn_buf_adds(&b, "]");
	return fmn_buf_steal(&b);
}
