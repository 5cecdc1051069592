/*
 * The facts engine: the shipped definitions scored against the corpus
 * of real bus messages, and the definitions language itself (paths,
 * transforms, cases, aliases, refused files, deployment overrides).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmn_facts.h"
#include "fmn_util.h"
#include "fmn_test.h"

static struct fmn_aliases *
corpus_aliases(void)
{
	struct fmn_aliases *a = fmn_aliases_new();
	json_error_t err;
	json_t *root, *v;
	const char *k;

	root = json_load_file(FMN_TEST_DATA "/identities.json", 0, &err);
	CHECK(root != NULL);
	json_object_foreach(json_object_get(root, "aliases"), k, v)
		fmn_aliases_add(a, k, json_string_value(v));
	json_decref(root);
	return a;
}

static int
set_equal(const struct fmn_strset *s, json_t *expected)
{
	struct fmn_strset e = { NULL, 0, 0 };
	size_t i;
	int eq;

	for (i = 0; i < json_array_size(expected); i++)
		fmn_strset_add(&e, json_string_value(json_array_get(expected,
		    i)));
	fmn_strset_finish(&e);
	eq = e.n == s->n;
	for (i = 0; eq && i < e.n; i++)
		eq = strcmp(e.v[i], s->v[i]) == 0;
	fmn_strset_clear(&e);
	return eq;
}

static char *
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

struct rate {
	const char	*name;
	int		 ok, total;
};

/* Every vector of the corpus; rates of agreement with what it states. */
TEST(corpus_rates)
{
	struct rate r[4] = { { "usernames", 0, 0 }, { "packages", 0, 0 },
	    { "link", 0, 0 }, { "subtitle", 0, 0 } };
	struct fmn_aliases *a = corpus_aliases();
	char *cause = NULL;
	struct fmn_defs *d = fmn_defs_new_builtin(&cause);
	const char *only = getenv("FMN_FACTS_ONLY");
	json_error_t err;
	json_t *root, *v;
	size_t i;

	if (d == NULL)
		fprintf(stderr, "builtin definitions: %s\n", cause);
	CHECK(d != NULL);
	root = json_load_file(FMN_TEST_DATA "/fmfi-dev.json", 0, &err);
	CHECK(root != NULL);
	if (d == NULL || root == NULL)
		return;
	json_array_foreach(root, i, v) {
		struct fmn_msg *m = fmn_msg_from_json(json_object_get(v, "msg"),
		    NULL, &cause);
		json_t *e;
		char *got;

		CHECK(m != NULL);
		if (m == NULL)
			continue;
		if (only != NULL && strcmp(m->category, only) != 0) {
			fmn_msg_destroy(&m);
			continue;
		}
		fmn_facts_derive(d, a, m);
		if ((e = json_object_get(v, "expected_usernames")) != NULL) {
			r[0].total++;
			if (set_equal(&m->facts.usernames, e))
				r[0].ok++;
			else {
				got = set_text(&m->facts.usernames);
				char *exp = json_dumps(e, 0);
				printf("FAIL usernames #%zu %s\n  got:      %s\n"
				    "  expected: %s\n", i, m->topic, got, exp);
				free(got);
				free(exp);
			}
		}
		if ((e = json_object_get(v, "expected_packages")) != NULL) {
			r[1].total++;
			if (set_equal(&m->facts.packages, e))
				r[1].ok++;
			else {
				got = set_text(&m->facts.packages);
				char *exp = json_dumps(e, 0);
				printf("FAIL packages #%zu %s\n  got:      %s\n"
				    "  expected: %s\n", i, m->topic, got, exp);
				free(got);
				free(exp);
			}
		}
		if ((e = json_object_get(v, "expected_link")) != NULL) {
			const char *x = json_is_string(e) ?
			    json_string_value(e) : NULL;
			const char *l = m->facts.link;

			r[2].total++;
			if ((x == NULL && l == NULL) || (x != NULL &&
			    l != NULL && strcmp(x, l) == 0))
				r[2].ok++;
			else
				printf("FAIL link #%zu %s\n  got:      %s\n"
				    "  expected: %s\n", i, m->topic,
				    l ? l : "(none)", x ? x : "(none)");
		}
		if ((e = json_object_get(v, "expected_subti")) != NULL) {
			const char *x = json_is_string(e) ?
			    json_string_value(e) : "";

			r[3].total++;
			if (strcmp(x, m->facts.subtitle) == 0)
				r[3].ok++;
			else
				printf("FAIL subtitle #%zu %s\n  got:      %s\n"
				    "  expected: %s\n", i, m->topic,
				    m->facts.subtitle, x);
		}
		fmn_msg_destroy(&m);
	}
	for (i = 0; i < 4; i++)
		printf("%-10s %3d/%3d  %.1f%%\n", r[i].name, r[i].ok,
		    r[i].total, r[i].total ? 100.0 * r[i].ok / r[i].total :
		    100.0);
	if (only == NULL) {
		CHECK(r[0].ok * 100 >= r[0].total * 98);
		CHECK(r[1].ok * 100 >= r[1].total * 98);
		CHECK(r[2].ok * 100 >= r[2].total * 95);
		CHECK(r[3].ok * 100 >= r[3].total * 90);
	}
	json_decref(root);
	fmn_defs_destroy(&d);
	fmn_aliases_destroy(&a);
	free(cause);
}
