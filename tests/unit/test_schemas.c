/*
 * The shipped definitions scored against the message-schema packages of
 * today's Fedora applications: every vector of tests/data/schema-dev.json
 * holds a body and what the schema class itself computed for it. The
 * rates follow the acceptance of the port: usernames and packages as
 * sets; agent, link and summary only where the schema gives a value,
 * the agent read as a person would (an OpenID URL is its account), the
 * link with its scheme and a trailing slash aside, the summary with
 * case, quotes, spacing and final punctuation aside.
 *
 * FMN_SCHEMA_VECTORS=FILE scores another file of the same shape (a list
 * of vectors, or an object with "vectors"); FMN_FACTS_ONLY=CATEGORY
 * shows one category's misses.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_facts.h"
#include "fmn_util.h"
#include "fmn_test.h"
#include "set_fixture.h"

#define RATE_MIN	95	/* percent, for every fact */

enum { R_USERNAMES, R_PACKAGES, R_AGENT, R_LINK, R_SUMMARY, R_N };

static const char *const rate_names[R_N] = {
	"usernames", "packages", "agent", "link", "summary",
};

/* The expected value, or NULL where the schema raised an error. */
static json_t *
expected(json_t *v, const char *key)
{
	json_t *e = json_object_get(json_object_get(v, "expected"), key);

	return json_is_object(e) ? NULL : e;
}

/*
 * The agent as a person reads it: the schemas of anitya give a FAS
 * OpenID URL (http://zlopez.id.fedoraproject.org/) where they mean the
 * account (zlopez), and fmn gives the account.
 */
static char *
agent_norm(const char *s)
{
	const char *p = strstr(s, "://"), *dot;
	static const char suffix[] = ".id.fedoraproject.org";
	size_t n;

	if (p == NULL)
		return xstrdup(s);
	p += 3;
	if ((dot = strchr(p, '.')) == NULL || dot == p ||
	    strncmp(dot, suffix, sizeof(suffix) - 1) != 0)
		return xstrdup(s);
	n = strlen(dot + sizeof(suffix) - 1);
	if (n > 1 || (n == 1 && dot[sizeof(suffix) - 1] != '/'))
		return xstrdup(s);
	return xstrndup(p, (size_t)(dot - p));
}

/* A link without its scheme and trailing slashes. */
static char *
link_norm(const char *s)
{
	const char *p = strstr(s, "://");
	char *n = xstrdup(p != NULL ? p + 3 : s);
	size_t len = strlen(n);

	while (len > 0 && n[len - 1] == '/')
		n[--len] = '\0';
	return n;
}

static int
is_quote(const unsigned char *p, size_t *len)
{
	*len = 1;
	if (*p == '"' || *p == '\'' || *p == '`')
		return 1;
	/* U+2018, U+2019, U+201C, U+201D */
	if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99 ||
	    p[2] == 0x9c || p[2] == 0x9d)) {
		*len = 3;
		return 1;
	}
	return 0;
}

/*
 * A summary as the acceptance compares it: lower case, no quotes, runs
 * of white space as one space, no white space or punctuation (. ! ? : ;
 * , and the ellipsis) at its end.
 */
static char *
summary_norm(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct fmn_buf b;
	size_t q, len;
	char *n;
	int space = 0;

	fmn_buf_init(&b);
	fmn_buf_adds(&b, "");
	while (*p != '\0') {
		if (is_quote(p, &q)) {
			p += q;
			continue;
		}
		if (isspace(*p)) {
			space = 1;
			p++;
			continue;
		}
		if (space && b.len > 0)
			fmn_buf_addc(&b, ' ');
		space = 0;
		fmn_buf_addc(&b, (char)tolower(*p));
		p++;
	}
	n = fmn_buf_steal(&b);
	len = strlen(n);
	for (;;) {
		if (len > 0 && strchr(".!?:;, ", n[len - 1]) != NULL)
			n[--len] = '\0';
		else if (len >= 3 && memcmp(n + len - 3, "\xe2\x80\xa6", 3) == 0)
			n[len -= 3] = '\0';
		else
			break;
	}
	return n;
}

/* A subtitle nobody should read: blank, or "None" or "null" as a word. */
static int
subtitle_is_bad(const char *s)
{
	const char *w[] = { "None", "null" };
	size_t i, k;

	for (i = 0; s[i] != '\0' && isspace((unsigned char)s[i]); i++)
		;
	if (s[i] == '\0')
		return 1;
	for (k = 0; k < FMN_NELEM(w); k++) {
		const char *p = s;
		size_t n = strlen(w[k]);

		while ((p = strstr(p, w[k])) != NULL) {
			int before = p == s || !isalnum((unsigned char)p[-1]);
			int after = !isalnum((unsigned char)p[n]);

			if (before && after)
				return 1;
			p += n;
		}
	}
	return 0;
}

static json_t *
load_vectors(const char *path)
{
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err), *v;

	if (root == NULL) {
		fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
		return NULL;
	}
	if (json_is_object(root)) {
		v = json_incref(json_object_get(root, "vectors"));
		json_decref(root);
		root = v;
	}
	return root;
}

static void
miss(const char *fact, const char *topic, const char *cls, const char *exp,
    const char *got)
{
	printf("MISS %s %s [%s]\n  expected: %s\n  got:      %s\n", fact,
	    topic, cls, exp, got ? got : "(none)");
}

/* Every vector of the schema corpus; rates of agreement per fact. */
TEST(schema_rates)
{
	const char *path = getenv("FMN_SCHEMA_VECTORS");
	const char *only = getenv("FMN_FACTS_ONLY");
	int ok[R_N] = { 0 }, total[R_N] = { 0 };
	char *cause = NULL;
	struct fmn_defs *d = fmn_defs_new_builtin(&cause);
	json_t *root, *v;
	size_t i;

	if (path == NULL)
		path = FMN_TEST_DATA "/schema-dev.json";
	if (d == NULL)
		fprintf(stderr, "builtin definitions: %s\n", cause);
	CHECK(d != NULL);
	root = load_vectors(path);
	CHECK(json_array_size(root) > 0);
	if (d == NULL || root == NULL)
		return;
	json_array_foreach(root, i, v) {
		const char *cls = json_string_value(json_object_get(v,
		    "schema_class"));
		struct fmn_msg *m = fmn_msg_from_json(json_object_get(v, "msg"),
		    NULL, &cause);
		json_t *e;
		char *got, *x, *y;

		CHECK(m != NULL);
		if (m == NULL)
			continue;
		if (only != NULL && strcmp(m->category, only) != 0) {
			fmn_msg_destroy(&m);
			continue;
		}
		if (cls == NULL)
			cls = "?";
		fmn_facts_derive(d, NULL, m);
		if ((e = expected(v, "usernames")) != NULL) {
			total[R_USERNAMES]++;
			if (set_equal(&m->facts.usernames, e))
				ok[R_USERNAMES]++;
			else {
				got = set_text(&m->facts.usernames);
				x = json_dumps(e, JSON_ENCODE_ANY);
				miss("usernames", m->topic, cls, x, got);
				free(got);
				free(x);
			}
		}
		if ((e = expected(v, "packages")) != NULL) {
			total[R_PACKAGES]++;
			if (set_equal(&m->facts.packages, e))
				ok[R_PACKAGES]++;
			else {
				got = set_text(&m->facts.packages);
				x = json_dumps(e, JSON_ENCODE_ANY);
				miss("packages", m->topic, cls, x, got);
				free(got);
				free(x);
			}
		}
		e = expected(v, "agent");
		if (json_is_string(e) && json_string_length(e) > 0) {
			total[R_AGENT]++;
			x = agent_norm(json_string_value(e));
			if (m->facts.agent != NULL &&
			    strcmp(m->facts.agent, x) == 0)
				ok[R_AGENT]++;
			else
				miss("agent", m->topic, cls,
				    json_string_value(e), m->facts.agent);
			free(x);
		}
		e = expected(v, "link");
		if (json_is_string(e) && json_string_length(e) > 0) {
			total[R_LINK]++;
			x = link_norm(json_string_value(e));
			y = m->facts.link ? link_norm(m->facts.link) : NULL;
			if (y != NULL && strcmp(x, y) == 0)
				ok[R_LINK]++;
			else
				miss("link", m->topic, cls,
				    json_string_value(e), m->facts.link);
			free(x);
			free(y);
		}
		e = expected(v, "summary");
		if (json_is_string(e) && json_string_length(e) > 0) {
			total[R_SUMMARY]++;
			x = summary_norm(json_string_value(e));
			y = summary_norm(m->facts.subtitle);
			if (strcmp(x, y) == 0)
				ok[R_SUMMARY]++;
			else
				miss("summary", m->topic, cls,
				    json_string_value(e), m->facts.subtitle);
			free(x);
			free(y);
		}
		fmn_msg_destroy(&m);
	}
	for (i = 0; i < R_N; i++)
		printf("%-10s %4d/%4d  %.1f%%\n", rate_names[i], ok[i],
		    total[i], total[i] ? 100.0 * ok[i] / total[i] : 100.0);
	if (only == NULL)
		for (i = 0; i < R_N; i++)
			CHECK(ok[i] * 100 >= total[i] * RATE_MIN);
	json_decref(root);
	fmn_defs_destroy(&d);
	free(cause);
}

/* No subtitle of either corpus is blank, "None" or "null". */
TEST(no_blank_or_none_subtitles)
{
	static const char *const files[] = {
		FMN_TEST_DATA "/schema-dev.json",
		FMN_TEST_DATA "/fmfi-dev.json",
	};
	char *cause = NULL;
	struct fmn_defs *d = fmn_defs_new_builtin(&cause);
	size_t f, i;
	json_t *v;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	for (f = 0; f < FMN_NELEM(files); f++) {
		json_t *root = load_vectors(files[f]);

		CHECK(json_array_size(root) > 0);
		json_array_foreach(root, i, v) {
			struct fmn_msg *m = fmn_msg_from_json(
			    json_object_get(v, "msg"), NULL, &cause);

			if (m == NULL)
				continue;
			fmn_facts_derive(d, NULL, m);
			if (m->facts.subtitle == NULL ||
			    subtitle_is_bad(m->facts.subtitle)) {
				printf("BAD subtitle #%zu %s: \"%s\"\n", i,
				    m->topic, m->facts.subtitle ?
				    m->facts.subtitle : "(null)");
				CHECK(!"a readable subtitle");
			}
			fmn_msg_destroy(&m);
		}
		json_decref(root);
	}
	fmn_defs_destroy(&d);
	free(cause);
}

/* The comparisons themselves, on the cases the acceptance names. */
TEST(comparisons_follow_the_acceptance)
{
	char *a, *b;

	a = link_norm("https://bodhi.fedoraproject.org/updates/X/");
	b = link_norm("http://bodhi.fedoraproject.org/updates/X");
	CHECK_STR(a, b);
	free(a);
	free(b);
	a = summary_norm("Alice commented on \xe2\x80\x9c" "foo\xe2\x80\x9d.");
	CHECK_STR(a, "alice commented on foo");
	free(a);
	a = summary_norm("  A   'b'  c... ");
	CHECK_STR(a, "a b c");
	free(a);
	a = agent_norm("http://zlopez.id.fedoraproject.org/");
	CHECK_STR(a, "zlopez");
	free(a);
	a = agent_norm("https://zlopez.id.fedoraproject.org");
	CHECK_STR(a, "zlopez");
	free(a);
	a = agent_norm("http://zlopez.id.fedoraproject.org/x");
	CHECK_STR(a, "http://zlopez.id.fedoraproject.org/x");
	free(a);
	a = agent_norm("ralph");
	CHECK_STR(a, "ralph");
	free(a);
	CHECK(subtitle_is_bad(""));
	CHECK(subtitle_is_bad("  "));
	CHECK(subtitle_is_bad("None commented on x"));
	CHECK(subtitle_is_bad("x is null"));
	CHECK(!subtitle_is_bad("Nonetheless, nullable"));
}
