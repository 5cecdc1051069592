/*
 * Loading fact definitions: the shipped files compiled into the binary
 * and a deployment's own file, which adds to them and takes precedence.
 * A file is compiled whole or refused whole, with the file name, the
 * line and column of a syntax error or the JSON path of a bad entry,
 * and the reason. Topic globs are indexed by one literal token (the
 * service name, usually) so that a message is only tested against the
 * few definitions that could apply to it. A definition may also carry a
 * guard, a condition on the body (the shape one format has and another
 * lacks): a topic then has one definition per format, and a message
 * gets the first whose guard holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_defs.h"
#include "fmn_embed.h"
#include "fmn_glob.h"

struct entry {
	const char		*glob;
	const char		*category;	/* the 4th topic token must be this */
	const struct fmn_def	*def;
	int			 file;	/* later files win */
	int			 pos;	/* then the first in the file */
};

struct bucket {
	struct entry	*v;
	size_t		 n, cap;
};

struct fmn_defs {
	struct fmn_pool		**pools;	/* one per loaded file */
	size_t			 npools;
	struct fmn_hmap	*tables;	/* name -> table, across files */
	struct fmn_hmap	*index;		/* token -> struct bucket */
	struct bucket		 wild;		/* globs without a literal token */
	int			 nfiles;
	const char		*cur_name;	/* the file being loaded */
	/*
	 * Topics looked up, and their definition (or no_def): the bus
	 * repeats a few hundred topics, and the lookup tries globs.
	 */
	struct fmn_hmap		 seen;
};

/* Up to how many topics are remembered before starting over. */
#define DEFS_SEEN_MAX	4096

/* What seen holds for a topic without a definition. */
static const struct fmn_def no_def;

/* Tokens too common to index by: prefixes and environments. */
static const char *const common_tokens[] = {
	"org", "io", "com", "net", "fedoraproject", "centos", "prod", "stg",
	"dev", "release-monitoring",
};

static void
bucket_free(void *p)
{
	struct bucket *b = p;

	free(b->v);
	free(b);
}

static void
bucket_add(struct bucket *b, const struct entry *e)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4;
		b->v = xreallocarray(b->v, b->cap, sizeof(*b->v));
	}
	b->v[b->n++] = *e;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->file != y->file)
		return x->file > y->file ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void
sort_bucket(const char *key, void *value, void *arg)
{
	struct bucket *b = value;

	(void)key;
	(void)arg;
	if (b->n > 1)
		qsort(b->v, b->n, sizeof(*b->v), entry_cmp);
}

/* The literal token a glob indexes under; NULL if it has none. */
static char *
index_token(const char *glob)
{
	const char *s = glob, *e;
	char *first = NULL, *tok;
	size_t i;

	for (;;) {
		e = strchr(s, '.');
		if (e == NULL)
			e = s + strlen(s);
		if (e > s && strcspn(s, "*?") >= (size_t)(e - s)) {
			tok = xstrndup(s, (size_t)(e - s));
			for (i = 0; i < FMN_NELEM(common_tokens); i++)
				if (strcmp(tok, common_tokens[i]) == 0)
					break;
			if (i == FMN_NELEM(common_tokens)) {
				free(first);
				return tok;
			}
			if (first == NULL)
				first = tok;
			else
				free(tok);
		}
		if (*e == '\0')
			return first;
		s = e + 1;
	}
}

struct fmn_defs *
fmn_defs_new_empty(void)
{
	struct fmn_defs *d = xcalloc(1, sizeof(*d));

	d->tables = fmn_hmap_new();
	d->index = fmn_hmap_new();
	return d;
}

struct fmn_defs *
fmn_defs_new_builtin(char **cause)
{
	struct fmn_defs *d = fmn_defs_new_empty();
	const struct fmn_embedded *e;

	for (e = fmn_embedded_defs; e->name != NULL; e++) {
		if (fmn_defs_load_text(d, e->name, e->data, e->len,
		    cause) == -1) {
			fmn_defs_destroy(&d);
			return NULL;
		}
	}
	return d;
}

struct fmn_defs *
fmn_defs_new(const char *extra_path, char **cause)
{
	struct fmn_defs *d = fmn_defs_new_builtin(cause);

	if (d != NULL && extra_path != NULL &&
	    fmn_defs_load_file(d, extra_path, cause) == -1)
		fmn_defs_destroy(&d);
	return d;
}

void
fmn_defs_destroy(struct fmn_defs **dp)
{
	struct fmn_defs *d = *dp;
	size_t i;

	if (d == NULL)
		return;
	fmn_hmap_clear(&d->seen, NULL);
	fmn_hmap_destroy(&d->index, bucket_free);
	fmn_hmap_destroy(&d->tables, NULL);
	free(d->wild.v);
	for (i = 0; i < d->npools; i++)
		fmn_pool_destroy(&d->pools[i]);
	free(d->pools);
	free(d);
	*dp = NULL;
}

static void
table_free(void *p)
{
	struct fmn_hmap *m = p;

	fmn_hmap_destroy(&m, free);
}

static int
compile_tables(struct fmn_scope *sc, json_t *tables, char **cause)
{
	const char *name, *key;
	json_t *t, *v;

	if (!json_is_object(tables)) {
		fmn_set_cause(cause, "tables: must be an object of tables");
		return -1;
	}
	json_object_foreach(tables, name, t) {
		struct fmn_hmap *m;

		if (!json_is_object(t)) {
			fmn_set_cause(cause, "tables.%s: must be an object "
			    "of strings", name);
			return -1;
		}
		/* The pool owns the table, even if the file is refused. */
		m = fmn_pool_add(sc->pool, fmn_hmap_new(), table_free);
		fmn_hmap_set(sc->tables, name, m);
		json_object_foreach(t, key, v) {
			if (!json_is_string(v)) {
				fmn_set_cause(cause, "tables.%s.%s: must be a "
				    "string", name, key);
				return -1;
			}
			free(fmn_hmap_set(m, key,
			    xstrdup(json_string_value(v))));
		}
	}
	return 0;
}

static int
compile_lets(struct fmn_scope *sc, json_t *lets, const char *where,
    char **cause)
{
	const char *name, *p;
	char *err = NULL;
	json_t *v;

	if (!json_is_object(lets)) {
		fmn_set_cause(cause, "%s: must be an object of expressions",
		    where);
		return -1;
	}
	/* jansson keeps insertion order, so a let may use earlier ones. */
	json_object_foreach(lets, name, v) {
		struct fmn_expr *e;

		for (p = name; *p != '\0'; p++)
			if (!(*p == '_' || (*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
				break;
		if (*name == '\0' || *p != '\0') {
			fmn_set_cause(cause, "%s.%s: a name is letters, digits "
			    "and _", where, name);
			return -1;
		}
		if (json_is_array(v)) {
			char *w = xasprintf("%s.%s", where, name);
			struct fmn_cases *cs = fmn_cases_compile(sc, v, w,
			    cause);

			free(w);
			if (cs == NULL)
				return -1;
			fmn_hmap_set(sc->lets, name,
			    fmn_expr_from_cases(sc, cs));
			continue;
		}
		if (!json_is_string(v)) {
			fmn_set_cause(cause, "%s.%s: must be an expression "
			    "string or an array of cases", where, name);
			return -1;
		}
		if ((e = fmn_expr_compile(sc, json_string_value(v),
		    &err)) == NULL) {
			fmn_set_cause(cause, "%s.%s: %s", where, name, err);
			free(err);
			return -1;
		}
		fmn_hmap_set(sc->lets, name, e);
	}
	return 0;
}

static const char *const fact_keys[] = {
	"usernames", "packages", "agent", "link", "subtitle", "long_form",
};

/* The keys of a condition, as in a case; on a definition, its guard. */
static const char *const guard_keys[] = {
	"if", "eq", "ne", "re", "not", "all",
};

static int
is_guard_key(const char *key)
{
	size_t i;

	for (i = 0; i < FMN_NELEM(guard_keys); i++)
		if (strcmp(key, guard_keys[i]) == 0)
			return 1;
	return 0;
}

/*
 * A guard is compiled as one case that gives a text when its condition
 * holds: the condition language stays the one cases use.
 */
static int
compile_guard(struct fmn_scope *sc, struct fmn_def *def, json_t *obj,
    const char *where, char **cause)
{
	json_t *kase = json_object(), *arr, *v;
	const char *key;
	char *w;

	json_object_foreach(obj, key, v)
		if (is_guard_key(key))
			json_object_set(kase, key, v);
	if (json_object_size(kase) == 0) {
		json_decref(kase);
		return 0;
	}
	json_object_set_new(kase, "then", json_string("guard"));
	arr = json_pack("[o]", kase);
	w = xasprintf("%s.guard", where);
	def->guard = fmn_cases_compile(sc, arr, w, cause);
	free(w);
	json_decref(arr);
	return def->guard == NULL ? -1 : 0;
}

static int
compile_def(struct fmn_scope *fsc, struct fmn_def *def, json_t *obj,
    json_t *defaults, const char *where, char **cause)
{
	struct fmn_scope sc = { fsc->pool, NULL, NULL, fsc };
	const char *key;
	json_t *v;
	size_t i;
	int rc = -1;

	json_object_foreach(obj, key, v) {
		for (i = 0; i < FMN_NELEM(fact_keys); i++)
			if (strcmp(key, fact_keys[i]) == 0)
				break;
		if (i == FMN_NELEM(fact_keys) && strcmp(key, "topic") != 0 &&
		    strcmp(key, "let") != 0 && strcmp(key, "doc") != 0 &&
		    strcmp(key, "category") != 0 && !is_guard_key(key)) {
			fmn_set_cause(cause, "%s: unknown key \"%s\"", where,
			    key);
			return -1;
		}
	}
	sc.lets = fmn_hmap_new();
	if ((v = json_object_get(obj, "let")) != NULL) {
		char *w = xasprintf("%s.let", where);

		i = compile_lets(&sc, v, w, cause);
		free(w);
		if (i != 0)
			goto out;
	}
	if (compile_guard(&sc, def, obj, where, cause) == -1)
		goto out;
	for (i = 0; i < FMN_NELEM(fact_keys); i++) {
		char *w;

		key = fact_keys[i];
		v = json_object_get(obj, key);
		if (v == NULL && defaults != NULL)
			v = json_object_get(defaults, key);
		if (v == NULL || json_is_null(v))
			continue;
		w = xasprintf("%s.%s", where, key);
		switch (i) {
		case 0:
			def->usernames = fmn_items_compile(&sc, v, w, cause);
			break;
		case 1:
			def->packages = fmn_items_compile(&sc, v, w, cause);
			break;
		default: {
			struct fmn_cases *c = fmn_cases_compile(&sc, v, w,
			    cause);

			if (i == 2)
				def->agent = c;
			else if (i == 3)
				def->link = c;
			else if (i == 4)
				def->subtitle = c;
			else
				def->long_form = c;
			break;
		}
		}
		free(w);
		if ((i == 0 && def->usernames == NULL) ||
		    (i == 1 && def->packages == NULL) ||
		    (i == 2 && def->agent == NULL) ||
		    (i == 3 && def->link == NULL) ||
		    (i == 4 && def->subtitle == NULL) ||
		    (i == 5 && def->long_form == NULL))
			goto out;
	}
	rc = 0;
out:
	/* Lets are compiled into the pool; only the name map goes. */
	fmn_hmap_destroy(&sc.lets, NULL);
	return rc;
}

static void
index_entry(struct fmn_defs *d, const struct entry *e)
{
	struct bucket *b;
	char *tok = e->category ? xstrdup(e->category) : index_token(e->glob);

	if (tok == NULL) {
		bucket_add(&d->wild, e);
		return;
	}
	if ((b = fmn_hmap_get(d->index, tok)) == NULL) {
		b = xcalloc(1, sizeof(*b));
		fmn_hmap_set(d->index, tok, b);
	}
	bucket_add(b, e);
	free(tok);
}

static int
compile_file(struct fmn_defs *d, struct fmn_scope *sc, json_t *root,
    struct bucket *pending, char **err)
{
	json_t *defs, *v, *defaults, *fcat;
	const char *key;
	size_t i, k;

	if (!json_is_object(root)) {
		*err = xstrdup("the file must hold a JSON object");
		return -1;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "tables") != 0 && strcmp(key, "let") != 0 &&
		    strcmp(key, "defaults") != 0 && strcmp(key, "defs") != 0 &&
		    strcmp(key, "service") != 0 && strcmp(key, "doc") != 0 &&
		    strcmp(key, "category") != 0) {
			*err = xasprintf("unknown key \"%s\" at the top level",
			    key);
			return -1;
		}
	}
	if ((v = json_object_get(root, "tables")) != NULL &&
	    compile_tables(sc, v, err) == -1)
		return -1;
	if ((v = json_object_get(root, "let")) != NULL &&
	    compile_lets(sc, v, "let", err) == -1)
		return -1;
	defaults = json_object_get(root, "defaults");
	if (defaults != NULL && !json_is_object(defaults)) {
		*err = xstrdup("defaults: must be an object of facts");
		return -1;
	}
	fcat = json_object_get(root, "category");
	if (fcat != NULL && !json_is_string(fcat)) {
		*err = xstrdup("category: must be a string");
		return -1;
	}
	defs = json_object_get(root, "defs");
	if (!json_is_array(defs)) {
		*err = xstrdup("defs: must be an array of definitions");
		return -1;
	}
	for (i = 0; i < json_array_size(defs); i++) {
		json_t *obj = json_array_get(defs, i), *topic, *cat;
		struct fmn_def *def;
		char where[64];

		snprintf(where, sizeof(where), "defs[%zu]", i);
		if (!json_is_object(obj)) {
			*err = xasprintf("%s: must be an object", where);
			return -1;
		}
		topic = json_object_get(obj, "topic");
		if (!json_is_string(topic) && !(json_is_array(topic) &&
		    json_array_size(topic) > 0)) {
			*err = xasprintf("%s.topic: must be a glob or an array "
			    "of globs", where);
			return -1;
		}
		if ((cat = json_object_get(obj, "category")) == NULL)
			cat = fcat;
		if (cat != NULL && !json_is_string(cat)) {
			*err = xasprintf("%s.category: must be a string", where);
			return -1;
		}
		def = fmn_pool_add(sc->pool, xcalloc(1, sizeof(*def)), free);
		def->where = fmn_pool_add(sc->pool, xasprintf("%s: %s",
		    d->cur_name, where), free);
		if (compile_def(sc, def, obj, defaults, where, err) == -1)
			return -1;
		for (k = 0; k < (json_is_string(topic) ? 1 :
		    json_array_size(topic)); k++) {
			json_t *g = json_is_string(topic) ? topic :
			    json_array_get(topic, k);
			struct entry e;

			if (!json_is_string(g) || json_string_length(g) == 0 ||
			    strlen(json_string_value(g)) !=
			    json_string_length(g)) {
				*err = xasprintf("%s.topic[%zu]: must be a "
				    "non-empty string", where, k);
				return -1;
			}
			e.glob = fmn_pool_add(sc->pool,
			    xstrdup(json_string_value(g)), free);
			e.category = cat == NULL ? NULL : fmn_pool_add(sc->pool,
			    xstrdup(json_string_value(cat)), free);
			e.def = def;
			e.file = d->nfiles + 1;
			e.pos = (int)i;
			bucket_add(pending, &e);
		}
	}
	return 0;
}

static void publish_table(const char *key, void *value, void *arg);

int
fmn_defs_load_text(struct fmn_defs *d, const char *name, const char *text,
    size_t len, char **cause)
{
	struct fmn_scope sc, global;
	struct bucket pending = { NULL, 0, 0 };
	json_error_t jerr;
	json_t *root;
	char *err = NULL;
	size_t i;
	int rc;

	/* What a topic finds may change. */
	fmn_hmap_clear(&d->seen, NULL);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		fmn_set_cause(cause, "%s:%d:%d: %s", name, jerr.line,
		    jerr.column, jerr.text);
		return -1;
	}
	memset(&sc, 0, sizeof(sc));
	sc.pool = fmn_pool_new();
	sc.tables = fmn_hmap_new();
	sc.lets = fmn_hmap_new();
	/* Tables of earlier files are visible through the parent scope. */
	global.pool = sc.pool;
	global.tables = d->tables;
	global.lets = NULL;
	global.parent = NULL;
	sc.parent = &global;
	d->cur_name = name;

	rc = compile_file(d, &sc, root, &pending, &err);
	json_decref(root);
	fmn_hmap_destroy(&sc.lets, NULL);
	if (rc == -1) {
		fmn_set_cause(cause, "%s: %s", name, err);
		free(err);
		free(pending.v);
		fmn_hmap_destroy(&sc.tables, NULL);
		fmn_pool_destroy(&sc.pool);
		return -1;
	}

	/* Success: publish the tables and index the globs. */
	d->nfiles++;
	d->pools = xreallocarray(d->pools, d->npools + 1, sizeof(*d->pools));
	d->pools[d->npools++] = sc.pool;
	for (i = 0; i < pending.n; i++)
		index_entry(d, &pending.v[i]);
	free(pending.v);
	fmn_hmap_foreach(sc.tables, publish_table, d->tables);
	fmn_hmap_destroy(&sc.tables, NULL);
	fmn_hmap_foreach(d->index, sort_bucket, NULL);
	if (d->wild.n > 1)
		qsort(d->wild.v, d->wild.n, sizeof(*d->wild.v), entry_cmp);
	return 0;
}

static void
publish_table(const char *key, void *value, void *arg)
{
	fmn_hmap_set(arg, key, value);
}

int
fmn_defs_load_file(struct fmn_defs *d, const char *path, char **cause)
{
	struct fmn_buf b;
	char chunk[8192];
	size_t n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		fmn_set_cause(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	fmn_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fmn_buf_add(&b, chunk, n);
	if (ferror(f)) {
		fmn_set_cause(cause, "%s: %s", path, strerror(errno));
		fclose(f);
		fmn_buf_free(&b);
		return -1;
	}
	fclose(f);
	rc = fmn_defs_load_text(d, path, b.data ? b.data : "", b.len, cause);
	fmn_buf_free(&b);
	return rc;
}

/* Whether a definition's guard holds for the message (none: it does). */
static int
guard_holds(const struct fmn_def *def, struct fmn_eval *ev)
{
	char *s;

	if (def->guard == NULL)
		return 1;
	if (ev == NULL)
		return 0;
	s = fmn_cases_eval(def->guard, ev);
	free(s);
	return s != NULL;
}

static const struct fmn_def *
bucket_best(const struct bucket *b, const char *topic, const char *cat,
    size_t catlen, struct fmn_eval *ev, int *guarded,
    const struct entry **best)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct entry *e = &b->v[i];

		if (*best != NULL && entry_cmp(e, *best) >= 0)
			break;
		if (e->category != NULL && (cat == NULL ||
		    strlen(e->category) != catlen ||
		    memcmp(e->category, cat, catlen) != 0))
			continue;
		if (!fmn_glob_match(e->glob, topic))
			continue;
		if (e->def->guard != NULL)
			*guarded = 1;
		if (guard_holds(e->def, ev)) {
			*best = e;
			break;
		}
	}
	return *best ? (*best)->def : NULL;
}

/*
 * The best definition for topic; *guarded is set when a guard was asked
 * (the answer then depends on the envelope, not on the topic alone).
 */
static const struct fmn_def *
defs_find(const struct fmn_defs *d, const char *topic, struct fmn_eval *ev,
    int *guarded)
{
	const struct entry *best = NULL;
	const char *s = topic, *e, *cat = NULL;
	const struct bucket *b;
	size_t catlen = 0;
	int ntok;

	for (ntok = 0;; ntok++) {
		e = strchr(s, '.');
		if (e == NULL)
			e = s + strlen(s);
		if (ntok == 3) {
			cat = s;
			catlen = (size_t)(e - s);
		}
		if (*e == '\0')
			break;
		s = e + 1;
	}
	for (s = topic;;) {
		e = strchr(s, '.');
		if (e == NULL)
			e = s + strlen(s);
		if ((b = fmn_hmap_getn(d->index, s, (size_t)(e - s))) != NULL)
			bucket_best(b, topic, cat, catlen, ev, guarded,
			    &best);
		if (*e == '\0')
			break;
		s = e + 1;
	}
	bucket_best(&d->wild, topic, cat, catlen, ev, guarded, &best);
	return best ? best->def : NULL;
}

const struct fmn_def *
fmn_defs_lookup(const struct fmn_defs *d, const char *topic,
    struct fmn_eval *ev)
{
	/* The memory of topics seen is no part of what d means. */
	struct fmn_hmap *seen = (struct fmn_hmap *)&d->seen;
	const struct fmn_def *def = fmn_hmap_get(seen, topic);
	int guarded = 0;

	if (def != NULL)
		return def != &no_def ? def : NULL;
	def = defs_find(d, topic, ev, &guarded);
	if (guarded)
		return def;	/* another body may find another definition */
	if (seen->n >= DEFS_SEEN_MAX)
		fmn_hmap_clear(seen, NULL);
	*fmn_hmap_put(seen, topic) = (void *)(def != NULL ? def : &no_def);
	return def;
}
