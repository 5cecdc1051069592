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
#include "fmn_utf8.h"
#include "fmn_util.h"
#include "fmn_test.h"
#include "set_fixture.h"

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
	/*
	 * The rates may not drop: every username, package and subtitle, and
	 * every link but the two whose expectations write http:// where the
	 * body says https:// (docs/definitions.md).
	 */
	if (only == NULL) {
		CHECK_INT(r[0].ok, r[0].total);
		CHECK_INT(r[1].ok, r[1].total);
		CHECK(r[2].ok >= r[2].total - 2);
		CHECK_INT(r[3].ok, r[3].total);
	}
	json_decref(root);
	fmn_defs_destroy(&d);
	fmn_aliases_destroy(&a);
	free(cause);
}

static struct fmn_msg *
msg(const char *json)
{
	char *cause = NULL;
	struct fmn_msg *m = fmn_msg_parse(NULL, json, strlen(json), &cause);

	if (m == NULL)
		fprintf(stderr, "bad test envelope: %s\n", cause);
	free(cause);
	return m;
}

/* Definitions from text: the shipped ones left out. */
static struct fmn_defs *
defs_from(const char *text, char **cause)
{
	char path[] = "/tmp/fmn-defs-XXXXXX";
	int fd = mkstemp(path);
	struct fmn_defs *d;

	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return NULL;
	close(fd);
	d = fmn_defs_new_builtin(cause);
	if (d != NULL && fmn_defs_load_file(d, path, cause) == -1)
		fmn_defs_destroy(&d);
	unlink(path);
	return d;
}

TEST(unknown_topic_gives_generic_subtitle)
{
	char *cause = NULL;
	struct fmn_defs *d = fmn_defs_new_builtin(&cause);
	struct fmn_msg *m = msg("{\"topic\": \"com.example.prod.widget.made\","
	    " \"msg\": {\"agent\": \"alice\"}}");

	CHECK(d != NULL && m != NULL);
	CHECK_INT(fmn_facts_derive(d, NULL, m), 0);
	CHECK_INT(m->facts.usernames.n, 0);
	CHECK_INT(m->facts.packages.n, 0);
	CHECK(m->facts.link == NULL);
	CHECK_STR(m->facts.subtitle, "widget.made");
	fmn_msg_destroy(&m);
	m = msg("{\"topic\": \"x\", \"msg\": 1}");
	fmn_facts_derive(d, NULL, m);
	CHECK_STR(m->facts.subtitle, "x");
	fmn_msg_destroy(&m);
	fmn_defs_destroy(&d);
}

TEST(malformed_bodies_give_fewer_facts)
{
	static const char *bodies[] = {
		"null", "[]", "\"text\"", "42", "{}",
		"{\"update\": 3, \"agent\": [1]}",
		"{\"update\": {\"builds\": {\"nvr\": 1}, \"title\": {}}}",
		"{\"comment\": {\"text\": 5, \"author\": {\"name\": []}}}",
		"{\"build_id\": \"x\", \"owner\": null, \"new\": \"9\"}",
	};
	static const char *topics[] = {
		"org.fedoraproject.prod.bodhi.update.comment",
		"org.fedoraproject.prod.bodhi.update.request.testing",
		"org.fedoraproject.prod.buildsys.build.state.change",
		"io.pagure.prod.pagure.pull-request.comment.added",
		"org.fedoraproject.prod.compose.rawhide.complete",
		"org.fedoraproject.prod.bodhi.updates.fedora.sync",
	};
	char *cause = NULL;
	struct fmn_defs *d = fmn_defs_new_builtin(&cause);
	size_t i, k;

	CHECK(d != NULL);
	for (i = 0; i < FMN_NELEM(topics); i++) {
		for (k = 0; k < FMN_NELEM(bodies); k++) {
			char *json = xasprintf("{\"topic\": \"%s\", \"msg\": "
			    "%s}", topics[i], bodies[k]);
			struct fmn_msg *m = msg(json);

			CHECK(m != NULL);
			CHECK_INT(fmn_facts_derive(d, NULL, m), 0);
			CHECK(m->facts.subtitle != NULL);
			fmn_msg_destroy(&m);
			free(json);
		}
	}
	fmn_defs_destroy(&d);
}

TEST(aliases_map_usernames_and_agent)
{
	char *cause = NULL;
	struct fmn_defs *d = defs_from("{\"category\": \"widget\", \"defs\": "
	    "[{\"topic\": \"*\", \"usernames\": [\"/msg/who\", "
	    "\"/msg/mail|email\", \"/msg/text|mentions\"], "
	    "\"agent\": \"{/msg/who}\"}]}", &cause);
	struct fmn_aliases *a = fmn_aliases_new();
	struct fmn_msg *m;

	CHECK(d != NULL);
	fmn_aliases_add(a, "threebean", "ralph");
	fmn_aliases_add(a, "rbean@redhat.com", "ralph");
	CHECK_STR(fmn_aliases_lookup(a, "RBean@RedHat.com"), "ralph");
	CHECK(fmn_aliases_lookup(a, "nobody") == NULL);
	m = msg("{\"topic\": \"a.b.c.widget.x\", \"msg\": {\"who\": "
	    "\"threebean\", \"mail\": \"kevin@fedoraproject.org\", \"text\": "
	    "\"thanks @threebean and @pingou, mail me@x.org.\"}}");
	fmn_facts_derive(d, a, m);
	CHECK_INT(m->facts.usernames.n, 3);
	if (m->facts.usernames.n == 3) {
		CHECK_STR(m->facts.usernames.v[0], "kevin");
		CHECK_STR(m->facts.usernames.v[1], "pingou");
		CHECK_STR(m->facts.usernames.v[2], "ralph");
	}
	CHECK_STR(m->facts.agent, "ralph");
	fmn_msg_destroy(&m);
	fmn_aliases_destroy(&a);
	fmn_defs_destroy(&d);
	free(cause);
}

TEST(transforms_and_cases)
{
	char *cause = NULL;
	struct fmn_defs *d = defs_from(
	    "{\"category\": \"widget\",\n"
	    " \"tables\": {\"state\": {\"0\": \"started\", \"1\": \"done\","
	    " \"*\": \"did something\"}},\n"
	    " \"let\": {\"who\": \"/msg/owner || /msg/user || 'nobody'\"},\n"
	    " \"defs\": [{\"topic\": \"*.widget.*\",\n"
	    "   \"packages\": [\"/msg/builds/*/nvr|nvr\", \"/msg/list|split:','\"],\n"
	    "   \"link\": \"https://x/{/msg/name|lower}/{/msg/title|re:'#(\\\\d+)'}\",\n"
	    "   \"subtitle\": [{\"if\": \"/msg/state\", \"eq\": [0, 1],"
	    " \"then\": \"{$who} {/msg/state|map:state} {/msg/builds/*/nvr|series}\"},"
	    " \"{$who}: {/msg/title|trunc:5} ({/msg/builds/*|count})\"]}]}",
	    &cause);
	struct fmn_msg *m;

	if (d == NULL)
		fprintf(stderr, "%s\n", cause);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	m = msg("{\"topic\": \"a.b.c.widget.x\", \"msg\": {\"owner\": \"kevin\","
	    " \"state\": 1, \"name\": \"ABC\", \"title\": \"fix #42 now\","
	    " \"list\": \"p,q\", \"builds\": [{\"nvr\": \"foo-bar-1.0-1.fc40\"},"
	    " {\"nvr\": \"baz-2-3\"}, {\"nvr\": 7}]}}");
	fmn_facts_derive(d, NULL, m);
	CHECK_INT(m->facts.packages.n, 5);
	CHECK(fmn_strset_has(&m->facts.packages, "foo-bar"));
	CHECK(fmn_strset_has(&m->facts.packages, "baz"));
	CHECK(fmn_strset_has(&m->facts.packages, "q"));
	CHECK_STR(m->facts.link, "https://x/abc/42");
	CHECK_STR(m->facts.subtitle, "kevin done 7, baz-2-3, and foo-bar-1.0-1.fc40");
	fmn_msg_destroy(&m);
	m = msg("{\"topic\": \"a.b.c.widget.x\", \"msg\": {\"state\": 5, "
	    "\"title\": \"a long title\", \"builds\": [1, 2]}}");
	fmn_facts_derive(d, NULL, m);
	CHECK_STR(m->facts.subtitle, "nobody: a lon... (2)");
	/* A template whose value is missing fails: no link. */
	CHECK(m->facts.link == NULL);
	fmn_msg_destroy(&m);
	fmn_defs_destroy(&d);
	free(cause);
}

static void
refused_with(const char *text, const char *what)
{
	char *cause = NULL;
	struct fmn_defs *d = defs_from(text, &cause);

	CHECK(d == NULL);
	CHECK(cause != NULL && strstr(cause, what) != NULL);
	CHECK(cause != NULL && strstr(cause, "/tmp/fmn-defs-") != NULL);
	if (cause != NULL && strstr(cause, what) == NULL)
		fprintf(stderr, "  cause: %s\n  wanted: %s\n", cause, what);
	fmn_defs_destroy(&d);
	free(cause);
}

TEST(bad_definitions_refused_with_place_and_reason)
{
	refused_with("{\"defs\": [\n{\"topic\": \"x\",}\n]}", ":2:");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"subtitle\": "
	    "\"{/msg/a|frob}\"}]}", "defs[0].subtitle: unknown transform");
	refused_with("{\"defs\": [{\"topic\": \"x\"}, {\"topic\": \"y\", "
	    "\"usernames\": [\"/a\", \"/b|re:'(('\"]}]}",
	    "defs[1].usernames[1]");
	refused_with("{\"defs\": [{\"subtitle\": \"x\"}]}", "defs[0].topic");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"link\": \"{$nope}\"}]}",
	    "no let named");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"colour\": 1}]}",
	    "unknown key \"colour\"");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"link\": [{\"if\": "
	    "\"/a\"}]}]}", "defs[0].link[0]");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"link\": \"{/a|map:t}\"}]}",
	    "no table named");
	refused_with("[]", "JSON object");
}

/* Definitions use the pointers rules use: ~0 and ~1, nothing else. */
TEST(definitions_pointer_escapes_are_only_0_and_1)
{
	char *cause = NULL;
	struct fmn_defs *d;

	refused_with("{\"defs\": [{\"topic\": \"x\", \"subtitle\": "
	    "\"{/msg/a~2b}\"}]}", "defs[0].subtitle: \"~2\"");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"usernames\": "
	    "[\"/msg/a~\"]}]}", "defs[0].usernames[0]");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"usernames\": "
	    "[\"/msg/a~ || /b\"]}]}", "only ~0");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"link\": "
	    "\"{/msg/a|lookup:/msg/m~3n}\"}]}", "~3");
	d = defs_from("{\"defs\": [{\"topic\": \"*.widget.*\", "
	    "\"usernames\": [\"/msg/a~1b\", \"/msg/m~0n\"]}]}", &cause);
	if (d == NULL)
		fprintf(stderr, "%s\n", cause);
	CHECK(d != NULL);
	if (d != NULL) {
		struct fmn_msg *m = msg("{\"topic\": \"a.b.c.widget.x\", "
		    "\"msg\": {\"a/b\": \"slash\", \"m~n\": \"tilde\"}}");

		fmn_facts_derive(d, NULL, m);
		CHECK(fmn_strset_has(&m->facts.usernames, "slash"));
		CHECK(fmn_strset_has(&m->facts.usernames, "tilde"));
		fmn_msg_destroy(&m);
	}
	fmn_defs_destroy(&d);
	free(cause);
}

TEST(deployment_file_overrides_shipped)
{
	char *cause = NULL;
	struct fmn_defs *d = defs_from("{\"category\": \"bodhi\", \"defs\": "
	    "[{\"topic\": \"*.bodhi.update.comment\", \"usernames\": "
	    "[\"'everyone'\"], \"subtitle\": \"overridden\"}]}", &cause);
	struct fmn_msg *m;

	CHECK(d != NULL);
	m = msg("{\"topic\": \"org.fedoraproject.prod.bodhi.update.comment\","
	    " \"msg\": {\"comment\": {\"author\": \"ralph\", \"karma\": 0, "
	    "\"text\": \"hi\", \"update_title\": \"a-1-1\"}}}");
	fmn_facts_derive(d, NULL, m);
	CHECK_STR(m->facts.subtitle, "overridden");
	CHECK_INT(m->facts.usernames.n, 1);
	CHECK(fmn_strset_has(&m->facts.usernames, "everyone"));
	fmn_msg_destroy(&m);
	/* Other bodhi topics keep the shipped definitions. */
	m = msg("{\"topic\": \"org.fedoraproject.prod.bodhi.update.eject\","
	    " \"msg\": {\"update\": {\"title\": \"fedmsg-1-1\", \"submitter\": "
	    "\"ralph\"}, \"repo\": \"r\", \"reason\": \"x\"}}");
	fmn_facts_derive(d, NULL, m);
	CHECK(fmn_strset_has(&m->facts.packages, "fedmsg"));
	fmn_msg_destroy(&m);
	fmn_defs_destroy(&d);
	free(cause);
}

TEST(facts_are_bounded_whatever_the_message_holds)
{
	char *cause = NULL;
	struct fmn_defs *d = defs_from("{\"category\": \"widget\", \"defs\": "
	    "[{\"topic\": \"*.widget.made\", \"usernames\": [\"/msg/names/*\"], "
	    "\"agent\": \"{/msg/who}\", \"link\": \"{/msg/url}\", "
	    "\"subtitle\": \"{/msg/title}\", \"long_form\": \"{/msg/text}\"}]}",
	    &cause);
	struct fmn_buf j, big;
	struct fmn_msg *m;
	size_t i;

	CHECK(d != NULL);
	fmn_buf_init(&big);
	/* Multi-byte characters, so a cut must fall between characters. */
	for (i = 0; i < 50000; i++)
		fmn_buf_adds(&big, "\xc3\xa9");
	fmn_buf_init(&j);
	fmn_buf_printf(&j, "{\"topic\": \"org.example.prod.widget.made\", "
	    "\"msg\": {\"title\": \"%s\", \"text\": \"%s\", \"url\": "
	    "\"http://x/%s\", \"who\": \"%s\", \"names\": [\"%s\"",
	    big.data, big.data, big.data, big.data, big.data);
	for (i = 0; i < 1000; i++)
		fmn_buf_printf(&j, ", \"user%zu\"", i);
	fmn_buf_adds(&j, "]}}");
	m = msg(j.data);
	CHECK(m != NULL);
	fmn_facts_derive(d, NULL, m);
	CHECK(strlen(m->facts.subtitle) <= 1024);
	CHECK(strlen(m->facts.subtitle) > 1000);
	CHECK(fmn_utf8_valid(m->facts.subtitle, strlen(m->facts.subtitle)));
	CHECK(strcmp(m->facts.subtitle + strlen(m->facts.subtitle) - 3,
	    "\xe2\x80\xa6") == 0);
	CHECK(strlen(m->facts.link) <= 2048);
	CHECK(strlen(m->facts.agent) <= 256);
	CHECK(strlen(m->facts.long_form) <= 32768);
	CHECK(fmn_utf8_valid(m->facts.long_form, strlen(m->facts.long_form)));
	/* The name of 100 KB is no name; 256 of the others are kept. */
	CHECK_INT(m->facts.usernames.n, 256);
	for (i = 0; i < m->facts.usernames.n; i++)
		CHECK(strncmp(m->facts.usernames.v[i], "user", 4) == 0);
	fmn_msg_destroy(&m);
	fmn_buf_free(&j);
	fmn_buf_free(&big);
	fmn_defs_destroy(&d);
	free(cause);
}

/* A guard picks one definition per body format for the same topic. */
TEST(guards_pick_a_definition_by_the_body)
{
	char *cause = NULL;
	struct fmn_defs *d = defs_from("{\"category\": \"widget\", \"defs\": ["
	    "{\"topic\": \"*.widget.made\", \"if\": \"/msg/who/name\","
	    " \"agent\": \"{/msg/who/name}\", \"subtitle\": \"new {/msg/who/name}\"},"
	    "{\"topic\": \"*.widget.made\", \"all\": [{\"if\": \"/msg/v\", "
	    "\"eq\": 2}, {\"if\": \"/msg/who\", \"not\": true}],"
	    " \"subtitle\": \"v2 without anyone\"},"
	    "{\"topic\": \"*.widget.made\", \"agent\": \"{/msg/who}\","
	    " \"subtitle\": \"old {/msg/who}\"}]}", &cause);
	struct fmn_msg *m;

	if (d == NULL)
		fprintf(stderr, "%s\n", cause);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	m = msg("{\"topic\": \"a.b.c.widget.made\", \"msg\": {\"who\": "
	    "{\"name\": \"alice\"}}}");
	fmn_facts_derive(d, NULL, m);
	CHECK_STR(m->facts.subtitle, "new alice");
	CHECK_STR(m->facts.agent, "alice");
	fmn_msg_destroy(&m);
	m = msg("{\"topic\": \"a.b.c.widget.made\", \"msg\": {\"who\": \"bob\"}}");
	fmn_facts_derive(d, NULL, m);
	CHECK_STR(m->facts.subtitle, "old bob");
	CHECK_STR(m->facts.agent, "bob");
	fmn_msg_destroy(&m);
	m = msg("{\"topic\": \"a.b.c.widget.made\", \"msg\": {\"v\": 2}}");
	fmn_facts_derive(d, NULL, m);
	CHECK_STR(m->facts.subtitle, "v2 without anyone");
	fmn_msg_destroy(&m);
	fmn_defs_destroy(&d);
	/* A guard is a condition: its keys are checked as a case's are. */
	refused_with("{\"defs\": [{\"topic\": \"x\", \"if\": \"/a\", \"eq\": 1,"
	    " \"re\": \"b\"}]}", "defs[0].guard[0]: only one of eq, ne, re");
	refused_with("{\"defs\": [{\"topic\": \"x\", \"if\": \"/a|frob\"}]}",
	    "unknown transform");
	free(cause);
}

/* A subtitle that renders blank is no subtitle: the topic's is used. */
TEST(blank_subtitles_fall_back_to_the_topic)
{
	char *cause = NULL;
	struct fmn_defs *d = defs_from("{\"category\": \"widget\", \"defs\": ["
	    "{\"topic\": \"*.widget.*\", \"agent\": \"{/msg/who}\","
	    " \"subtitle\": [{\"if\": \"/msg/x\", \"then\": \"{/msg/x}\"},"
	    " \" {/msg/y || ''} \"]}]}", &cause);
	struct fmn_msg *m;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	m = msg("{\"topic\": \"a.b.c.widget.made\", \"msg\": {\"x\": \"  \", "
	    "\"who\": \" \"}}");
	fmn_facts_derive(d, NULL, m);
	CHECK_STR(m->facts.subtitle, "widget.made");
	CHECK(m->facts.agent == NULL);
	fmn_msg_destroy(&m);
	m = msg("{\"topic\": \"a.b.c.widget.made\", \"msg\": {\"y\": \"hi\"}}");
	fmn_facts_derive(d, NULL, m);
	CHECK_STR(m->facts.subtitle, " hi ");
	fmn_msg_destroy(&m);
	fmn_defs_destroy(&d);
	free(cause);
}
