/*
 * The message model: parse and validate a fedmsg envelope as it comes
 * off the bus, derive its category, and hold the facts computed for it
 * once. Everything here reads untrusted input: every JSON type is
 * checked before use and an invalid envelope is refused with a reason,
 * never an abort.
 */
#include <stdlib.h>
#include <string.h>

#include "fmn_msg.h"
#include "fmn_util.h"

void
fmn_strset_add(struct fmn_strset *s, const char *str)
{
	if (str == NULL)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = xstrdup(str);
}

static int
strset_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
fmn_strset_finish(struct fmn_strset *s)
{
	size_t i, j;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), strset_cmp);
	for (i = 1, j = 0; i < s->n; i++) {
		if (strcmp(s->v[i], s->v[j]) == 0)
			free(s->v[i]);
		else
			s->v[++j] = s->v[i];
	}
	s->n = j + 1;
}

int
fmn_strset_has(const struct fmn_strset *s, const char *str)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(str, s->v[mid]);

		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

void
fmn_strset_clear(struct fmn_strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

void
fmn_facts_clear(struct fmn_facts *f)
{
	fmn_strset_clear(&f->usernames);
	fmn_strset_clear(&f->packages);
	free(f->agent);
	free(f->link);
	free(f->subtitle);
	free(f->long_form);
	f->agent = f->link = f->subtitle = f->long_form = NULL;
}

/*
 * Is s empty or only white space? Such a msg_id names nothing: taken as
 * an id, every message of a publisher that sends "" would be a duplicate
 * of its first one.
 */
static int
blank_id(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' &&
		    *s != '\f' && *s != '\v')
			return 0;
	return 1;
}

/* The fourth dot-separated token of the topic, or "". */
static char *
topic_category(const char *topic)
{
	const char *p = topic, *end;
	int i;

	for (i = 0; i < 3; i++) {
		p = strchr(p, '.');
		if (p == NULL)
			return xstrdup("");
		p++;
	}
	end = strchr(p, '.');
	return end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
}

struct fmn_msg *
fmn_msg_from_json(json_t *env, const char *frame_topic, char **cause)
{
	struct fmn_msg *m;
	json_t *topic, *body, *ts, *id;

	if (!json_is_object(env)) {
		fmn_set_cause(cause, "envelope is not a JSON object");
		return NULL;
	}
	topic = json_object_get(env, "topic");
	if (!json_is_string(topic) || json_string_length(topic) == 0) {
		fmn_set_cause(cause, "envelope has no topic (a non-empty string)");
		return NULL;
	}
	if (strlen(json_string_value(topic)) != json_string_length(topic)) {
		fmn_set_cause(cause, "topic contains a NUL character");
		return NULL;
	}
	if (frame_topic != NULL &&
	    strcmp(frame_topic, json_string_value(topic)) != 0) {
		fmn_set_cause(cause, "frame topic \"%s\" differs from the "
		    "envelope topic", frame_topic);
		return NULL;
	}
	body = json_object_get(env, "msg");
	if (body == NULL) {
		fmn_set_cause(cause, "envelope has no msg");
		return NULL;
	}
	ts = json_object_get(env, "timestamp");
	if (ts != NULL && !json_is_integer(ts) && !json_is_real(ts)) {
		fmn_set_cause(cause, "timestamp is not a number");
		return NULL;
	}
	id = json_object_get(env, "msg_id");
	if (id != NULL && !json_is_null(id) && !json_is_string(id)) {
		fmn_set_cause(cause, "msg_id is not a string");
		return NULL;
	}
	if (json_is_string(id) &&
	    strlen(json_string_value(id)) != json_string_length(id)) {
		fmn_set_cause(cause, "msg_id contains a NUL character");
		return NULL;
	}
	if (json_is_string(id) && json_string_length(id) > FMN_MSG_ID_MAX) {
		fmn_set_cause(cause, "msg_id is %zu bytes, more than the %d an "
		    "id may have", json_string_length(id), FMN_MSG_ID_MAX);
		return NULL;
	}

	m = xcalloc(1, sizeof(*m));
	m->env = json_incref(env);
	m->topic = json_string_value(topic);
	m->msg_id = json_is_string(id) && !blank_id(json_string_value(id)) ?
	    json_string_value(id) : NULL;
	m->timestamp = ts ? json_number_value(ts) : 0;
	m->category = topic_category(m->topic);
	m->body = body;
	return m;
}

json_t *
fmn_msg_load_json(const char *text, size_t len, json_error_t *err)
{
	json_error_t local;
	json_t *env;

	if (err == NULL)
		err = &local;
	/* jansson refuses invalid UTF-8 and embedded NULs by default. */
	env = json_loadb(text, len, 0, err);
	/*
	 * JSON has no limit on integers, jansson's json_int_t has: a
	 * 30-digit build id fails the parse. Only then, parse again with
	 * every integer as a double (exact up to 2^53, close beyond), so
	 * that ordinary envelopes keep exact integers.
	 */
	if (env == NULL && json_error_code(err) == json_error_numeric_overflow)
		env = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, err);
	return env;
}

struct fmn_msg *
fmn_msg_parse(const char *frame_topic, const char *json, size_t len,
    char **cause)
{
	struct fmn_msg *m;
	json_error_t err;
	json_t *env;

	if (json == NULL) {
		fmn_set_cause(cause, "no envelope");
		return NULL;
	}
	env = fmn_msg_load_json(json, len, &err);
	if (env == NULL) {
		fmn_set_cause(cause, "invalid JSON at line %d column %d: %s",
		    err.line, err.column, err.text);
		return NULL;
	}
	m = fmn_msg_from_json(env, frame_topic, cause);
	json_decref(env);
	return m;
}

const char *
fmn_msg_body_text(struct fmn_msg *m)
{
	if (m->body_text == NULL) {
		m->body_text = json_dumps(m->body,
		    JSON_COMPACT | JSON_ENCODE_ANY);
		if (m->body_text == NULL)
			m->body_text = xstrdup("null");
	}
	return m->body_text;
}

void
fmn_msg_destroy(struct fmn_msg **mp)
{
	struct fmn_msg *m = *mp;

	if (m == NULL)
		return;
	fmn_facts_clear(&m->facts);
	free(m->category);
	free(m->body_text);
	json_decref(m->env);
	free(m);
	*mp = NULL;
}

static json_t *
summary_strset(const struct fmn_strset *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

char *
fmn_msg_summary(const struct fmn_msg *m)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "topic", json_string(m->topic));
	if (m->msg_id != NULL)
		json_object_set_new(o, "msg_id", json_string(m->msg_id));
	json_object_set_new(o, "timestamp", json_real(m->timestamp));
	json_object_set_new(o, "category", json_string(m->category));
	if (m->facts.subtitle != NULL)
		json_object_set_new(o, "subtitle",
		    json_string(m->facts.subtitle));
	if (m->facts.link != NULL)
		json_object_set_new(o, "link", json_string(m->facts.link));
	if (m->facts.long_form != NULL)
		json_object_set_new(o, "long_form",
		    json_string(m->facts.long_form));
	if (m->facts.agent != NULL)
		json_object_set_new(o, "agent", json_string(m->facts.agent));
	json_object_set_new(o, "usernames", summary_strset(&m->facts.usernames));
	json_object_set_new(o, "packages", summary_strset(&m->facts.packages));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		abort();	/* only out of memory: every string is UTF-8 */
	return s;
}

static char *
summary_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? xstrdup(s) : NULL;
}

static void
summary_set(json_t *o, const char *key, struct fmn_strset *set)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(o, key), i, v)
		if (json_is_string(v))
			fmn_strset_add(set, json_string_value(v));
	fmn_strset_finish(set);
}

struct fmn_msg *
fmn_msg_from_summary(const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	struct fmn_msg *m;

	if (!json_is_object(o) ||
	    !json_is_string(json_object_get(o, "topic"))) {
		json_decref(o);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->env = o;
	m->topic = json_string_value(json_object_get(o, "topic"));
	m->msg_id = json_string_value(json_object_get(o, "msg_id"));
	m->timestamp = json_number_value(json_object_get(o, "timestamp"));
	m->category = summary_str(o, "category");
	if (m->category == NULL)
		m->category = xstrdup("");
	m->facts.subtitle = summary_str(o, "subtitle");
	m->facts.link = summary_str(o, "link");
	m->facts.long_form = summary_str(o, "long_form");
	m->facts.agent = summary_str(o, "agent");
	summary_set(o, "usernames", &m->facts.usernames);
	summary_set(o, "packages", &m->facts.packages);
	m->has_facts = 1;
	return m;
}
