/*
 * The message model: what an envelope must be to be accepted, the
 * category, and the sorted string sets facts are kept in.
 */
#include <stdlib.h>
#include <string.h>

#include "fmn_msg.h"
#include "fmn_util.h"
#include "fmn_test.h"

static struct fmn_msg *
parse(const char *frame, const char *s, char **cause)
{
	return fmn_msg_parse(frame, s, strlen(s), cause);
}

static void
refused(const char *frame, const char *s, const char *why)
{
	char *cause = NULL;
	struct fmn_msg *m = parse(frame, s, &cause);

	CHECK(m == NULL);
	CHECK(cause != NULL && strstr(cause, why) != NULL);
	if (cause != NULL && strstr(cause, why) == NULL)
		fprintf(stderr, "  cause: %s (wanted %s)\n", cause, why);
	fmn_msg_destroy(&m);
	free(cause);
}

TEST(refuses_bad_json)
{
	refused(NULL, "{\"topic\": ", "invalid JSON");
	refused(NULL, "", "invalid JSON");
	refused(NULL, "[1, 2]", "not a JSON object");
	refused(NULL, "\"x\"", "invalid JSON");
}

TEST(refuses_missing_or_empty_topic)
{
	refused(NULL, "{\"msg\": {}}", "topic");
	refused(NULL, "{\"topic\": \"\", \"msg\": {}}", "topic");
	refused(NULL, "{\"topic\": 3, \"msg\": {}}", "topic");
}

TEST(refuses_missing_msg)
{
	refused(NULL, "{\"topic\": \"a.b.c.d\"}", "msg");
}

TEST(refuses_frame_topic_mismatch)
{
	char *cause = NULL;
	struct fmn_msg *m;

	refused("a.b.c.x", "{\"topic\": \"a.b.c.d\", \"msg\": 1}", "frame topic");
	m = parse("a.b.c.d", "{\"topic\": \"a.b.c.d\", \"msg\": 1}", &cause);
	CHECK(m != NULL);
	fmn_msg_destroy(&m);
	CHECK(m == NULL);
}

TEST(refuses_bad_field_types)
{
	refused(NULL, "{\"topic\": \"a\", \"msg\": 1, \"timestamp\": \"1\"}",
	    "timestamp");
	refused(NULL, "{\"topic\": \"a\", \"msg\": 1, \"msg_id\": 7}",
	    "msg_id");
}

TEST(msg_id_absent_is_fine)
{
	char *cause = NULL;
	struct fmn_msg *m = parse(NULL,
	    "{\"topic\": \"org.fedoraproject.prod.bodhi.update.comment\", "
	    "\"msg\": null, \"timestamp\": 12.5}", &cause);

	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK(m->msg_id == NULL);
	CHECK(m->timestamp == 12.5);
	CHECK_STR(m->category, "bodhi");
	CHECK(json_is_null(m->body));
	CHECK_STR(fmn_msg_body_text(m), "null");
	fmn_msg_destroy(&m);
}

/* "" is what a publisher without an id sends: no id, not one shared id. */
TEST(empty_msg_id_is_no_msg_id)
{
	static const char *const ids[] = { "\"\"", "\" \"", "\"\\t\\r\\n \"" };
	char *cause = NULL, *env, *sum;
	struct fmn_msg *m;
	size_t i;

	for (i = 0; i < FMN_NELEM(ids); i++) {
		env = xasprintf("{\"topic\": \"a.b.c.d\", \"msg\": 1, "
		    "\"msg_id\": %s}", ids[i]);
		m = parse(NULL, env, &cause);
		CHECK(m != NULL);
		if (m != NULL) {
			CHECK(m->msg_id == NULL);
			sum = fmn_msg_summary(m);
			CHECK(strstr(sum, "msg_id") == NULL);
			free(sum);
		}
		fmn_msg_destroy(&m);
		free(env);
	}
	m = parse(NULL, "{\"topic\": \"a.b.c.d\", \"msg\": 1, "
	    "\"msg_id\": \" x \"}", &cause);
	CHECK(m != NULL && m->msg_id != NULL && strcmp(m->msg_id, " x ") == 0);
	fmn_msg_destroy(&m);
}

/*
 * JSON puts no bound on integers; jansson does (json_int_t). A koji
 * build id past 2^63 is still a valid envelope, and ordinary integers
 * stay integers.
 */
TEST(huge_integers_are_valid_json)
{
	char *cause = NULL;
	struct fmn_msg *m;
	json_t *v;

	m = parse(NULL, "{\"topic\": \"org.fedoraproject.prod.buildsys.build."
	    "state.change\", \"msg\": {\"build_id\": "
	    "123456789012345678901234567890, \"name\": \"kernel\"}, "
	    "\"msg_id\": \"2024-big\", \"timestamp\": 1700000000, "
	    "\"i\": -99999999999999999999}", &cause);
	if (m == NULL)
		fprintf(stderr, "  cause: %s\n", cause);
	CHECK(m != NULL);
	if (m != NULL) {
		v = json_object_get(m->body, "build_id");
		CHECK(json_is_number(v));
		CHECK(json_number_value(v) > 1.2e29 &&
		    json_number_value(v) < 1.3e29);
		CHECK_STR(m->msg_id, "2024-big");
		CHECK(m->timestamp == 1700000000.0);
		CHECK_STR(m->category, "buildsys");
	}
	fmn_msg_destroy(&m);
	free(cause);
	cause = NULL;
	m = parse(NULL, "{\"topic\": \"a.b.c.d\", \"msg\": "
	    "{\"n\": 9007199254740993}}", &cause);
	CHECK(m != NULL);
	if (m != NULL) {
		v = json_object_get(m->body, "n");
		CHECK(json_is_integer(v));
		CHECK(json_integer_value(v) == 9007199254740993LL);
	}
	fmn_msg_destroy(&m);
	refused(NULL, "{\"topic\": \"a.b.c.d\", \"msg\": "
	    "123456789012345678901234567890", "invalid JSON");
}

/* No id anyone uses is 1 KB long; a longer one is refused, not stored. */
TEST(msg_id_over_1024_bytes_refused)
{
	char *cause = NULL, *env, id[1100];
	struct fmn_msg *m;

	memset(id, 'x', sizeof(id));
	env = xasprintf("{\"topic\": \"a.b.c.d\", \"msg\": 1, "
	    "\"msg_id\": \"%.1024s\"}", id);
	m = parse(NULL, env, &cause);
	CHECK(m != NULL && m->msg_id != NULL && strlen(m->msg_id) == 1024);
	fmn_msg_destroy(&m);
	free(env);
	env = xasprintf("{\"topic\": \"a.b.c.d\", \"msg\": 1, "
	    "\"msg_id\": \"%.1025s\"}", id);
	refused(NULL, env, "msg_id is 1025 bytes");
	free(env);
	free(cause);
}

TEST(msg_id_and_category)
{
	char *cause = NULL;
	struct fmn_msg *m = parse(NULL,
	    "{\"topic\": \"io.pagure.prod.pagure.git.receive\", \"msg\": "
	    "{\"a\": [1, 2]}, \"msg_id\": \"2024-x\", \"timestamp\": 3}",
	    &cause);

	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_STR(m->msg_id, "2024-x");
	CHECK_STR(m->category, "pagure");
	CHECK_STR(fmn_msg_body_text(m), "{\"a\":[1,2]}");
	fmn_msg_destroy(&m);
	m = parse(NULL, "{\"topic\": \"a.b.c\", \"msg\": 1}", &cause);
	CHECK(m != NULL && strcmp(m->category, "") == 0);
	fmn_msg_destroy(&m);
}

TEST(strset_sorts_and_dedupes)
{
	struct fmn_strset s = { NULL, 0, 0 };

	fmn_strset_add(&s, "b");
	fmn_strset_add(&s, "a");
	fmn_strset_add(&s, "b");
	fmn_strset_add(&s, NULL);
	fmn_strset_add(&s, "c");
	fmn_strset_finish(&s);
	CHECK_INT(s.n, 3);
	CHECK_STR(s.v[0], "a");
	CHECK_STR(s.v[2], "c");
	CHECK(fmn_strset_has(&s, "b"));
	CHECK(!fmn_strset_has(&s, "d"));
	fmn_strset_clear(&s);
	CHECK_INT(s.n, 0);
}
