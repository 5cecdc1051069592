/*
 * Matching benchmark (docs/benchmarks.md, "Matching"). In one run:
 *  1. the floor: a bare json_loadb + json_decref of every corpus
 *     envelope's line (fresh msg_ids), nothing else;
 *  2. N users (default 10000), each with the default filters in two
 *     contexts (email and irc, ~58 rules) and ~20 owned packages;
 *  3. for each share of users with a topic filter of their own (default
 *     0 %, 5 % and 50 %: a glob such as *.bodhi.update.comment), the
 *     engine loaded, and what fmnctl match does with a line: parse,
 *     check the envelope, derive facts, match every user; interleaved
 *     with 1, pass by pass. Prints both rates, their ratio, the cost per
 *     message beside the first share's, the filters per index, the RSS.
 * Then:
 *  4. one hostile user among the N, with H (default 50) filters of
 *     catastrophic regexes, (?:.*a){40}x, (?:.*a){41}x, ...: the same
 *     work without that user, with the user's filters as they are before
 *     the engine marks them broken (the user is recompiled every second
 *     message, so that no filter reaches its third failure: what the
 *     regex budget alone bounds), and as the engine treats them (marked
 *     broken at their third failure), interleaved pass by pass; prints
 *     each rate and its ratio to the run without that user.
 *
 * usage: bench_match [N|DB] [CORPUS] [SECONDS] [H] [SHARES, e.g. 0,5,20,50]
 *        bench_match --floor FILE
 * (DB: a copy of that database's users instead of N made here; a path
 * is told from a number by its '/'.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fmn_defaults.h"
#include "fmn_facts.h"
#include "fmn_match.h"
#include "fmn_msg.h"
#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define PKGS_PER_USER	20
#define UNIVERSE	20000	/* packages in the distribution */

static uint64_t rng = 88172645463325252ull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void
die(const char *what, const char *cause)
{
	fprintf(stderr, "bench_match: %s: %s\n", what, cause ? cause : "");
	exit(1);
}

static long
peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Corpus envelopes as text, each with a fresh msg_id; names it mentions. */
static char **
load_corpus(const char *path, size_t *n, char ***names, size_t *nnames,
    char ***pkgs, size_t *npkgs)
{
	json_error_t jerr;
	json_t *all, *it, *env, *x;
	char **v, id[64];
	size_t i, j;

	if ((all = json_load_file(path, 0, &jerr)) == NULL)
		die(path, jerr.text);
	v = xcalloc(json_array_size(all), sizeof(*v));
	*names = xcalloc(4096, sizeof(char *));
	*pkgs = xcalloc(4096, sizeof(char *));
	*n = *nnames = *npkgs = 0;
	json_array_foreach(all, i, it) {
		env = json_deep_copy(json_object_get(it, "msg"));
		snprintf(id, sizeof(id), "bench-%zu-%08x", i, rnd(0xffffffffu));
		json_object_set_new(env, "msg_id", json_string(id));
		v[(*n)++] = json_dumps(env, JSON_COMPACT);
		json_decref(env);
		json_array_foreach(json_object_get(it, "expected_usernames"), j, x)
			if (*nnames < 4096)
				(*names)[(*nnames)++] = xstrdup(json_string_value(x));
		json_array_foreach(json_object_get(it, "expected_packages"), j, x)
			if (*npkgs < 4096)
				(*pkgs)[(*npkgs)++] = xstrdup(json_string_value(x));
	}
	json_decref(all);
	return v;
}

static void
exec_sql(sqlite3 *db, const char *sql)
{
	char *cause = NULL;

	if (fmn_store_exec(db, sql, &cause) != 0)
		die(sql, cause);
}

/* N users, two confirmed destinations, the defaults twice, owned packages. */
static void
populate(sqlite3 *db, int nusers, char **names, size_t nnames, char **pkgs,
    size_t npkgs)
{
	sqlite3_stmt *u, *d, *o;
	char name[64], addr[96], pkg[64], *cause = NULL;
	long long uid;
	int i, k;

	exec_sql(db, "BEGIN");
	u = fmn_store_prepare(db, "INSERT OR IGNORE INTO users (name, created) "
	    "VALUES (?, 0)", &cause);
	d = fmn_store_prepare(db, "INSERT INTO destinations (user_id, context, "
	    "address, confirmed, created) VALUES (?, ?, ?, 1, 0)", &cause);
	o = fmn_store_prepare(db, "INSERT OR IGNORE INTO owners (namespace, "
	    "package, owner) VALUES ('rpms', ?, ?)", &cause);
	if (u == NULL || d == NULL || o == NULL)
		die("prepare", cause);
	for (i = 0; i < nusers; i++) {
		/* The corpus's people are users too, so messages find them. */
		if ((size_t)i < nnames)
			snprintf(name, sizeof(name), "%s", names[i]);
		else
			snprintf(name, sizeof(name), "user%05d", i);
		sqlite3_reset(u);
		sqlite3_bind_text(u, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_step(u);
		if (sqlite3_changes(db) == 0)
			continue;	/* a repeated corpus name */
		uid = sqlite3_last_insert_rowid(db);
		snprintf(addr, sizeof(addr), "%s@example.org", name);
		sqlite3_reset(d);
		sqlite3_bind_int64(d, 1, uid);
		sqlite3_bind_text(d, 2, "email", -1, SQLITE_STATIC);
		sqlite3_bind_text(d, 3, addr, -1, SQLITE_TRANSIENT);
		sqlite3_step(d);
		sqlite3_reset(d);
		sqlite3_bind_text(d, 2, "irc", -1, SQLITE_STATIC);
		sqlite3_bind_text(d, 3, name, -1, SQLITE_TRANSIENT);
		sqlite3_step(d);
		if (fmn_defaults_store(db, uid, name, "email", &cause) != 0 ||
		    fmn_defaults_store(db, uid, name, "irc", &cause) != 0)
			die("defaults", cause);
		for (k = 0; k < PKGS_PER_USER; k++) {
			/* Corpus packages are part of the universe. */
			uint32_t p = rnd(UNIVERSE);

			if (p < npkgs)
				snprintf(pkg, sizeof(pkg), "%s", pkgs[p]);
			else
				snprintf(pkg, sizeof(pkg), "pkg-%05u", p);
			sqlite3_reset(o);
			sqlite3_bind_text(o, 1, pkg, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(o, 2, name, -1, SQLITE_TRANSIENT);
			sqlite3_step(o);
		}
	}
	sqlite3_finalize(u);
	sqlite3_finalize(d);
	sqlite3_finalize(o);
	exec_sql(db, "COMMIT");
}

/* A hostile user: H filters of catastrophic regexes; preference off. */
static long long
add_hostile(sqlite3 *db, const char *user, int nfilters)
{
	sqlite3_stmt *st, *f, *r;
	char name[16], arg[64], *cause = NULL;
	long long uid, pid;
	int i;

	exec_sql(db, "BEGIN");
	st = fmn_store_prepare(db, "INSERT INTO users (name, created) "
	    "VALUES (?, 0)", &cause);
	f = fmn_store_prepare(db, "INSERT INTO filters (preference_id, name, "
	    "position) VALUES (?, ?, ?)", &cause);
	r = fmn_store_prepare(db, "INSERT INTO rules (filter_id, position, "
	    "kind, argument) VALUES (?, 1, 'body-re', ?)", &cause);
	if (st == NULL || f == NULL || r == NULL)
		die("prepare", cause);
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	uid = sqlite3_last_insert_rowid(db);
	st = fmn_store_prepare(db, "INSERT INTO destinations (user_id, context, "
	    "address, confirmed, created) VALUES (?, 'email', ?, 1, 0)", &cause);
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	st = fmn_store_prepare(db, "INSERT INTO preferences (user_id, context, "
	    "enabled) VALUES (?, 'email', 0)", &cause);
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_step(st);
	sqlite3_finalize(st);
	pid = sqlite3_last_insert_rowid(db);
	for (i = 0; i < nfilters; i++) {
		snprintf(name, sizeof(name), "h%03d", i);
		/* Distinct: identical regexes would be one shared evaluation. */
		snprintf(arg, sizeof(arg), "(?:.*a){%d}x", 40 + i);
		sqlite3_reset(f);
		sqlite3_bind_int64(f, 1, pid);
		sqlite3_bind_text(f, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(f, 3, i + 1);
		sqlite3_step(f);
		sqlite3_reset(r);
		sqlite3_bind_int64(r, 1, sqlite3_last_insert_rowid(db));
		sqlite3_bind_text(r, 2, arg, -1, SQLITE_TRANSIENT);
		sqlite3_step(r);
	}
	sqlite3_finalize(f);
	sqlite3_finalize(r);
	exec_sql(db, "COMMIT");
	return uid;
}

/* Switch a user's preference and recompile that user. */
static void
hostile_set(sqlite3 *db, struct fmn_engine *e, long long uid, int on)
{
	char sql[128], *cause = NULL;

	snprintf(sql, sizeof(sql), "UPDATE preferences SET enabled = %d "
	    "WHERE user_id = %lld", on, uid);
	exec_sql(db, sql);
	if (fmn_engine_reload_user(e, db, uid, &cause) != 0)
		die("reload", cause);
}

/* What fmnd does with the filters found over budget: mark them. */
static void
hostile_broken(sqlite3 *db, struct fmn_engine *e, int record)
{
	struct fmn_broken *v;
	sqlite3_stmt *st;
	char *cause = NULL;
	size_t i, n = fmn_engine_take_broken(e, &v);

	if (record && n > 0) {
		st = fmn_store_prepare(db, "UPDATE filters SET broken = ?, "
		    "broken_since = 0 WHERE id = ?", &cause);
		if (st == NULL)
			die("prepare", cause);
		for (i = 0; i < n; i++) {
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, v[i].reason, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, v[i].filter_id);
			sqlite3_step(st);
		}
		sqlite3_finalize(st);
	}
	fmn_engine_broken_free(v, n);
}

/*
 * One pass of parse + facts + match over the corpus; the seconds it
 * took, recompiles left out. With recompile, user uid is recompiled
 * every second message, so that no filter of theirs is ever marked.
 */
static double
hostile_pass(struct fmn_engine *e, sqlite3 *db, long long uid, int recompile,
    char **env, size_t n, struct fmn_defs *defs, struct fmn_aliases *aliases,
    struct fmn_recipients *rcpt, double *match_time)
{
	struct fmn_msg *m;
	char *cause = NULL;
	double t0, tm, spent = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (recompile && i % 2 == 0)
			hostile_set(db, e, uid, 1);
		t0 = fmn_now();
		m = fmn_msg_parse(NULL, env[i], strlen(env[i]), &cause);
		if (m == NULL) {
			free(cause);
			cause = NULL;
			continue;
		}
		fmn_facts_derive(defs, aliases, m);
		fmn_recipients_clear(rcpt);
		tm = fmn_now();
		fmn_engine_match(e, m, rcpt, NULL);
		*match_time += fmn_now() - tm;
		fmn_msg_destroy(&m);
		spent += fmn_now() - t0;
	}
	return spent;
}

/*
 * 4: the N users alone, then with one hostile user whose filters are
 * never marked (what the regex budget alone bounds), then with another,
 * the same, whose filters are marked as fmnd marks them: tried until
 * their third failure, then recorded and skipped from then on. Pass by
 * pass, so that all three see the same load on the machine.
 */
static void
bench_hostile(struct fmn_engine *e, sqlite3 *db, int nfilters, char **env,
    size_t n, struct fmn_defs *defs, struct fmn_aliases *aliases,
    double secs)
{
	static const char *const what[] = { "without the hostile user",
	    "hostile, never marked broken", "hostile, marked broken" };
	struct fmn_recipients rcpt = { 0 };
	struct fmn_engine_stats st0, st;
	double t[3] = { 0 }, tm[3] = { 0 }, t0 = fmn_now();
	long long bounded = add_hostile(db, "hostile", nfilters);
	long long marked = add_hostile(db, "hostile2", nfilters);
	unsigned long long units = 0;
	size_t done = 0;
	int k;

	do {
		t[0] += hostile_pass(e, db, bounded, 0, env, n, defs, aliases,
		    &rcpt, &tm[0]);
		fmn_engine_stats(e, &st0);
		t[1] += hostile_pass(e, db, bounded, 1, env, n, defs, aliases,
		    &rcpt, &tm[1]);
		fmn_engine_stats(e, &st);
		units += st.regex_units - st0.regex_units;
		hostile_set(db, e, bounded, 0);
		hostile_broken(db, e, 0);
		hostile_set(db, e, marked, 1);
		t[2] += hostile_pass(e, db, marked, 0, env, n, defs, aliases,
		    &rcpt, &tm[2]);
		hostile_broken(db, e, 1);
		hostile_set(db, e, marked, 0);
		done += n;
	} while (fmn_now() - t0 < 3 * secs);
	printf("one hostile user, %d filters of (?:.*a){40+i}x:\n", nfilters);
	for (k = 0; k < 3; k++)
		printf("  %-30s %8.0f messages/s (matching %6.1f us/message), "
		    "ratio %.2f\n", what[k], done / t[k], tm[k] * 1e6 / done,
		    t[0] / t[k]);
	printf("  regex work, never marked:     %8.0f units/message (bound: "
	    "%d + %d)\n", (double)units / done, FMN_MATCH_ALLOWANCE,
	    FMN_RULE_MATCH_LIMIT);
	fmn_recipients_free(&rcpt);
}

/* Copy the database at path (users made before, by fmnctl import). */
static int
copy_db(const char *path, sqlite3 *db)
{
	sqlite3 *src;
	sqlite3_backup *b;
	sqlite3_stmt *st;
	int n = 0;

	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die(path, sqlite3_errmsg(src));
	if ((b = sqlite3_backup_init(db, "main", src, "main")) == NULL ||
	    sqlite3_backup_step(b, -1) != SQLITE_DONE)
		die(path, sqlite3_errmsg(db));
	sqlite3_backup_finish(b);
	sqlite3_close(src);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM users", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * The kinds of event people's topic filters are about, as
 * bench/gen_users.py has them: the corpus's distinct topics, and three
 * times as many the corpus sample does not have (each with another last
 * segment): interests spread over the bus, not in proportion to its
 * traffic.
 */
static char **
topic_universe(char **topics, size_t ntopics, size_t *n)
{
	char **v = xcalloc(4 * ntopics, sizeof(*v)), *dot;
	size_t i, j, k, base = 0;

	for (i = 0; i < ntopics; i++) {
		for (j = 0; j < base && strcmp(v[j], topics[i]) != 0; j++)
			;
		if (j == base)
			v[base++] = xstrdup(topics[i]);
	}
	*n = base;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < base; i++) {
			dot = strrchr(v[i], '.');
			v[(*n)++] = xasprintf("%.*s.kind%zu", dot ?
			    (int)(dot - v[i]) : (int)strlen(v[i]), v[i], k);
		}
	}
	return v;
}

/*
 * A topic filter such as people add, about a kind of event drawn evenly
 * from the universe: nine times in ten its last three segments
 * (*.bodhi.update.comment), else its category in production
 * (org.fedoraproject.prod.bodhi.*) or anywhere (*.bodhi.*).
 */
static char *
topic_glob(char **universe, size_t n)
{
	const char *t = universe[rnd((uint32_t)n)], *p = t + strlen(t);
	char cat[64] = "";
	int k, r = (int)rnd(20);

	if (sscanf(t, "%*[^.].%*[^.].%*[^.].%63[^.]", cat) != 1)
		snprintf(cat, sizeof(cat), "%s", t);
	if (r < 18) {
		for (k = 0; k < 3 && p > t; p--)
			if (p[-1] == '.' && ++k == 3)
				break;
		return xasprintf("*.%s", p);
	}
	if (r < 19)
		return xasprintf("org.fedoraproject.prod.%s.*", cat);
	return xasprintf("*.%s.*", cat);
}

/*
 * Users [from, to) in id order get one filter of their own in their
 * e-mail preference: a topic glob.
 */
static void
add_topic_filters(sqlite3 *db, size_t from, size_t to, char **topics,
    size_t ntopics)
{
	sqlite3_stmt *q, *f, *r;
	char *cause = NULL, *glob;
	size_t i = 0;

	exec_sql(db, "BEGIN");
	q = fmn_store_prepare(db, "SELECT p.id FROM preferences p JOIN users u "
	    "ON u.id = p.user_id WHERE p.context = 'email' AND p.enabled "
	    "ORDER BY u.id", &cause);
	f = fmn_store_prepare(db, "INSERT INTO filters (preference_id, name, "
	    "position) VALUES (?, 'my topic', 100)", &cause);
	r = fmn_store_prepare(db, "INSERT INTO rules (filter_id, position, "
	    "kind, argument) VALUES (?, 0, 'topic', ?)", &cause);
	if (q == NULL || f == NULL || r == NULL)
		die("prepare", cause);
	while (sqlite3_step(q) == SQLITE_ROW && i < to) {
		if (i++ < from)
			continue;
		sqlite3_reset(f);
		sqlite3_bind_int64(f, 1, sqlite3_column_int64(q, 0));
		sqlite3_step(f);
		glob = topic_glob(topics, ntopics);
		sqlite3_reset(r);
		sqlite3_bind_int64(r, 1, sqlite3_last_insert_rowid(db));
		sqlite3_bind_text(r, 2, glob, -1, SQLITE_TRANSIENT);
		sqlite3_step(r);
		free(glob);
	}
	sqlite3_finalize(q);
	sqlite3_finalize(f);
	sqlite3_finalize(r);
	exec_sql(db, "COMMIT");
}

/* The resident set now, in kB (VmRSS). */
static long
rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

/*
 * The floor and the work, interleaved pass by pass so that both see
 * the same load on the machine: json_loadb + json_decref of each line
 * (nothing else), then what fmnctl match does with a line: the same
 * parse, the envelope checked, the facts matching reads derived, every
 * user's filters matched. Rates in messages/s.
 */
static void
measure(struct fmn_engine *e, char **env, size_t n, struct fmn_defs *defs,
    struct fmn_aliases *aliases, double secs, double *floor_rate,
    double *rate, double *match_us, double *rcpt)
{
	struct fmn_recipients r = { 0 };
	json_error_t jerr;
	struct fmn_msg *m;
	json_t *j;
	char *cause = NULL;
	size_t i, done = 0, recipients = 0, *lens = xcalloc(n, sizeof(*lens));
	double t0 = fmn_now(), t1, tm, t_floor = 0, t_work = 0, t_match = 0;

	for (i = 0; i < n; i++)
		lens[i] = strlen(env[i]);
	do {
		t1 = fmn_now();
		for (i = 0; i < n; i++) {
			j = json_loadb(env[i], lens[i], 0, &jerr);
			json_decref(j);
		}
		tm = fmn_now();
		t_floor += tm - t1;
		for (i = 0; i < n; i++) {
			if ((j = fmn_msg_load_json(env[i], lens[i], &jerr)) == NULL)
				continue;
			m = fmn_msg_from_json(j, NULL, &cause);
			json_decref(j);
			if (m == NULL) {
				free(cause);
				cause = NULL;
				continue;
			}
			fmn_facts_derive_match(defs, aliases, m);
			fmn_recipients_clear(&r);
			t1 = fmn_now();
			fmn_engine_match(e, m, &r, NULL);
			t_match += fmn_now() - t1;
			recipients += r.n;
			fmn_msg_destroy(&m);
		}
		t_work += fmn_now() - tm;
		done += n;
	} while (fmn_now() - t0 < 2 * secs);
	*floor_rate = done / t_floor;
	*rate = done / t_work;
	*match_us = t_match * 1e6 / done;
	*rcpt = (double)recipients / done;
	fmn_recipients_free(&r);
	free(lens);
}

/*
 * bench_match --floor FILE: json_loadb + json_decref of each line of
 * FILE, nothing else (the floor bench_match_cli.py sets fmnctl match
 * against); prints the lines and the seconds.
 */
static int
floor_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	double t0 = fmn_now();

	if (f == NULL)
		die(path, "cannot open");
	while ((len = getline(&line, &cap, f)) != -1) {
		json_decref(json_loadb(line, (size_t)len, 0, NULL));
		n++;
	}
	printf("%zu lines in %.3f s\n", n, fmn_now() - t0);
	free(line);
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	int nusers = argc > 1 ? atoi(argv[1]) : 10000;
	const char *from_db = argc > 1 && strchr(argv[1], '/') != NULL ?
	    argv[1] : NULL;
	const char *corpus = argc > 2 ? argv[2] : FMN_SOURCE_DIR "/tests/data/fmfi-dev.json";
	double secs = argc > 3 ? atof(argv[3]) : 3.0;
	int nhostile = argc > 4 ? atoi(argv[4]) : 50;
	const char *shares = argc > 5 ? argv[5] : "0,5,50";
	char **env, **names, **pkgs, **topics, **universe, *cause = NULL;
	char dbpath[64];
	size_t n, nnames, npkgs, ntopics, i, with = 0, want;
	struct fmn_engine_stats st;
	struct fmn_aliases *aliases;
	struct fmn_defs *defs;
	struct fmn_engine *e = NULL;
	sqlite3 *db;
	double t0, t1, floor_rate, rate, match_us, rcpt;
	double base_cost = 0;	/* the first workload's, in bare parses */
	const char *sp;
	long rss_before;
	int share, k;

	if (argc == 3 && strcmp(argv[1], "--floor") == 0)
		return floor_file(argv[2]);
	if (access(corpus, R_OK) != 0)
		corpus = "/work/shared/corpus/fmfi-dev.json";
	fmn_log_set_level(FMN_LOG_ERR);
	env = load_corpus(corpus, &n, &names, &nnames, &pkgs, &npkgs);
	topics = xcalloc(n, sizeof(*topics));
	for (i = 0; i < n; i++) {
		json_t *j = json_loads(env[i], 0, NULL);

		topics[i] = xstrdup(json_string_value(json_object_get(j,
		    "topic")));
		json_decref(j);
	}
	universe = topic_universe(topics, n, &ntopics);

	/* 2. The users. */
	snprintf(dbpath, sizeof(dbpath), "/tmp/bench_match.%ld.db", (long)getpid());
	unlink(dbpath);
	if ((db = fmn_store_open(dbpath, &cause)) == NULL)
		die(dbpath, cause);
	t0 = fmn_now();
	if (from_db != NULL)
		nusers = copy_db(from_db, db);
	else
		populate(db, nusers, names, nnames, pkgs, npkgs);
	t1 = fmn_now();
	printf("%s %d users in %.1f s\n", from_db ? "copied" : "populated",
	    nusers, t1 - t0);
	printf("corpus: %zu messages, %s\n", n, corpus);
	rss_before = peak_rss_kb();
	if ((defs = fmn_defs_new_builtin(&cause)) == NULL)
		die("definitions", cause);
	aliases = fmn_aliases_new();
	if (fmn_aliases_load(aliases, db, &cause) != 0)
		die("aliases", cause);

	/*
	 * 1 and 3, for each share of users with a topic filter of their
	 * own (ascending: each adds to the last); the engine loaded anew.
	 */
	for (sp = shares; sp != NULL && *sp != '\0'; sp = strchr(sp, ',') ?
	    strchr(sp, ',') + 1 : NULL) {
		share = atoi(sp);
		want = (size_t)nusers * (size_t)share / 100;
		if (want > with) {
			add_topic_filters(db, with, want, universe, ntopics);
			with = want;
		}
		fmn_engine_destroy(&e);
		e = fmn_engine_new();
		t0 = fmn_now();
		if (fmn_engine_load(e, db, &cause) != 0)
			die("engine", cause);
		t1 = fmn_now();
		fmn_engine_stats(e, &st);
		printf("\n%d %% of users with a topic filter (%zu): engine: %zu "
		    "users, %zu filters, %zu distinct rules, loaded in %.2f s, "
		    "RSS %.0f MB\n", share, with, st.users, st.filters,
		    st.distinct_rules, t1 - t0, rss_kb() / 1024.0);
		printf("  filters by index:");
		for (k = 0; k < FMN_ENGINE_INDEXES; k++)
			if (st.indexed[k] > 0 || k == FMN_ENGINE_INDEXES - 1)
				printf(" %s %zu", fmn_engine_index_name(k),
				    st.indexed[k]);
		printf("\n");
		measure(e, env, n, defs, aliases, secs, &floor_rate, &rate,
		    &match_us, &rcpt);
		/* In floors: the cost of a bare parse, measured beside it. */
		if (base_cost == 0)
			base_cost = floor_rate / rate;
		printf("  bare parse (floor):    %10.0f messages/s\n", floor_rate);
		printf("  parse + facts + match: %10.0f messages/s, %.1f "
		    "recipients/message\n", rate, rcpt);
		printf("  of which matching:     %10.1f us/message\n", match_us);
		printf("  ratio to the floor:    %10.2f\n", rate / floor_rate);
		printf("  cost per message:      %10.1f us, %.2f bare parses, "
		    "%.2f x the first workload's\n", 1e6 / rate,
		    floor_rate / rate, floor_rate / rate / base_cost);
	}
	printf("\npeak RSS:              %10.1f MB (%.1f MB before the engine)\n",
	    peak_rss_kb() / 1024.0, rss_before / 1024.0);
	if (nhostile > 0)
		bench_hostile(e, db, nhostile, env, n, defs, aliases, secs);
	fmn_engine_destroy(&e);
	fmn_aliases_destroy(&aliases);
	fmn_defs_destroy(&defs);
	sqlite3_close(db);
	unlink(dbpath);
	{
		char p[80];

		snprintf(p, sizeof(p), "%s-wal", dbpath);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", dbpath);
		unlink(p);
	}
	for (i = 0; i < n; i++) {
		free(env[i]);
		free(topics[i]);
	}
	for (i = 0; i < ntopics; i++)
		free(universe[i]);
	free(env);
	free(topics);
	free(universe);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	for (i = 0; i < npkgs; i++)
		free(pkgs[i]);
	free(pkgs);
	return 0;
}
