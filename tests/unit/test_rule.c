/*
 * Rule kinds: parsing and validation (causes that name the token), and the
 * three-valued evaluation of every kind against hand-built messages.
 */
#include <stdlib.h>
#include <string.h>

#include "fmn_test.h"
#include "fmn_util.h"
#include "fmn_msg.h"
#include "fmn_owners.h"
#include "fmn_rule.h"

/* A message with the given envelope and facts; lists are comma-separated. */
static struct fmn_msg *
mkmsg(const char *envjson, const char *users, const char *pkgs,
    const char *agent)
{
	struct fmn_msg *m;
	char *cause = NULL, *copy, *tok, *save;

	m = fmn_msg_parse(NULL, envjson, strlen(envjson), &cause);
	if (m == NULL) {
		fprintf(stderr, "bad test envelope: %s\n", cause);
		abort();
	}
	if (users != NULL) {
		copy = strdup(users);
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			fmn_strset_add(&m->facts.usernames, tok);
		free(copy);
	}
	if (pkgs != NULL) {
		copy = strdup(pkgs);
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			fmn_strset_add(&m->facts.packages, tok);
		free(copy);
	}
	fmn_strset_finish(&m->facts.usernames);
	fmn_strset_finish(&m->facts.packages);
	if (agent != NULL)
		m->facts.agent = strdup(agent);
	m->has_facts = 1;
	return m;
}

/* Evaluate "[!]kind:arg" with negation applied; -2 when it does not parse. */
static int
eval_token(const char *token, struct fmn_msg *m, const struct fmn_owners *o)
{
	struct fmn_rule_spec spec;
	struct fmn_rule *r;
	char *cause = NULL;
	int res;

	if (fmn_rule_parse(token, &spec, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return -2;
	}
	r = fmn_rule_compile(spec.kind, spec.argument, NULL);
	res = fmn_rule_eval(r, m, o);
	if (spec.negated)
		res = fmn_match_negate(res);
	fmn_rule_destroy(&r);
	fmn_rule_spec_clear(&spec);
	return res;
}

/* Parse must fail with a cause containing both needles. */
static void
check_refused(const char *token, const char *why)
{
	struct fmn_rule_spec spec;
	char *cause = NULL;

	if (fmn_rule_parse(token, &spec, &cause) == 0) {
		fprintf(stderr, "accepted: %s\n", token);
		CHECK(!"token accepted");
		fmn_rule_spec_clear(&spec);
		return;
	}
	CHECK(cause != NULL);
	if (cause == NULL)
		return;
	if (strstr(cause, token) == NULL || strstr(cause, why) == NULL) {
		fprintf(stderr, "cause for %s: %s (wanted %s)\n", token, cause, why);
		CHECK(!"cause does not name token and reason");
	}
	free(cause);
}

static const char *ENV_BODHI =
    "{\"topic\": \"org.fedoraproject.prod.bodhi.update.comment\","
    " \"msg_id\": \"2024-1\", \"timestamp\": 1,"
    " \"msg\": {\"comment\": {\"karma\": 1, \"text\": \"works for me\","
    " \"anonymous\": false, \"x\": null},"
    " \"update\": {\"status\": \"testing\", \"builds\": [{\"nvr\": \"kernel-6.1\"}]},"
    " \"a/b\": \"slash\", \"m~n\": \"tilde\"}}";

TEST(parse_accepts_every_kind)
{
	static const char *good[] = {
		"topic:org.fedoraproject.*.bodhi.*", "!topic:*.buildsys.*",
		"topic-re:^org\\.fedoraproject\\..*\\.git\\.", "category:bodhi,koji",
		"user:alice", "agent:bob", "package:kernel", "package-re:^python-",
		"owned:alice", "group:kernel-maint", "field:/msg/update/status=stable",
		"field:/msg/comment/text~(?i)works", "field:/a~1b=x", "body-re:karma",
		"field:/msg/x=",
	};
	struct fmn_rule_spec spec;
	char *cause = NULL;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (fmn_rule_parse(good[i], &spec, &cause) != 0) {
			fprintf(stderr, "%s: %s\n", good[i], cause);
			free(cause);
			cause = NULL;
			CHECK(!"refused a good rule");
			continue;
		}
		char *back = fmn_rule_format(spec.kind, spec.negated, spec.argument);
		CHECK_STR(back, good[i]);
		free(back);
		fmn_rule_spec_clear(&spec);
	}
}

TEST(parse_refuses_with_cause)
{
	check_refused("nope", "expected [!]KIND:ARGUMENT");
	check_refused("colour:red", "unknown rule kind");
	check_refused("user:", "empty argument");
	check_refused("!topic:", "empty argument");
	check_refused("topic-re:(unclosed", "does not compile");
	check_refused("body-re:a{2,1}", "does not compile");
	check_refused("package-re:[", "does not compile");
	check_refused("field:msg/x=1", "must start with '/'");
	check_refused("field:/msg/x", "expected /json/pointer=VALUE");
	check_refused("field:/msg/x~(", "does not compile");
	check_refused("category:a,,b", "empty category");
	check_refused("user:al ice", "whitespace");
}

/*
 * RFC 6901 has two escapes, ~0 and ~1. A '~' followed by a digit is
 * always read as an escape, so "~2" is refused rather than taken for
 * the regex operator and a regex "2b=x" the user never meant.
 */
TEST(pointer_escapes_are_only_0_and_1)
{
	struct fmn_msg *m = mkmsg(ENV_BODHI, NULL, NULL, NULL);

	check_refused("field:/a~2b=x", "~2");
	check_refused("field:/a~2b=x", "only ~0");
	check_refused("field:/msg/a~9=x", "~9");
	check_refused("field:/msg/m~0n~1~5=tilde", "~5");
	check_refused("!field:/a~2", "only ~0");
	check_refused("field:/a~", "only ~0");
	check_refused("field:/a~=x", "only ~0");
	/* The escapes, and the regex operator before a non-digit. */
	CHECK_INT(eval_token("field:/msg/a~1b=slash", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/m~0n~^ti", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/karma~[1]", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/text=a~2b", m, NULL), 0);
	fmn_msg_destroy(&m);
}

TEST(check_stored_rule)
{
	char *cause = NULL;

	CHECK_INT(fmn_rule_check("user", "alice", &cause), 0);
	CHECK_INT(fmn_rule_check("owner", "alice", &cause), -1);
	CHECK(cause != NULL && strstr(cause, "unknown rule kind") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(fmn_rule_check("topic-re", "(", &cause), -1);
	CHECK(cause != NULL && strstr(cause, "topic-re:(") != NULL);
	free(cause);
}

TEST(docs_from_table)
{
	int k;

	for (k = 0; k < FMN_RULE__COUNT; k++) {
		CHECK(fmn_rule_kind_lookup(fmn_rule_kind_name(k)) == k);
		CHECK(strlen(fmn_rule_kind_doc(k)) > 20);
		CHECK(strncmp(fmn_rule_kind_syntax(k), fmn_rule_kind_name(k),
		    strlen(fmn_rule_kind_name(k))) == 0);
	}
	CHECK_INT(fmn_rule_kind_lookup("nope"), -1);
}

TEST(topic_glob)
{
	struct fmn_msg *m = mkmsg(ENV_BODHI, NULL, NULL, NULL);

	CHECK_INT(eval_token("topic:org.fedoraproject.prod.bodhi.update.comment", m, NULL), 1);
	CHECK_INT(eval_token("topic:*.bodhi.*", m, NULL), 1);
	CHECK_INT(eval_token("topic:*bodhi*", m, NULL), 1);
	CHECK_INT(eval_token("topic:*.update.commen?", m, NULL), 1);
	CHECK_INT(eval_token("topic:*.update.comment?", m, NULL), 0);
	CHECK_INT(eval_token("topic:*.buildsys.*", m, NULL), 0);
	CHECK_INT(eval_token("!topic:*.buildsys.*", m, NULL), 1);
	CHECK_INT(eval_token("topic:org.fedoraproject", m, NULL), 0);
	CHECK_INT(eval_token("topic:*", m, NULL), 1);
	fmn_msg_destroy(&m);
}

TEST(topic_re_and_category)
{
	struct fmn_msg *m = mkmsg(ENV_BODHI, NULL, NULL, NULL);

	CHECK_INT(eval_token("topic-re:bodhi\\.update", m, NULL), 1);
	CHECK_INT(eval_token("topic-re:^bodhi", m, NULL), 0);
	CHECK_INT(eval_token("!topic-re:^bodhi", m, NULL), 1);
	CHECK_INT(eval_token("category:bodhi", m, NULL), 1);
	CHECK_INT(eval_token("category:koji,bodhi", m, NULL), 1);
	CHECK_INT(eval_token("category:koji,git", m, NULL), 0);
	CHECK_INT(eval_token("category:bod", m, NULL), 0);
	fmn_msg_destroy(&m);
}

TEST(user_agent_package)
{
	struct fmn_msg *m = mkmsg(ENV_BODHI, "alice,bob", "kernel,python-foo", "bob");

	CHECK_INT(eval_token("user:alice", m, NULL), 1);
	CHECK_INT(eval_token("user:carol", m, NULL), 0);
	CHECK_INT(eval_token("!user:carol", m, NULL), 1);
	CHECK_INT(eval_token("agent:bob", m, NULL), 1);
	CHECK_INT(eval_token("agent:alice", m, NULL), 0);
	CHECK_INT(eval_token("package:kernel", m, NULL), 1);
	CHECK_INT(eval_token("package:kern", m, NULL), 0);
	CHECK_INT(eval_token("package-re:^python-", m, NULL), 1);
	CHECK_INT(eval_token("package-re:^perl-", m, NULL), 0);
	fmn_msg_destroy(&m);
}

TEST(missing_data_is_false)
{
	struct fmn_msg *m = mkmsg("{\"topic\": \"a.b.c.d\", \"msg\": {}}",
	    NULL, NULL, NULL);

	CHECK_INT(eval_token("user:alice", m, NULL), 0);
	CHECK_INT(eval_token("!user:alice", m, NULL), 1);
	CHECK_INT(eval_token("agent:alice", m, NULL), 0);
	CHECK_INT(eval_token("!agent:alice", m, NULL), 1);
	CHECK_INT(eval_token("package-re:.", m, NULL), 0);
	CHECK_INT(eval_token("owned:alice", m, NULL), 0);
	CHECK_INT(eval_token("group:g", m, NULL), 0);
	CHECK_INT(eval_token("field:/msg/nothere=1", m, NULL), 0);
	CHECK_INT(eval_token("!field:/msg/nothere~.", m, NULL), 1);
	CHECK_INT(eval_token("field:/topic/0=x", m, NULL), 0);
	fmn_msg_destroy(&m);
	m = mkmsg("{\"topic\": \"nodots\", \"msg\": 5}", NULL, NULL, NULL);
	CHECK_INT(eval_token("category:nodots", m, NULL), 0);
	CHECK_INT(eval_token("body-re:5", m, NULL), 1);
	fmn_msg_destroy(&m);
}

TEST(owned_and_group)
{
	struct fmn_owners *o = fmn_owners_new();
	struct fmn_msg *m = mkmsg(ENV_BODHI, "jforbes,zed", "kernel", NULL);

	fmn_owners_add(o, "kernel", "alice", 0);
	fmn_owners_add(o, "kernel", "kernel-maint", 1);
	fmn_owners_add(o, "other", "bob", 0);
	fmn_owners_add_member(o, "kernel-maint", "carol");
	fmn_owners_add_member(o, "qa", "zed");
	CHECK_INT(eval_token("owned:alice", m, o), 1);
	CHECK_INT(eval_token("owned:carol", m, o), 1);	/* through the group */
	CHECK_INT(eval_token("owned:bob", m, o), 0);
	CHECK_INT(eval_token("!owned:bob", m, o), 1);
	CHECK_INT(eval_token("owned:kernel-maint", m, o), 0);
	CHECK_INT(eval_token("group:qa", m, o), 1);
	CHECK_INT(eval_token("group:kernel-maint", m, o), 0);
	CHECK_INT(eval_token("group:nosuch", m, o), 0);
	CHECK_INT(eval_token("owned:alice", m, NULL), 0);
	fmn_msg_destroy(&m);
	fmn_owners_destroy(&o);
	CHECK(o == NULL);
}

TEST(field_equals_and_regex)
{
	struct fmn_msg *m = mkmsg(ENV_BODHI, NULL, NULL, NULL);

	CHECK_INT(eval_token("field:/msg/update/status=testing", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/update/status=stable", m, NULL), 0);
	CHECK_INT(eval_token("field:/msg/comment/karma=1", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/karma=1.0", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/karma=01", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/karma=one", m, NULL), 0);
	CHECK_INT(eval_token("field:/msg/comment/anonymous=false", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/x=null", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/update/builds/0/nvr=kernel-6.1", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/update/builds/1/nvr=kernel-6.1", m, NULL), 0);
	CHECK_INT(eval_token("field:/msg/update/builds/00/nvr=kernel-6.1", m, NULL), 0);
	CHECK_INT(eval_token("field:/msg/a~1b=slash", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/m~0n=tilde", m, NULL), 1);
	CHECK_INT(eval_token("field:/topic~bodhi\\.update", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/text~^works", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/karma~^1$", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/update~\"status\":\"testing\"", m, NULL), 1);
	CHECK_INT(eval_token("field:/msg/comment/text=works=for me", m, NULL), 0);
	fmn_msg_destroy(&m);
}

TEST(body_re)
{
	struct fmn_msg *m = mkmsg(ENV_BODHI, NULL, NULL, NULL);

	CHECK_INT(eval_token("body-re:\"karma\":1", m, NULL), 1);
	CHECK_INT(eval_token("body-re:(?i)WORKS FOR", m, NULL), 1);
	CHECK_INT(eval_token("body-re:karma\": 1", m, NULL), 0);
	fmn_msg_destroy(&m);
}

TEST(match_limit_is_an_error)
{
	struct fmn_buf b;
	struct fmn_msg *m;
	int i;

	fmn_buf_init(&b);
	fmn_buf_adds(&b, "{\"topic\": \"a.b.c.d\", \"msg\": {\"t\": \"");
	for (i = 0; i < 40; i++)
		fmn_buf_adds(&b, "a");
	fmn_buf_adds(&b, "!\"}}");
	m = mkmsg(b.data, NULL, NULL, NULL);
	CHECK_INT(eval_token("body-re:(a+)+$", m, NULL), FMN_MATCH_ERR);
	/* Negation does not turn an error into a match. */
	CHECK_INT(eval_token("!body-re:(a+)+$", m, NULL), FMN_MATCH_ERR);
	CHECK_INT(eval_token("field:/msg/t~^(\\w+\\s?)*$", m, NULL), FMN_MATCH_ERR);
	CHECK_INT(eval_token("body-re:a+!", m, NULL), 1);
	fmn_msg_destroy(&m);
	fmn_buf_free(&b);
}

/* Units of a rule token's evaluation; sets *res to its result. */
static unsigned long
units_of(const char *token, struct fmn_msg *m, int *res)
{
	struct fmn_rule_spec spec;
	struct fmn_rule *r;
	unsigned long units = 0;

	if (fmn_rule_parse(token, &spec, NULL) == -1)
		abort();
	r = fmn_rule_compile(spec.kind, spec.argument, NULL);
	*res = fmn_rule_eval_units(r, m, NULL, &units);
	CHECK_INT(fmn_rule_uses_regex(r), units > 0);
	fmn_rule_destroy(&r);
	fmn_rule_spec_clear(&spec);
	return units;
}

TEST(regex_work_is_charged_in_match_limit_units)
{
	struct fmn_msg *m = mkmsg("{\"topic\": \"a.b.c.d\", \"msg\": "
	    "{\"x\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
	    NULL, "kernel,python-x,vim", NULL);
	int res;

	/* A plain regex ends at the first step and is charged its limit. */
	CHECK_INT(units_of("body-re:aaa", m, &res), 100);
	CHECK_INT(res, FMN_MATCH_YES);
	CHECK_INT(units_of("topic-re:^b", m, &res), 100);
	CHECK_INT(res, FMN_MATCH_NO);
	CHECK_INT(units_of("field:/msg/x~a$", m, &res), 100);
	CHECK_INT(res, FMN_MATCH_YES);
	/* One search per package, charged together. */
	CHECK_INT(units_of("package-re:^z", m, &res), 300);
	CHECK_INT(res, FMN_MATCH_NO);
	/* Backtracking for ever: stopped at the limit, all of it charged. */
	CHECK_INT(units_of("body-re:(?:.*a){40}x", m, &res),
	    FMN_RULE_MATCH_LIMIT);
	CHECK_INT(res, FMN_MATCH_ERR);
	/* No regex, no charge. */
	CHECK_INT(units_of("field:/msg/x=a", m, &res), 0);
	CHECK_INT(units_of("user:u", m, &res), 0);
	CHECK_INT(units_of("topic:a.*", m, &res), 0);
	CHECK_INT(res, FMN_MATCH_YES);
	fmn_msg_destroy(&m);
}
