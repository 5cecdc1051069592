/*
 * The message model: a validated fedmsg envelope, its category and the
 * facts derived from it once (see fmn_facts.h).
 */
#ifndef FMN_MSG_H
#define FMN_MSG_H

#include <stddef.h>
#include <jansson.h>

/* A sorted set of strings; sorted and deduplicated by fmn_strset_finish(). */
struct fmn_strset {
	char	**v;
	size_t	  n;
	size_t	  cap;
};
void fmn_strset_add(struct fmn_strset *s, const char *str);
void fmn_strset_finish(struct fmn_strset *s);
/* Binary search; the set must be finished. */
int fmn_strset_has(const struct fmn_strset *s, const char *str);
void fmn_strset_clear(struct fmn_strset *s);

/* What the facts engine derives from a message; NULL or empty when absent. */
struct fmn_facts {
	struct fmn_strset usernames;	/* account names, after aliases */
	struct fmn_strset packages;
	char		*agent;
	char		*link;
	char		*subtitle;
	char		*long_form;
};
void fmn_facts_clear(struct fmn_facts *f);

/*
 * The longest msg_id taken, in bytes: ids are a year and a UUID, so a
 * longer one is refused as an invalid envelope rather than stored,
 * indexed and carried into every notification.
 */
#define FMN_MSG_ID_MAX	1024

struct fmn_msg {
	json_t		*env;		/* the whole envelope (owned) */
	const char	*topic;		/* inside env */
	const char	*msg_id;	/* inside env; NULL when absent or blank */
	double		 timestamp;	/* 0 when absent */
	char		*category;	/* fourth topic token, "" if none */
	json_t		*body;		/* env["msg"], borrowed */
	char		*body_text;	/* compact JSON of body, see fmn_msg_body_text */
	struct fmn_facts facts;
	int		 has_facts;
	int		 has_match_facts;	/* usernames, packages, agent */
};

/*
 * The JSON of an envelope, as every reader of envelopes (the bus, fmnctl
 * meta and match, fmn_msg_parse) parses it: strict UTF-8, and integers
 * too big for json_int_t accepted as doubles rather than refused. NULL
 * and *err (when err is not NULL) on invalid JSON.
 */
json_t *fmn_msg_load_json(const char *text, size_t len, json_error_t *err);
/*
 * Parse and validate an envelope. frame_topic, when not NULL, is the
 * ZeroMQ topic frame and must equal the envelope's topic. Returns NULL
 * and sets *cause on an invalid envelope.
 */
struct fmn_msg *fmn_msg_parse(const char *frame_topic, const char *json,
    size_t len, char **cause);
/* Same from an already parsed object; takes a new reference to env. */
struct fmn_msg *fmn_msg_from_json(json_t *env, const char *frame_topic,
    char **cause);
/* Compact JSON text of the body, computed once. */
const char *fmn_msg_body_text(struct fmn_msg *m);
void fmn_msg_destroy(struct fmn_msg **mp);

/*
 * What delivery needs of a message (topic, msg_id, time, category and
 * the derived facts) as one compact JSON text, stored beside the
 * envelope so that a notification is formatted without parsing the
 * envelope or deriving facts again. The caller frees it.
 */
char *fmn_msg_summary(const struct fmn_msg *m);
/* A message rebuilt from a summary (no body); NULL if it is not one. */
struct fmn_msg *fmn_msg_from_summary(const char *text, size_t len);

#endif
